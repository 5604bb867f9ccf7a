"""A short rating of the last answer is read as feedback, whatever the classifier leaned to."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.feedback_ratings import FeedbackRatingReader
from tools import leaks


def read(text: str, intent: str, confidence: float = 0.8) -> Message:
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence}, INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}]})
    FeedbackRatingReader().process([message])
    return message


@pytest.mark.parametrize(
    "text,was_read_as,rating",
    [
        ("wrong answer", "deny", "feedback_not_helpful"),
        ("no use", "deny", "feedback_not_helpful"),
        ("irrelevant", "out_of_scope", "feedback_not_helpful"),
        ("that's not helpful tbh", "deny", "feedback_not_helpful"),
        ("the advice was a bit vague", "challenge_communication", "feedback_not_helpful"),
        ("top answer, cheers 👍", "thank", "feedback_helpful"),
        ("brilliant answer", "thank", "feedback_helpful"),
        ("your advice was spot on", "thank", "feedback_helpful"),
    ],
)
def test_a_rating_of_the_answer_is_feedback(text, was_read_as, rating) -> None:
    message = read(text, was_read_as)
    assert message.get(INTENT)["name"] == rating
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == [rating, was_read_as]


@pytest.mark.parametrize(
    "text,intent",
    [
        ("any good advice on funding?", "ask_good_practice"),
        ("not what I asked", "deny"),  # as often "no" to "Did you mean ...?"
        ("good idea", "affirm"),
        ("the council gave us wrong advice about section 75 and now the pooled budget is stuck", "challenge_authority"),
        ("thanks", "thank"),
    ],
)
def test_other_messages_keep_their_reading(text, intent) -> None:
    assert read(text, intent).get(INTENT)["name"] == intent


def test_no_training_sentence_of_another_intent_reads_as_a_rating() -> None:
    examples = leaks.training_examples()
    misread = [(t, i) for t, i in examples if read(t, i).get(INTENT)["name"] != i]
    assert misread == []
