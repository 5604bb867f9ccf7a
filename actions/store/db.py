"""Engines and sessions for the knowledge store, and erasing deleted rows from SQLite files."""

from __future__ import annotations

import logging
import time

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
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
    # create_all never alters a table that exists: stores made by an earlier release need new columns added.
    add_missing_columns(engine)
    return engine


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the nullable columns the models have and the store's existing tables lack.

    create_all only creates missing tables: a store made by an earlier release keeps its old
    tables as they were, so columns added since (such as advice_items.how) would be missing.
    A nullable column can be added in place on SQLite and PostgreSQL alike; anything else
    needs a real migration and is only reported. Returns "table.column" for each one added."""
    added: list[str] = []
    existing = _columns(engine)
    preparer = engine.dialect.identifier_preparer
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if table.name not in existing or column.name in existing[table.name]:
                continue
            if not column.nullable or column.primary_key:
                logger.warning("The store's table %s lacks the NOT NULL column %s: it needs a migration", table.name, column.name)
                continue
            ddl = f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.format_column(column)} {column.type.compile(engine.dialect)}"
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(ddl)
            except DBAPIError:
                # Another process starting at the same moment may have added it first.
                if column.name not in _columns(engine).get(table.name, set()):
                    raise
            else:
                logger.info("Added column %s.%s to the knowledge store", table.name, column.name)
                added.append(f"{table.name}.{column.name}")
    return added


def _columns(engine: Engine) -> dict[str, set[str]]:
    """The column names of each of the models' tables that exist in the store."""
    inspector = inspect(engine)
    names = set(inspector.get_table_names())
    return {t.name: {c["name"] for c in inspector.get_columns(t.name)} for t in Base.metadata.sorted_tables if t.name in names}


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
    logger.warning(
        "The SQLite write-ahead log could not be emptied after a deletion (readers busy); the next deletion or checkpoint will."
    )
    return False


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, future=True, expire_on_commit=False)
