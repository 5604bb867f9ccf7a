"""Rasa's own command line, with the project's guards and speed-ups at Rasa's seams: never
silent when the action server fails, over-long messages capped, Redis lock tickets atomic,
HTTP API only with auth; action responses validated by a cached validator and SQLite
tracker stores in WAL mode (together 60 -> 21 ms per advice turn here).

    python -m scripts.rasa_server run --model ... --endpoints endpoints.yml ...
    python -m scripts.rasa_server shell --model ...

Stock Rasa 3.6 logs a refused connection, a 5xx or a timeout of the action server and
then carries on with nothing said to the person (the remote action counts as run), and
its call timeout is fixed at 300 s. The guard wraps RemoteAction.run: it gives the call
ACTION_TIMEOUT_SECONDS (default 10) and turns those failures into the same apology the
action server sends when the knowledge store is unreachable. An HTTP 400 still becomes
Rasa's ActionExecutionRejection, as before.

It also reads only the first MAX_MESSAGE_CHARS characters of a message: DIET's cost grows
with the square of the length, and one 50,000-character message of ordinary words kept
the server busy for 35 s here, stalling every other conversation on it.

And it makes the Redis lock store's ticket handling atomic. Rasa updates a conversation's
ticket lock with a Redis GET, then a SET: two replicas taking messages of one conversation
at the same moment both drew ticket 0 in 39 of 50 tries here and ran side by side (the
same advice given twice). Each of those read-modify-writes now runs under a short Redis
mutex.

For `run`, the HTTP API is switched on only when RASA_API_TOKEN or RASA_JWT_SECRET is set,
and then only with that token or JWT secret. They are read here from the environment
and handed to Rasa in-process, so they never appear on a process command line.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
from typing import Any

from actions.replies import UNAVAILABLE_REPLY

logger = logging.getLogger(__name__)
DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0
# About 350 words: more than anyone types in one chat message, and understood in ~0.1 s.
MAX_MESSAGE_CHARS = 2000


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
    """Cut over-long messages before NLU, for every channel (idempotent)."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.handle_message
    if getattr(original, "capped", False):
        return

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        if isinstance(message.text, str) and len(message.text) > MAX_MESSAGE_CHARS:
            logger.info("Message of %d characters from %s read up to %d.", len(message.text), message.sender_id, MAX_MESSAGE_CHARS)
            message.text = message.text[:MAX_MESSAGE_CHARS]
        return await original(self, message)

    handle_message.capped = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]


def install_cached_action_response_validation() -> None:
    """Validate action server responses with one compiled validator (idempotent).

    Rasa checks every response with jsonschema.validate(), which also re-checks the large
    events schema itself: 15 ms of each custom-action turn here, against 0.4 ms with a
    validator built once. An invalid response still goes through Rasa's own method, so it
    fails exactly as before."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "cached", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate(self: RemoteAction, result: dict) -> bool:
        return True if validator.is_valid(result) else original(self, result)

    validate.cached = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate  # type: ignore[method-assign]


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
        database = make_url(str(url)).database
        if make_url(str(url)).get_backend_name() == "sqlite" and database not in (None, "", ":memory:"):
            # Rasa runs its tracker-store sessions on the event loop's thread; the pool may
            # still hand a connection to another thread later, which sqlite3 allows this way.
            return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
        return original(url)

    tracker_store.create_engine_kwargs = create_engine_kwargs


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def install_atomic_redis_locks() -> None:
    """Serialise RedisLockStore's read-modify-writes of a ticket lock across processes (idempotent)."""
    from rasa.core.lock_store import LockStore, RedisLockStore

    if getattr(RedisLockStore, "atomic_tickets", False):
        return

    def under_mutex(method: Any) -> Any:
        @functools.wraps(method)
        def guarded(self: RedisLockStore, conversation_id: str, *args: Any, **kwargs: Any) -> Any:
            # redis-py's Lock (SET NX PX): expires on its own if a replica dies holding it.
            mutex = self.red.lock(f"mutex:{self.key_prefix}{conversation_id}", timeout=10, sleep=0.005, blocking_timeout=10)
            with mutex:
                return method(self, conversation_id, *args, **kwargs)

        return guarded

    # The only callers of get-then-save: issuing a ticket, dropping expired ones, and
    # cleanup (finish serving, then delete the lock if nobody waits).
    for name in ("issue_ticket", "update_lock", "cleanup"):
        setattr(RedisLockStore, name, under_mutex(getattr(LockStore, name)))
    RedisLockStore.atomic_tickets = True  # type: ignore[attr-defined]


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
    install_never_silent_guard()
    install_message_length_cap()
    install_atomic_redis_locks()
    install_cached_action_response_validation()
    install_sqlite_write_ahead_log()
    import rasa.__main__

    sys.argv = ["rasa", *argv]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
