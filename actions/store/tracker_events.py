"""Rasa's SQL tracker store table, `events`: every SQL statement the project runs on it.

Rasa owns the table (its SQLTrackerStore creates and fills it); the Rasa server's faster
tracker store (server/seams/tracker_store.py), "delete my data" (server/seams/privacy.py), the
retention purge (actions/store/purge.py) and the insight report (actions/store/conversations.py)
read and delete through here. Plain SQL on Rasa's columns, for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import MetaData, Table, and_, delete, exists, func, inspect, select
from sqlalchemy.engine import Connection

_CHUNK = 500  # sender ids per IN (...): SQLite limits bound parameters per statement
SESSION_STARTED = "session_started"  # Rasa's SessionStarted.type_name


def events_table(connection: Connection) -> Table | None:
    """Rasa's events table, or None if no Rasa server has written to this database yet."""
    if not inspect(connection).has_table("events"):
        return None
    return Table("events", MetaData(), autoload_with=connection)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def utc(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, tz=timezone.utc)  # Rasa writes a float; anything else counts as long ago


# --- The Rasa server's tracker store: one conversation at a time -----------------------------


def conversation_statements(events: Table) -> dict[str, Any]:
    """The statements the Rasa server's tracker store runs each turn, built once per store
    (bound parameter: sender_id). "latest" is Rasa's rule: the events from the conversation's
    newest session_started on, or all of them if there is none."""
    of_sender = events.c.sender_id == sa.bindparam("sender_id")
    session_start = select(func.max(events.c.timestamp)).where(of_sender, events.c.type_name == SESSION_STARTED).scalar_subquery()
    in_latest_session = and_(of_sender, sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
    return {
        "all": select(events.c.data).where(of_sender).order_by(events.c.id),
        "latest": select(events.c.data).where(in_latest_session).order_by(events.c.id),
        "count_latest": select(func.count()).select_from(events).where(in_latest_session),
        # the conversation's newest row: one step down the sender_id index, however long it is
        "newest": select(events.c.id, events.c.timestamp).where(of_sender).order_by(events.c.id.desc()).limit(1),
        "insert": events.insert(),
    }


def delete_conversation(connection: Any, events: Table, sender_id: str) -> int:
    """Delete every event of one conversation (all its sessions) in the caller's transaction
    (a Connection or a Session); how many were deleted."""
    return connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount


# --- The insight report and the purge: every conversation --------------------------------------


def last_activity(connection: Connection) -> dict[str, datetime]:
    """When each conversation last had an event (UTC), by sender id."""
    events = events_table(connection)
    if events is None:
        return {}
    rows = connection.execute(select(events.c.sender_id, func.max(events.c.timestamp)).group_by(events.c.sender_id))
    return {sender: utc(timestamp) for sender, timestamp in rows}


def event_rows(
    connection: Connection, kinds: Iterable[str], sender_ids: Iterable[str] | None = None, stream: bool = False
) -> Iterator[tuple[str, str, float, str]]:
    """(sender id, type name, timestamp, JSON data) of the stored events of these kinds, in the
    given conversations or all, conversation by conversation and in the order they happened."""
    events = events_table(connection)
    if events is None:
        return
    query = (
        select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.type_name.in_(tuple(kinds)))
        .order_by(events.c.sender_id, events.c.id)
    )
    run = connection.execution_options(stream_results=True).execute if stream else connection.execute
    if sender_ids is None:
        yield from run(query)
        return
    for chunk in _chunks(sorted(set(sender_ids))):
        yield from run(query.where(events.c.sender_id.in_(chunk)))


def delete_idle_conversations(
    connection: Connection, sender_ids: list[str], cutoff: datetime, dry_run: bool = False
) -> tuple[int, set[str]]:
    """Delete (or with dry_run, count) the events of these conversations, unless one had an event
    at or after `cutoff` (it became active again): (events deleted or counted, senders kept).
    In the caller's transaction."""
    events = events_table(connection)
    kept: set[str] = set()
    count = 0
    if events is None or not sender_ids:
        return count, kept
    recent = events.alias("recent")
    still_idle = ~exists().where(and_(recent.c.sender_id == events.c.sender_id, recent.c.timestamp >= cutoff.timestamp()))
    for chunk in _chunks(sender_ids):
        mine = events.c.sender_id.in_(chunk)
        if dry_run:
            count += connection.execute(select(func.count()).select_from(events).where(mine, still_idle)).scalar_one()
        else:
            count += connection.execute(delete(events).where(mine, still_idle)).rowcount
        kept.update(connection.execute(select(events.c.sender_id).distinct().where(mine, ~still_idle)).scalars())
    return count, kept
