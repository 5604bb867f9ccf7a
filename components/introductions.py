"""A greeting that goes on to say who the person is ("hiya, I manage a small charity, there's
three of us") is an introduction: read as `inform`, so the advisor takes their sector and role
instead of answering a bare hello. The classifier leans on the greeting word; the sector or role
the entity extractors found in the rest of the message says more. Runs after the extractors.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

CONTEXT_ENTITIES = {"sector", "role"}
# "hi, council" is still a greeting with a word of context; an introduction says a little more.
MIN_WORDS = 5


def read_instead(message: Message, instead: str) -> None:
    """Make `instead` the message's intent, swapping its confidence with the current intent's
    (the ranking keeps its shape; used where a component knows better than the classifier)."""
    current = (message.get(INTENT) or {}).get("name")
    ranking = [dict(r) for r in message.get(INTENT_RANKING_KEY) or []]
    top = float((message.get(INTENT) or {}).get("confidence") or 0.0)
    other = next((float(r["confidence"]) for r in ranking if r["name"] == instead), 0.0)
    for r in ranking:
        r["confidence"] = {current: other, instead: top}.get(r["name"], r["confidence"])
    if not any(r["name"] == instead for r in ranking):
        ranking.append({"name": instead, "confidence": top})
    ranking.sort(key=lambda r: -float(r["confidence"]))
    message.set(INTENT, {"name": instead, "confidence": top}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def is_introduction(message: Message) -> bool:
    intent = message.get(INTENT) or {}
    words = re.findall(r"[a-z']+", (message.get(TEXT) or "").lower())
    entities = {e.get("entity") for e in message.get(ENTITIES) or []}
    return intent.get("name") == "greet" and len(words) >= MIN_WORDS and bool(entities & CONTEXT_ENTITIES)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntroductionReader(GraphComponent):
    """Swaps `greet` for `inform` (their confidences too) on a greeting that is an introduction."""

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> IntroductionReader:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if is_introduction(message):
                read_instead(message, "inform")
        return messages
