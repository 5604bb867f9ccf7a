"""The two peers our model is measured against (`make eval`, `make bench`):

- the default-config bot: what `rasa init` trains with (tools/rasa_default_config.yml), with
  our domain and data, trained into results/peer-model/ so it never replaces models/;
- a TF-IDF word + character n-gram logistic regression (scikit-learn) on the same NLU examples.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import yaml

from server.launch import ROOT, VENV_BIN

DEFAULT_CONFIG = ROOT / "tools" / "rasa_default_config.yml"
PEER_MODELS = ROOT / "results" / "peer-model"
PEER_INPUTS = ("domain.yml", "data/nlu", "data/rules", "data/stories")  # what launch.train reads, but our config
NLU_DATA = ROOT / "data" / "nlu"


def fallback_settings(config: Path) -> tuple[float, float]:
    """(threshold, ambiguity_threshold) of a config's FallbackClassifier, with Rasa's defaults."""
    pipeline = yaml.safe_load(config.read_text())["pipeline"]
    fallback = next((c for c in pipeline if c["name"] == "FallbackClassifier"), {})
    return fallback.get("threshold", 0.3), fallback.get("ambiguity_threshold", 0.1)


# --- the default-config bot -------------------------------------------------------------------
def default_model_path() -> Path:
    digest = hashlib.sha256(DEFAULT_CONFIG.read_bytes())
    for name in PEER_INPUTS:
        path = ROOT / name
        for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
            digest.update(str(file.relative_to(ROOT)).encode() + file.read_bytes())
    return PEER_MODELS / f"default-{digest.hexdigest()[:16]}.tar.gz"


def train_default_model(force: bool = False) -> Path:
    """Train the default-config bot unless a model of the current domain and data exists.
    PEER_MODEL=<path> uses a default-config model trained before (its training takes most of an
    hour on two cores); the figures are then those of the data it was trained on."""
    if os.environ.get("PEER_MODEL") and not force:
        return Path(os.environ["PEER_MODEL"])
    model = default_model_path()
    if model.exists() and not force:
        return model
    print("Training the default-config peer (tools/rasa_default_config.yml) into results/peer-model/ ...", flush=True)
    PEER_MODELS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(VENV_BIN / "rasa"), "train", "--config", str(DEFAULT_CONFIG), "--out", str(PEER_MODELS),
         "--fixed-model-name", model.name[: -len(".tar.gz")]],
        cwd=ROOT,
        check=True,
    )
    for old in PEER_MODELS.glob("default-*.tar.gz"):
        if old != model:
            old.unlink()
    return model


@contextmanager
def cold_cache() -> Iterator[None]:
    """Rasa restores unchanged components from its training cache (.rasa/cache); an empty one
    makes a timed training a full training."""
    previous = os.environ.get("RASA_CACHE_DIRECTORY")
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache:
        os.environ["RASA_CACHE_DIRECTORY"] = cache
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("RASA_CACHE_DIRECTORY", None)
            else:
                os.environ["RASA_CACHE_DIRECTORY"] = previous


def timed_training(train: Callable[..., Path]) -> tuple[Path, float]:
    """A forced training from an empty cache, and how long it took (seconds)."""
    with cold_cache():
        started = time.monotonic()
        model = train(force=True)
        return model, time.monotonic() - started


# --- the TF-IDF logistic regression -------------------------------------------------------------
def training_examples(nlu_dir: Path = NLU_DATA) -> list[tuple[str, str]]:
    """(text, intent) of every NLU training example, read by Rasa's own loader (entity markup stripped)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(nlu_dir)).intent_examples]


def with_fallback(ranking: list[tuple[str, float]], threshold: float, ambiguity: float) -> dict:
    """A parse result shaped like Rasa's, with the FallbackClassifier's rule applied: unsure
    (top below threshold, or the top two closer than `ambiguity`) becomes nlu_fallback."""
    ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking[:10]]
    top = ranked[0]["confidence"]
    if top < threshold or (len(ranked) > 1 and top - ranked[1]["confidence"] < ambiguity):
        fallback = {"name": "nlu_fallback", "confidence": threshold}
        return {"intent": fallback, "intent_ranking": [fallback] + ranked}
    return {"intent": ranked[0], "intent_ranking": ranked}


class TfidfLogisticRegression:
    """Word 1-2 + char_wb 2-5 TF-IDF features, LogisticRegression(C=10). Declared fallback
    threshold 0.3 and ambiguity 0.1: those of Rasa's default FallbackClassifier, which the
    default-config peer uses too."""

    def __init__(self, threshold: float = 0.3, ambiguity: float = 0.1) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        self.threshold, self.ambiguity = threshold, ambiguity
        self.model = make_pipeline(
            make_union(
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2)),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)),
            ),
            LogisticRegression(C=10, max_iter=3000),
        )

    def fit(self, examples: list[tuple[str, str]]) -> "TfidfLogisticRegression":
        self.model.fit([t for t, _ in examples], [i for _, i in examples])
        return self

    def parse(self, texts: list[str]) -> list[dict]:
        classes = self.model.classes_
        results = []
        for probabilities in self.model.predict_proba(texts):
            ranking = sorted(zip(classes, map(float, probabilities)), key=lambda pair: -pair[1])
            results.append(with_fallback(ranking, self.threshold, self.ambiguity))
        return results
