"""Shared fixtures: real knowledge stores (SQLite, PostgreSQL), real rasa_sdk trackers,
and one real Rasa server + action server for the whole run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.store.knowledge import KnowledgeCache
from actions.store.loader import load
from actions.store.records import Recorder
from server import launch
from tests.slack_standin import TEST_SIGNING_SECRET, TEST_TOKEN, SlackWebAPIStandIn

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "data" / "knowledge"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"

# The REST channel's token on every server the tests start (tests/servers.py sends it).
TEST_REST_TOKEN = "test-rest-token-for-tests-only"

# CI sets REQUIRE_SERVICES=1: there a missing PostgreSQL or Redis fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 in CI)")
    pytest.skip(reason)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the real content, for tests that break it."""
    target = tmp_path / "knowledge"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'knowledge.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL test database, dropped afterwards."""
    from tests.servers import postgres_schema  # tests/servers.py imports this module

    with postgres_schema("t") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The same test on the embedded SQLite store and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def knowledge_cache(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> KnowledgeCache:
    """The real content loaded into a real store, read through the actions' cache."""
    load(CONTENT_DIR, sqlite_url)
    cache = KnowledgeCache(url=sqlite_url, refresh_seconds=0)
    monkeypatch.setattr("actions.common.KNOWLEDGE", cache)
    practice_classifiers_ready(sqlite_url)
    return cache


def practice_classifiers_ready(url: str) -> None:
    """As the action server does before serving: the retriever's practice classifiers fitted for the
    content in the store at `url` (once per content version; then a digest lookup)."""
    from actions import retrieval
    from actions.store.db import make_engine, make_session_factory
    from actions.store.knowledge import read_digest, read_knowledge

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            cached = retrieval._CACHE.get(read_digest(session) or "")
            if cached is not None and cached.learned.is_set():
                return
            knowledge = read_knowledge(session)
    finally:
        engine.dispose()
    retrieval.retriever_for(knowledge).learned.wait()


@pytest.fixture
def recorder(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The actions' recorder writing to the same real store, with a private spool file."""
    recorder = Recorder(url=sqlite_url, spool=tmp_path / "pending.jsonl")
    monkeypatch.setattr("actions.common.RECORDER", recorder)
    monkeypatch.setattr("actions.conversation.RECORDER", recorder)
    monkeypatch.setattr("actions.health_check.RECORDER", recorder)
    monkeypatch.setattr("actions.privacy.RECORDER", recorder)
    return recorder


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    intent: str = "greet",
    text: str = "",
    slots: dict[str, Any] | None = None,
    sender: str = "test-user",
    ranking: list[tuple[str, float]] | None = None,
    entities: list[dict[str, Any]] | None = None,
    previous_intents: list[str] = (),
    active_loop: str | None = None,
    bot_said: list[str] = (),
) -> Tracker:
    """A rasa_sdk Tracker as the action server builds it from Rasa's request; `bot_said` are the
    bot's messages just before the latest one."""
    ranking = ranking or [(intent, 0.99)]
    message = {
        "intent": {"name": intent, "confidence": ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": entities or [],
        "text": text or f"/{intent}",
    }
    earlier = [
        {"event": "user", "text": f"/{i}", "parse_data": {"intent": {"name": i, "confidence": 0.9}}} for i in previous_intents
    ] + [{"event": "bot", "text": t} for t in bot_said]
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=message,
        events=earlier + [{"event": "user", "text": message["text"], "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run_action(action, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run a custom action as the action server would: the messages it sent and its events."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher.messages, events


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots a list of events sets."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningAdvisor:
    """A real Rasa server and action server on free ports, with their own stores, and every
    channel open: REST, the web chat (Socket.IO and its page) and Slack."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.knowledge_url = f"sqlite:///{workdir / 'knowledge.db'}"
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.env = launch.server_env(
            self.action_port,
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            KNOWLEDGE_DB_URL=self.knowledge_url,
            TRACKER_STORE_URL=f"sqlite:///{workdir / 'tracker.db'}",
            KNOWLEDGE_REFRESH_SECONDS="0.5",
            REST_TOKEN=TEST_REST_TOKEN,
        )
        self.processes: list = []
        # --- channels: web chat and Slack ---
        # Slack is outside this machine: its Web API is a stand-in on loopback that records each
        # chat.postMessage; everything else (signature checks, threads, retries) is the real channel.
        self.slack_api = SlackWebAPIStandIn()
        self.env.update(
            WEBCHAT_SESSION_SECRET="test-webchat-session-secret-for-tests-only",
            SLACK_TOKEN=TEST_TOKEN,
            SLACK_SIGNING_SECRET=TEST_SIGNING_SECRET,
            SLACK_API_URL=self.slack_api.url,
        )
        self.tracker_db = workdir / "tracker.db"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def user_messages(self, sender: str, expect: list[str] | None = None, timeout: float = 10) -> list[str]:
        """The texts of a conversation's user events in the tracker store, by the id it is stored
        under (channels.inputs.conversation_id: "web:<session id>", "slack:<user id>", ...); with
        `expect`, waits (up to `timeout`) for them to become that, since Rasa saves the tracker
        just after answering."""
        deadline = time.monotonic() + timeout
        while True:
            with sqlite3.connect(self.tracker_db) as db:
                rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)).fetchall()
            texts = [json.loads(data)["text"] for (data,) in rows]
            if expect is None or texts == expect or time.monotonic() > deadline:
                return texts
            time.sleep(0.1)
    # --- end of channels ---

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def start(self) -> None:
        load(CONTENT_DIR, self.knowledge_url)
        model = launch.train()
        actions = launch.start_action_server(self.action_port, self.env, log=self.workdir / "actions.log")
        self.processes.append(actions)
        credentials = launch.render_credentials(self.env, self.workdir / "credentials.yml")
        rasa = launch.start_rasa_server(self.rasa_port, model, self.env, log=self.workdir / "rasa.log", credentials=credentials)
        self.processes.append(rasa)
        launch.wait_for_http(f"http://127.0.0.1:{self.action_port}/health", actions)
        launch.wait_for_http(f"http://127.0.0.1:{self.rasa_port}/", rasa, timeout=240)

    def stop(self) -> None:
        for process in reversed(self.processes):
            launch.stop(process)
        self.slack_api.stop()


@pytest.fixture(scope="session")
def advisor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAdvisor]:
    running = RunningAdvisor(tmp_path_factory.mktemp("advisor"))
    try:
        running.start()
    except Exception:
        running.stop()
        for log in ("actions.log", "rasa.log"):
            path = running.workdir / log
            if path.exists():
                print(f"--- {log} ---\n" + path.read_text()[-4000:])
        raise
    yield running
    running.stop()
