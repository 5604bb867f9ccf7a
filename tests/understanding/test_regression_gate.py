"""Regression gate (issue 14): the current model may not understand the development set
(tests/heldout/nlu_dev.yml) worse than the figures committed in tests/heldout/figures.json.

After a change that improves them, commit the new figures with
`python -m tools.evaluate --save-gate` (it rewrites tests/heldout/figures.json from the current
model on the development set). The margins allow for nothing but noise: a retraining gives the
same figures, so anything beyond a couple of sentences is a real regression.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

FIGURES = ROOT / "tests" / "heldout" / "figures.json"
# figure -> (higher is better?, margin). Development set: 954 sentences, 148 out of scope.
MARGINS = {
    "macro_f1": (True, 0.01),
    "out_of_scope_declined": (True, 0.014),  # two of 148 out-of-scope sentences
    "wrong_but_confident": (False, 0.005),  # five of 954 sentences
}


@pytest.fixture(scope="module")
def development_figures() -> dict:
    from tools import evaluate, peers
    from server.launch import train

    evaluate.quiet_rasa()
    model = train()
    examples = evaluate.held_out_examples(evaluate.HELD_OUT)
    agent = evaluate.load_agent(model)
    results = evaluate.parse_all(agent, [t for t, _ in examples])
    threshold, _ = peers.fallback_settings(ROOT / "config.yml")
    figures, _, _ = evaluate.figures_of(examples, results, threshold)
    return figures


@pytest.mark.parametrize("figure", MARGINS)
def test_development_set_figures_do_not_regress(development_figures: dict, figure: str) -> None:
    committed = json.loads(FIGURES.read_text())["development_set"]
    higher_better, margin = MARGINS[figure]
    now, then = development_figures[figure], committed[figure]
    print(f"\n[measured] development set {figure}: {now:.4f} (committed {then:.4f}, margin {margin})")
    if higher_better:
        assert now >= then - margin, f"{figure} fell from {then:.4f} to {now:.4f} (margin {margin})"
    else:
        assert now <= then + margin, f"{figure} rose from {then:.4f} to {now:.4f} (margin {margin})"
