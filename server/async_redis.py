"""An asyncio Redis client beside a blocking one (redis-py's), for code on the Rasa server's event loop.

Rasa's RedisLockStore holds a blocking `redis.StrictRedis`; every call on it stops the event loop,
and with it every other conversation on that process, until Redis answers. The ticket mutex
(server/seams/reliability.py) and the Slack channel's record of delivered events (channels/slack.py)
talk to the same Redis through `redis.asyncio` instead, with the same address, database,
credentials and TLS settings.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

# The connection settings that mean the same to redis.asyncio (the rest are sync-only objects).
_SHARED_SETTINGS = (
    "host",
    "port",
    "db",
    "username",
    "password",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "ssl_keyfile",
    "ssl_certfile",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_check_hostname",
)
# One client per blocking client and event loop: a redis.asyncio connection belongs to the loop
# that opened it (Sanic workers each have their own).
_clients: weakref.WeakKeyDictionary[Any, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]] = weakref.WeakKeyDictionary()


def async_redis(blocking: Any) -> Any:
    """A `redis.asyncio.Redis` for the running event loop, reaching what `blocking` reaches."""
    import redis
    import redis.asyncio

    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(blocking, weakref.WeakKeyDictionary())
    client = per_loop.get(loop)
    if client is None:
        pool = blocking.connection_pool
        settings = {key: value for key, value in pool.connection_kwargs.items() if key in _SHARED_SETTINGS}
        if issubclass(pool.connection_class, redis.SSLConnection):
            settings["ssl"] = True
        client = per_loop[loop] = redis.asyncio.Redis(**settings)
    return client
