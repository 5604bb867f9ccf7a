"""'what does ephemeral mean?' is an everyday request; 'what does openness mean?' is about the advice."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.unknown_terms import UnknownTermReader
from tools.leaks import training_examples


def message(text: str, intent: str = "ask_meaning", confidence: float = 0.8) -> Message:
    return Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}, {"name": "out_of_scope", "confidence": 0.1}],
        }
    )


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> UnknownTermReader:
    """Trained on the project's own training data and loaded as the server loads it."""
    storage, resource = LocalModelStorage(tmp_path_factory.mktemp("model")), Resource("unknown_terms")
    context = ExecutionContext(graph_schema=None, node_name="unknown_terms")  # type: ignore[arg-type]
    training = TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in training_examples()])
    UnknownTermReader.create({}, storage, resource, context).train(training)
    return UnknownTermReader.load({}, storage, resource, context)


@pytest.mark.parametrize(
    "text", ["what does ephemeral mean", "define the word serendipity", "whats the meaning of procrastinate?", "what does ubiquitous mean in french"]
)
def test_the_meaning_of_an_everyday_word_is_out_of_scope(reader: UnknownTermReader, text: str) -> None:
    read = reader.process([message(text)])[0]
    assert read.get(INTENT) == {"name": "out_of_scope", "confidence": 0.8}
    # the readings swap confidences, so the fallback sees no tie between them
    assert read.get(INTENT_RANKING_KEY) == [{"name": "out_of_scope", "confidence": 0.8}, {"name": "ask_meaning", "confidence": 0.1}]


@pytest.mark.parametrize(
    "text",
    [
        "what does openness mean in practice?",  # a key principle: the advice's own word
        "what's a PCN?",
        "what do you mean by a decision log",
        "what is a scheme of delegation",
        "what does that mean",  # points back at the answer: no word to judge
        "what do you mean by determinants",  # a word of the guidance alone
    ],
)
def test_the_meaning_of_a_word_the_advisor_uses_stays_a_question(reader: UnknownTermReader, text: str) -> None:
    assert reader.process([message(text)])[0].get(INTENT)["name"] == "ask_meaning"


def test_only_questions_about_meanings_change(reader: UnknownTermReader) -> None:
    assert reader.process([message("what does ephemeral mean", intent="ask_example")])[0].get(INTENT)["name"] == "ask_example"
    assert reader.process([message("/ask_meaning", intent="ask_meaning")])[0].get(INTENT)["name"] == "ask_meaning"


def test_without_a_trained_vocabulary_nothing_changes(tmp_path: Path) -> None:
    context = ExecutionContext(graph_schema=None, node_name="unknown_terms")  # type: ignore[arg-type]
    untrained = UnknownTermReader.load({}, LocalModelStorage(tmp_path), Resource("none"), context)
    assert untrained.process([message("what does ephemeral mean")])[0].get(INTENT)["name"] == "ask_meaning"
