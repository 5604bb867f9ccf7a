"""A greeting that says who the person is is read as an introduction (inform), not a bare hello."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.introductions import IntroductionReader


def read(text: str, intent: str, confidence: float, entities: list[str]) -> Message:
    message = Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}, {"name": "inform", "confidence": 0.1}],
            ENTITIES: [{"entity": e, "value": "x", "start": 0, "end": 1} for e in entities],
        }
    )
    IntroductionReader().process([message])
    return message


def test_a_greeting_that_says_who_they_are_is_an_introduction() -> None:
    message = read("hiya, I manage a small charity, there's three of us", "greet", 0.39, ["sector", "role"])
    assert message.get(INTENT) == {"name": "inform", "confidence": 0.39}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["inform", "greet"]


def test_a_plain_greeting_or_a_short_one_stays_a_greeting() -> None:
    assert read("hi there, good morning to you", "greet", 0.99, []).get(INTENT)["name"] == "greet"
    assert read("hi council", "greet", 0.8, ["sector"]).get(INTENT)["name"] == "greet"
    # Only a greeting is re-read: a problem that names a sector keeps its reading.
    problem = read("the council never answers our emails at all", "challenge_communication", 0.9, ["sector"])
    assert problem.get(INTENT)["name"] == "challenge_communication"
