"""Who the person is, then a question: the question is what the message asks, not `inform`."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.questions_after_introductions import QuestionAfterIntroductionReader


def read(text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(
        data={
            TEXT: text,
            INTENT: {"name": ranking[0][0], "confidence": ranking[0][1]},
            INTENT_RANKING_KEY: [{"name": n, "confidence": c} for n, c in ranking],
        }
    )
    QuestionAfterIntroductionReader().process([message])
    return message


def test_a_question_after_an_introduction_is_the_question() -> None:
    message = read(
        "Hi there, I'm a health improvement officer with the Southern Trust. My manager mentioned BCPP as a model, what was it?",
        [("inform", 0.66), ("ask_case_study", 0.27), ("ask_practice_question", 0.03)],
    )
    assert message.get(INTENT) == {"name": "ask_case_study", "confidence": 0.66}
    # who they are steps aside to the best other reading, so the fallback sees no rival in it
    assert [(r["name"], r["confidence"]) for r in message.get(INTENT_RANKING_KEY)][:2] == [("ask_case_study", 0.66), ("inform", 0.03)]


def test_an_introduction_as_sure_as_its_question_is_no_rival_to_it() -> None:
    message = read(
        "First time setting one of these up (I'm an officer at a borough council). What usually goes wrong with partnerships?",
        [("inform", 0.352), ("ask_challenges", 0.350), ("ask_practice_question", 0.12)],
    )
    ranking = [(r["name"], r["confidence"]) for r in message.get(INTENT_RANKING_KEY)]
    assert ranking[0] == ("ask_challenges", 0.352) and ranking[1][1] == 0.12


def test_a_question_after_a_comma_or_a_request_counts_too() -> None:
    model = read("LPC chair here, is there a model we could learn from", [("inform", 0.6), ("ask_case_study", 0.3)])
    assert model.get(INTENT)["name"] == "ask_case_study"
    check = read("ok lets try your health check thing, I coordinate 8 pharmacies", [("inform", 0.4), ("start_health_check", 0.3)])
    assert check.get(INTENT)["name"] == "start_health_check"
    simpler = read("explain like I'm five", [("inform", 0.49), ("ask_simpler", 0.23)])
    assert simpler.get(INTENT)["name"] == "ask_simpler"
    # ", which ..." describes: still who they are.
    told = read("I work for the council, which runs the libraries", [("inform", 0.6), ("ask_case_study", 0.3)])
    assert told.get(INTENT)["name"] == "inform"


def test_an_introduction_alone_or_a_weak_next_reading_stays_inform() -> None:
    # No question asked.
    told = read("I'm a pharmacist in Belfast and we've just joined the partnership", [("inform", 0.6), ("challenge_time", 0.3)])
    assert told.get(INTENT)["name"] == "inform"
    # A question, but the next reading is too weak to stand for it.
    weak = read("I'm a pharmacist in Belfast. can you help?", [("inform", 0.7), ("ask_capabilities", 0.1)])
    assert weak.get(INTENT)["name"] == "inform"
    # A question whose next reading is not one the advisor answers as such (a follow-up word).
    other = read("I'm at the council, what about the second one?", [("inform", 0.5), ("choose_item", 0.4)])
    assert other.get(INTENT)["name"] == "inform"
    # Not read as inform at all: untouched.
    asked = read("what are the benefits?", [("ask_benefits", 0.9), ("inform", 0.05)])
    assert asked.get(INTENT) == {"name": "ask_benefits", "confidence": 0.9}
