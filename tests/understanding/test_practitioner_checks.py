"""How the practitioner sets read a reply (tests/practitioner_checks.py), on replies the advisor gives."""

from __future__ import annotations

from tests.practitioner_checks import matches

OUTCOME = "outcome: An outcome is the difference the partnership makes for people, such as fewer older people falling."
DECLINE = "Sorry, I can't help with that: I only advise on working in partnership between organisations."


def test_a_plural_term_is_answered_by_its_singular_definition() -> None:
    assert matches({"kind": "meaning", "term": "outcomes"}, OUTCOME)


def test_a_meaning_question_is_not_met_by_another_term_or_a_decline() -> None:
    assert not matches({"kind": "meaning", "term": "outputs"}, OUTCOME)
    assert not matches({"kind": "meaning", "term": "outcomes"}, DECLINE + " outcomes")


def test_the_steps_after_a_line_on_what_was_asked_are_read_as_the_steps() -> None:
    steps = "How to put \u201cAsk why each partner joins\u201d into practice:\n1. At an early meeting, ask each partner."
    assert matches({"kind": "how"}, "There's no set timescale for this: it depends on your partners.\n" + steps)
    # A quoted title elsewhere in a reply is not the steps.
    assert not matches({"kind": "how"}, "Another idea on funding: How to put \u201cmoney\u201d first.")
