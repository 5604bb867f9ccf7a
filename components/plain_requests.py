"""A message that plainly asks for one thing the advisor does ("wipe my data", "stop the health
check") is read as that intent, whatever the classifier leaned to. Each reader names its intent and
its pattern; they run after the classifier, before the fallback, and give the intent the top place
with at least 0.9 confidence. A false match costs little: each of these intents asks, tells or
records before it changes anything.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

TOP_CONFIDENCE = 0.9


class PlainRequestReader(GraphComponent):
    """Subclasses set `intent` and `asks(text)`, or override `reading(text)` when a message can be
    one of several intents; register each with DefaultV1Recipe."""

    intent: str = ""

    @staticmethod
    def asks(text: str) -> bool:
        raise NotImplementedError

    def reading(self, text: str) -> str | None:
        """The intent the message plainly asks for, or None to leave the classifier's reading."""
        return self.intent if self.asks(text) else None

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> PlainRequestReader:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            # A button payload ("/start_health_check") already says what it is.
            plain = None if text.startswith("/") else self.reading(text)
            if plain is None or intent.get("name") == plain:
                continue
            top = max(float(intent.get("confidence") or 0.0), TOP_CONFIDENCE)
            ranking = [dict(r) for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != plain]
            # The rest share what is left, so the intent it displaced cannot tie with it and make the
            # fallback's ambiguity check ask "Did you mean ...?" ("abort health check": 0.96 both).
            rest = sum(float(r.get("confidence") or 0.0) for r in ranking)
            if rest > 1.0 - top:
                for r in ranking:
                    r["confidence"] = float(r.get("confidence") or 0.0) * (1.0 - top) / rest
            message.set(INTENT, {"name": plain, "confidence": top}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [{"name": plain, "confidence": top}, *ranking], add_to_output=True)
        return messages
