"""Speed: Rasa's per-turn overheads found by profiling the server under load (`make bench`).

Action responses checked by a validator built once, SQLite tracker stores in WAL mode with
pooled connections, spaCy without its unused NER, event classes found by a dict lookup, one
kept-alive HTTP session per endpoint, the model graph run without dask, BLAS on one thread, and
the heap held once the model is loaded left out of garbage collection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from actions.store.db import sqlite_secure_delete
from server.seams import wrap_once


def install_cached_action_response_validation() -> None:
    """Validate action server responses with validators built once.

    Rasa's jsonschema.validate() re-checks the large events schema on every response; here each
    event is checked only against the one event kind it names (same verdict, tests/server/test_server.py
    compares them). An invalid response still goes through Rasa's own method and fails as before."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    def wrap(original: Any) -> Any:
        validate_response = response_validator(RemoteAction.action_response_format_spec(), validator_for)

        def validate(self: RemoteAction, result: dict) -> bool:
            return True if validate_response(result) else original(self, result)

        return validate

    wrap_once(RemoteAction, "_validate_action_result", wrap)


def response_validator(schema: dict[str, Any], validator_for: Any) -> Any:
    """ "Is this action response valid?" for Rasa's response schema, with each event checked
    against the event kind its "event" names (the oneOf branches)."""
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    event_schema = schema["properties"]["events"]["items"]
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    by_name = {}
    for kind in event_schema["oneOf"]:
        name = kind["properties"]["event"]["const"]
        assert name not in by_name, f"two event kinds named {name!r}: the oneOf shortcut would not hold"
        by_name[name] = validator_class({**common, "allOf": [kind]})
    outline = validator_class({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})

    def event_is_valid(event: Any) -> bool:
        name = event.get("event") if isinstance(event, dict) else None
        kind = by_name.get(name) if isinstance(name, str) else None
        return kind is not None and kind.is_valid(event)

    def response_is_valid(result: Any) -> bool:
        events = result.get("events") if isinstance(result, dict) else None
        return outline.is_valid(result) and all(event_is_valid(event) for event in events or [])

    return response_is_valid


def install_sqlite_write_ahead_log() -> None:
    """SQLite tracker stores: WAL mode, synchronous=NORMAL, and connections kept open.

    The rollback journal syncs twice per saved turn and locks out readers; WAL lets `make report`
    and `make purge` read a live store. SQLAlchemy gives SQLite files a NullPool, whose every close
    checkpoints the log: a pool keeps connections open. Only a power cut can lose the last turns."""
    from rasa.core import tracker_store
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url
    from sqlalchemy.pool import QueuePool

    if not event.contains(Engine, "connect", _sqlite_wal):
        event.listen(Engine, "connect", _sqlite_wal)

    def wrap(original: Any) -> Any:
        def create_engine_kwargs(url: Any) -> dict[str, Any]:
            parsed = make_url(str(url))
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                # Rasa runs its tracker-store sessions on the event loop's thread; the pool may
                # still hand a connection to another thread later, which sqlite3 allows this way.
                return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
            return original(url)

        return create_engine_kwargs

    wrap_once(tracker_store, "create_engine_kwargs", wrap)


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        sqlite_secure_delete(dbapi_connection)  # a conversation deleted on request is zeroed in the file


def install_spacy_without_ner() -> None:
    """Load the spaCy pipeline without its named-entity recogniser: nothing reads spaCy's
    entities (lookup tables give sector, role and stage; the intent classifier uses lemmas)."""
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    def wrap(original: Any) -> Any:
        def load_model(spacy_model_name: str) -> Any:
            loaded = original(spacy_model_name)
            if "ner" in loaded.model.pipe_names:
                loaded.model.disable_pipe("ner")
            return loaded

        return load_model

    wrap_once(SpacyNLP, "load_model", wrap)


def install_event_type_cache() -> None:
    """Look up event classes by type name in a dict.

    Rasa walks every subclass of Event (with inspect.isabstract) for each stored event it reads;
    a miss searches again, so classes defined later are still found."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    def wrap(original: Any) -> Any:
        classes: dict[str, type] = {}

        def resolve_by_type(type_name: str, default: Any = None) -> Any:
            found = classes.get(type_name)
            if found is None:
                classes.clear()
                classes.update((cls.type_name, cls) for cls in reversed(all_subclasses(Event)))  # first match wins, as in Rasa
                found = classes.get(type_name)
            return found if found is not None else original(type_name, default)

        return resolve_by_type

    wrap_once(Event, "resolve_by_type", wrap)


# Shorter than the action server's (Sanic's) 5 s keep-alive, so Rasa never sends a call on a
# connection the action server is closing at that moment.
KEEP_ALIVE_SECONDS = 2.0


class _KeptSession:
    """`async with` on a shared aiohttp session that leaves it open afterwards."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def install_kept_alive_endpoint_sessions() -> None:
    """Reuse one HTTP session (and its connections) per endpoint, e.g. the action server.

    Rasa opens and closes an aiohttp session, a TCP connection, for every action call. The session
    is made as Rasa makes it (headers, basic auth, timeout), once per event loop."""
    import aiohttp
    import ujson  # Sanic's own JSON library
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def wrap(original: Any) -> Any:
        def session(self: EndpointConfig) -> Any:
            loop = asyncio.get_running_loop()
            kept = getattr(self, "_kept_session", None)
            if kept is None or kept.closed or kept._loop is not loop:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
                kept = aiohttp.ClientSession(
                    headers=self.headers,
                    auth=auth,
                    timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                    connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
                    json_serialize=ujson.dumps,  # the tracker sent with each action call: faster than json
                )
                self._kept_session = kept
            return _KeptSession(kept)

        return session

    wrap_once(EndpointConfig, "session", wrap)


def install_sequential_graph_runner() -> None:
    """Run the model's graph (NLU, then policies) by plain recursion instead of dask.

    dask's synchronous scheduler re-derives the task order of a ten-node graph on every parse and
    prediction. Each node still runs once, after the nodes it needs; results and errors as before."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        nodes = self._graph_schema.nodes
        done: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in nodes:
                raise GraphRunError(f"Input value '{value}' clashes with a node name.")
            done[name] = (name, value)  # as dask passes an input: (name, value)

        def result_of(name: str) -> Any:
            if name not in done:
                if name not in nodes:
                    return name  # dask passes an unknown name on as it is
                done[name] = self._instantiated_nodes[name](*(result_of(need) for need in nodes[name].needs.values()))
            return done[name]

        try:
            return dict(result_of(target) for target in (targets or self._graph_schema.target_names))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    wrap_once(DaskGraphRunner, "run", lambda original: run)


# BLAS libraries' environment variables for their thread counts, set (unless already set) before
# any later-loaded copy reads them; the copies already loaded are limited through threadpoolctl.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def install_single_threaded_blas() -> None:
    """Run BLAS (numpy's OpenBLAS) on one thread in the Rasa server, now and for libraries loaded
    with the model.

    OpenBLAS splits any product above a few thousand multiplications across every core: the intent
    classifier's sentence-embedding scores (42 x 256) went to a second thread, and OpenBLAS's idle
    threads spin on their core before sleeping. On the 2-core machine under `make bench` that cost
    the Rasa server 1.6 ms of wall time for a 0.2 ms product and took the other core from the action
    server and the clients; with one thread the server's CPU time a turn in a burst of 50
    conversations halved. The numbers are the same (each row's dot product is summed the same way).
    A thread count set in the environment is kept."""
    import os

    import rasa.core.run

    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    _limit_blas_threads()

    def wrap(original: Any) -> Any:
        async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
            agent = await original(*args, **kwargs)
            _limit_blas_threads()  # BLAS libraries the model's components loaded
            return agent

        return load_agent_on_start

    wrap_once(rasa.core.run, "load_agent_on_start", wrap)


def _limit_blas_threads() -> None:
    import os

    from threadpoolctl import threadpool_limits

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "1")
    threadpool_limits(limits=int(threads) if threads.isdigit() and int(threads) > 0 else 1, user_api="blas")


def install_frozen_start_up_heap() -> None:
    """Leave the objects the Rasa server holds once its model is loaded out of garbage collection.

    The loaded model (spaCy, TensorFlow, the policies, the domain) is millions of objects that live
    as long as the server; Python's full collections walked them all, each 0.1 to 0.4 s on this
    machine, stopping every conversation meanwhile, a few times a minute under load. gc.freeze()
    after the model is loaded moves them to a generation that is never collected: collections then
    look only at what turns create. Nothing else changes: garbage is collected as before."""
    import gc

    import rasa.core.run

    def wrap(original: Any) -> Any:
        async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
            agent = await original(*args, **kwargs)
            gc.collect()  # garbage of the loading is freed, not frozen
            gc.freeze()
            return agent

        return load_agent_on_start

    wrap_once(rasa.core.run, "load_agent_on_start", wrap)
