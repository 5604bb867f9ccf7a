"""A message that plainly asks for one thing the advisor does ("wipe my data", "stop the health
check") is read as that intent, whatever the classifier leaned to. Each reader names its intent and
its pattern; they run after the classifier, before the fallback, and give the intent the top place
with at least 0.9 confidence. A false match costs little: each of these intents asks or tells
before it changes anything.
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
    """Subclasses set `intent` and `asks(text)`; register each with DefaultV1Recipe."""

    intent: str = ""

    @staticmethod
    def asks(text: str) -> bool:
        raise NotImplementedError

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
            if intent.get("name") == self.intent or text.startswith("/") or not self.asks(text):
                continue
            top = max(float(intent.get("confidence") or 0.0), TOP_CONFIDENCE)
            ranking = [dict(r) for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != self.intent]
            # The rest share what is left, so the intent it displaced cannot tie with it and make the
            # fallback's ambiguity check ask "Did you mean ...?" ("abort health check": 0.96 both).
            rest = sum(float(r.get("confidence") or 0.0) for r in ranking)
            if rest > 1.0 - top:
                for r in ranking:
                    r["confidence"] = float(r.get("confidence") or 0.0) * (1.0 - top) / rest
            message.set(INTENT, {"name": self.intent, "confidence": top}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [{"name": self.intent, "confidence": top}, *ranking], add_to_output=True)
        return messages
