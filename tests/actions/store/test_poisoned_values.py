"""One bad value never breaks a conversation, the purge, the report or later saves (issue 15,
finding 1): a payload that sets a slot to a dict or an arbitrary string, stored events written
before that was checked, and a record the database refuses."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from actions.replies import UNAVAILABLE_REPLY
from actions.store import purge as purge_module
from actions.store.db import make_engine, make_session_factory
from actions.store.loader import load
from actions.store.models import Feedback, HealthCheckResult
from actions.store.records import Recorder, rejected_records_file
from tests.conftest import CONTENT_DIR, ROOT, RunningAdvisor
from tests.servers import rest_id, say, sender, texts

POISON = {
    "a dict": {"a": 1},
    "SQL-like": "x' OR 1=1",
    "HTML": "<script>alert(1)</script>",
    "60 characters": "s" * 60,
}


def slot_values(advisor: RunningAdvisor, who: str, slot: str) -> list:
    """The values stored for `slot` in the conversation of the REST sender `who` (stored as rest_id(who))."""
    engine = create_engine(advisor.env["TRACKER_STORE_URL"], future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'slot'"), {"s": rest_id(who)}).scalars()
        values = [json.loads(data)["value"] for data in rows if json.loads(data)["name"] == slot]
    engine.dispose()
    return values


@pytest.mark.parametrize("kind", POISON)
def test_a_payload_with_a_bad_sector_is_ignored_and_the_conversation_carries_on(kind: str, advisor: RunningAdvisor) -> None:
    who = sender("poison")
    reply = texts(say(advisor.base_url, "/inform" + json.dumps({"sector": POISON[kind]}), who))
    assert reply.startswith("Thanks. I'm not sure I caught your sector"), reply  # nothing was understood about the person
    assert slot_values(advisor, who, "sector") == []
    replies = say(advisor.base_url, "one partner only joined for the grant", who)
    reply = texts(replies)
    assert UNAVAILABLE_REPLY not in reply and "funding" in reply.lower(), reply
    # The bad value told nothing about the person: the sector is asked, under the first idea.
    assert len(replies) == 2 and "which sector do you work in?" in replies[-1]["text"], reply
    # A real sector after the bad one is still taken: the answer to that question, and the next
    # idea is picked for it.
    reply = texts(say(advisor.base_url, '/inform{"sector": "health"}', who))
    assert "the health sector" in reply and "Another idea on funding" in reply and "(suits the health sector)" in reply, reply
    reply = texts(say(advisor.base_url, "/ask_more", who))
    assert UNAVAILABLE_REPLY not in reply and "funding" in reply.lower(), reply
    assert slot_values(advisor, who, "sector") == ["health"]


async def store_poisoned_conversations(tracker_db: Path) -> str:
    """Conversations as a server before the slot check could have stored them, 45 days old, plus a
    row that is not even JSON: the purge and the report must get through all of them."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker_url = f"sqlite:///{tracker_db}"
    store = SQLTrackerStore(Domain.from_path(ROOT / "domain.yml"), db=str(tracker_db))
    long_ago = (datetime.now(timezone.utc) - timedelta(days=45)).timestamp()
    conversations = {
        "poisoned-dict": [SlotSet("sector", {"a": 1}), SlotSet("role", ["lead"])],
        "poisoned-long": [SlotSet("sector", "s" * 60), SlotSet("role", "x' OR 1=1")],
        "clean": [SlotSet("sector", "pharmacy")],
    }
    for who, slots in conversations.items():
        events = [UserUttered("about funding", {"name": "challenge_funding", "confidence": 0.9}), ActionExecuted("utter_x"), *slots]
        for event in events:
            event.timestamp = long_ago
        await store.save(DialogueStateTracker.from_events(who, events))
    engine = create_engine(tracker_url, future=True)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) VALUES ('poisoned-dict', 'slot', :t, NULL, NULL, :d)"),
            {"t": long_ago, "d": "{not json"},
        )
        connection.execute(
            text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) VALUES ('poisoned-long', 'user', :t, NULL, NULL, :d)"),
            {"t": long_ago, "d": json.dumps({"event": "user", "text": {"x": 1}, "parse_data": {"intent": {"name": ["a"], "confidence": "high"}}})},
        )
    engine.dispose()
    return tracker_url


async def test_purge_and_report_get_through_stored_bad_values(store_url: str, tmp_path: Path) -> None:
    tracker_url = await store_poisoned_conversations(tmp_path / "tracker.db")
    load(CONTENT_DIR, store_url)

    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "report", "--out", str(out), "--tracker-db", tracker_url, "--knowledge-db", store_url],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with (out / "questions_by_sector_role.csv").open() as table:
        sectors = {row["sector"] for row in csv.DictReader(table)}
    assert "s" * 60 not in sectors and not any("{" in s for s in sectors)

    report = purge_module.purge(tracker_url, store_url, retention_days=30)
    assert report.conversations == 3 and report.questions_tallied == 3
    again = purge_module.purge(tracker_url, store_url, retention_days=30)
    assert again.conversations == 0
    from actions.store.conversations import stored_tallies

    engine = make_engine(store_url)
    with make_session_factory(engine)() as session:
        tallies = stored_tallies(session)
    engine.dispose()
    # The bad values count as "not known"; the clean conversation keeps its sector.
    assert sorted((sector, role, n) for (_, _, sector, role), n in tallies.items()) == [("", "", 2), ("pharmacy", "", 1)]


def feedback(n: int) -> dict:
    return {"conversation_key": f"k{n}", "helpful": True, "advice_ids": ["funding_ask_why_join"], "challenge_id": "challenge_funding"}


async def test_a_record_the_database_refuses_is_set_aside_and_never_holds_back_others(store_url: str, tmp_path: Path) -> None:
    load(CONTENT_DIR, store_url)
    spool = tmp_path / "pending.jsonl"
    # A record already waiting that can never be written (no scores), then a good one behind it.
    spool.write_text(
        json.dumps({"kind": "health_check", "conversation_key": "bad", "created_at": datetime.now(timezone.utc).isoformat()}) + "\n"
        + "not a record\n"
        + json.dumps({"kind": "feedback", "created_at": datetime.now(timezone.utc).isoformat(), **feedback(1)}) + "\n"
    )
    recorder = Recorder(url=store_url, spool=spool)
    assert await recorder.save("feedback", feedback(2)) is True
    assert not spool.exists()
    rejected = rejected_records_file(spool).read_text().splitlines()
    assert len(rejected) == 2 and recorder.rejected == 2
    engine = make_engine(store_url)
    with make_session_factory(engine)() as session:
        assert sorted(session.scalars(select(Feedback.conversation_key))) == ["k1", "k2"]
    engine.dispose()


async def test_a_value_too_long_for_postgresql_fails_alone(postgres_url: str, tmp_path: Path) -> None:
    load(CONTENT_DIR, postgres_url)
    recorder = Recorder(url=postgres_url, spool=tmp_path / "pending.jsonl")
    poisoned = {"conversation_key": "p", "scores": {"challenge_time": 3}, "sector": "s" * 60}
    assert await recorder.save("health_check", poisoned) is False
    assert await recorder.save("health_check", {"conversation_key": "ok", "scores": {"challenge_time": 4}, "sector": "health"}) is True
    assert await recorder.save("feedback", feedback(3)) is True
    assert not (tmp_path / "pending.jsonl").exists() and recorder.rejected == 1
    engine = make_engine(postgres_url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(HealthCheckResult)) == 1
    engine.dispose()


def test_the_domain_lists_exactly_the_context_values_the_actions_know(domain) -> None:
    from actions.vocabulary import DIMENSIONS

    for dimension, labels in DIMENSIONS.items():
        slot = domain["slots"][dimension]
        assert slot["type"] == "categorical" and slot["values"] == list(labels), dimension
