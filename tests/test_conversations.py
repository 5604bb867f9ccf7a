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
