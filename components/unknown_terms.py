""" "what does ephemeral mean?" is an everyday dictionary request, not a question about a word of
partnership working: `ask_meaning` about words the advisor never uses is `out_of_scope` (issue 14's
"what does <word> mean?" family, which the classifier cannot tell apart by form: "what does
openness mean?" is asked the same way).

The advisor's words are those of its in-domain training messages (kept at training) and of the
knowledge store's content files (read when the model loads, so new content counts without a new
model). A message keeps `ask_meaning` when any of its content words is one of them, so "what do
you mean by a decision log?" and "what's a PCN?" still get their answers, and the dialogue still
decides what to say about a partnership word it has no entry for. Runs after the classifier,
before the fallback.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.introductions import read_instead

logger = logging.getLogger(__name__)

MEANING = "ask_meaning"
OUT_OF_SCOPE = "out_of_scope"
KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "data" / "knowledge"
VOCABULARY_FILE = "vocabulary.json"
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# The words of a request for a meaning itself, and the languages a word may be asked about in:
# they say what is asked, not what about.
ASKING = frozenset(
    """
    a an the of by for to in on at is are was be it its it's this that these those there what what's whats
    does do did doing mean means meaning meanings meant define defining definition definitions word words
    term terms phrase expression stand stands you your u i me my we our us can could would will please pls
    plz tell explain exactly actually again just really so sorry hmm um erm ok okay quick question daft
    silly stupid dumb anyone someone here thing called call say said use used using when how is isn't
    english french spanish german italian latin polish urdu arabic portuguese dictionary
    """.split()
)


def content_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in ASKING and not w.isdigit()}


def known(word: str, vocabulary: set[str]) -> bool:
    """The word or its singular ("budgets", "bodies") is one the advisor uses."""
    forms = {word, word.removesuffix("'s"), word.removesuffix("s"), word.removesuffix("es"), re.sub(r"ies$", "y", word)}
    return bool(forms & vocabulary)


def knowledge_words(folder: Path = KNOWLEDGE_DIR) -> set[str]:
    """Every word of every string in the knowledge store's content files."""
    words: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            words.update(WORD.findall(value.lower()))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(folder.glob("*.yml")):
        try:
            walk(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as error:  # a broken content file must not stop the server
            logger.warning("Could not read %s for the advisor's vocabulary: %s", path, error)
    return words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownTermReader(GraphComponent):
    """Puts `out_of_scope` first, with ask_meaning's confidence, on an `ask_meaning` message whose
    words are none of the advisor's."""

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: set[str] | None = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: set[str] = vocabulary or set()

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> UnknownTermReader:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownTermReader:
        trained: set[str] = set()
        try:
            with model_storage.read_from(resource) as directory:
                trained = set(json.loads((directory / VOCABULARY_FILE).read_text()))
        except (ValueError, FileNotFoundError):
            logger.warning("No vocabulary in the model: every 'what does ... mean?' stays a question about a term.")
        reader = cls(model_storage, resource, trained)
        if trained:
            reader.vocabulary |= knowledge_words()
        return reader

    def train(self, training_data: TrainingData) -> Resource:
        """The words of every training message the advisor answers (out of scope ones excluded)."""
        self.vocabulary = {
            word
            for example in training_data.intent_examples
            if example.get(INTENT) != OUT_OF_SCOPE
            for word in WORD.findall((example.get(TEXT) or "").lower())
        }
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)))
        return self._resource

    def asks_an_unknown_word(self, text: str) -> bool:
        words = content_words(text)
        return bool(self.vocabulary and words) and not any(known(w, self.vocabulary) for w in words)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if intent.get("name") != MEANING or text.startswith("/") or not self.asks_an_unknown_word(text):
                continue
            # The two readings swap places and confidences, so the fallback judges the new one as it
            # would have judged the old (a tie would send a plain dictionary request to "Did you mean...?").
            read_instead(message, OUT_OF_SCOPE)
        return messages
