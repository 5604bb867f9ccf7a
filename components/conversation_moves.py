"""A short message that is only a conversation move is read as that move, whatever the classifier
leaned to: asking to change the subject ("new problem", "start again") is `something_else`, whose
action then clears the last answer and asks what to talk about; keeping the answer ("add that to my
plan", "save that") is `ask_summary`, the action plan; an acknowledgement ("makes sense",
"interesting") is `affirm`. The words are in actions/moves.py, which the actions share.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from actions.moves import ACKNOWLEDGEMENT, NEW_TOPIC, TO_THE_PLAN  # plain patterns, no imports of their own
from components.plain_requests import PlainRequestReader


def move_of(text: str) -> str | None:
    """something_else, ask_summary, affirm, or None when the message is more than a move."""
    if NEW_TOPIC.match(text or ""):
        return "something_else"
    if TO_THE_PLAN.match(text or ""):
        return "ask_summary"
    return "affirm" if ACKNOWLEDGEMENT.match(text or "") else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ConversationMoveReader(PlainRequestReader):
    """Sets something_else or affirm first, with the top confidence, on a message that is only that move."""

    def reading(self, text: str) -> str | None:
        return move_of(text)
