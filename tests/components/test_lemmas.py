"""Lemmas without spaCy's tagger at run time (components/lemmas.py, issue 17): spaCy loaded for its
tokeniser, and each word's lemma the one spaCy's full pipeline gave it most often in training."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.lemmas import DEFAULT_SPACY_MODEL, MemoLemmaTokenizer, SpacyTokensNLP, _UntaggedLemmatizer

TRAINING = [
    "we have far too many meetings",
    "the meetings keep getting cancelled",
    "nobody at the table can sign anything off",
    "partners are hoarding their data",
    "i work for an nhs trust",
]


def context(name: str) -> ExecutionContext:
    return ExecutionContext(graph_schema=None, node_name=name)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def nlp() -> SpacyTokensNLP:
    config = {**SpacyTokensNLP.get_default_config(), "model": DEFAULT_SPACY_MODEL, "case_sensitive": False}
    return SpacyTokensNLP.create(config, LocalModelStorage(Path("/nonexistent")), Resource("spacy"), context("spacy"))


def processed(nlp: SpacyTokensNLP, texts: list[str]) -> list[Message]:
    return nlp.process([Message(data={TEXT: text}) for text in texts], nlp.provide())


def test_spacy_runs_for_its_tokens_only(nlp: SpacyTokensNLP) -> None:
    language = nlp.provide().model
    assert language.pipe_names == []  # no tagger, no network: a tokeniser
    full = spacy.load(DEFAULT_SPACY_MODEL, exclude=["parser", "ner"])
    text = "we can't get the councils' sign-off, so nothing's agreed!"
    assert [t.text for t in language(text)] == [t.text for t in full(text)]


def test_trained_lemmas_are_the_taggers_and_unseen_words_get_the_rule_tables(nlp: SpacyTokensNLP, tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("tokenizer")
    tokenizer = MemoLemmaTokenizer.create(MemoLemmaTokenizer.get_default_config(), storage, resource, context("tokenizer"))
    training = TrainingData(processed(nlp, TRAINING))
    tokenizer.train(training)
    full = spacy.load(DEFAULT_SPACY_MODEL, exclude=["parser", "ner"])
    tokenizer.process_training_data(training)
    for example in training.training_examples:  # the training messages' lemmas are the tagger's
        tagged = [t.lemma_ for t in full(example.get(TEXT))]
        assert [t.lemma for t in example.get(TOKENS_NAMES[TEXT])] == tagged

    loaded = MemoLemmaTokenizer.load(MemoLemmaTokenizer.get_default_config(), storage, resource, context("tokenizer"))
    [asked] = loaded.process(processed(nlp, ["the partners hoarding estates keep cancelling meetings, zxqv"]))
    lemmas = {t.text: t.lemma for t in asked.get(TOKENS_NAMES[TEXT])}
    assert lemmas["meetings"] == "meeting" and lemmas["partners"] == "partner"  # from the training data
    assert lemmas["estates"] == "estate" and lemmas["cancelling"] == "cancel"  # unseen: the rule tables
    assert lemmas["zxqv"] == "zxqv" and "," in lemmas

    # Chat spellings share the lemmas of the words they stand for; the typed text is kept.
    [typed, written] = loaded.process(processed(nlp, ["wat r u for, thx", "what are you for, thanks"]))
    typed_tokens, written_tokens = typed.get(TOKENS_NAMES[TEXT]), written.get(TOKENS_NAMES[TEXT])
    assert [t.lemma for t in typed_tokens] == [t.lemma for t in written_tokens]
    assert [t.text for t in typed_tokens] == ["wat", "r", "u", "for", ",", "thx"]


def test_a_word_without_a_tag_takes_the_first_part_of_speech_the_tables_know() -> None:
    untagged = _UntaggedLemmatizer(DEFAULT_SPACY_MODEL)
    assert [untagged(w) for w in ("hoarding", "estates", "went", "better", "agendas", "evrything")] == [
        "hoard", "estate", "go", "good", "agenda", "evrything",
    ]
