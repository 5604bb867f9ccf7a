"""Rasa's own command line, with the project's guards and speed-ups at Rasa's seams: never
silent when the action server fails, over-long messages capped, Redis lock tickets atomic,
HTTP API only with auth; speed-ups, each found by profiling the server under load (`make
bench`): action responses validated by a cached validator, SQLite tracker stores in WAL
mode, spaCy without its unused entity recogniser, event classes looked up in a dict, one
kept-alive HTTP session per endpoint, the tracker store's reads and writes as prepared
statements with ujson, the model graph run without dask, and turns admitted a few at a
time, first come first served; a turn's cost flat however long the conversation (issue 17):
the policies given the latest dialogue states, counted on from the last prediction, the
applied events counted on likewise, the action server sent the latest user turns, and the
SQL tracker store keeping the tracker it saved for the conversation's next turn; and privacy:
"delete my data" deletes the conversation, no message text in the logs, and the retention
period in the replies that state it. Slots filled from entities and payloads keep only the
values the domain lists for them.

    python -m server.rasa_server run --model ... --endpoints endpoints.yml ...
    python -m server.rasa_server shell --model ...

Stock Rasa 3.6 logs a refused connection, a 5xx or a timeout of the action server and
then carries on with nothing said to the person (the remote action counts as run), and
its call timeout is fixed at 300 s. The guard wraps RemoteAction.run: it gives the call
ACTION_TIMEOUT_SECONDS (default 10) and turns those failures into the same apology the
action server sends when the knowledge store is unreachable. An HTTP 400 still becomes
Rasa's ActionExecutionRejection, as before.

It also reads only the first MAX_MESSAGE_CHARS characters of a message: with the earlier
DIET pipeline one 50,000-character message of ordinary words kept the server busy for 35 s
here, stalling every other conversation on it; the cap bounds any pipeline's cost.

And it makes the Redis lock store's ticket handling atomic. Rasa updates a conversation's
ticket lock with a Redis GET, then a SET: two replicas taking messages of one conversation
at the same moment both drew ticket 0 in 39 of 50 tries here and ran side by side (the
same advice given twice). Each of those read-modify-writes now runs under a short Redis
mutex, over redis.asyncio: a turn waiting for it never stalls the other conversations of
its process (a blocking wait did, for up to 10 s).

"Delete my data" is finished here. Once the action server has deleted the conversation's
feedback and health-check rows, its confirmation carries a privacy signal
(actions/replies.py); at the end of that turn, where Rasa would save the tracker, this
deletes every stored event of the conversation instead (SQL, in-memory and Redis tracker
stores). It cannot happen earlier: SQLTrackerStore.save writes every event of the tracker
again if the stored rows vanished during the turn. The next message starts a new conversation.

Logs at the default level carry no message text: Rasa's structlog events name the fields
that hold text (its own anonymiser's list); those are replaced by "[redacted]" in every
event at INFO or above (debug logging, switched on by hand, still shows them). Rasa's
warnings about a message that looks like a payload ("/...") but is not one quote the
message; they are replaced by one that does not.

Logs also carry no sender id and no message text of the turn being worked on, whatever logs it
(Rasa warns with the sender id when its circuit breaker trips, and a lock timeout is an
exception naming the conversation): every log line at INFO or above is cleared of the turn's
sender id and text before it is written. Exception traces are rendered without the values of
local variables (Rasa's structlog set-up printed them, message text and sender id included).

Conversations are per channel (channels/inputs.py): where Rasa hands each channel the function
that passes its messages on, the channel's namespace is put in front of the sender id
("rest:...", "web:...", "slack:..."), so no channel can address another's conversations; the
channel's own name replaces whatever the request said; replies go out under the id the channel
knows. The same place refuses a message over the limits (sender id, text, metadata) politely,
before anything is stored, and every HTTP request body is capped at 1 MB (Sanic's default: 100 MB).

A conversation deleted on request is also erased from SQLite's files: deleted content is
overwritten with zeros (secure_delete) and the write-ahead log is emptied after the deletion.

Responses may say {retention_days}: filled from RETENTION_DAYS (actions/settings.py).

Every response carries security headers (X-Content-Type-Options: nosniff and others), and
none says Access-Control-Allow-Credentials: true (Rasa's CORS set-up did). Installed
libraries' deprecation notices are kept off the screen (`make shell` opened with two screens).

For `run`, the HTTP API is switched on only when RASA_API_TOKEN or RASA_JWT_SECRET is set,
and then only with that token or JWT secret. They are read here from the environment
and handed to Rasa in-process, so they never appear on a process command line.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import sys
import traceback
import warnings
from typing import Any

from actions import settings
from actions.replies import CONVERSATION_DELETED, DELETE_ACTION, PRIVACY_SIGNAL, UNAVAILABLE_REPLY
from actions.store.db import erase_deleted_from_files, sqlite_secure_delete
from channels import inputs

logger = logging.getLogger(__name__)
DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0
# About 350 words: more than anyone types in one chat message, and understood in ~0.1 s.
MAX_MESSAGE_CHARS = 2000
# Turns one Rasa process works on at once (see install_turn_admission).
DEFAULT_CONCURRENT_TURNS = 4


def action_timeout_seconds() -> float:
    return float(os.environ.get("ACTION_TIMEOUT_SECONDS") or DEFAULT_ACTION_TIMEOUT_SECONDS)


def install_never_silent_guard() -> None:
    """Wrap RemoteAction.run once per process (idempotent)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    original = RemoteAction.run
    if getattr(original, "never_silent", False):
        return

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list:
        timeout = action_timeout_seconds()
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), timeout)
        except ActionExecutionRejection:
            raise  # the action server refused this action (HTTP 400): Rasa's policies handle it
        except asyncio.TimeoutError:
            logger.error("Action server took longer than %g s to run '%s'; apologising instead.", timeout, self.name())
        except RasaException as error:  # refused connection, 5xx, other HTTP errors
            logger.error("Custom action '%s' failed (%s: %s); apologising instead.", self.name(), error, error.__cause__)
        # The processor sends every BotUttered an action returns and logs it on the tracker.
        return [BotUttered(UNAVAILABLE_REPLY, metadata={"action_unavailable": self.name()})]

    run.never_silent = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]


def install_message_length_cap() -> None:
    """Cut over-long messages before NLU, for every channel, and replace lone surrogates (which
    JSON's "\\ud800" gives, and which made spaCy fail the turn) by U+FFFD (idempotent)."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.handle_message
    if getattr(original, "capped", False):
        return

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        if isinstance(message.text, str):
            if len(message.text) > MAX_MESSAGE_CHARS:
                logger.info("A message of %d characters was read up to %d.", len(message.text), MAX_MESSAGE_CHARS)
                message.text = message.text[:MAX_MESSAGE_CHARS]
            message.text = inputs.valid_text(message.text)
        return await original(self, message)

    handle_message.capped = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]


def concurrent_turns() -> int:
    turns = int(os.environ.get("CONCURRENT_TURNS") or DEFAULT_CONCURRENT_TURNS)
    if turns < 1:
        raise ValueError(f"CONCURRENT_TURNS must be 1 or more, not {turns}")
    return turns


def install_turn_admission() -> None:
    """Work on at most CONCURRENT_TURNS turns at once; later ones wait their turn (idempotent).

    One Rasa process interleaves every turn it has started at each await (an action call, a
    tracker read): under load a turn that needs three predictions and two action calls, such
    as starting the health check, went round the queue five times and took 0.73 s at 50
    conversations at once while a greeting took 0.12 s. Admitting a few turns at a time,
    first come first served, keeps the CPU busy while one waits for the action server, and
    each admitted turn finishes in its own few milliseconds. Messages of one conversation
    already wait for each other in Rasa's lock before reaching this."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.handle_message
    if getattr(original, "admitted", False):
        return
    limit = concurrent_turns()  # read once: a bad value stops the start-up, not a turn
    gates: dict[Any, asyncio.Semaphore] = {}  # one per event loop (Sanic workers each have one)

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        loop = asyncio.get_running_loop()
        gate = gates.get(loop)
        if gate is None:
            gate = gates[loop] = asyncio.Semaphore(limit)
        async with gate:
            return await original(self, message)

    handle_message.admitted = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]


def install_cached_action_response_validation() -> None:
    """Validate action server responses with validators built once (idempotent).

    Rasa checks every response with jsonschema.validate(), which also re-checks the large
    events schema itself: 15 ms of each custom-action turn here, against 0.4 ms with a
    validator built once. Each event must match exactly one of the schema's 23 event kinds
    ("oneOf"), and the kinds differ by their "event" name, so each event is checked against
    the one kind it names only: the same verdict (tests/test_server.py compares them) at a
    tenth of the cost. An invalid response still goes through Rasa's own method, so it fails
    exactly as before."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "cached", False):
        return
    validate_response = response_validator(RemoteAction.action_response_format_spec(), validator_for)

    def validate(self: RemoteAction, result: dict) -> bool:
        return True if validate_response(result) else original(self, result)

    validate.cached = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate  # type: ignore[method-assign]


def response_validator(schema: dict[str, Any], validator_for: Any) -> Any:
    """"Is this action response valid?" for Rasa's response schema, with each event checked
    against the event kind its "event" names (the oneOf branches)."""
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    event_schema = schema["properties"]["events"]["items"]
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    by_name = {}
    for kind in event_schema["oneOf"]:
        name = kind["properties"]["event"]["const"]
        assert name not in by_name, f"two event kinds named {name!r}: the oneOf shortcut would not hold"
        by_name[name] = validator_class({**common, "allOf": [kind]})
    outline = validator_class({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})

    def event_is_valid(event: Any) -> bool:
        name = event.get("event") if isinstance(event, dict) else None
        kind = by_name.get(name) if isinstance(name, str) else None
        return kind is not None and kind.is_valid(event)

    def response_is_valid(result: Any) -> bool:
        events = result.get("events") if isinstance(result, dict) else None
        return outline.is_valid(result) and all(event_is_valid(event) for event in events or [])

    return response_is_valid


def install_sqlite_write_ahead_log() -> None:
    """SQLite tracker stores: WAL mode, synchronous=NORMAL, and connections kept open (idempotent).

    The default rollback journal syncs to disk twice per saved turn (4 ms here) and locks
    out readers while it writes; WAL syncs at checkpoints and lets `make report` and
    `make purge` read a live store. A committed turn survives a crash of the server; only
    a power cut can lose the last few. SQLAlchemy 1.4 gives SQLite files a NullPool, so
    Rasa opened and closed a connection per read and per save, and each close of the last
    connection checkpoints the log (another 4 ms): a pool keeps them open."""
    from rasa.core import tracker_store
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url
    from sqlalchemy.pool import QueuePool

    if event.contains(Engine, "connect", _sqlite_wal):
        return
    event.listen(Engine, "connect", _sqlite_wal)
    original = tracker_store.create_engine_kwargs

    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        parsed = make_url(str(url))
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            # Rasa runs its tracker-store sessions on the event loop's thread; the pool may
            # still hand a connection to another thread later, which sqlite3 allows this way.
            return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
        return original(url)

    tracker_store.create_engine_kwargs = create_engine_kwargs


def install_fast_sql_tracker_store() -> None:
    """The SQL tracker store's reads and writes as prepared Core statements (idempotent).

    Each turn Rasa reads the conversation's events, counts them again before saving, and
    saves the new ones, each time building an ORM query (with its session-start subquery)
    or going through the ORM's unit of work: 1.5 ms to read 260 events here, against
    0.2 ms for the same SELECT built once; the count 0.7 ms against 0.1. Same rows, same
    order, same "latest session" rule (events from the newest session_started on, or all
    events if there is none); tests/test_conversations.py compares both on SQLite and
    PostgreSQL."""
    import itertools
    import json

    import sqlalchemy as sa
    import ujson  # Sanic's own JSON library: reads the stored events 1.6x faster than json
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    if getattr(SQLTrackerStore, "core_statements", False):
        return

    def statements(store: SQLTrackerStore) -> dict[str, Any]:
        prepared = store.__dict__.get("_core_statements")
        if prepared is None:
            events = store.SQLEvent.__table__
            of_sender = events.c.sender_id == sa.bindparam("sender_id")
            session_start = (
                sa.select(sa.func.max(events.c.timestamp))
                .where(of_sender, events.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            in_latest_session = sa.and_(of_sender, sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
            prepared = store.__dict__["_core_statements"] = {
                "all": sa.select(events.c.data).where(of_sender).order_by(events.c.id),
                "latest": sa.select(events.c.data).where(in_latest_session).order_by(events.c.id),
                "count_latest": sa.select(sa.func.count()).select_from(events).where(in_latest_session),
                # the conversation's newest row: one step down the sender_id index, however long it is
                "newest": sa.select(events.c.id, events.c.timestamp).where(of_sender).order_by(events.c.id.desc()).limit(1),
                "insert": events.insert(),
            }
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
        row = session.execute(statements(self)["newest"], {"sender_id": sender_id}).first()
        return None if row is None else tuple(row)

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
        if (kept is not None and kept[1] is tracker and kept[2] is self.domain and len(tracker.events) >= kept[3]
                and newest(self, session, tracker.sender_id) == kept[0]):
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
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
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
        if (type(tracker) is not DialogueStateTracker or not self.domain or not events
                or any(r["type_name"] == SessionStarted.type_name for r in rows) and not (
                    isinstance(events[0], SessionStarted) and len(rows) == len(events))):
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

    SQLTrackerStore._retrieve = _retrieve  # type: ignore[method-assign]
    SQLTrackerStore._additional_events = _additional_events  # type: ignore[method-assign]
    SQLTrackerStore.save = save  # type: ignore[method-assign]
    SQLTrackerStore.core_statements = True  # type: ignore[attr-defined]


# Trackers a SQL tracker store keeps in memory between turns (install_fast_sql_tracker_store).
KEPT_TRACKERS = 256
KEPT_TRACKER_EVENTS = 50_000


def kept_trackers(store: Any) -> Any:
    """The conversations' trackers as this server saved them last: sender id -> ((id, timestamp) of
    the conversation's newest row then, tracker, domain, events stored), least recently used first."""
    from collections import OrderedDict

    return store.__dict__.setdefault("_kept_trackers", OrderedDict())


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        sqlite_secure_delete(dbapi_connection)  # a conversation deleted on request is zeroed in the file


def install_spacy_without_ner() -> None:
    """Load the spaCy pipeline without its named-entity recogniser (idempotent).

    Nothing in the NLU pipeline reads spaCy's entities (sector, role and stage come from
    lookup tables; the intent classifier uses lemmas, which the tagger gives), yet NER took
    about 1 ms of each message here. Rasa already leaves out the parser the same way."""
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    original = SpacyNLP.load_model
    if getattr(original, "without_ner", False):
        return

    def load_model(spacy_model_name: str) -> Any:
        loaded = original(spacy_model_name)
        if "ner" in loaded.model.pipe_names:
            loaded.model.disable_pipe("ner")
        return loaded

    load_model.without_ner = True  # type: ignore[attr-defined]
    SpacyNLP.load_model = staticmethod(load_model)  # type: ignore[method-assign]


def install_event_type_cache() -> None:
    """Look up event classes by type name in a dict (idempotent).

    Rasa finds the class of every stored event by walking all subclasses of Event and asking
    `inspect.isabstract` of each, for each event it reads: 5 % of the Rasa server's time
    under load here, since every turn reads the conversation's events back. The same search
    runs again on a miss, so classes defined later are still found."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    if getattr(original, "cached", False):
        return
    classes: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = classes.get(type_name)
        if found is None:
            classes.clear()
            classes.update((cls.type_name, cls) for cls in reversed(all_subclasses(Event)))  # first match wins, as in Rasa
            found = classes.get(type_name)
        return found if found is not None else original(type_name, default)

    resolve_by_type.cached = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


# Dialogue states kept per conversation for prediction (see install_windowed_dialogue_states): more
# than the longest rule of this bot (tests/test_conversations.py checks the trained model) and
# MemoizationPolicy's max_history (5).
STATES_WINDOW = 40
KEPT_CONVERSATIONS = 512


class _StatesSoFar:
    """The dialogue states of one conversation up to some applied event, and where the count stopped."""

    __slots__ = ("prior", "applied", "first", "last", "states", "hidden", "last_ml_action")

    def __init__(self, prior: Any) -> None:
        self.prior = prior  # the tracker after the first `applied` applied events (generate_all_prior_trackers's)
        self.applied = 0
        self.first = self.last = None  # (type, timestamp) of the first and latest applied events counted
        self.states: Any = None  # the last STATES_WINDOW states
        self.hidden = False  # Domain.states_for_tracker_history's turn_was_hidden
        self.last_ml_action: Any = None  # and its last_ml_action_sub_state


def _event_mark(event: Any) -> tuple:
    return (type(event), event.timestamp)


def install_windowed_dialogue_states() -> None:
    """Policies featurise only the conversation's latest dialogue states, counted once (idempotent).

    For every prediction Rasa turned the whole conversation into dialogue states again (replaying
    every event and building a state for each action), and RulePolicy then matched its rules
    against all of them: the biggest part of the growth of a turn's cost with the length of the
    conversation (a quarter of the Rasa server's time at turn 250 here). Each conversation's
    states are now counted on from where the last prediction stopped (the tracker as it stood
    there is kept, as Domain.states_for_tracker_history keeps it while counting), and only the
    last STATES_WINDOW states go to the policies. That changes no prediction: MemoizationPolicy
    looks at the last max_history states, and RulePolicy compares each rule with as many of the
    latest states as the rule has (one more state would only tell whether the conversation starts
    there, which it does not once it is longer than the window). The count restarts from the
    beginning when the conversation's applied events are not the ones counted before plus new
    ones (a new session, a restart, a rewind, a deleted conversation). Trackers of training
    (their own classes) are featurised as before."""
    from collections import OrderedDict

    from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
    from rasa.shared.core.constants import PREVIOUS_ACTION
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    original = TrackerFeaturizer.__dict__["_create_states"].__func__
    if getattr(original, "windowed", False):
        return
    kept: OrderedDict[tuple, _StatesSoFar] = OrderedDict()

    def state_of(domain: Any, tr: Any, hide_rule_turn: bool, so_far: _StatesSoFar, omit_unset_slots: bool,
                 ignore_rule_only_turns: bool, rule_only_data: Any, previous: Any) -> tuple[Any, bool, Any]:
        """One step of Domain.states_for_tracker_history: (the state or None when hidden, hidden, last ML action)."""
        hidden, last_ml_action = so_far.hidden, so_far.last_ml_action
        if ignore_rule_only_turns:
            if not hidden:
                last_ml_action = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                hidden = hide_rule_turn
            if hidden:
                return None, hidden, last_ml_action
        state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if previous is not None:
                domain._substitute_rule_only_user_input(state, previous)
            if last_ml_action:
                state[PREVIOUS_ACTION] = last_ml_action
        return domain._clean_state(state), hidden, last_ml_action

    def _create_states(tracker: Any, domain: Any, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                       rule_only_data: Any = None) -> list:
        if type(tracker) is not DialogueStateTracker or tracker.is_rule_tracker:
            return original(tracker, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        import collections

        applied = tracker.applied_events()
        key = (tracker.sender_id, id(domain), omit_unset_slots, ignore_rule_only_turns,
               json.dumps(rule_only_data, sort_keys=True, default=str))
        so_far = kept.pop(key, None)
        if (so_far is None or len(applied) < so_far.applied
                or (so_far.applied and (_event_mark(applied[0]) != so_far.first
                                        or _event_mark(applied[so_far.applied - 1]) != so_far.last))):
            so_far = _StatesSoFar(tracker.init_copy())
            so_far.prior.events = collections.deque(maxlen=STATES_WINDOW)  # states are built from its attributes
            so_far.states = collections.deque(maxlen=STATES_WINDOW)
        for event in applied[so_far.applied:]:
            if isinstance(event, ActionExecuted):
                previous = so_far.states[-1] if so_far.states else None
                state, so_far.hidden, so_far.last_ml_action = state_of(
                    domain, so_far.prior, event.hide_rule_turn, so_far, omit_unset_slots, ignore_rule_only_turns,
                    rule_only_data, previous)
                if state is not None:
                    so_far.states.append(state)
            so_far.prior.update(event)
        if applied:
            so_far.applied, so_far.first, so_far.last = len(applied), _event_mark(applied[0]), _event_mark(applied[-1])
        kept[key] = so_far
        while len(kept) > KEPT_CONVERSATIONS:
            kept.popitem(last=False)
        # the state of the tracker as it stands (not kept: more events follow), as Rasa's last step
        previous = so_far.states[-1] if so_far.states else None
        state, _, _ = state_of(domain, so_far.prior, False, so_far, omit_unset_slots, ignore_rule_only_turns,
                               rule_only_data, previous)
        # the featurisers change states in place (a user's text or intent dropped): copies of the kept ones
        states = [{name: dict(sub) if isinstance(sub, dict) else sub for name, sub in s.items()} for s in so_far.states]
        if state is not None:
            states.append(state)
            del states[: max(len(states) - STATES_WINDOW, 0)]
        return states

    _create_states.windowed = True  # type: ignore[attr-defined]
    _create_states.kept = kept  # type: ignore[attr-defined]
    TrackerFeaturizer._create_states = staticmethod(_create_states)  # type: ignore[method-assign]


def install_incremental_applied_events() -> None:
    """A tracker's applied events counted on from where they were last counted (idempotent).

    DialogueStateTracker.applied_events walks every event of the conversation (with an ABC
    isinstance test for each) and Rasa asks for it several times per prediction: a tenth of the
    Rasa server's time at turn 250 here, once the states were windowed. The same walk now goes on
    from the events counted last time on the same tracker, when only events were added since and
    none of them names a loop not named before (Rasa collects the loop names over all events
    first, so a new one can change how earlier events count: then, and whenever the tracker's
    events were replaced or changed otherwise, all are counted again, as Rasa does)."""
    import itertools

    from rasa.shared.core.events import ActionExecuted, ActionReverted, ActiveLoop, Restarted, SessionStarted, UserUttered, UserUtteranceReverted
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.applied_events
    if getattr(original, "incremental", False):
        return

    def walk(self: DialogueStateTracker, events: Any, loop_names: Any, applied: list) -> list:
        for event in events:  # Rasa's own loop (rasa/shared/core/trackers.py)
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                self._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                self._undo_till_previous(UserUttered, applied)
                self._undo_till_previous(ActionExecuted, applied)
            elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
                  and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)):
                self._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        return applied

    def applied_events(self: DialogueStateTracker) -> list:
        events = self.events
        count = len(events)
        counted = self.__dict__.get("_applied_so_far")
        if counted is not None and counted[0] is events and counted[1] <= count and count and (
                counted[1] == 0 or events[counted[1] - 1] is counted[2]):
            new = list(itertools.islice(events, counted[1], None))
            names = {e.name for e in new if isinstance(e, ActiveLoop) and e.name}
            if names <= counted[3]:
                applied = walk(self, new, counted[3], counted[4])
                self.__dict__["_applied_so_far"] = (events, count, events[-1], counted[3], applied)
                return list(applied)
        loop_names = [e.name for e in events if isinstance(e, ActiveLoop) and e.name]
        applied = walk(self, events, loop_names, [])
        if count:
            self.__dict__["_applied_so_far"] = (events, count, events[-1], set(loop_names), applied)
        return list(applied)

    applied_events.incremental = True  # type: ignore[attr-defined]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]


def install_quick_tracker_copy() -> None:
    """DialogueStateTracker.copy from the tracker's state instead of replaying every event (idempotent).

    Before each action Rasa copies the conversation's tracker (rasa/core/processor.py, so that a
    rejected action leaves it untouched) by replaying all its events onto a new one: work that
    grows with the conversation, for every action of every turn. The copy is now made from the
    state those events left: the same events, copies of the slots, the active loop and the latest
    action, the same latest message and bot utterance, and no model or assistant id (Rasa's copy
    has none either). Trackers of other classes are copied as before."""
    import copy as copying

    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.copy
    if getattr(original, "quick", False):
        return

    def copy(self: DialogueStateTracker) -> DialogueStateTracker:
        if type(self) is not DialogueStateTracker:
            return original(self)
        new = self.init_copy()
        fresh = set(vars(new))
        for name, value in vars(self).items():
            if name in ("events", "slots", "model_id", "assistant_id", "sender_source", "_applied_so_far", "_read_by"):
                continue
            if name not in fresh and not name.startswith("_"):
                return original(self)  # an attribute this copy does not know: Rasa's own
            new.__dict__[name] = value
        new.events.extend(self.events)
        new.slots = {name: copying.copy(slot) for name, slot in self.slots.items()}
        new.active_loop = copying.copy(self.active_loop)
        new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
        counted = self.__dict__.get("_applied_so_far")
        if counted is not None and counted[0] is self.events and counted[1] == len(new.events):
            new.__dict__["_applied_so_far"] = (new.events, counted[1], counted[2], set(counted[3]), list(counted[4]))
        return new

    copy.quick = True  # type: ignore[attr-defined]
    DialogueStateTracker.copy = copy  # type: ignore[method-assign]


# The user turns of the conversation the action server is sent (install_recent_events_to_actions).
USER_TURNS_TO_ACTIONS = 5


def recent_events(events: Any, user_turns: int = USER_TURNS_TO_ACTIONS) -> list:
    """The events from the `user_turns`-th last user message on (all events if there are fewer)."""
    from rasa.shared.core.events import UserUttered

    events = list(events) if not isinstance(events, list) else events
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == user_turns:
                return events[index:]
    return events


def install_recent_events_to_actions() -> None:
    """Send the action server the conversation's latest user turns, not all its events (idempotent).

    Rasa serialises every event of the session into each action call, and the action server reads
    them all back: work that grows with the conversation on both servers. The actions read the
    slots, the latest message and the active loop (sent as before, whole) and, from the events,
    only the person's previous message (actions/conversation.py) and the slots set since the
    last message (rasa_sdk's form validation): the last USER_TURNS_TO_ACTIONS user turns hold
    both. Everything else in the call is as Rasa builds it."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    original = RemoteAction._action_call_format
    if getattr(original, "recent_events", False):
        return

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
        call = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": __import__("rasa").__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            call["domain"] = domain.as_dict()
        return call

    _action_call_format.recent_events = True  # type: ignore[attr-defined]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]


# Shorter than the action server's (Sanic's) 5 s keep-alive, so Rasa never sends a call on a
# connection the action server is closing at that moment.
KEEP_ALIVE_SECONDS = 2.0


class _KeptSession:
    """`async with` on a shared aiohttp session that leaves it open afterwards."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def install_kept_alive_endpoint_sessions() -> None:
    """Reuse one HTTP session (and its connections) per endpoint, e.g. the action server (idempotent).

    Rasa opens a new aiohttp session, and so a new TCP connection, for every action call and
    closes it afterwards: 5 % of the Rasa server's time under load here. The session is made
    as Rasa makes it (headers, basic auth, timeout), once per event loop."""
    import aiohttp
    import ujson  # Sanic's own JSON library
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    original = EndpointConfig.session
    if getattr(original, "kept_alive", False):
        return

    def session(self: EndpointConfig) -> Any:
        loop = asyncio.get_running_loop()
        kept = getattr(self, "_kept_session", None)
        if kept is None or kept.closed or kept._loop is not loop:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            kept = aiohttp.ClientSession(
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
                json_serialize=ujson.dumps,  # the tracker sent with each action call: 3x faster than json
            )
            self._kept_session = kept
        return _KeptSession(kept)

    session.kept_alive = True  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[method-assign]


def install_sequential_graph_runner() -> None:
    """Run the model's graph (NLU, then policies) by plain recursion instead of dask (idempotent).

    Rasa hands every parse and every prediction to dask's synchronous scheduler, which
    re-derives the task order each time: 8 % of the Rasa server's time under load here, for
    graphs of about ten nodes. Each node still runs once, after the nodes it needs, with the
    same inputs; results and errors are as before."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    if getattr(DaskGraphRunner.run, "sequential", False):
        return

    def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        nodes = self._graph_schema.nodes
        done: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in nodes:
                raise GraphRunError(f"Input value '{value}' clashes with a node name.")
            done[name] = (name, value)  # as dask passes an input: (name, value)

        def result_of(name: str) -> Any:
            if name not in done:
                if name not in nodes:
                    return name  # dask passes an unknown name on as it is
                done[name] = self._instantiated_nodes[name](*(result_of(need) for need in nodes[name].needs.values()))
            return done[name]

        try:
            return dict(result_of(target) for target in (targets or self._graph_schema.target_names))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    run.sequential = True  # type: ignore[attr-defined]
    DaskGraphRunner.run = run  # type: ignore[method-assign]


# The ticket mutex (install_atomic_redis_locks) is held for one GET and one SET of a ticket lock,
# milliseconds; should a replica die holding it, it expires on its own after this long.
TICKET_MUTEX_EXPIRY_SECONDS = 5.0
# How long a turn waits for the mutex before failing with Rasa's LockError. Longer than the
# expiry, so a replica that died holding it never fails a turn; the wait is asynchronous.
TICKET_MUTEX_WAIT_SECONDS = 12.0
# Write a ticket lock (delete it when ARGV[2] is empty) only while still holding the mutex
# (KEYS[1], token ARGV[1]): a holder stalled past the expiry must not overwrite tickets that
# another replica issued meanwhile.
_FENCED_TICKET_WRITE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('del', KEYS[2]) else redis.call('set', KEYS[2], ARGV[2]) end
return 1
"""
UNCHANGED = object()  # what a ticket change returns to leave the stored lock as it is


async def change_ticket_lock(store: Any, conversation_id: str, change: Any) -> Any:
    """Read, change and write one conversation's ticket lock under its Redis mutex, on the
    event loop without blocking it (redis.asyncio). `change` gets the stored TicketLock (None
    if there is none) and returns (the lock to store, None to delete it, or UNCHANGED; a result),
    and this returns the result."""
    import contextlib
    import json
    import uuid

    import redis
    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import LockError

    from server.async_redis import async_redis

    client = async_redis(store.red)
    key = store.key_prefix + conversation_id
    # The same key as the blocking mutex of earlier versions, so mixed replicas exclude each other.
    mutex = client.lock(
        f"mutex:{key}", timeout=TICKET_MUTEX_EXPIRY_SECONDS, sleep=0.005,
        blocking_timeout=TICKET_MUTEX_WAIT_SECONDS, thread_local=False,
    )
    token = uuid.uuid4().hex.encode()
    if not await mutex.acquire(token=token):
        raise LockError(f"The ticket lock of conversation '{conversation_id}' stayed busy for {TICKET_MUTEX_WAIT_SECONDS:g} s.")
    try:
        stored = await client.get(key)
        lock, result = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
        if lock is not UNCHANGED:
            if not await client.eval(_FENCED_TICKET_WRITE, 2, mutex.name, key, token, lock.dumps() if lock else ""):
                raise LockError(f"The ticket mutex of conversation '{conversation_id}' expired before its lock was written.")
        return result
    finally:
        with contextlib.suppress(redis.exceptions.LockError):  # expired meanwhile: nothing to release
            await mutex.release()


async def issue_ticket(store: Any, conversation_id: str, lifetime: float) -> int:
    """A new ticket for the conversation (Rasa's LockStore.issue_ticket, atomic and asynchronous)."""

    def issue(lock: Any) -> tuple[Any, int]:
        lock = lock or store.create_lock(conversation_id)
        return lock, lock.issue_ticket(lifetime)

    return await change_ticket_lock(store, conversation_id, issue)


def install_atomic_redis_locks() -> None:
    """RedisLockStore.lock with its ticket read-modify-writes atomic across processes, and
    never blocking the event loop (idempotent).

    Rasa issues, expires and returns tickets with a GET then a SET each (two replicas drew
    the same ticket), over a blocking Redis client. Here each of those runs under a short
    Redis mutex, over redis.asyncio: a turn that waits for the mutex, or for an earlier turn
    of its conversation, waits alone while the process goes on serving other conversations.
    The lock behaves as Rasa's LockStore.lock otherwise: tickets in order, polled every
    `wait_time_in_seconds`, LockError when the lock vanished."""
    import contextlib
    import json

    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

    from server.async_redis import async_redis

    if getattr(RedisLockStore, "atomic_tickets", False):
        return

    async def acquire(store: RedisLockStore, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> Any:
        client = async_redis(store.red)

        def drop_expired(lock: Any) -> tuple[Any, None]:
            if lock is None:
                return UNCHANGED, None
            lock.remove_expired_tickets()
            return lock, None

        while True:
            stored = await client.get(store.key_prefix + conversation_id)
            if not stored:
                break  # expired
            lock = TicketLock.from_dict(json.loads(stored))
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            await change_ticket_lock(store, conversation_id, drop_expired)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    @contextlib.asynccontextmanager
    async def lock(
        self: RedisLockStore, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> Any:
        try:
            ticket = await issue_ticket(self, conversation_id, lock_lifetime)
        except LockError:
            raise
        except Exception as error:  # as Rasa's issue_ticket: Redis unreachable and the like
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

        def finish(lock: Any) -> tuple[Any, None]:
            if lock is None:
                return UNCHANGED, None
            lock.remove_ticket_for(ticket)
            return (lock if lock.is_someone_waiting() else None), None  # delete it when nobody waits

        try:
            yield await acquire(self, conversation_id, ticket, wait_time_in_seconds)
        finally:
            await change_ticket_lock(self, conversation_id, finish)

    RedisLockStore.lock = lock  # type: ignore[method-assign]
    RedisLockStore.atomic_tickets = True  # type: ignore[attr-defined]


def deletion_confirmed(tracker: Any) -> bool:
    """Did this turn end with the delete action confirming it deleted the person's data?"""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    signalled = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(PRIVACY_SIGNAL) == CONVERSATION_DELETED:
            signalled = True
        elif signalled and isinstance(event, ActionExecuted):
            return event.action_name == DELETE_ACTION  # the signal must come from that action
    return False


def tracker_store_layers(store: Any) -> list[Any]:
    """The store and the stores it wraps (Rasa wraps the configured one in FailSafeTrackerStore,
    with an in-memory fallback, and sometimes in AwaitableTrackerStore)."""
    layers = []
    while store is not None and store not in layers:
        layers.append(store)
        fallback = getattr(store, "_fallback_tracker_store", None)
        if fallback is not None:
            layers.append(fallback)
        store = getattr(store, "_tracker_store", None)
    return layers


def delete_conversation(store: Any, sender_id: str) -> int | None:
    """Delete every stored event of one conversation (all its sessions); the number of events
    deleted from a SQL store, or None if a layer's kind of store cannot be handled."""
    from rasa.core.tracker_store import (
        AwaitableTrackerStore,
        FailSafeTrackerStore,
        InMemoryTrackerStore,
        RedisTrackerStore,
        SQLTrackerStore,
    )

    layers = tracker_store_layers(store)
    unsupported = [
        type(layer).__name__
        for layer in layers
        if not isinstance(layer, (AwaitableTrackerStore, FailSafeTrackerStore, InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore))
    ]
    if unsupported:
        logger.error("Cannot delete a conversation from a %s tracker store; it was saved as usual.", ", ".join(unsupported))
        return None
    deleted = 0
    for layer in layers:
        if isinstance(layer, SQLTrackerStore):
            kept_trackers(layer).pop(sender_id, None)
            with layer.session_scope() as session:  # one transaction
                deleted += session.query(layer.SQLEvent).filter(layer.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
                session.commit()
            erase_deleted_from_files(layer.engine)  # SQLite: not left readable in the -wal file
        elif isinstance(layer, InMemoryTrackerStore):
            layer.store.pop(sender_id, None)
        elif isinstance(layer, RedisTrackerStore):
            layer.red.delete(layer.key_prefix + sender_id)
    return deleted


def install_conversation_deletion() -> None:
    """Delete the conversation instead of saving the turn that confirmed "delete my data" (idempotent)."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.save_tracker
    if getattr(original, "deletes_on_request", False):
        return

    async def save_tracker(self: MessageProcessor, tracker: Any) -> None:
        if not deletion_confirmed(tracker):
            return await original(self, tracker)
        try:
            deleted = delete_conversation(self.tracker_store, tracker.sender_id)
        except Exception:  # noqa: BLE001 - the database failed: say so in the log, never silently keep it
            logger.exception("A conversation could not be deleted on request; the retention purge will delete it later.")
            return None
        if deleted is None:
            return await original(self, tracker)
        # No conversation id in the log: the person asked to be forgotten.
        logger.info("Deleted a conversation on request (%d stored events).", deleted)
        return None

    save_tracker.deletes_on_request = True  # type: ignore[attr-defined]
    MessageProcessor.save_tracker = save_tracker  # type: ignore[method-assign]


def install_conversation_namespaces() -> None:
    """Each channel's conversations under its own namespace, and messages over the limits
    refused politely, where Rasa hands channels the function for their messages (idempotent).

    Rasa's `register` gives every channel the same handler, which passes the message to the
    agent as it is: the sender id as the channel (or the request) gave it, and for REST the
    channel name from the body. This gives each channel its own handler, which
    - refuses a message whose sender id, text or metadata is over the limits of
      channels/inputs.py (or is not text): a polite reply, a warning without the content, and
      nothing stored;
    - stores it under "<namespace>:<sender id>" with the channel's own name as its input channel;
    - sends the replies to the sender id the channel knows (the web chat's room, say)."""
    from rasa.core.channels import channel as channel_module

    if getattr(channel_module.register, "namespaced", False):
        return

    def handler_for(app: Any, input_channel: Any) -> Any:
        name = input_channel.name()

        async def handler(message: Any) -> None:
            problem = inputs.message_problem(message.text, message.sender_id, message.metadata)
            if problem:
                logger.warning("A message on the %s channel was not read: %s.", name, problem.reason)
                reply = inputs.TOO_LARGE_REPLY if problem.status == 413 else inputs.UNREADABLE_REPLY
                await message.output_channel.send_response(message.sender_id, {"text": reply})
                return
            sender_id = message.sender_id
            message.sender_id = inputs.conversation_id(name, sender_id)
            message.input_channel = name
            note_turn_values(sender_id, message.sender_id, message.text)
            output = message.output_channel
            if not getattr(output, "namespaced", False):
                send_response = output.send_response

                async def send_to_channel_id(recipient_id: str, reply: dict) -> None:
                    await send_response(inputs.channel_sender_id(name, recipient_id), reply)

                output.send_response = send_to_channel_id
                output.namespaced = True
            await app.ctx.agent.handle_message(message)

        return handler

    def register(input_channels: list, app: Any, route: str | None) -> None:
        """Rasa's register (rasa/core/channels/channel.py), with a handler per channel."""
        for input_channel in input_channels:
            prefix = channel_module.urljoin(route, input_channel.url_prefix()) if route else None
            app.blueprint(input_channel.blueprint(handler_for(app, input_channel)), url_prefix=prefix)
        app.ctx.input_channels = input_channels

    register.namespaced = True  # type: ignore[attr-defined]
    channel_module.register = register


def install_request_size_limit() -> None:
    """Every HTTP request body to the Rasa server at most channels.inputs.MAX_REQUEST_BYTES;
    Sanic answers a bigger one with 413, and its error answers are JSON, as the channels' own
    are, rather than an HTML page (idempotent)."""
    import rasa.core.run

    original = rasa.core.run.configure_app
    if getattr(original, "limited", False):
        return

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.config.REQUEST_MAX_SIZE = inputs.MAX_REQUEST_BYTES
        app.config.FALLBACK_ERROR_FORMAT = "json"
        return app

    configure_app.limited = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


# The event fields Rasa's own anonymiser treats as holding people's text (rasa/utils/log_utils.py).
TEXT_FIELDS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response",
    "slot_candidates", "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states",
    "successes", "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
    "json_message",
    # and the fields naming whose conversation it is
    "sender_id", "conversation_id", "recipient_id", "sender",
})
VERBOSE_LEVELS = frozenset({"debug", "notset"})
REDACTED = "[redacted]"


def redact_text_fields(logger_: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: no people's text or conversation ids in events logged at INFO or
    above, and exception traces without the values of local variables."""
    if method_name not in VERBOSE_LEVELS:
        for key in TEXT_FIELDS.intersection(event_dict):
            event_dict[key] = REDACTED
        plain_exception(event_dict)
    return event_dict


def plain_exception(event_dict: dict[str, Any]) -> None:
    """Render the event's exception as Python's own traceback (files, lines, the exception),
    instead of leaving it to Rasa's renderers, which list every frame's local variables: the
    message, the sender id, the whole request."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif not isinstance(exc_info, tuple):
        exc_info = sys.exc_info()
    if exc_info[0] is not None:
        event_dict["exception"] = "".join(traceback.format_exception(*exc_info)).rstrip()


# The sender id and text of the turn being worked on (one context per request or event task),
# for the log scrubber below.
_TURN_VALUES: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("advisor_turn_values", default=())
MIN_SCRUBBED_CHARS = 3  # "2" or "ok" would blank out ordinary log text, and identify no one


def note_turn_values(*values: Any) -> None:
    """Remember this turn's sender ids and text (as logs may spell them) for scrub_line."""
    forms: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            continue
        for variant in {value, value.strip(), value[:MAX_MESSAGE_CHARS], value.strip()[:MAX_MESSAGE_CHARS]}:
            if len(variant) >= MIN_SCRUBBED_CHARS:
                quoted = repr(variant)[1:-1]
                forms |= {variant, json.dumps(variant)[1:-1], quoted, json.dumps(quoted)[1:-1]}
    _TURN_VALUES.set(tuple(sorted(forms, key=len, reverse=True)))  # longest first: no half-replaced text


def scrub_line(line: str) -> str:
    """A log line without the current turn's sender id or text."""
    for value in _TURN_VALUES.get():
        if value in line:
            line = line.replace(value, REDACTED)
    return line


def install_log_scrubbing() -> None:
    """Clear every formatted log line at INFO or above of the current turn's sender id and
    text, whoever logged it (idempotent).

    Key-based redaction misses what Rasa and its libraries put in message strings and
    exceptions: "Circuit breaker tripped ... for sender '<id>'" (a warning), "Could not
    acquire lock for conversation_id '<id>'" (an exception), an exception quoting the input.
    Every handler formats its records through logging.Formatter.format (Rasa's structlog
    lines too, rendered into the record's message), so the line is cleared there."""
    original = logging.Formatter.format
    if getattr(original, "scrubs", False):
        return

    def format(self: logging.Formatter, record: logging.LogRecord) -> str:
        line = original(self, record)
        return scrub_line(line) if record.levelno >= logging.INFO else line

    format.scrubs = True  # type: ignore[attr-defined]
    logging.Formatter.format = format  # type: ignore[method-assign]


def install_log_redaction() -> None:
    """Put redact_text_fields in front of Rasa's structlog processors (idempotent).

    Rasa's configure_structlog puts its module's `_anonymizer` first in the chain; that name
    is looked up when the logging is configured, so it is replaced by one that runs the
    original and then redacts."""
    import rasa.utils.log_utils as log_utils

    original = log_utils._anonymizer
    if getattr(original, "redacts", False):
        return

    def anonymizer(logger_: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        return redact_text_fields(logger_, method_name, original(logger_, method_name, event_dict))

    anonymizer.redacts = True  # type: ignore[attr-defined]
    log_utils._anonymizer = anonymizer


def install_payload_warning_redaction() -> None:
    """No message text in Rasa's warnings about a message that looks like a button payload (idempotent).

    A message starting with "/" is read as a payload ("/intent{...}"); when it is not a valid
    one, Rasa warns with the whole message ("Failed to parse arguments in line '/...'") and then
    reads it as text. The warnings are caught and one without the text is logged instead."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    original = YAMLStoryReader.unpack_regex_message
    if getattr(original, "redacted", False):
        return

    def unpack_regex_message(message: Any, domain: Any = None, entity_extractor_name: Any = None) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            unpacked = original(message, domain, entity_extractor_name)
        if caught:
            logger.warning("A message starting with \"/\" is not a payload this bot knows (%d problem(s)); it is read as text.", len(caught))
        return unpacked

    unpack_regex_message.redacted = True  # type: ignore[attr-defined]
    YAMLStoryReader.unpack_regex_message = staticmethod(unpack_regex_message)  # type: ignore[method-assign]


def install_retention_in_responses() -> None:
    """Let responses say {retention_days} (idempotent)."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    original = TemplatedNaturalLanguageGenerator.generate
    if getattr(original, "retention", False):
        return
    days = str(settings.retention_days())  # read once: a bad RETENTION_DAYS stops the start-up

    async def generate(self: Any, utter_action: str, tracker: Any, output_channel: str, **kwargs: Any) -> Any:
        kwargs.setdefault("retention_days", days)
        return await original(self, utter_action, tracker, output_channel, **kwargs)

    generate.retention = True  # type: ignore[attr-defined]
    TemplatedNaturalLanguageGenerator.generate = generate  # type: ignore[method-assign]


def valid_slot_events(events: list, domain: Any) -> list:
    """Drop SlotSet events that give a categorical slot a value outside its `values` in the domain.

    Entities (and so payloads like /inform{"sector": ...}) fill slots unchecked in Rasa 3.6: a dict
    or any string would otherwise be stored and read back by every later turn, the purge and the
    report. Only the slot's name is logged, never the value."""
    from rasa.shared.core.constants import DEFAULT_CATEGORICAL_SLOT_VALUE
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.slots import CategoricalSlot

    slots = {slot.name: slot for slot in domain.slots}
    kept = []
    for event in events:
        slot = slots.get(event.key) if isinstance(event, SlotSet) else None
        if isinstance(slot, CategoricalSlot) and event.value is not None:
            allowed = [v for v in slot.values if v != DEFAULT_CATEGORICAL_SLOT_VALUE]
            if not (isinstance(event.value, str) and event.value in allowed):
                logger.info("Ignored a value for the slot '%s' that is not one of its values in the domain.", event.key)
                continue
        kept.append(event)
    return kept


def install_slot_validation() -> None:
    """Validate slots filled from entities and payloads where Rasa validates them (idempotent):
    ActionExtractSlots._execute_validation_action, which also calls action_validate_slot_mappings
    when the domain has one; ours runs first, in-process, so a turn costs no extra call."""
    from rasa.core.actions.action import ActionExtractSlots

    original = ActionExtractSlots._execute_validation_action
    if getattr(original, "validates_values", False):
        return

    async def execute_validation_action(self: Any, extraction_events: list, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list:
        return await original(self, valid_slot_events(extraction_events, domain), output_channel, nlg, tracker, domain)

    execute_validation_action.validates_values = True  # type: ignore[attr-defined]
    ActionExtractSlots._execute_validation_action = execute_validation_action  # type: ignore[method-assign]


def install_quiet_third_party_warnings() -> None:
    """No deprecation notices of installed libraries on the screen (idempotent; call it first).

    Sanic switches every DeprecationWarning on when it is imported (`filterwarnings("once")`),
    so `make shell` opened with two screens of notices from pkg_resources, SQLAlchemy,
    pyparsing, click, distutils and others: nothing the person can act on (the versions are
    pinned for Rasa 3.6). They are dropped where they would be shown, whatever filters the
    libraries set; deprecations raised in the project's own code still show. TensorFlow's C++
    start-up notices (oneDNN, CUDA, TensorRT) are turned off as Rasa does once it has loaded
    TensorFlow (TF_CPP_MIN_LOG_LEVEL=2), only before the import, where it has an effect."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    original = warnings.showwarning
    if getattr(original, "quiet", False):
        return
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

    def showwarning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        own = filename.startswith(project) and "site-packages" not in filename
        if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)) and not own:
            return
        original(message, category, filename, lineno, file, line)

    showwarning.quiet = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning


# On every response of the Rasa server (REST, Slack, Socket.IO, the health check, errors); a
# response that sets its own keeps it (the chat pages: their Content-Security-Policy and caching).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def add_security_headers(request: Any, response: Any) -> None:
    """A Sanic response middleware: SECURITY_HEADERS, and never Access-Control-Allow-Credentials."""
    if response is None:
        return
    for name, value in SECURITY_HEADERS.items():
        if name not in response.headers:
            response.headers[name] = value
    response.headers.pop("Access-Control-Allow-Credentials", None)


def install_security_headers() -> None:
    """Security headers on every response, and CORS without credentials (idempotent).

    Rasa's configure_cors (rasa/server.py), which every Rasa app goes through, tells
    Sanic-CORS to allow credentials, so every response said
    `Access-Control-Allow-Credentials: true`; nothing here uses cookies or HTTP auth across
    origins (the web chat's session id travels in its messages), so it is not allowed. The
    same function, otherwise as Rasa's, adds the security headers to the app."""
    import rasa.server
    from sanic_cors import CORS

    if getattr(rasa.server.configure_cors, "secured", False):
        return

    def configure_cors(app: Any, cors_origins: Any = "") -> None:
        app.config.CORS_AUTOMATIC_OPTIONS = True
        app.config.CORS_SUPPORTS_CREDENTIALS = False
        app.config.CORS_EXPOSE_HEADERS = "filename"
        CORS(app, resources={r"/*": {"origins": cors_origins or ""}}, automatic_options=True)
        app.register_middleware(add_security_headers, "response")

    configure_cors.secured = True  # type: ignore[attr-defined]
    rasa.server.configure_cors = configure_cors


def api_arguments(env: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """`rasa run` flags for the HTTP API: none (API off) unless a token or JWT secret is set."""
    token = env.get("RASA_API_TOKEN", "").strip()
    jwt_secret = env.get("RASA_JWT_SECRET", "").strip()
    if not (token or jwt_secret):
        return []
    # "--flag=value": a secret may start with "-", which argparse would take for an option.
    arguments = ["--enable-api"]
    if token:
        arguments.append(f"--auth-token={token}")
    if jwt_secret:
        arguments += [f"--jwt-secret={jwt_secret}", f"--jwt-method={env.get('RASA_JWT_METHOD') or 'HS256'}"]
    return arguments


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--enable-api" in argv:
        sys.exit("Set RASA_API_TOKEN or RASA_JWT_SECRET instead of passing --enable-api: the API never runs without auth.")
    if argv[:1] == ["run"] and argv[1:2] != ["actions"]:
        argv += api_arguments()
    install_quiet_third_party_warnings()
    install_never_silent_guard()
    install_message_length_cap()
    install_turn_admission()
    install_atomic_redis_locks()
    install_cached_action_response_validation()
    install_sqlite_write_ahead_log()
    install_fast_sql_tracker_store()
    install_spacy_without_ner()
    install_event_type_cache()
    install_sequential_graph_runner()
    install_windowed_dialogue_states()
    install_incremental_applied_events()
    install_quick_tracker_copy()
    install_recent_events_to_actions()
    install_kept_alive_endpoint_sessions()
    install_conversation_deletion()
    install_conversation_namespaces()
    install_request_size_limit()
    install_log_redaction()
    install_log_scrubbing()
    install_payload_warning_redaction()
    install_retention_in_responses()
    install_slot_validation()
    install_security_headers()
    import rasa.__main__

    sys.argv = ["rasa", *argv]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
