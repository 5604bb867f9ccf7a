"""Engines and sessions for the knowledge store, and erasing deleted rows from SQLite files."""

from __future__ import annotations

import logging
import time

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from actions import settings
from actions.store.models import Base

logger = logging.getLogger(__name__)


def make_engine(url: str | None = None) -> Engine:
    """An engine for the store at `url` (default: settings), tables created if missing."""
    url = url or settings.knowledge_db_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_enforce_foreign_keys)
        event.listen(engine, "connect", sqlite_secure_delete)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    Base.metadata.create_all(engine)
    return engine


def _sqlite_enforce_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_secure_delete(dbapi_connection, _record=None) -> None:
    """A "connect" listener: SQLite overwrites deleted and replaced content with zeros.

    Without it a deleted row stays readable in the database file's free space (a deleted feedback
    comment, a forgotten conversation) until the page is reused; it costs only on deletion."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def erase_deleted_from_files(engine: Engine, attempts: int = 40) -> bool:
    """After deleting from a SQLite store: copy the write-ahead log into the database file and
    empty it (PRAGMA wal_checkpoint(TRUNCATE)), so deleted rows are not left readable in the
    `-wal` file, which keeps every page as it was written until a checkpoint (secure_delete does
    not reach it). True when done, or when there is nothing to do (not SQLite, no WAL).

    The checkpoint waits for readers that are still on an older snapshot (SQLite's busy
    timeout), and is tried again a few times before giving up; a later one finishes the job."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        for _ in range(attempts):
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(0.05)
    logger.warning("The SQLite write-ahead log could not be emptied after a deletion (readers busy); the next deletion or checkpoint will.")
    return False


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, future=True, expire_on_commit=False)
