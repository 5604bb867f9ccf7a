"""Entities the person says do not apply are dropped before they fill a slot."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.negated_entities import NegatedEntityFilter, negated
from tests.conftest import RunningAdvisor
from tests.servers import say, sender, texts


def entity(text: str, word: str, kind: str, value: str) -> dict:
    start = text.index(word)
    return {"entity": kind, "value": value, "start": start, "end": start + len(word)}


@pytest.mark.parametrize(
    "text, word, is_negated",
    [
        ("actually I work for the council, not a charity", "charity", True),
        ("actually I work for the council, not a charity", "council", False),
        ("I'm at a charity rather than the NHS", "NHS", True),
        ("I'm no longer at the trust, I'm with the council now", "trust", True),
        ("we're a charity and the council is not engaged", "charity", False),
        ("I'm a community pharmacist", "pharmacist", False),
    ],
)
def test_negation_just_before_an_entity(text: str, word: str, is_negated: bool) -> None:
    assert negated(text, text.index(word)) is is_negated


def test_the_filter_keeps_only_what_applies() -> None:
    text = "actually I work for the council, not a charity"
    message = Message({TEXT: text, ENTITIES: [entity(text, "council", "sector", "council"), entity(text, "charity", "sector", "charity")]})
    [processed] = NegatedEntityFilter().process([message])
    assert [e["value"] for e in processed.get(ENTITIES)] == ["council"]


def test_a_word_inside_a_longer_entity_is_not_a_second_one() -> None:
    text = "practice manager at a GP surgery"
    found = [entity(text, "practice manager", "role", "manager"), entity(text, "GP surgery", "sector", "health"), entity(text, "GP", "role", "practitioner")]
    [processed] = NegatedEntityFilter().process([Message({TEXT: text, ENTITIES: found})])
    assert [e["value"] for e in processed.get(ENTITIES)] == ["manager", "health"]


def test_a_correction_with_not_sets_the_sector_said(advisor: RunningAdvisor) -> None:
    who = sender("negation")
    assert "the voluntary and community sector" in texts(say(advisor.base_url, "I'm at a charity", who))
    reply = texts(say(advisor.base_url, "actually I work for the council, not a charity", who))
    assert "local government" in reply and "voluntary" not in reply, reply
    # The slot holds it too: the next acknowledgement of context still says local government.
    assert "local government" in texts(say(advisor.base_url, "and I lead the partnership", who))
