"""Reading the tracker store and the knowledge store, read-only, into `Data`: everything the
report shows, with no sender ids kept. Stored values are read defensively: whatever an older
release or a stray payload left in a row, the report still runs."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from actions.conversation import QUESTION_ACTIONS
from actions.store.conversations import Exchange, exchanges
from actions.store.models import (
    AdviceItem,
    Feedback,
    FeedbackItem,
    HealthCheckResult,
    HealthCheckScore,
    Passage,
    QuestionTally,
    Topic,
)
from actions.vocabulary import CHALLENGES, KNOWLEDGE_TOPICS, QUESTION_INTENTS, TOPIC_BUTTON_TITLES

ANSWER_ACTIONS = frozenset(QUESTION_ACTIONS.values())  # the advisor answered a message as a question
FALLBACK = "nlu_fallback"
CLARIFY = "action_clarify"
PAYLOAD = re.compile(r"/\w+(\{.*\})?", re.DOTALL)  # a button payload such as /feedback_helpful
TEXT_LIMIT = 500  # characters of a not-understood message kept in the report


class StoreError(Exception):
    """A store cannot be read; the message says which and why, without its password."""


def tracker_store_url() -> str:
    """The tracker store the Rasa server writes to: TRACKER_STORE_URL, or the launcher's default."""
    from server.launch import defaults  # the launcher owns the servers' embedded defaults

    return normalise_url(os.environ.get("TRACKER_STORE_URL", "").strip() or defaults()["TRACKER_STORE_URL"])


def normalise_url(url: str) -> str:
    return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url


def shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid URL)"


def open_read_only(url: str, what: str) -> Engine | None:
    """An engine whose connections cannot write; None for a SQLite file that does not exist yet
    (a fresh install: nothing is created). StoreError if the database cannot be reached."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"The {what} URL is not a database URL: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).exists():
            return None
        engine = create_engine(url, future=True)
        statements = ["PRAGMA query_only = ON"]
    else:
        engine = create_engine(
            url, future=True, connect_args={"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
        )
        statements = ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"]

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()

    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(f"Cannot reach the {what} at {shown(url)}: {_reason(error)}") from error
    return engine


def _reason(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass
class NotUnderstood:
    text: str
    day: date
    guess: str | None
    guess_confidence: float | None
    chosen: str | None = None  # the "Did you mean" topic the person picked next, if any


@dataclass
class HealthCheck:
    created_at: datetime
    sector: str | None
    role: str | None
    scores: dict[str, int | None]


@dataclass
class Vote:
    created_at: datetime
    challenge_id: str | None
    helpful: bool
    comment: str | None
    advice_ids: list[str]


@dataclass
class Data:
    """Everything the report shows, read from both stores (no sender ids are kept)."""

    questions: Counter = field(default_factory=Counter)  # TallyKey -> count, live and tallied
    live_questions: int = 0
    tallied_questions: int = 0
    not_understood: list[NotUnderstood] = field(default_factory=list)
    health_checks: list[HealthCheck] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # intent or challenge passage id -> title
    advice: dict[str, tuple[str, str]] = field(default_factory=dict)  # advice id -> (title, challenge id)
    tracker_found: bool = False
    knowledge_found: bool = False


def is_question(exchange: Exchange) -> bool:
    if exchange.turn.intent not in QUESTION_INTENTS:
        return False
    return exchange.form is None or bool(ANSWER_ACTIONS & set(exchange.actions))


def is_not_understood(exchange: Exchange) -> bool:
    """A message that ended in the fallback (or in the clarifying action, which an action can hand
    a vague message to: "what about it" read as "what can you do?") outside a form, and was not
    answered as two problems."""
    return (
        (exchange.turn.intent == FALLBACK or CLARIFY in exchange.actions)
        and exchange.form is None
        and "advice_given" not in exchange.slots
        and bool(clean(exchange.turn.text))
    )


def tracker_exchanges(connection: Connection) -> Iterator[Exchange]:
    """Every user message in Rasa's tracker store with what the advisor did in reply, oldest
    first per conversation. The report's only way into the tracker's `events` table: its owner
    is actions/store/conversations.py."""
    return exchanges(connection)


def read_tracker(connection: Connection, data: Data, since: datetime | None) -> None:
    previous: tuple[str, NotUnderstood] | None = None  # the last not-understood message of a conversation
    for exchange in tracker_exchanges(connection):
        turn = exchange.turn
        if previous and previous[0] == turn.sender_id:
            if turn.text.startswith("/") and turn.intent in TOPIC_BUTTON_TITLES:
                previous[1].chosen = turn.intent
        previous = None
        if since and turn.at < since:
            continue
        if is_question(exchange):
            data.questions[(turn.at.date(), turn.intent, turn.sector or "", turn.role or "")] += 1
            data.live_questions += 1
        elif is_not_understood(exchange):
            item = NotUnderstood(clean(turn.text)[:TEXT_LIMIT], turn.at.date(), exchange.guess, exchange.guess_confidence)
            data.not_understood.append(item)
            previous = (turn.sender_id, item)


def read_knowledge_store(connection: Connection, data: Data, since: datetime | None) -> None:
    tables = set(inspect(connection).get_table_names())
    if "topics" in tables and "passages" in tables:
        data.titles.update(connection.execute(select(Passage.id, Passage.title).where(Passage.id.in_(CHALLENGES))).all())
        topic_titles = dict(connection.execute(select(Topic.id, Topic.title)).all())
        for intent, topic in KNOWLEDGE_TOPICS.items():
            if topic in topic_titles:
                data.titles[intent] = topic_titles[topic]
    if "advice_items" in tables:
        data.advice = {
            row.id: (row.title, row.challenge_id)
            for row in connection.execute(select(AdviceItem.id, AdviceItem.title, AdviceItem.challenge_id))
        }
    if "question_tallies" in tables:
        query = select(QuestionTally.day, QuestionTally.intent, QuestionTally.sector, QuestionTally.role, QuestionTally.count)
        if since:
            query = query.where(QuestionTally.day >= since.date())
        for day, intent, sector, role, count in connection.execute(query.where(QuestionTally.intent.in_(QUESTION_INTENTS))):
            data.questions[(day, intent, sector or "", role or "")] += count
            data.tallied_questions += count
    if "health_check_results" in tables and "health_check_scores" in tables:
        query = select(HealthCheckResult.id, HealthCheckResult.created_at, HealthCheckResult.sector, HealthCheckResult.role)
        results = {}
        for result_id, created_at, sector, role in connection.execute(query.order_by(HealthCheckResult.id)):
            if since is None or as_utc(created_at) >= since:
                results[result_id] = HealthCheck(as_utc(created_at), sector, role, {})
        for result_id, challenge_id, score in connection.execute(
            select(HealthCheckScore.result_id, HealthCheckScore.challenge_id, HealthCheckScore.score)
        ):
            if result_id in results:
                results[result_id].scores[challenge_id] = score
        data.health_checks = list(results.values())
    if "feedback" in tables and "feedback_items" in tables:
        votes = {}
        query = select(Feedback.id, Feedback.created_at, Feedback.challenge_id, Feedback.helpful, Feedback.comment)
        for feedback_id, created_at, challenge_id, helpful, comment in connection.execute(query.order_by(Feedback.id)):
            if since is None or as_utc(created_at) >= since:
                votes[feedback_id] = Vote(as_utc(created_at), challenge_id, bool(helpful), _comment(comment), [])
        for feedback_id, advice_id in connection.execute(select(FeedbackItem.feedback_id, FeedbackItem.advice_id)):
            if feedback_id in votes:
                votes[feedback_id].advice_ids.append(advice_id)
        data.votes = list(votes.values())


def _comment(text: str | None) -> str | None:
    """A feedback comment; a button payload is not one (releases before the comment-form fix
    stored the "/feedback_..." click itself as the comment)."""
    text = clean(text or "")
    return None if not text or PAYLOAD.fullmatch(text) else text


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Free text as it can be written to HTML and CSV: no control characters (a NUL stops Python's
    csv writer, an escape sequence is not text), no unpaired surrogates (not encodable in UTF-8)."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return CONTROL.sub("", text).strip()


def read_stores(tracker_url: str, knowledge_url: str, since: datetime | None) -> Data:
    data = Data()
    for url, what, reader in (
        (tracker_url, "tracker store", read_tracker),
        (knowledge_url, "knowledge store", read_knowledge_store),
    ):
        engine = open_read_only(url, what)
        if engine is None:
            continue
        try:
            with engine.connect() as connection:
                reader(connection, data, since)
        except SQLAlchemyError as error:
            raise StoreError(f"Cannot read the {what} at {shown(url)}: {_reason(error)}") from error
        finally:
            engine.dispose()
        if what == "tracker store":
            data.tracker_found = True
        else:
            data.knowledge_found = True
    return data
