"""Who the person is, then a question ("I'm a health improvement officer with the Southern Trust.
My manager mentioned BCPP as a model, what was it?"): the classifier leans on the introduction and
reads `inform`, but the message is the question. When it asks something and the classifier's next
reading is a question or a problem the advisor answers, that reading comes first (confidences
swapped, as IntroductionReader does). Runs after IntroductionReader, before the fallback.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.vocabulary import CHALLENGES, KNOWLEDGE_TOPICS  # plain names, no imports of its own
from components.introductions import read_instead

# What the rest of such a message can be: the advisor's questions and problems (the contract's
# knowledge intents and challenges), what it can do, requests it declines, and follow-ups
# ("explain like I'm five" reads as who they are).
ANSWERED = {
    *KNOWLEDGE_TOPICS,
    *CHALLENGES,
    "ask_capabilities",
    "start_health_check",
    "out_of_scope",
    "ask_simpler",
    "ask_how",
    "ask_example",
    "ask_why",
}
# The next reading must be a real contender, not the tail of the ranking.
MIN_NEXT_CONFIDENCE = 0.2
ASKS = re.compile(
    # a question mark, a sentence opening with a question word, a comma then a question
    # ("LPC chair here, is there a model we could learn from"; not ", who ..." or ", which ...",
    # which describe), or a request ("ok lets try your health check thing", "explain like I'm five")
    r"\?|(?:^|[.!;:]\s*)(?:who|what|how|why|when|where|which|should|can|could|do|does|is|are|will|would)\b"
    r"|,\s*(?:is|are|can|could|do|does|should|would|will|what|how|where|why|when)\b|\blet'?s\b"
    r"|^\W*(?:explain|tell|give|show|say)\b",
    re.IGNORECASE,
)


def question_behind_introduction(message: Message) -> str | None:
    """The intent to read instead of `inform`, or None."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    if (message.get(INTENT) or {}).get("name") != "inform" or len(ranking) < 2:
        return None
    if not ASKS.search(message.get(TEXT) or ""):
        return None
    following = next((r for r in ranking if r.get("name") != "inform"), None)
    if following and following["name"] in ANSWERED and float(following["confidence"]) >= MIN_NEXT_CONFIDENCE:
        return str(following["name"])
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class QuestionAfterIntroductionReader(GraphComponent):
    """Swaps `inform` with the question it introduces (their confidences too)."""

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> QuestionAfterIntroductionReader:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            asked = question_behind_introduction(message)
            if asked is not None:
                read_instead(message, asked)
                introduction_steps_aside(message, asked)
        return messages


def introduction_steps_aside(message: Message, asked: str) -> None:
    """Who they are is not a rival reading of the question they go on to ask: `inform` takes the
    confidence of the best other reading, so the fallback does not ask "Did you mean...?" between
    the two ("First time setting one of these up (I'm an officer at a borough council). What
    usually goes wrong with partnerships?": the question 0.35, the introduction 0.35)."""
    ranking = [dict(r) for r in message.get(INTENT_RANKING_KEY) or []]
    rival = max((float(r["confidence"]) for r in ranking if r["name"] not in (asked, "inform")), default=0.0)
    for r in ranking:
        if r["name"] == "inform":
            r["confidence"] = min(float(r["confidence"]), rival)
    ranking.sort(key=lambda r: -float(r["confidence"]))
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
