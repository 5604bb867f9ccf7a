"""The SQL tracker store's reads and writes as prepared statements, and the tracker it saved
kept for the conversation's next turn (so a turn does not read the whole conversation back).

The statements are those of actions/store/tracker_events.py, the one owner of the events table.
"""

from __future__ import annotations

from typing import Any

from actions.store import tracker_events
from server.seams import wrap_once


def install_fast_sql_tracker_store() -> None:
    """The SQL tracker store's reads and writes as prepared Core statements.

    Rasa builds an ORM query (or goes through the ORM's unit of work) for every read, count and
    save. Same rows, same order, same "latest session" rule (tests/server/test_conversations.py compares
    both on SQLite and PostgreSQL); the tracker saved last is kept for the next turn."""
    import itertools
    import json

    import ujson  # Sanic's own JSON library: faster than json at reading the stored events
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    def statements(store: SQLTrackerStore) -> dict[str, Any]:
        prepared = store.__dict__.get("_core_statements")
        if prepared is None:
            prepared = store.__dict__["_core_statements"] = tracker_events.conversation_statements(store.SQLEvent.__table__)
        return prepared

    async def _retrieve(self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        query = statements(self)["all" if fetch_events_from_all_sessions else "latest"]
        with self.session_scope() as session:
            if not fetch_events_from_all_sessions:
                kept = kept_trackers(self).pop(sender_id, None)
                if kept is not None and kept_is_current(self, session, kept):
                    kept_trackers(self)[sender_id] = kept  # the tracker this server saved last, as stored
                    return kept[1]
            events = [ujson.loads(data) for (data,) in session.execute(query, {"sender_id": sender_id})]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if not fetch_events_from_all_sessions:
                tracker.__dict__["_read_by"] = id(self)  # its events are the stored latest session's
            return tracker
        return None

    def newest(self: SQLTrackerStore, session: Any, sender_id: str) -> tuple | None:
        """(id, timestamp) of the conversation's newest row. Asked up to three times a turn, so run as
        the dialect's own SQL text, compiled once: SQLAlchemy's statement cache and parameter
        building cost more than SQLite's answer (about a tenth of the server's time under load)."""
        sql, parameters = newest_sql(self)
        row = session.connection().exec_driver_sql(sql, parameters(sender_id)).first()
        return None if row is None else tuple(row)

    def newest_sql(self: SQLTrackerStore) -> tuple[str, Any]:
        prepared = self.__dict__.get("_newest_sql")
        if prepared is None:
            compiled = statements(self)["newest"].compile(dialect=self.engine.dialect)
            fixed = compiled.construct_params({"sender_id": ""})  # the LIMIT; sender_id is filled in per call
            if compiled.positional:
                names = list(compiled.positiontup or [])
                prepared = (str(compiled), lambda sender_id: tuple(sender_id if n == "sender_id" else fixed[n] for n in names))
            else:
                prepared = (str(compiled), lambda sender_id: {**fixed, "sender_id": sender_id})
            self.__dict__["_newest_sql"] = prepared
        return prepared

    def kept_is_current(self: SQLTrackerStore, session: Any, kept: tuple) -> bool:
        """The kept tracker holds the stored events of its session, no more, no fewer: no row was
        added or deleted since this server saved it (its newest row is still the newest), and no
        event was added to it without being saved (a turn that failed half-way)."""
        newest_row, tracker, domain, count = kept
        return domain is self.domain and len(tracker.events) == count and newest(self, session, tracker.sender_id) == newest_row

    def stored_count(self: SQLTrackerStore, session: Any, tracker: Any) -> int:
        """How many of the tracker's events are stored: known when it is the tracker kept at the last
        save and nothing was stored since (it may have gained events since, not yet saved)."""
        kept = kept_trackers(self).get(tracker.sender_id)
        if (
            kept is not None
            and kept[1] is tracker
            and kept[2] is self.domain
            and len(tracker.events) >= kept[3]
            and newest(self, session, tracker.sender_id) == kept[0]
        ):
            return kept[3]
        return session.execute(statements(self)["count_latest"], {"sender_id": tracker.sender_id}).scalar()

    def _additional_events(self: SQLTrackerStore, session: Any, tracker: Any) -> Any:
        stored = stored_count(self, session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self: SQLTrackerStore, tracker: Any) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(statements(self)["insert"], rows)
            session.commit()
            keep_tracker(self, session, tracker, rows)

    def keep_tracker(self: SQLTrackerStore, session: Any, tracker: Any, rows: list) -> None:
        """Keep the saved tracker for the conversation's next turn when it is exactly what reading
        the latest session back would give: every event stored, one session (or none) in it."""
        kept = kept_trackers(self)
        kept.pop(tracker.sender_id, None)
        events = tracker.events
        if not (tracker.__dict__.get("_read_by") == id(self) or len(rows) == len(events)):
            return  # a tracker made elsewhere (the HTTP API's): its events need not be the stored ones
        if (
            type(tracker) is not DialogueStateTracker
            or not self.domain
            or not events
            or any(r["type_name"] == SessionStarted.type_name for r in rows)
            and not (isinstance(events[0], SessionStarted) and len(rows) == len(events))
        ):
            return
        newest_row = newest(self, session, tracker.sender_id)
        if newest_row is None:
            return
        # every event up to the last is stored (the additional ones were just inserted)
        tracker.__dict__["_read_by"] = id(self)
        kept[tracker.sender_id] = (newest_row, tracker, self.domain, len(events))
        total = sum(entry[3] for entry in kept.values())
        while kept and (len(kept) > KEPT_TRACKERS or total > KEPT_TRACKER_EVENTS):
            _, dropped = kept.popitem(last=False)
            total -= dropped[3]

    wrap_once(SQLTrackerStore, "_retrieve", lambda original: _retrieve)
    wrap_once(SQLTrackerStore, "_additional_events", lambda original: _additional_events)
    wrap_once(SQLTrackerStore, "save", lambda original: save)


# Trackers a SQL tracker store keeps in memory between turns (install_fast_sql_tracker_store).
KEPT_TRACKERS = 256


KEPT_TRACKER_EVENTS = 50_000


def kept_trackers(store: Any) -> Any:
    """The conversations' trackers as this server saved them last: sender id -> ((id, timestamp) of
    the conversation's newest row then, tracker, domain, events stored), least recently used first."""
    from collections import OrderedDict

    return store.__dict__.setdefault("_kept_trackers", OrderedDict())
