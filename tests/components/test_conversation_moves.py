"""A message that is only a change of subject, a request to keep the answer in the plan or an
acknowledgement is read as that move."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.conversation_moves import ConversationMoveReader
from tools import leaks


def read(text: str, intent: str, confidence: float = 0.8) -> Message:
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence}, INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}]})
    ConversationMoveReader().process([message])
    return message


@pytest.mark.parametrize(
    "text,was_read_as,move",
    [
        # as the model read them before the reader
        ("new problem", "challenge_communication", "something_else"),
        ("another problem", "ask_more", "something_else"),
        ("different question", "ask_practice_question", "something_else"),
        ("start again", "nlu_fallback", "something_else"),
        ("new topic", "out_of_scope", "something_else"),
        ("ok, can we change the subject", "out_of_scope", "something_else"),
        ("makes sense", "out_of_scope", "affirm"),
        ("interesting", "out_of_scope", "affirm"),
        ("noted", "out_of_scope", "affirm"),
        ("add that to my plan", "out_of_scope", "ask_summary"),
        ("save that", "nlu_fallback", "ask_summary"),
    ],
)
def test_a_message_that_is_only_a_move_is_that_move(text, was_read_as, move) -> None:
    message = read(text, was_read_as)
    assert message.get(INTENT)["name"] == move
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == [move, was_read_as]


@pytest.mark.parametrize(
    "text,intent",
    [
        ("another problem with the council is they never reply", "challenge_communication"),
        ("new problem: the ICB won't share data", "ask_practice_question"),
        ("another idea?", "ask_more"),
        ("interesting, but what if they say no", "ask_more"),
        ("got it, and how do I start", "ask_how"),
        ("something else", "something_else"),
        ("noted, thanks", "thank"),  # thanks are welcomed
        ("add the council to the invite list", "out_of_scope"),
        ("save the date for the away day", "out_of_scope"),
    ],
)
def test_a_move_with_more_said_keeps_its_reading(text, intent) -> None:
    assert read(text, intent).get(INTENT)["name"] == intent


def test_no_training_sentence_of_another_intent_reads_as_a_move() -> None:
    examples = leaks.training_examples()
    misread = [(t, i) for t, i in examples if read(t, i).get(INTENT)["name"] != i]
    assert misread == []
