"""The intent classifier's own L-BFGS fit (components/multinomial_lr.py) against scikit-learn's
LogisticRegression on the same TF-IDF problem: same objective, so the same model once both converge."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from components.multinomial_lr import fit_logistic_regression

TEXTS = {
    "challenge_communication": ["too many meetings", "we never talk between meetings", "nobody reads the emails", "the minutes never arrive"],
    "challenge_authority": ["nobody can sign off", "it all goes back to the bosses", "they can't sign anything", "the board decides, not them"],
    "challenge_funding": ["they only came for the grant", "it's just about the money", "they joined because the law says so", "once the funding ends they'll go"],
    "greet": ["hello", "hi there", "good morning", "hiya"],
}
ASKED = ["the meetings never end", "can anyone sign this", "only here for the cash", "morning all", "what about the board"]


def problem():
    texts = [t for ts in TEXTS.values() for t in ts]
    labels = [i for i, ts in TEXTS.items() for _ in ts]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(texts)
    return vectorizer, vectorizer.transform(texts), labels


def test_converged_it_gives_scikit_learns_probabilities() -> None:
    vectorizer, X, labels = problem()
    ours = fit_logistic_regression(X, labels, C=100.0, tol=1e-8)
    theirs = LogisticRegression(C=100.0, tol=1e-8, max_iter=10000).fit(X, labels)
    asked = vectorizer.transform(ASKED)
    assert list(ours.classes_) == list(theirs.classes_)
    assert np.abs(ours.predict_proba(asked) - theirs.predict_proba(asked)).max() < 1e-4
    assert list(ours.predict(asked)) == ["challenge_communication", "challenge_authority", "challenge_funding", "greet", "challenge_authority"]


def test_it_stops_at_the_tolerance_with_every_gradient_component_under_it() -> None:
    _, X, labels = problem()
    loose, tight = fit_logistic_regression(X, labels, C=100.0, tol=0.05), fit_logistic_regression(X, labels, C=100.0, tol=1e-6)
    assert 0 < loose.n_iter_[0] < tight.n_iter_[0]
    # The penalised log-loss gradient at the loose fit, recomputed here: no component above 0.05.
    P = loose.predict_proba(X)
    P[np.arange(len(labels)), np.searchsorted(loose.classes_, labels)] -= 1.0
    gradient = np.hstack([(X.T @ P).T + loose.coef_ / 100.0, P.sum(axis=0)[:, None]])
    assert np.abs(gradient).max() <= 0.05


def test_two_intents_are_left_to_scikit_learn() -> None:
    _, X, labels = problem()
    two = [label if label == "greet" else "other" for label in labels]
    model = fit_logistic_regression(X, two, C=10.0)
    assert model.coef_.shape == (1, X.shape[1]) and list(model.classes_) == ["greet", "other"]


def test_the_products_on_two_threads_give_the_same_fit_as_on_one(monkeypatch) -> None:
    """The loss's sparse products are split into row blocks on threads (training time): every
    weight must come out as it does from whole products on one thread."""
    import components.multinomial_lr as multinomial_lr

    _, X, labels = problem()
    monkeypatch.setattr(multinomial_lr, "THREADS", 1)
    one = fit_logistic_regression(X, labels, C=100.0, tol=1e-6)
    monkeypatch.setattr(multinomial_lr, "THREADS", 2)
    two = fit_logistic_regression(X, labels, C=100.0, tol=1e-6)
    assert one.n_iter_[0] == two.n_iter_[0]
    assert np.array_equal(one.coef_, two.coef_) and np.array_equal(one.intercept_, two.intercept_)


def test_a_fit_that_fails_leaves_no_worker_threads_behind(monkeypatch) -> None:
    """Training runs in the long-lived launcher and in tests: a fit that raises must still end
    its product threads."""
    import threading

    import pytest

    import components.multinomial_lr as multinomial_lr

    def failing_step(*args, **kwargs):
        raise MemoryError("illustrative failure inside a line search")

    _, X, labels = problem()
    before = threading.active_count()
    monkeypatch.setattr(multinomial_lr, "THREADS", 2)
    monkeypatch.setattr(multinomial_lr, "_wolfe_step", failing_step)
    with pytest.raises(MemoryError):
        fit_logistic_regression(X, labels, C=100.0, tol=1e-6)
    assert threading.active_count() == before
