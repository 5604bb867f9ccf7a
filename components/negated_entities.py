"""Drops entities the person says they are not: "actually I work for the council, not a charity".

Rasa fills a slot from the last entity of its type in a message, so the sector above became the
voluntary sector; with this component after the entity extractor only "council" is left. An
entity counts as negated when a negation ends just before it (within its clause).
Also drops an entity inside a longer one: in "practice manager, GP surgery" the role lookup's "GP"
(a practitioner) is part of the sector "GP surgery", and would have replaced "practice manager".
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

# "not (a|an|the)", "rather than", "instead of", "no longer (at|in)", "used to be (at|in)", "isn't", "aren't"
NEGATION_BEFORE = re.compile(
    r"(?:\bnot|\bisn'?t|\baren'?t|\bwasn'?t|\brather than|\binstead of|\bno longer(?: (?:at|in|with|a|an))?|\bused to be(?: (?:at|in|with))?)"
    r"(?:\s+(?:a|an|the|in|at|with|for|from|part of))*\s*$",
    re.IGNORECASE,
)


def inside_another(entity: dict[str, Any], entities: list[dict[str, Any]]) -> bool:
    start, end = int(entity.get("start") or 0), int(entity.get("end") or 0)
    return any(
        other is not entity
        and int(other.get("start") or 0) <= start
        and end <= int(other.get("end") or 0)
        and end - start < int(other.get("end") or 0) - int(other.get("start") or 0)
        for other in entities
    )


def negated(text: str, start: int) -> bool:
    """Is the entity starting at `start` said not to apply?"""
    before = text[max(0, start - 40) : start]
    return bool(NEGATION_BEFORE.search(before))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NegatedEntityFilter(GraphComponent):
    """Removes negated entities, and entities inside longer ones, found by the extractors before it."""

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> NegatedEntityFilter:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = message.get(ENTITIES) or []
            kept = [e for e in entities if not negated(text, int(e.get("start") or 0)) and not inside_another(e, entities)]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
