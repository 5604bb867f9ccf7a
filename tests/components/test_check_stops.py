"""A short plain request to stop the health check is read as stop_health_check, whatever the classifier leaned to."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.check_stops import CheckStopReader
from tools import leaks


def read(text: str, intent: str, confidence: float = 0.7) -> Message:
    message = Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}, {"name": "stop_health_check", "confidence": 0.2}],
        }
    )
    CheckStopReader().process([message])
    return message


@pytest.mark.parametrize("text", ["abort health check", "exit check", "get me out of this quiz", "cancel the assessment pls", "I need to go, stop the check"])
def test_a_request_to_stop_the_check_is_stop_health_check(text) -> None:
    message = read(text, "start_health_check")
    assert message.get(INTENT) == {"name": "stop_health_check", "confidence": 0.9}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["stop_health_check", "start_health_check"]


@pytest.mark.parametrize(
    "text,intent",
    [
        ("start the health check", "start_health_check"),
        ("finish the health check", "start_health_check"),
        ("I don't want to stop the check", "affirm"),
        ("how do I end the check early?", "ask_capabilities"),
        ("we had to cancel the survey of residents because the council pulled out of it", "challenge_authority"),
        ("/start_health_check", "start_health_check"),
    ],
)
def test_other_messages_keep_their_reading(text, intent) -> None:
    assert read(text, intent).get(INTENT)["name"] == intent


def test_no_training_sentence_of_another_intent_reads_as_a_request_to_stop() -> None:
    misread = [(t, i) for t, i in leaks.training_examples() if i != "stop_health_check" and read(t, i).get(INTENT)["name"] == "stop_health_check"]
    assert misread == []


def test_a_confident_reading_it_displaces_is_left_below_it() -> None:
    # Tied at 0.96 with start_health_check, the fallback's ambiguity check asked "Did you mean ...?".
    message = read("abort health check", "start_health_check", confidence=0.96)
    first, second = message.get(INTENT_RANKING_KEY)
    assert first == {"name": "stop_health_check", "confidence": 0.96}
    assert second["name"] == "start_health_check" and second["confidence"] <= 0.04 + 1e-9
