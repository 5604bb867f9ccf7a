"""The conversations in Rasa's SQL tracker store read as people's questions, without a running
Rasa server: for the insight report and the retention purge. The SQL on Rasa's `events` table
is actions/store/tracker_events.py's; this makes turns, exchanges and tallies of its rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from actions.store.models import QuestionTally
from actions.store.tracker_events import event_rows, events_table, last_activity  # noqa: F401 - re-exported
from actions.store.tracker_events import utc as _utc
from actions.vocabulary import known_context

CONTEXT_SLOTS = ("sector", "role", "stage")

TallyKey = tuple[date, str, str, str]  # day, intent, sector ("" unknown), role ("" unknown)


@dataclass(frozen=True)
class UserTurn:
    """One message a person sent, with what the NLU made of it and their context.

    The context is what the conversation knew by its end (a sector named in the first
    message is set just after it; a correction replaces an earlier value)."""

    sender_id: str
    at: datetime  # UTC
    intent: str
    confidence: float | None
    text: str
    sector: str | None
    role: str | None
    stage: str | None


def user_turns(connection: Connection, sender_ids: Iterable[str] | None = None) -> Iterator[UserTurn]:
    """Every user message in the store (or in the given conversations), conversation by conversation."""
    yield from _turns(event_rows(connection, ("user", "slot"), sender_ids))


def _event(data: object) -> dict:
    """A stored event's JSON, or {} if it is not an object: a bad row is passed over, never fatal."""
    try:
        event = json.loads(data)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def _note_context(context: dict, event: dict) -> None:
    """Keep a context slot's value if it is a known one (slots may hold anything a payload sent)."""
    name = event.get("name")
    if name in CONTEXT_SLOTS and known_context(name, event.get("value")):
        context[name] = event["value"]


def _turns(rows: Iterable) -> Iterator[UserTurn]:
    """Group rows (ordered by sender) per conversation; emit its turns with its final context."""
    current: str | None = None
    context: dict[str, Any] = {}
    messages: list[Any] = []
    for sender, kind, timestamp, data in rows:
        if sender != current:
            yield from _with_context(current, messages, context)
            current, context, messages = sender, {}, []
        event = _event(data)
        if kind == "slot":
            _note_context(context, event)
        elif kind == "user":
            messages.append((timestamp, event))
    yield from _with_context(current, messages, context)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _with_context(sender: str | None, messages: list, context: dict) -> Iterator[UserTurn]:
    for timestamp, event in messages:
        parse_data = event.get("parse_data")
        intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
        intent = intent if isinstance(intent, dict) else {}
        confidence = intent.get("confidence")
        yield UserTurn(
            sender_id=sender or "",
            at=_utc(timestamp),
            intent=_text(intent.get("name"))[:80],
            confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
            text=_text(event.get("text")),
            sector=context.get("sector"),
            role=context.get("role"),
            stage=context.get("stage"),
        )


def tally(turns: Iterable[UserTurn]) -> Counter[TallyKey]:
    """Questions per day, intent, sector and role: the figures kept when conversations are purged."""
    return Counter((turn.at.date(), turn.intent, turn.sector or "", turn.role or "") for turn in turns if turn.intent)


def add_tallies(session: Session, counts: Counter[TallyKey]) -> None:
    """Add `counts` to the stored tallies (in the caller's transaction)."""
    for (day, intent, sector, role), count in counts.items():
        row = session.get(QuestionTally, (day, intent, sector, role))
        if row is None:
            session.add(QuestionTally(day=day, intent=intent, sector=sector, role=role, count=count))
        else:
            row.count += count


def stored_tallies(session: Session) -> Counter[TallyKey]:
    """The tallies rolled up by earlier purges."""
    rows = session.execute(
        select(QuestionTally.day, QuestionTally.intent, QuestionTally.sector, QuestionTally.role, QuestionTally.count)
    )
    return Counter({(day, intent, sector, role): count for day, intent, sector, role, count in rows})


# --- What happened around each message, for the insight report --------------------------------


@dataclass(frozen=True)
class Exchange:
    """One user message with what surrounded it: the form it answered, the NLU's best guess
    besides `nlu_fallback`, and what the advisor did in reply (before the next message)."""

    turn: UserTurn
    form: str | None  # the form active when it was sent (a health-check answer, a feedback comment)
    guess: str | None  # the most likely intent other than nlu_fallback
    guess_confidence: float | None
    actions: tuple[str, ...]  # the actions run in reply, action_listen left out
    slots: tuple[str, ...]  # the slots set in reply


_EXCHANGE_EVENTS = ("user", "slot", "action", "active_loop", "session_started", "restart")


def exchanges(connection: Connection) -> Iterator[Exchange]:
    """Every user message in the store with its exchange, conversation by conversation
    (the context of each turn is the conversation's final one, as in `user_turns`)."""
    current: str | None = None
    context: dict[str, Any] = {}
    pending: list[dict[str, Any]] = []
    form: str | None = None
    for sender, kind, timestamp, data in event_rows(connection, _EXCHANGE_EVENTS, stream=True):
        if sender != current:
            yield from _exchanges_with_context(current, pending, context)
            current, context, pending, form = sender, {}, [], None
        event = _event(data)
        if kind in ("session_started", "restart"):
            form = None
        elif kind == "active_loop":
            form = _text(event.get("name")) or None
        elif kind == "slot":
            _note_context(context, event)
            if pending:
                pending[-1]["slots"].append(_text(event.get("name")))
        elif kind == "action":
            if pending and _text(event.get("name")) not in ("", "action_listen"):
                pending[-1]["actions"].append(event["name"])
        elif kind == "user":
            pending.append({"timestamp": timestamp, "event": event, "form": form, "actions": [], "slots": []})
    yield from _exchanges_with_context(current, pending, context)


def _exchanges_with_context(sender: str | None, pending: list[dict], context: dict) -> Iterator[Exchange]:
    turns = _with_context(sender, [(p["timestamp"], p["event"]) for p in pending], context)
    for turn, item in zip(turns, pending, strict=False):
        parse_data = item["event"].get("parse_data")
        ranking = parse_data.get("intent_ranking") if isinstance(parse_data, dict) else None
        ranking = ranking if isinstance(ranking, list) else []
        guess = next((r for r in ranking if isinstance(r, dict) and _text(r.get("name")) not in ("", "nlu_fallback")), None)
        confidence = guess.get("confidence") if guess else None
        yield Exchange(
            turn=turn,
            form=item["form"],
            guess=guess["name"] if guess else None,
            guess_confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
            actions=tuple(item["actions"]),
            slots=tuple(item["slots"]),
        )
