"""Writing what people submit (health-check results, feedback) to the knowledge store's database.

Writes run in a worker thread, never on the action server's event loop. If the database is
unreachable the record is appended to a local spool file and written with the next
successful save, so nothing a person submitted is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from actions import settings
from actions.store.db import make_engine, make_session_factory
from actions.store.models import Feedback, FeedbackItem, HealthCheckResult, HealthCheckScore

logger = logging.getLogger(__name__)


def describe(error: SQLAlchemyError) -> str:
    """A database error for the log, without the statement's parameters (SQLAlchemy's message
    repeats them, and an INSERT of feedback carries the comment a person typed)."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0] if isinstance(error, (OperationalError, InterfaceError)) else ""
    return f"{type(cause).__name__}: {first_line[:200]}" if first_line else type(cause).__name__


def conversation_key(sender_id: str) -> str:
    """A keyed hash of Rasa's sender id: rows can be found for one conversation (to delete
    them on request) but do not reveal who it was."""
    return hmac.new(settings.privacy_hash_key(), sender_id.encode(), hashlib.sha256).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def write_health_check(session: Session, record: dict[str, Any]) -> int:
    result = HealthCheckResult(
        conversation_key=record["conversation_key"],
        created_at=datetime.fromisoformat(record["created_at"]),
        sector=record.get("sector"),
        role=record.get("role"),
        stage=record.get("stage"),
        scores=[HealthCheckScore(challenge_id=c, score=s) for c, s in record["scores"].items()],
    )
    session.add(result)
    session.flush()
    return result.id


def write_feedback(session: Session, record: dict[str, Any]) -> int:
    feedback = Feedback(
        conversation_key=record["conversation_key"],
        created_at=datetime.fromisoformat(record["created_at"]),
        challenge_id=record.get("challenge_id"),
        helpful=record["helpful"],
        comment=record.get("comment"),
        items=[FeedbackItem(advice_id=a) for a in dict.fromkeys(record["advice_ids"])],
    )
    session.add(feedback)
    session.flush()
    return feedback.id


def write_feedback_comment(session: Session, record: dict[str, Any]) -> int:
    """Attach a comment to the conversation's latest feedback."""
    feedback = session.scalars(
        select(Feedback)
        .where(Feedback.conversation_key == record["conversation_key"])
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(1)
    ).first()
    if feedback is None:
        return 0
    feedback.comment = record["comment"][:2000]
    return feedback.id


@dataclass(frozen=True)
class Deleted:
    """What "delete my data" removed from the knowledge store for one conversation."""

    feedback: int = 0
    health_checks: int = 0


def delete_conversation_rows(session: Session, key: str) -> Deleted:
    """Delete every row linked to one conversation (its keyed hash), in the caller's transaction."""
    feedback_ids = select(Feedback.id).where(Feedback.conversation_key == key).scalar_subquery()
    result_ids = select(HealthCheckResult.id).where(HealthCheckResult.conversation_key == key).scalar_subquery()
    # Children first: bulk deletes do not cascade through the ORM, and SQLite enforces the keys.
    unsynchronised = {"synchronize_session": False}  # nothing of these is loaded in the session
    session.execute(delete(FeedbackItem).where(FeedbackItem.feedback_id.in_(feedback_ids)), execution_options=unsynchronised)
    session.execute(delete(HealthCheckScore).where(HealthCheckScore.result_id.in_(result_ids)), execution_options=unsynchronised)
    feedback = session.execute(
        delete(Feedback).where(Feedback.conversation_key == key), execution_options=unsynchronised
    ).rowcount
    health_checks = session.execute(
        delete(HealthCheckResult).where(HealthCheckResult.conversation_key == key), execution_options=unsynchronised
    ).rowcount
    return Deleted(feedback=feedback, health_checks=health_checks)


WRITERS = {"health_check": write_health_check, "feedback": write_feedback, "feedback_comment": write_feedback_comment}

# Errors that mean "the database cannot be reached now": the record waits in the spool file.
# Any other error is about the record itself (a value the database refuses): retrying it would
# hold back every later save, so it is set aside on its own.
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError)


def rejected_records_file(spool: Path) -> Path:
    """Where records the database refused are set aside, beside the spool file, for a person to look at."""
    return spool.with_name("rejected-records.jsonl")


class Recorder:
    """Saves records, spooling them to a file while the database cannot be reached."""

    def __init__(self, url: str | None = None, spool: Path | None = None) -> None:
        self._url = url
        self._spool = spool
        self._engine: Engine | None = None
        self._lock = threading.Lock()  # one writer at a time per process keeps the spool consistent
        self.rejected = 0  # records set aside since start-up

    async def save(self, kind: str, record: dict[str, Any]) -> bool:
        """True if written to the database now, False if spooled for later (or refused and set aside)."""
        record = {"kind": kind, "created_at": _now().isoformat(), **record}
        return await asyncio.to_thread(self._save, record)

    def _save(self, record: dict[str, Any]) -> bool:
        spool = self._spool or settings.pending_records_file()
        with self._lock:
            pending = self._read_spool(spool)
            queue = pending + [record]  # oldest first, each in its own transaction
            for index, item in enumerate(queue):
                outcome = self._write(item)
                if outcome == "unreachable":  # this one and every later one wait, in order
                    self._rewrite_spool(spool, queue[index:])
                    logger.error("Database unreachable; keeping %d record(s) in %s", len(queue) - index, spool)
                    return False
                if outcome == "rejected":
                    self._set_aside(spool, item)
            if pending:
                spool.unlink(missing_ok=True)
                logger.info("Wrote %d spooled record(s)", len(pending))
            return outcome == "written"

    def _write(self, item: dict[str, Any]) -> str:
        """Write one record in its own transaction: 'written', 'unreachable' or 'rejected'."""
        kind = item.get("kind") if isinstance(item, dict) else None
        try:
            if self._engine is None:
                self._engine = make_engine(self._url)
            with make_session_factory(self._engine).begin() as session:
                WRITERS[kind](session, item)  # type: ignore[index]
        except UNREACHABLE as error:
            logger.error("Database unreachable while saving a %s record: %s", kind, describe(error))
            return "unreachable"
        except (SQLAlchemyError, KeyError, TypeError, ValueError, AttributeError) as error:
            cause = describe(error) if isinstance(error, SQLAlchemyError) else type(error).__name__
            logger.error("The database refused a %s record (%s); it is set aside, and later records are saved", kind, cause)
            return "rejected"
        return "written"

    def _set_aside(self, spool: Path, item: Any) -> None:
        self.rejected += 1
        target = rejected_records_file(spool)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as out:
            out.write(json.dumps(item, default=str) + "\n")

    @staticmethod
    def _rewrite_spool(spool: Path, items: list[dict[str, Any]]) -> None:
        if not items:
            spool.unlink(missing_ok=True)
            return
        spool.parent.mkdir(parents=True, exist_ok=True)
        spool.write_text("".join(json.dumps(item, default=str) + "\n" for item in items), encoding="utf-8")

    async def forget(self, key: str) -> Deleted | None:
        """Delete one conversation's rows (and its records still waiting in the spool file);
        None if the database cannot be reached, in which case nothing was deleted."""
        return await asyncio.to_thread(self._forget, key)

    def _forget(self, key: str) -> Deleted | None:
        spool = self._spool or settings.pending_records_file()
        with self._lock:
            try:
                if self._engine is None:
                    self._engine = make_engine(self._url)
                with make_session_factory(self._engine).begin() as session:
                    deleted = delete_conversation_rows(session, key)
            except DBAPIError as error:  # the database, not the code: anything else is raised
                logger.error("Database unreachable; a conversation's rows could not be deleted: %s", describe(error))
                return None
            pending = self._read_spool(spool)
            kept = [record for record in pending if record.get("conversation_key") != key]
            if len(kept) != len(pending):
                spooled = [record["kind"] for record in pending if record.get("conversation_key") == key]
                deleted = Deleted(
                    feedback=deleted.feedback + spooled.count("feedback"),
                    health_checks=deleted.health_checks + spooled.count("health_check"),
                )
                if kept:
                    spool.write_text("".join(json.dumps(record) + "\n" for record in kept), encoding="utf-8")
                else:
                    spool.unlink(missing_ok=True)
            return deleted

    def _read_spool(self, spool: Path) -> list[dict[str, Any]]:
        """The records waiting in the spool file; a line that is not a record is set aside."""
        if not spool.exists():
            return []
        records = []
        for line in spool.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                self._set_aside(spool, line)
        return records
