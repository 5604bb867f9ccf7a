"""Rasa's Slack channel with two changes.

- Every delivery is answered at most once. Slack re-sends an event it thinks was not
  acknowledged (header X-Slack-Retry-Num), and anyone who captured a signed request can send it
  again unchanged within the five minutes its signature is accepted. Stock Rasa processes every
  retry except those of reason `http_timeout` (answering twice), and the first version of this
  channel dropped every retry (losing the message when the first delivery really failed). Here
  each event is remembered by its `event_id` (a button click, which has none, by a digest of
  its body) for DELIVERY_MEMORY_SECONDS: the first delivery that arrives, retry or not, is
  processed; later ones are acknowledged with `X-Slack-No-Retry: 1` and dropped. The memory is
  the process's own, or Redis when the lock store is Redis, so replicas share it.
- The Web API base URL comes from SLACK_API_URL (default Slack's own), so the tests can receive
  chat.postMessage on loopback instead of calling Slack.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from actions import settings

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
# Slack retries an event three times within about five minutes, and a signed request is
# accepted for five minutes after it was signed: a delivery seen is remembered for longer than
# both together.
DELIVERY_MEMORY_SECONDS = 15 * 60
# Redis keys of remembered deliveries; outside the lock store's "lock:" keys (conversation ids).
REDIS_KEY_PREFIX = "slack-delivery:"


class SlackOutput(SlackBot):
    """Posts through the Web API at SLACK_API_URL."""

    def __init__(
        self, token: str, slack_channel: str | None = None, thread_id: str | None = None, proxy: str | None = None
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, proxy=proxy, base_url=settings.slack_api_url(SLACK_API_URL))


class DeliveriesInMemory:
    """Deliveries this process has seen, each forgotten DELIVERY_MEMORY_SECONDS later."""

    def __init__(self, seconds: float = DELIVERY_MEMORY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._until: collections.OrderedDict[str, float] = collections.OrderedDict()  # oldest first

    async def first_time(self, delivery: str) -> bool:
        now = self.clock()
        while self._until and next(iter(self._until.values())) <= now:
            self._until.popitem(last=False)
        if delivery in self._until:
            return False
        self._until[delivery] = now + self.seconds
        return True

    async def forget(self, delivery: str) -> None:
        self._until.pop(delivery, None)


class DeliveriesInRedis:
    """Deliveries every replica has seen, in the lock store's Redis (SET NX with an expiry)."""

    def __init__(self, blocking_client: Any, seconds: float = DELIVERY_MEMORY_SECONDS) -> None:
        self.blocking_client = blocking_client
        self.seconds = seconds

    def _client(self) -> Any:
        from server.async_redis import async_redis  # on the event loop, never blocking it

        return async_redis(self.blocking_client)

    async def first_time(self, delivery: str) -> bool:
        return bool(await self._client().set(REDIS_KEY_PREFIX + delivery, b"1", nx=True, ex=int(self.seconds)))

    async def forget(self, delivery: str) -> None:
        await self._client().delete(REDIS_KEY_PREFIX + delivery)


def delivery_id(request: Request) -> str | None:
    """What identifies one Slack delivery: the Events API's event_id; for an interactivity
    payload (a button click, no event id) a digest of the body, which a second real click
    changes (its action_ts and trigger_id are new) and a replay does not."""
    if request.content_type == "application/json":
        event_id = (request.json or {}).get("event_id") if isinstance(request.json, dict) else None
        return f"event:{event_id}" if isinstance(event_id, str) and event_id else None
    return "body:" + hashlib.sha256(request.body or b"").hexdigest()


class SlackInput(RasaSlackInput):
    """Slack Events API and interactivity, each delivery answered at most once."""

    _deliveries: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa's process_message drops retries of these reasons unseen; here the delivery id decides.
        self.errors_ignore_retry = ()

    def deliveries(self, request: Request) -> Any:
        """Where deliveries are remembered: Redis when the agent's lock store is Redis, else memory."""
        if self._deliveries is None:
            from rasa.core.lock_store import RedisLockStore

            agent = getattr(request.app.ctx, "agent", None)
            lock_store = getattr(agent, "lock_store", None)
            if isinstance(lock_store, RedisLockStore):
                self._deliveries = DeliveriesInRedis(lock_store.red)
            else:
                self._deliveries = DeliveriesInMemory()
        return self._deliveries

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender_id: str | None,
        metadata: dict | None,
    ) -> Any:
        # Called only after the signature and timestamp were verified.
        retry = request.headers.get(self.retry_num_header)
        delivery = delivery_id(request)
        if delivery is None:
            logger.warning("Slack event without an event_id: processed, but it cannot be told from a repeat.")
        elif not await self.deliveries(request).first_time(delivery):
            reason = request.headers.get(self.retry_reason_header)
            what = f"retry #{retry} ({reason})" if retry else "repeat without a retry header (a replay?)"
            logger.info(f"Slack delivery {delivery[:70]} seen before; this {what} is acknowledged and not answered again.")
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        elif retry:
            logger.info(f"Slack retry #{retry} of a delivery not seen before (the first did not arrive): processed.")
        try:
            # Rasa's own: acknowledges at once and runs the turn in the background.
            return await super().process_message(request, on_new_message, text, sender_id, metadata)
        except BaseException:
            if delivery is not None:
                await self.deliveries(request).forget(delivery)  # not processed: a retry may be
            raise

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
