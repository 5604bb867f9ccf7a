"""Engines and sessions for the knowledge store."""

from __future__ import annotations

import logging

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


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, future=True, expire_on_commit=False)
