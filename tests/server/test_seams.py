"""The seams' bookkeeping (server/seams/__init__.py) and the seams that had no test of their own:
each test installs the seam on Rasa's real class and fails if the seam does nothing."""

from __future__ import annotations

import asyncio
import inspect
import logging
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
