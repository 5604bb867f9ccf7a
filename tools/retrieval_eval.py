"""Compare the retrieval methods of actions/retrieval.py and choose the answer threshold.

    .venv/bin/python -m tools.retrieval_eval            # development split: the figures to choose by
    .venv/bin/python -m tools.retrieval_eval --test     # ... and the test split, for reporting only
    .venv/bin/python -m tools.retrieval_eval --misses   # ... and list the dev questions ranked wrong

Loads the real content into a temporary SQLite store and, for each method, prints on
tests/practitioner/practice_questions_dev.yml top-1/top-2 accuracy and the query time; on
tests/practitioner/everyday.yml (requests that must not be answered) the score distribution;
then a threshold sweep: in-domain answered correctly (top-1 right and score >= threshold),
in-domain below the threshold (declined or clarified) and everyday requests at or above it
(wrongly answered), and the threshold that keeps everyday-above <= 1 % with the most in-domain
answered correctly. A question's `topic` is a practice id (right when the document is that
practice entry) or a challenge intent (right when it is an advice item of that challenge).
Choices use the development split only; --test applies the dev thresholds to the test split.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from actions import retrieval
from actions.settings import CONTENT_DIR
from actions.store.db import make_engine, make_session_factory
from actions.store.knowledge import Knowledge, read_knowledge
from actions.store.loader import load

ROOT = Path(__file__).resolve().parent.parent
PRACTITIONER = ROOT / "tests" / "practitioner"
DEV = PRACTITIONER / "practice_questions_dev.yml"
TEST = PRACTITIONER / "practice_questions_test.yml"
EVERYDAY = PRACTITIONER / "everyday.yml"
MAX_EVERYDAY_ABOVE = 0.01


def load_knowledge() -> Knowledge:
    """The real content, loaded into a throwaway SQLite store and read back as the actions do."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'knowledge.db'}"
        load(CONTENT_DIR, url)
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session:
                return read_knowledge(session)
        finally:
            engine.dispose()


def read_questions(path: Path) -> list[tuple[str, str]]:
    return [(q["text"], q["topic"]) for q in yaml.safe_load(path.read_text())["questions"]]


def read_everyday(path: Path = EVERYDAY) -> list[str]:
    return [r["text"] for r in yaml.safe_load(path.read_text())["requests"]]


@dataclass
class Run:
    """One method on one question set: top documents, scores and timings."""

    top: list[list[retrieval.Document]]
    scores: np.ndarray  # best score per query
    ms: np.ndarray  # query time per query


def run(retriever: retrieval.Retriever, texts: list[str]) -> Run:
    for text in texts[:5]:  # warm-up
        retriever.search(text)
    tops, scores, ms = [], [], []
    for text in texts:
        start = time.perf_counter()
        hits = retriever.search(text, k=2)
        ms.append((time.perf_counter() - start) * 1000)
        tops.append([doc for doc, _ in hits])
        scores.append(hits[0][1] if hits else 0.0)
    return Run(tops, np.array(scores), np.array(ms))


def is_right(doc: retrieval.Document, topic: str, challenge_of: dict[str, str]) -> bool:
    if topic.startswith("challenge_"):
        return doc.kind == "advice" and challenge_of.get(doc.id) == topic
    return doc.key == f"practice:{topic}"


@dataclass
class Figures:
    top1: float
    top2: float
    right: np.ndarray  # top-1 right, per question
    scores: np.ndarray
    ms: np.ndarray


def in_domain(retriever, questions, challenge_of) -> Figures:
    result = run(retriever, [text for text, _ in questions])
    right1 = np.array([is_right(top[0], topic, challenge_of) for top, (_, topic) in zip(result.top, questions)])
    right2 = np.array(
        [any(is_right(doc, topic, challenge_of) for doc in top[:2]) for top, (_, topic) in zip(result.top, questions)]
    )
    return Figures(right1.mean(), right2.mean(), right1, result.scores, result.ms)


def at(threshold: float, figures: Figures, everyday: np.ndarray) -> tuple[float, float, float]:
    """(in-domain answered correctly, in-domain below threshold, everyday at or above it)."""
    above = figures.scores >= threshold
    return float((above & figures.right).mean()), float((~above).mean()), float((everyday >= threshold).mean())


def choose(figures: Figures, everyday: np.ndarray) -> float:
    """The threshold with the most in-domain answered correctly among those keeping everyday
    requests at or above it <= 1 %; of equals, the highest (fewer wrong answers). Thresholds
    between two observed scores behave alike, so it returns the middle of that gap."""
    values = np.unique(np.concatenate([figures.scores, everyday]))
    best, chosen = None, None
    for i, t in enumerate(values):
        answered, _, above = at(t, figures, everyday)
        if above <= MAX_EVERYDAY_ABOVE and (best is None or answered >= best):
            best, chosen = answered, i
    if chosen is None:  # even the top score lets too many everyday requests through
        return float(values[-1] * 1.01)
    low = values[chosen - 1] if chosen else 0.0
    middle = (low + values[chosen]) / 2
    rounded = float(f"{middle:.2g}")
    return rounded if low < rounded <= values[chosen] else float(middle)


def shown(figures: Figures, everyday: np.ndarray) -> np.ndarray:
    """About a dozen round thresholds across the range of scores, for the sweep table."""
    top = float(max(figures.scores.max(), everyday.max(), 1e-9))
    raw = top / 12
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return np.round(np.arange(step, top + step, step), 6)


def distribution(scores: np.ndarray) -> str:
    q = np.percentile(scores, [50, 90, 99])
    return f"min {scores.min():.3f}  median {q[0]:.3f}  p90 {q[1]:.3f}  p99 {q[2]:.3f}  max {scores.max():.3f}"


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", action="store_true", help="also report on the test split (never used to choose)")
    parser.add_argument("--methods", nargs="+", default=list(retrieval.METHODS), choices=retrieval.METHODS)
    parser.add_argument("--misses", action="store_true", help="list the dev questions whose top document is wrong")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("sqlalchemy", "actions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    knowledge = load_knowledge()
    docs = retrieval.documents(knowledge)
    challenge_of = {item.id: challenge for challenge, items in knowledge.advice_by_challenge.items() for item in items}
    dev = read_questions(DEV)
    test = read_questions(TEST) if args.test else []
    everyday_texts = read_everyday()
    kinds = {kind: sum(d.kind == kind for d in docs) for kind in ("practice", "advice", "passage")}
    print(f"Knowledge {knowledge.digest[:12]}: {len(docs)} documents ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    print(f"Dev: {len(dev)} in-domain questions; everyday: {len(everyday_texts)} requests" + (f"; test: {len(test)}" if test else ""))

    summary = []
    for method in args.methods:
        start = time.perf_counter()
        retriever = retrieval.Retriever.build(docs, method=method)
        build_ms = (time.perf_counter() - start) * 1000
        figures = in_domain(retriever, dev, challenge_of)
        everyday_run = run(retriever, everyday_texts)
        everyday = everyday_run.scores
        ms = np.concatenate([figures.ms, everyday_run.ms])
        print(f"\n=== {method} (built in {build_ms:.0f} ms) ===")
        print(f"dev top-1 {pct(figures.top1)}  top-2 {pct(figures.top2)}")
        print(f"query time: mean {ms.mean():.2f} ms, p95 {np.percentile(ms, 95):.2f} ms, max {ms.max():.2f} ms")
        print(f"dev in-domain best score:  {distribution(figures.scores)}")
        print(f"everyday best score:       {distribution(everyday)}")
        worst = np.argsort(-everyday, kind="stable")[:3]
        print("highest everyday: " + "; ".join(f"{everyday[i]:.3f} {everyday_texts[i]!r}" for i in worst))
        print(f"{'threshold':>9}  {'answered right':>14}  {'below':>7}  {'everyday above':>14}")
        for t in shown(figures, everyday):
            answered, below, above = at(t, figures, everyday)
            print(f"{t:9.3g}  {pct(answered):>14}  {pct(below):>7}  {pct(above):>14}")
        chosen = choose(figures, everyday)
        answered, below, above = at(chosen, figures, everyday)
        print(f"chosen threshold {chosen:.3g}: answered right {pct(answered)}, below {pct(below)}, everyday above {pct(above)}")
        row = dict(method=method, top1=figures.top1, top2=figures.top2, threshold=chosen, answered=answered,
                   below=below, above=above, ms=ms.mean())
        if args.misses:
            result = run(retriever, [text for text, _ in dev])
            for (text, topic), top, score, right in zip(dev, result.top, result.scores, figures.right):
                if not right:
                    print(f"  miss {score:.3f} {topic:>28} -> {top[0].key:<45} {text!r}")
        if test:
            t_fig = in_domain(retriever, test, challenge_of)
            t_answered, t_below, _ = at(chosen, t_fig, everyday)
            print(f"test top-1 {pct(t_fig.top1)}  top-2 {pct(t_fig.top2)}; at {chosen:.3g}: answered right "
                  f"{pct(t_answered)}, below {pct(t_below)}")
            row.update(test_top1=t_fig.top1, test_top2=t_fig.top2, test_answered=t_answered, test_below=t_below)
        summary.append(row)

    print("\nSummary (dev; thresholds chosen on dev with everyday above <= 1 %)")
    print(f"{'method':<6} {'top-1':>6} {'top-2':>6} {'thresh':>6} {'answered':>8} {'below':>6} {'everyday':>8} {'ms/query':>8}")
    for r in summary:
        print(f"{r['method']:<6} {pct(r['top1'])} {pct(r['top2'])} {r['threshold']:6.3g} {pct(r['answered']):>8} "
              f"{pct(r['below'])} {pct(r['above']):>8} {r['ms']:8.2f}")
    if test:
        print("\nTest split (reporting only; dev thresholds)")
        print(f"{'method':<6} {'top-1':>6} {'top-2':>6} {'thresh':>6} {'answered':>8} {'below':>6}")
        for r in summary:
            print(f"{r['method']:<6} {pct(r['test_top1'])} {pct(r['test_top2'])} {r['threshold']:6.3g} "
                  f"{pct(r['test_answered']):>8} {pct(r['test_below'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
