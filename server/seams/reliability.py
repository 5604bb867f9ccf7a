"""Reliability: a person always gets an answer, and one conversation's turns never run twice.

RemoteAction.run apologises instead of staying silent when the action server fails or is slow;
over-long messages are cut before NLU; a few turns run at once, first come first served; the
Redis lock store's ticket updates are atomic across replicas and never block the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from actions import settings
from actions.replies import UNAVAILABLE_REPLY
from channels import inputs
from server.seams import wrap_once

logger = logging.getLogger(__name__)


# About 350 words: more than anyone types in one chat message, and understood in ~0.1 s.
MAX_MESSAGE_CHARS = 2000


def install_never_silent_guard() -> None:
    """Apologise instead of staying silent when an action call is refused, fails (5xx) or takes
    longer than ACTION_TIMEOUT_SECONDS: stock Rasa logs it, says nothing to the person, and waits
    up to a fixed 300 s. An HTTP 400 still becomes Rasa's ActionExecutionRejection."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    def wrap(original: Any) -> Any:
        async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list:
            timeout = settings.action_timeout_seconds()
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

        return run

    wrap_once(RemoteAction, "run", wrap)


def install_message_length_cap() -> None:
    """Cut over-long messages before NLU, for every channel, and replace lone surrogates (which
    JSON's "\\ud800" gives, and which made spaCy fail the turn) by U+FFFD (idempotent)."""
    from rasa.core.processor import MessageProcessor

    def wrap(original: Any) -> Any:
        async def handle_message(self: MessageProcessor, message: Any) -> Any:
            if isinstance(message.text, str):
                if len(message.text) > MAX_MESSAGE_CHARS:
                    logger.info("A message of %d characters was read up to %d.", len(message.text), MAX_MESSAGE_CHARS)
                    message.text = message.text[:MAX_MESSAGE_CHARS]
                message.text = inputs.valid_text(message.text)
            return await original(self, message)

        return handle_message

    wrap_once(MessageProcessor, "handle_message", wrap)


def install_turn_admission() -> None:
    """Work on at most CONCURRENT_TURNS turns at once; later ones wait, first come first served.

    One process interleaves every started turn at each await, so under load a turn of several
    predictions and action calls went round the queue again and again. A few at a time keeps the
    CPU busy while one waits for the action server. One conversation's messages already queue in
    Rasa's lock before reaching this."""
    from rasa.core.processor import MessageProcessor

    def wrap(original: Any) -> Any:
        limit = settings.concurrent_turns()  # read once: a bad value stops the start-up, not a turn
        gates: dict[Any, asyncio.Semaphore] = {}  # one per event loop (Sanic workers each have one)

        async def handle_message(self: MessageProcessor, message: Any) -> Any:
            loop = asyncio.get_running_loop()
            gate = gates.get(loop)
            if gate is None:
                gate = gates[loop] = asyncio.Semaphore(limit)
            async with gate:
                return await original(self, message)

        return handle_message

    wrap_once(MessageProcessor, "handle_message", wrap)


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
        f"mutex:{key}",
        timeout=TICKET_MUTEX_EXPIRY_SECONDS,
        sleep=0.005,
        blocking_timeout=TICKET_MUTEX_WAIT_SECONDS,
        thread_local=False,
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

    wrap_once(RedisLockStore, "lock", lambda original: lock)
