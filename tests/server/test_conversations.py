"""Reading conversations from Rasa's own SQL tracker store (written here by Rasa's
SQLTrackerStore, on SQLite and PostgreSQL), and the tallies kept when they are purged."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timezone

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import create_engine

from actions.store.conversations import add_tallies, last_activity, stored_tallies, tally, user_turns
from actions.store.db import make_engine, make_session_factory

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc).timestamp()
TUESDAY = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc).timestamp()


def user(text: str, intent: str, at: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.93}, timestamp=at)


def save(store: SQLTrackerStore, sender: str, events: list) -> None:
    tracker = DialogueStateTracker.from_events(sender, events, slots=store.domain.slots)
    asyncio.run(store.save(tracker))


def test_turns_come_back_with_the_context_the_conversation_learned(store_url: str) -> None:
    domain = Domain.from_dict({"slots": {name: {"type": "text", "mappings": [{"type": "custom"}]} for name in ("sector", "role", "stage")}})
    store = SQLTrackerStore(domain, host=store_url)
    save(store, "alice", [
        ActionExecuted("action_listen", timestamp=MONDAY),
        user("I work at a council and nobody can sign anything off", "challenge_authority", MONDAY + 1),
        SlotSet("sector", "local_government", timestamp=MONDAY + 2),
        BotUttered("advice", timestamp=MONDAY + 3),
        user("actually I'm at a charity", "inform", MONDAY + 60),
        SlotSet("sector", "voluntary_community", timestamp=MONDAY + 61),
    ])
    save(store, "bob", [user("what is a partnership?", "ask_definition", TUESDAY)])
    store.engine.dispose()

    engine = create_engine(store_url, future=True)
    with engine.connect() as connection:
        turns = list(user_turns(connection))
        only_bob = list(user_turns(connection, ["bob"]))
        activity = last_activity(connection)
    engine.dispose()

    assert [(t.sender_id, t.intent, t.sector) for t in turns] == [
        ("alice", "challenge_authority", "voluntary_community"),  # the corrected sector
        ("alice", "inform", "voluntary_community"),
        ("bob", "ask_definition", None),
    ]
    assert turns[0].text.startswith("I work at a council") and turns[0].confidence == 0.93
    assert [t.sender_id for t in only_bob] == ["bob"]
    assert activity["alice"] == datetime.fromtimestamp(MONDAY + 61, tz=timezone.utc)
    assert tally(turns) == Counter({
        (date(2026, 11, 2), "challenge_authority", "voluntary_community", ""): 1,
        (date(2026, 11, 2), "inform", "voluntary_community", ""): 1,
        (date(2026, 11, 3), "ask_definition", "", ""): 1,
    })


def test_a_database_without_conversations_reads_as_empty(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, future=True)
    with engine.connect() as connection:
        assert list(user_turns(connection)) == [] and last_activity(connection) == {}


def test_tallies_add_up_across_purges(store_url: str) -> None:
    engine = make_engine(store_url)
    sessions = make_session_factory(engine)
    key = (date(2026, 11, 2), "challenge_time", "health", "")
    for _ in range(2):
        with sessions.begin() as session:
            add_tallies(session, Counter({key: 3}))
    with sessions() as session:
        assert stored_tallies(session) == Counter({key: 6})
    engine.dispose()


def test_the_servers_faster_tracker_store_reads_and_writes_what_rasas_own_does(store_url: str) -> None:
    """server/seams/tracker_store.py replaces SQLTrackerStore's queries with prepared statements. A
    conversation of two sessions, saved turn by turn, must give the same rows and read back
    the same way (latest session only, or all) through either implementation."""
    from rasa.shared.core.events import ActionExecuted as Action, SessionStarted

    from server.seams.tracker_store import install_fast_sql_tracker_store

    names = ("_retrieve", "_additional_events", "save")
    rasas = {name: SQLTrackerStore.__dict__.get(name) for name in names}
    turns = [
        [Action("action_session_start", timestamp=MONDAY), SessionStarted(timestamp=MONDAY + 1), Action("action_listen", timestamp=MONDAY + 2)],
        [user("nobody can sign anything off", "challenge_authority", MONDAY + 3), SlotSet("sector", "health", timestamp=MONDAY + 4), BotUttered("advice", timestamp=MONDAY + 5)],
        [Action("action_session_start", timestamp=TUESDAY), SessionStarted(timestamp=TUESDAY + 1), Action("action_listen", timestamp=TUESDAY + 2)],
        [user("what is a partnership?", "ask_definition", TUESDAY + 3), BotUttered("a definition", timestamp=TUESDAY + 4)],
    ]

    def converse(store: SQLTrackerStore, sender: str) -> None:
        tracker = None
        for turn in turns:  # as the processor does: read, add the turn's events, save
            tracker = asyncio.run(store.retrieve(sender)) or store.init_tracker(sender)
            for event in turn:
                tracker.update(event)
            asyncio.run(store.save(tracker))

    def read(store: SQLTrackerStore, sender: str) -> tuple[list, list]:
        latest, full = asyncio.run(store.retrieve(sender)), asyncio.run(store.retrieve_full_tracker(sender))
        return [e.as_dict() for e in latest.events], [e.as_dict() for e in full.events]

    store = SQLTrackerStore(Domain.from_dict({"slots": {"sector": {"type": "text", "mappings": [{"type": "custom"}]}}}), host=store_url)
    try:
        converse(store, "rasa")
        rasa_reads = read(store, "rasa")
        install_fast_sql_tracker_store()
        converse(store, "fast")
        assert read(store, "fast") == read(store, "rasa") == rasa_reads
        assert [e["event"] for e in rasa_reads[0]] == ["session_started", "action", "user", "bot"] and len(rasa_reads[1]) == 11
        rows = {
            sender: [(r.type_name, r.timestamp, r.intent_name, r.action_name, r.data) for r in store.engine.connect().execute(
                store.SQLEvent.__table__.select().where(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id))]
            for sender in ("rasa", "fast")
        }
        assert rows["fast"] == rows["rasa"] and len(rows["rasa"]) == 11  # each event stored once
    finally:
        for name, original in rasas.items():
            if original is None:
                delattr(SQLTrackerStore, name)
            else:
                setattr(SQLTrackerStore, name, original)
        store.engine.dispose()
