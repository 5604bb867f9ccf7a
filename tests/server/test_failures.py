"""Failures: never silent, nothing forgotten.

- the Rasa server's guard (server/seams/reliability.py) against a real HTTP action endpoint;
- a Rasa server + action server of this module's own (so the shared `advisor` is never
  restarted): conversation state across a Rasa restart, the action server down or hung,
  the knowledge database unreachable and back, content reloaded while people chat;
- bad input and malformed action calls against the shared `advisor`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
import yaml
from aiohttp import web
from sqlalchemy.engine import make_url

from actions.replies import UNAVAILABLE_REPLY
from actions.store.loader import load
from tests.conftest import CONTENT_DIR, POSTGRES_URL, RunningAdvisor, free_port
from tests.servers import (
    BAD_INPUTS,
    Processes,
    advice_titles,
    get,
    post,
    postgres_schema,
    say,
    sender,
    server_env,
    texts,
    wait_until,
    with_port,
)

ACTION_TIMEOUT = 3.0  # this module's ACTION_TIMEOUT_SECONDS, short so the hung-server test is quick
KEY_PRINCIPLES = "openness, trust and honesty"


# --- the guard, against a real HTTP endpoint in this process ---------------------------------


@pytest.fixture
async def action_endpoint() -> AsyncIterator[str]:
    """An HTTP action endpoint whose path says how it misbehaves."""

    async def ok(_request: web.Request) -> web.Response:
        return web.json_response(
            {"events": [{"event": "slot", "name": "current_challenge", "value": "challenge_time"}], "responses": [{"text": "fine"}]}
        )

    async def error(_request: web.Request) -> web.Response:
        return web.json_response({"error": "boom"}, status=500)

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"events": [], "responses": [{"text": "too late"}]})

    async def reject(_request: web.Request) -> web.Response:
        return web.json_response({"error": "not now", "action_name": "action_more_advice"}, status=400)

    app = web.Application()
    app.add_routes([web.post("/ok", ok), web.post("/error", error), web.post("/slow", slow), web.post("/reject", reject)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def run_remote_action(url: str) -> tuple[list, float]:
    """Rasa's RemoteAction, with the project's guard installed, against `url`."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from server.seams.reliability import install_never_silent_guard

    install_never_silent_guard()
    action = RemoteAction("action_more_advice", EndpointConfig(url))
    started = time.monotonic()
    events = await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), DialogueStateTracker("guard", []), Domain.empty())
    return events, time.monotonic() - started


def said(events: list) -> list[str]:
    from rasa.shared.core.events import BotUttered

    return [e.text for e in events if isinstance(e, BotUttered)]


@pytest.mark.parametrize("failure", ["refused", "error", "slow"])
async def test_guard_apologises_when_the_action_server_fails(failure, action_endpoint, monkeypatch) -> None:
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "0.5")
    url = f"http://127.0.0.1:{free_port()}/webhook" if failure == "refused" else f"{action_endpoint}/{failure}"
    events, seconds = await run_remote_action(url)
    assert said(events) == [UNAVAILABLE_REPLY]
    assert seconds < 3, "the guard's timeout, not Rasa's 300 s, bounds the wait"


async def test_guard_passes_answers_and_rejections_through(action_endpoint) -> None:
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.core.events import SlotSet

    events, _ = await run_remote_action(f"{action_endpoint}/ok")
    assert said(events) == ["fine"]
    assert SlotSet("current_challenge", "challenge_time") in events
    with pytest.raises(ActionExecutionRejection):
        await run_remote_action(f"{action_endpoint}/reject")


# --- a Rasa server and action server of this module's own ------------------------------------


@dataclass
class Stack:
    processes: Processes
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.processes.url("rasa")

    def restart_actions(self, **env: str) -> None:
        if "actions" in self.processes.running:
            self.processes.stop("actions")
        self.processes.start_actions("actions", {**self.env, **env})
        self.processes.wait("actions", "/health")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("failures")
    processes = Processes(workdir)
    action_port = free_port()
    env = server_env(
        f"http://127.0.0.1:{action_port}/webhook",
        workdir,
        KNOWLEDGE_REFRESH_SECONDS="0.5",
        ACTION_TIMEOUT_SECONDS=str(ACTION_TIMEOUT),
    )
    load(CONTENT_DIR, env["KNOWLEDGE_DB_URL"])
    try:
        processes.start_actions("actions", env, action_port)
        processes.start_rasa("rasa", env)
        processes.wait("actions", "/health")
        processes.wait("rasa")
        yield Stack(processes, env)
    finally:
        processes.stop_all()


def report(capsys: pytest.CaptureFixture, line: str) -> None:
    """Measured figures go to the terminal even when pytest captures output."""
    with capsys.disabled():
        print(f"\n[measured] {line}")


def test_conversation_survives_a_rasa_server_restart(stack: Stack, capsys) -> None:
    me = sender("restart")
    assert "pharmacy" in texts(say(stack.url, "I'm a community pharmacist", me))
    first = advice_titles(texts(say(stack.url, "one partner only joined for the grant", me)))
    assert len(first) == 1

    started = time.monotonic()
    stack.processes.stop("rasa")
    stack.processes.start_rasa("rasa", stack.env)  # same port, same SQL tracker store
    stack.processes.wait("rasa")
    report(capsys, f"Rasa server restart (stop to answering): {time.monotonic() - started:.1f} s")

    more = texts(say(stack.url, "/ask_more", me))
    assert more.startswith("Another idea on funding"), more  # the challenge under discussion was kept
    assert advice_titles(more) and not set(advice_titles(more)) & set(first)  # and what was already given
    ack = texts(say(stack.url, "I chair the partnership", me))
    assert "pharmacy" in ack and "Want more advice on funding" in ack  # and who the person is


def test_action_server_down_apologises_then_answers_when_back(stack: Stack, capsys) -> None:
    me = sender("down")
    stack.processes.stop("actions")
    try:
        started = time.monotonic()
        replies = say(stack.url, "one partner only joined for the grant", me)
        seconds = time.monotonic() - started
        assert texts(replies) == UNAVAILABLE_REPLY
        assert seconds < ACTION_TIMEOUT, "a refused connection is answered at once"
        report(capsys, f"action server down: apology after {seconds * 1000:.0f} ms")
    finally:
        stack.restart_actions()
    assert "\u201cFunding\u201d challenge" in texts(say(stack.url, "one partner only joined for the grant", me))


def test_hung_action_server_apologises_after_the_action_timeout(stack: Stack, capsys) -> None:
    me = sender("hung")
    stack.processes.pause("actions")
    try:
        started = time.monotonic()
        replies = say(stack.url, "what are the key principles?", me, timeout=60)
        seconds = time.monotonic() - started
    finally:
        stack.processes.resume("actions")
    assert texts(replies) == UNAVAILABLE_REPLY
    assert ACTION_TIMEOUT - 0.5 <= seconds < ACTION_TIMEOUT + 5
    report(capsys, f"action server hung (SIGSTOP): apology after {seconds:.1f} s (ACTION_TIMEOUT_SECONDS={ACTION_TIMEOUT:g})")
    assert KEY_PRINCIPLES in texts(say(stack.url, "what are the key principles?", me))


class TcpForwarder:
    """A local port forwarded to PostgreSQL: the database 'comes back' on the address the
    action server was already given, without restarting anything."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.sockets: list[socket.socket] = []
        self.stopped = threading.Event()

    def __enter__(self) -> "TcpForwarder":
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def test_knowledge_database_unreachable_apologises_then_answers_when_back(stack: Stack, capsys) -> None:
    with postgres_schema("kdown") as knowledge_url:
        load(CONTENT_DIR, knowledge_url)
        closed_port = free_port()  # nothing listens here yet: the database is unreachable
        database = make_url(POSTGRES_URL)
        stack.restart_actions(KNOWLEDGE_DB_URL=with_port(knowledge_url, closed_port))
        me = sender("kdb")
        try:
            started = time.monotonic()
            assert texts(say(stack.url, "what are the key principles?", me)) == UNAVAILABLE_REPLY
            report(capsys, f"knowledge database unreachable: apology after {(time.monotonic() - started) * 1000:.0f} ms")
            with TcpForwarder(closed_port, (database.host or "127.0.0.1", database.port or 5432)):
                # Back: the next question is answered, with no restart.
                assert KEY_PRINCIPLES in texts(say(stack.url, "what are the key principles?", me))
            # Gone again after a first read: answers continue from the last snapshot.
            time.sleep(1)  # past KNOWLEDGE_REFRESH_SECONDS, so the store is asked (and fails)
            assert "\u201cFunding\u201d challenge" in texts(say(stack.url, "one partner only joined for the grant", me))
        finally:
            stack.restart_actions()


def test_knowledge_reload_while_people_chat(stack: Stack, content_dir: Path, capsys) -> None:
    marker = "(reloaded while people were chatting)"
    topics = yaml.safe_load((content_dir / "topics.yml").read_text())
    intro = next(p for t in topics["topics"] for p in t["passages"] if p["id"] == "key_principles_intro")
    intro["text"] += " " + marker
    (content_dir / "topics.yml").write_text(yaml.safe_dump(topics, allow_unicode=True, sort_keys=False))

    turns = ["what are the key principles?", "one partner only joined for the grant", "/ask_more", "what are the benefits?"]
    problems: list[str] = []
    answered: list[float] = []
    stop_at = time.monotonic() + 60  # every loop here is bounded in time and count

    reloaded = threading.Event()

    def chat(index: int) -> None:
        """Chat until four turns after the reload (the bot may be fast enough to finish any
        fixed number of turns before it)."""
        me = sender(f"reload{index}")
        turn, after_reload = 0, 0
        while time.monotonic() < stop_at and after_reload < 4:
            after_reload += reloaded.is_set()
            message = turns[turn % len(turns)]
            turn += 1
            try:
                reply = texts(say(stack.url, message, me, timeout=30))
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                problems.append(f"{message!r}: {error}")
                continue
            if not reply.strip() or reply == UNAVAILABLE_REPLY:
                problems.append(f"{message!r}: {reply!r}")
            answered.append(time.monotonic())

    url = stack.env["KNOWLEDGE_DB_URL"]
    try:
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(chat, i) for i in range(6)]
            time.sleep(1.5)
            reloaded_at = time.monotonic()
            load(content_dir, url)
            reloaded.set()
            # New answers use the new content within the refresh interval (0.5 s here).
            assert wait_until(lambda: marker in texts(say(stack.url, "what are the key principles?", sender("after"))), timeout=10)
            report(capsys, f"content reload visible after {time.monotonic() - reloaded_at:.1f} s")
            for future in futures:
                future.result()
    finally:
        load(CONTENT_DIR, url)  # the original content, for the rest of the module
    assert not problems, problems
    assert any(t < reloaded_at for t in answered) and any(t > reloaded_at for t in answered), "chatting spanned the reload"
    assert wait_until(lambda: marker not in texts(say(stack.url, "what are the key principles?", sender("restored"))), timeout=10)


# --- bad input and malformed action calls, against the shared advisor ------------------------


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_gets_a_polite_reply_and_leaves_the_server_healthy(kind: str, advisor: RunningAdvisor) -> None:
    base = f"http://127.0.0.1:{advisor.rasa_port}"
    me = sender("bad")
    started = time.monotonic()
    replies = say(base, BAD_INPUTS[kind], me, timeout=30)
    assert time.monotonic() - started < 10, "a long message must not keep the server busy"
    assert replies and all((r.get("text") or "").strip() for r in replies), replies
    reply = texts(replies)
    assert UNAVAILABLE_REPLY not in reply and "<script" not in reply and "DROP TABLE" not in reply
    # Healthy afterwards: the same conversation and the server carry on normally.
    assert KEY_PRINCIPLES in texts(say(base, "what are the key principles?", me))
    assert get(base + "/")[0] == 200


MALFORMED_CALLS = {
    "not JSON": (b"this is not json", {}),
    "binary": (b"\x00\xff\xfe\x01", {}),
    "JSON list": (b"[1, 2]", {}),
    "empty object": (b"{}", {}),
    "no tracker": ({"next_action": "action_more_advice"}, {}),
    "tracker not an object": ({"next_action": "action_more_advice", "tracker": "me"}, {}),
    "slots not an object": ({"next_action": "action_more_advice", "tracker": {"slots": ["sector"]}}, {}),
    "bad deflate body": (b"not deflated", {"Content-Encoding": "deflate"}),
}


def action_webhook(advisor: RunningAdvisor) -> str:
    """The action server's webhook with the shared secret the Rasa server sends (endpoints.yml)."""
    return f"http://127.0.0.1:{advisor.action_port}/webhook?token={advisor.env['ACTION_SERVER_TOKEN']}"


@pytest.mark.parametrize("kind", list(MALFORMED_CALLS))
def test_action_server_rejects_malformed_calls_with_a_clear_400(kind: str, advisor: RunningAdvisor) -> None:
    body, headers = MALFORMED_CALLS[kind]
    status, _, reply = post(action_webhook(advisor), body, headers)
    assert status == 400, (status, reply)
    assert reply["error"].startswith("Malformed action call: ")
    assert get(f"http://127.0.0.1:{advisor.action_port}/health")[0] == 200


def test_action_server_keeps_other_client_errors_4xx_and_answers_real_calls(advisor: RunningAdvisor) -> None:
    base, token = f"http://127.0.0.1:{advisor.action_port}", f"?token={advisor.env['ACTION_SERVER_TOKEN']}"
    status, _, reply = post(action_webhook(advisor), {"next_action": "action_no_such_thing", "tracker": {}})
    assert status == 404 and "action_no_such_thing" in reply["error"]
    assert get(base + "/webhook" + token)[0] == 405
    assert get(base + "/no-such-path" + token)[0] == 404
    call = {
        "next_action": "action_knowledge_answer",
        "tracker": {"sender_id": "s", "slots": {}, "events": [], "latest_message": {"intent": {"name": "ask_key_principles"}}},
        "domain": {},
    }
    status, _, reply = post(action_webhook(advisor), call)
    assert status == 200 and KEY_PRINCIPLES in reply["responses"][0]["text"]
