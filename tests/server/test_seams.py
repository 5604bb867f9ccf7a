"""The seams' bookkeeping (server/seams/__init__.py) and the seams that had no test of their own:
each test installs the seam on Rasa's real class and fails if the seam does nothing."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sqlite3
import warnings
from types import SimpleNamespace

import pytest

import server.seams as seams
from server.seams import wrap_once


def keep(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
    """Put owner.name back as it is now when the test ends (a seam replaces it)."""
    monkeypatch.setattr(owner, name, inspect.getattr_static(owner, name))


# --- wrap_once, INSTALLED and the Rasa version check ------------------------------------------


class Greeter:
    def hello(self) -> str:
        return "hello"

    @staticmethod
    def shout(word: str) -> str:
        return word.upper()


def test_wrap_once_wraps_once_and_returns_the_original() -> None:
    owner = type("Owner", (Greeter,), {})
    plain = Greeter.hello

    def exclaim(original):
        return lambda self: original(self) + "!"

    assert wrap_once(owner, "hello", exclaim) is plain
    assert wrap_once(owner, "hello", exclaim) is plain  # again: nothing more is wrapped
    assert owner().hello() == "hello!"

    def question(original):  # another seam on the same method wraps the first one
        return lambda self: original(self) + "?"

    assert wrap_once(owner, "hello", question) is owner.__dict__["hello"].__dict__["_advisor_original"]
    wrap_once(owner, "hello", question)
    wrap_once(owner, "hello", exclaim)  # the inner seam, installed again, is found through the outer
    assert owner().hello() == "hello!?"


def test_wrap_once_keeps_a_static_method_static() -> None:
    owner = type("Owner", (Greeter,), {})

    def twice(original):
        return lambda word: original(word) * 2

    wrap_once(owner, "shout", twice)
    wrap_once(owner, "shout", twice)
    assert isinstance(owner.__dict__["shout"], staticmethod)
    assert owner.shout("hi") == owner().shout("hi") == "HIHI"


def test_installed_lists_every_seam_once_quiet_warnings_first() -> None:
    assert len(set(seams.INSTALLED)) == len(seams.INSTALLED)
    assert seams.INSTALLED[0].__name__ == "install_quiet_third_party_warnings"
    names = [install.__name__ for install in seams.INSTALLED]
    assert names.index("install_message_length_cap") < names.index("install_turn_admission")  # admission outside


def test_the_seams_refuse_another_rasa_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa

    assert rasa.__version__ == seams.RASA_VERSION  # the pinned one is installed
    installed = []
    monkeypatch.setattr(seams, "INSTALLED", (lambda: installed.append(1),))
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(SystemExit) as refused:
        seams.install_all()
    message = str(refused.value)
    assert "3.7.0" in message and seams.RASA_VERSION in message and "requirements.lock" in message
    assert not installed  # nothing installed on a Rasa it was not written for
    monkeypatch.setattr(rasa, "__version__", seams.RASA_VERSION)
    seams.install_all()
    assert installed == [1]


# --- The message length cap ---------------------------------------------------------------------


def test_long_messages_are_cut_and_lone_surrogates_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor

    from server.seams.reliability import MAX_MESSAGE_CHARS, install_message_length_cap

    seen = []

    async def rasas(self, message):  # stands in for Rasa's own, which would parse the text
        seen.append(message.text)

    monkeypatch.setattr(MessageProcessor, "handle_message", rasas)
    install_message_length_cap()
    asyncio.run(MessageProcessor.handle_message(None, UserMessage("word " * 5000)))
    asyncio.run(MessageProcessor.handle_message(None, UserMessage("bad \ud800 half")))
    assert len(seen[0]) == MAX_MESSAGE_CHARS and seen[0] == ("word " * 5000)[:MAX_MESSAGE_CHARS]
    assert "\ud800" not in seen[1] and seen[1].startswith("bad \ufffd") and seen[1].endswith(" half")  # encodable


# --- SQLite tracker stores in WAL mode ------------------------------------------------------------


def test_sqlite_tracker_stores_write_ahead(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from rasa.core import tracker_store
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import QueuePool

    from server.seams import speed

    keep(monkeypatch, tracker_store, "create_engine_kwargs")
    speed.install_sqlite_write_ahead_log()
    try:
        store = SQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'tracker.db'}")
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert isinstance(store.engine.pool, QueuePool)  # connections kept open between turns
        store.engine.dispose()
    finally:
        event.remove(Engine, "connect", speed._sqlite_wal)
    assert sqlite3.connect(tmp_path / "tracker.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file


# --- "Delete my data" deletes the conversation ----------------------------------------------------


def deleting_turn(sender_id: str):
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from actions.replies import CONVERSATION_DELETED, DELETE_ACTION, PRIVACY_SIGNAL

    tracker = DialogueStateTracker(sender_id, [])
    tracker.update(UserUttered("delete my data", {"name": "delete_my_data"}))
    tracker.update(ActionExecuted(DELETE_ACTION))
    tracker.update(BotUttered("Deleted.", metadata={PRIVACY_SIGNAL: CONVERSATION_DELETED}))
    return tracker


def test_a_confirmed_deletion_deletes_the_conversation_instead_of_saving_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from server.seams.privacy import install_conversation_deletion

    keep(monkeypatch, MessageProcessor, "save_tracker")
    install_conversation_deletion()
    store = SQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'tracker.db'}")
    processor = SimpleNamespace(tracker_store=store)  # all Rasa's save_tracker uses of the processor
    earlier = DialogueStateTracker("alice", [])
    earlier.update(UserUttered("my sector is health", {"name": "inform"}))
    other = DialogueStateTracker("bob", [])
    other.update(UserUttered("hello", {"name": "greet"}))
    for tracker in (earlier, other):
        asyncio.run(MessageProcessor.save_tracker(processor, tracker))
    assert asyncio.run(store.retrieve("alice")) is not None

    asyncio.run(MessageProcessor.save_tracker(processor, deleting_turn("alice")))

    assert asyncio.run(store.retrieve_full_tracker("alice")) is None  # every event of every session
    assert [e.text for e in asyncio.run(store.retrieve("bob")).events if isinstance(e, UserUttered)] == ["hello"]
    store.engine.dispose()


# --- No message text in the payload warnings -------------------------------------------------------


def test_payload_warnings_do_not_quote_the_message(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    from server.seams.privacy import install_payload_warning_redaction

    keep(monkeypatch, YAMLStoryReader, "unpack_regex_message")
    install_payload_warning_redaction()
    secret = "my partner embezzled the grant"
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        for text in (f"/greet {secret}", f'/greet{{"sector": "health"}} {secret}'):
            message = YAMLStoryReader.unpack_regex_message(Message(data={"text": text}), Domain.from_dict({"intents": ["greet"]}))
            assert message.get("text").endswith(secret)  # still read as the person's text
    assert not [w for w in shown if secret in str(w.message)]
    assert secret not in caplog.text
    assert "is not a payload this bot knows" in caplog.text  # said without the text


# --- {retention_days} in responses ------------------------------------------------------------------


def test_responses_can_state_the_retention_period(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker

    from server.seams.privacy import install_retention_in_responses

    keep(monkeypatch, TemplatedNaturalLanguageGenerator, "generate")
    monkeypatch.setenv("RETENTION_DAYS", "45")
    install_retention_in_responses()
    nlg = TemplatedNaturalLanguageGenerator({"utter_retention": [{"text": "Conversations are kept {retention_days} days."}]})
    reply = asyncio.run(nlg.generate("utter_retention", DialogueStateTracker("someone", []), "rest"))
    assert reply["text"] == "Conversations are kept 45 days."


# --- BLAS on one thread, and the start-up heap left out of garbage collection -----------------------

# Run in a fresh interpreter: the thread counts and the frozen heap are the whole process's.
_BLAS_PROBE = """
import json, os, sys
if sys.argv[1] == "numpy-first":
    import numpy  # loaded before the seam: limited through threadpoolctl
from server.seams.speed import install_single_threaded_blas
install_single_threaded_blas()
import numpy
from threadpoolctl import threadpool_info
print(json.dumps({"env": os.environ.get("OPENBLAS_NUM_THREADS"),
                  "threads": [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]}))
"""


def _blas_probe(order: str, **env: str) -> dict:
    import json
    import os
    import subprocess
    import sys

    from server.launch import ROOT

    environment = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
    }
    done = subprocess.run(
        [sys.executable, "-c", _BLAS_PROBE, order],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_blas_runs_on_one_thread_in_the_server_unless_the_environment_says_otherwise() -> None:
    for order in ("seam-first", "numpy-first"):
        probe = _blas_probe(order)
        assert probe["env"] == "1"
        assert probe["threads"] and set(probe["threads"]) == {1}
    assert set(_blas_probe("numpy-first", OPENBLAS_NUM_THREADS="2")["threads"]) == {2}  # an explicit setting is kept


def test_one_blas_thread_gives_the_intent_scores_to_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The products the intent classifier makes (42 intents x 256 embedding dimensions, and the
    TF-IDF columns of a message): one thread sums in another order than several, so the last
    digits may differ, nothing more."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(17)
    dense, vector = rng.standard_normal((42, 256)), rng.standard_normal(256)
    weights = np.asfortranarray(rng.standard_normal((42, 5000)))
    columns, values = rng.integers(0, 5000, 300), rng.standard_normal(300)
    with threadpool_limits(limits=2, user_api="blas"):
        several = (dense @ vector, weights[:, columns] @ values)
    with threadpool_limits(limits=1, user_api="blas"):
        one = (dense @ vector, weights[:, columns] @ values)
    for a, b in zip(several, one, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert np.argmax(a) == np.argmax(b)


def test_the_heap_is_frozen_once_the_model_is_loaded_and_later_garbage_still_collected(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    import rasa.core.run
    from threadpoolctl import threadpool_limits

    from server.seams.speed import BLAS_THREAD_VARIABLES, install_frozen_start_up_heap, install_single_threaded_blas

    keep(monkeypatch, rasa.core.run, "load_agent_on_start")
    for name in BLAS_THREAD_VARIABLES:  # put back as they are now when the test ends (the seam sets them)
        original = os.environ.get(name)
        monkeypatch.setenv(name, original or "")
        if original is None:
            monkeypatch.delenv(name)
    loaded = SimpleNamespace(name="agent")

    async def load_agent_on_start(model_path, endpoints, remote_storage, app, loop):  # Rasa's signature
        app.ctx.agent = loaded
        return loaded

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", load_agent_on_start)
    app = SimpleNamespace(ctx=SimpleNamespace())
    with threadpool_limits(limits=None, user_api="blas"):  # BLAS's thread counts put back afterwards
        install_frozen_start_up_heap()
        install_single_threaded_blas()  # both wrap the same listener
        install_frozen_start_up_heap()  # idempotent
        try:
            assert asyncio.run(rasa.core.run.load_agent_on_start("model.tar.gz", None, None, app, None)) is loaded
            assert app.ctx.agent is loaded
            assert gc.get_freeze_count() > 0  # the heap as it was when the model was loaded

            class Cycle:
                pass

            cycle = Cycle()
            cycle.me = cycle  # garbage only a collection frees
            gone = weakref.ref(cycle)
            del cycle
            gc.collect()
            assert gone() is None
        finally:
            gc.unfreeze()
