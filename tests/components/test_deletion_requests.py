"""A plain request to delete what the person said is read as delete_my_data, whatever the classifier leaned to."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.deletion_requests import DeletionRequestReader


def read(text: str, intent: str, confidence: float = 0.6) -> Message:
    message = Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}, {"name": "delete_my_data", "confidence": 0.1}],
        }
    )
    DeletionRequestReader().process([message])
    return message


@pytest.mark.parametrize(
    "text",
    [
        "forget everything we talked about", "please wipe my data", "can you delete this chat", "forget me", "erase what I typed",
        "I want my personal data removed under GDPR", "can I get my chat deleted",
    ],
)
def test_a_request_to_delete_is_delete_my_data(text) -> None:
    message = read(text, "challenge_purpose")
    assert message.get(INTENT) == {"name": "delete_my_data", "confidence": 0.9}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["delete_my_data", "challenge_purpose"]


@pytest.mark.parametrize(
    "text,intent",
    [
        ("the partners forgot why we exist", "challenge_purpose"),
        ("forget it, tell me about the benefits", "ask_benefits"),
        ("clear the air between partners", "challenge_culture_clash"),
        ("remove me from the mailing list of the ICB", "out_of_scope"),
        ("partners want their data deleted once the project ends", "ask_practice_question"),
        ("/challenge_purpose", "challenge_purpose"),
    ],
)
def test_other_messages_keep_their_reading(text, intent) -> None:
    assert read(text, intent).get(INTENT)["name"] == intent
