"""The retention purge (`make purge`): what is older than RETENTION_DAYS stops being about a person.

    python -m actions.store.purge              # delete and anonymise, then print what was done
    python -m actions.store.purge --dry-run    # print what would be done, change nothing
    python -m actions.store.purge --days 90    # another retention than RETENTION_DAYS

1. Conversations in Rasa's tracker store (TRACKER_STORE_URL) whose last event is older than
   the retention are found, and their questions are counted into question_tallies (per day,
   intent, sector and role; no sender, no text), so the insight report keeps its figures.
2. In the knowledge store (KNOWLEDGE_DB_URL), in one transaction: the tallies are added;
   feedback and health-check rows older than the cutoff, or from those conversations, lose
   their conversation key and comment (scores, helpful votes and advice ids stay).
3. In the tracker store, in one transaction: every event of those conversations is deleted,
   unless the conversation became active again meanwhile.

The two stores may be different databases, so no single transaction covers both. A purge
stopped between 2 and 3 must not count the same conversations twice when run again: step 2
also notes their keyed hashes in purge_pending, and the next run counts nothing already noted
there; a last small transaction empties purge_pending once the conversations are gone.
Running it twice in a row removes nothing the second time. Safe while the servers run.

On SQLite, deleted and anonymised rows are also erased from the files: SQLite overwrites them
with zeros (secure_delete) and the write-ahead log, which keeps pages as they were written, is
emptied after each store's changes (actions/store/db.py, erase_deleted_from_files).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, create_engine, delete, event, func, select, update
from sqlalchemy.engine import Engine, make_url

from actions import settings
from actions.store.conversations import TallyKey, add_tallies, tally, user_turns
from actions.store.db import erase_deleted_from_files, make_engine, make_session_factory, sqlite_secure_delete
from actions.store.models import Feedback, HealthCheckResult, PurgePending, QuestionTally
from actions.store.records import conversation_key
from actions.store.tracker_events import delete_idle_conversations, last_activity

_CHUNK = 500  # sender ids per IN (...): SQLite limits bound parameters per statement


@dataclass
class PurgeReport:
    """What a purge did (or, with dry_run, would do)."""

    cutoff: datetime
    retention_days: int
    dry_run: bool = False
    conversations: int = 0  # deleted from the tracker store
    events: int = 0  # their events
    questions_tallied: int = 0  # their questions, added to question_tallies
    tally_rows: int = 0  # (day, intent, sector, role) rows those questions went into
    feedback_anonymised: int = 0
    comments_removed: int = 0
    health_checks_anonymised: int = 0
    resumed: int = 0  # conversations noted by an interrupted earlier run: deleted, not counted again
    reactivated: int = 0  # became active while purging: kept, and not counted
    stores: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        lines = [
            f"Retention purge{' (dry run: nothing changed)' if self.dry_run else ''}: "
            f"{self.retention_days} days, cutoff {self.cutoff:%Y-%m-%d %H:%M} UTC",
            f"  tracker store {self.stores.get('tracker', '')}:",
            f"    {self.conversations} conversation(s) {verb} deleted ({self.events} events)",
            f"  knowledge store {self.stores.get('knowledge', '')}:",
            f"    {self.feedback_anonymised} feedback row(s) {verb} anonymised ({self.comments_removed} comment(s) deleted)",
            f"    {self.health_checks_anonymised} health-check result(s) {verb} anonymised (scores kept)",
            f"    {self.questions_tallied} question(s) {verb} added to question_tallies ({self.tally_rows} row(s))",
        ]
        if self.resumed:
            lines.append(
                f"  {self.resumed} conversation(s) counted by an interrupted earlier run {verb} deleted without counting them again"
            )
        if self.reactivated:
            lines.append(f"  {self.reactivated} conversation(s) became active during the purge and {verb} kept")
        return lines


def _tracker_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30})  # waits while Rasa writes
        event.listen(engine, "connect", sqlite_secure_delete)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def purge(
    tracker_url: str | None = None,
    knowledge_url: str | None = None,
    retention_days: int | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Run the purge (see the module's docstring); what it did, for printing or checking."""
    tracker_url = tracker_url or settings.tracker_store_url()
    knowledge_url = knowledge_url or settings.knowledge_db_url()
    days = retention_days if retention_days is not None else settings.retention_days()
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    report = PurgeReport(cutoff=cutoff, retention_days=days, dry_run=dry_run)
    report.stores = {"tracker": _shown(tracker_url), "knowledge": _shown(knowledge_url)}

    tracker = _tracker_engine(tracker_url)
    knowledge = make_engine(knowledge_url)
    try:
        # Which conversations have expired, and their questions (read only).
        with tracker.connect() as connection:
            activity = last_activity(connection)
            expired = sorted(sender for sender, last in activity.items() if last < cutoff)
            turns = list(user_turns(connection, expired)) if expired else []
        keys = {sender: conversation_key(sender) for sender in activity}
        expired_keys = {keys[sender] for sender in expired}

        # Knowledge store, one transaction: tallies, notes of what was counted, anonymisation.
        with make_session_factory(knowledge)() as session:
            noted = set(session.scalars(select(PurgePending.conversation_key)))
            # Notes of conversations no longer in the tracker store: an earlier run deleted them.
            # (A noted conversation that came back to life stays noted, so when it expires its
            # questions are not counted again; those asked since are then left uncounted.)
            gone = noted - set(keys.values())
            for chunk in _chunks(sorted(gone)):
                session.execute(delete(PurgePending).where(PurgePending.conversation_key.in_(chunk)))
            already = noted & expired_keys
            report.resumed = len(already)
            counts = tally(turn for turn in turns if keys[turn.sender_id] not in already)
            add_tallies(session, counts)
            session.add_all(PurgePending(conversation_key=key) for key in sorted(expired_keys - already))
            report.questions_tallied, report.tally_rows = sum(counts.values()), len(counts)
            _anonymise(session, cutoff, expired_keys, report)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        if not dry_run:
            erase_deleted_from_files(knowledge)  # the comments set to NULL

        # Tracker store, one transaction: the expired conversations' events.
        with tracker.connect() as connection:
            report.events, kept = delete_idle_conversations(connection, expired, cutoff, dry_run)
            report.conversations = len(expired) - len(kept)
            report.reactivated = len(kept)
            if dry_run:
                connection.rollback()
            else:
                connection.commit()

        if dry_run:
            return report
        erase_deleted_from_files(tracker)  # the deleted conversations' messages
        # Bookkeeping: the conversations are gone, so are the notes; a conversation that came
        # back to life is uncounted again (it will be counted when it expires).
        with make_session_factory(knowledge)() as session:
            if kept:
                back = [turn for turn in turns if turn.sender_id in kept]
                _subtract(session, tally(back))
                report.questions_tallied -= len([t for t in back if t.intent and keys[t.sender_id] not in already])
            for chunk in _chunks(sorted(expired_keys)):
                session.execute(delete(PurgePending).where(PurgePending.conversation_key.in_(chunk)))
            session.commit()
        return report
    finally:
        tracker.dispose()
        knowledge.dispose()


def _anonymise(session, cutoff: datetime, expired_keys: set[str], report: PurgeReport) -> None:
    """Feedback and health-check rows older than the cutoff, or of expired conversations, lose
    their link to the conversation; feedback also its free-text comment."""
    for model, count in ((Feedback, "feedback_anonymised"), (HealthCheckResult, "health_checks_anonymised")):
        linked = model.conversation_key.is_not(None)
        old = model.created_at < cutoff
        conditions = [and_(linked, old)] + [
            and_(linked, model.conversation_key.in_(chunk)) for chunk in _chunks(sorted(expired_keys))
        ]
        for condition in conditions:
            if model is Feedback:
                report.comments_removed += session.execute(
                    select(func.count()).select_from(Feedback).where(condition, Feedback.comment.is_not(None))
                ).scalar_one()
                values = {"conversation_key": None, "comment": None}
            else:
                values = {"conversation_key": None}
            changed = session.execute(
                update(model).where(condition).values(**values).execution_options(synchronize_session=False)
            ).rowcount
            setattr(report, count, getattr(report, count) + changed)


def _subtract(session, counts: Counter[TallyKey]) -> None:
    for (day, intent, sector, role), count in counts.items():
        row = session.get(QuestionTally, (day, intent, sector, role))
        if row is None:
            continue
        row.count -= count
        if row.count <= 0:
            session.delete(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print what would be deleted and anonymised; change nothing")
    parser.add_argument("--days", type=int, help="retention in days (default: RETENTION_DAYS, or 30)")
    args = parser.parse_args(argv)
    if args.days is not None and args.days < 1:
        parser.error("--days must be at least 1")
    report = purge(retention_days=args.days, dry_run=args.dry_run)
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
