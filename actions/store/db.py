"""Engines and sessions for the knowledge store."""

from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from actions import settings
from actions.store.models import Base


def make_engine(url: str | None = None) -> Engine:
    """An engine for the store at `url` (default: settings), tables created if missing."""
    url = url or settings.knowledge_db_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_enforce_foreign_keys)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    Base.metadata.create_all(engine)
    return engine


def _sqlite_enforce_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, future=True, expire_on_commit=False)
