"""Security: the Rasa HTTP API is off unless a token or JWT secret is set, and then needs
one; both servers listen on loopback by default; no secrets in the repo; .env.example
documents every variable; each channel's conversations are its own (a web chat or Slack
conversation cannot be read or deleted over REST); REST needs its token and answers malformed
or oversized bodies with a 4xx that says why; the action server answers the Rasa server only;
size limits on request bodies, metadata, sender ids and web chat frames. (Socket.IO session ids
and Slack signatures are tested with the web channel work.)"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import jwt
import pytest
import yaml

from server import launch
from server.rasa_server import api_arguments
from server.rasa_server import main as rasa_server_main
from tests.conftest import ROOT, TEST_REST_TOKEN, RunningAdvisor, free_port
from tests.servers import REST_AUTH, Processes, get, listening_addresses, post, rest_id, say, sender, server_env, texts

def test_http_api_is_off_by_default(advisor: RunningAdvisor) -> None:
    base = f"http://127.0.0.1:{advisor.rasa_port}"
    for path in ("/conversations/someone/tracker", "/status", "/domain"):
        assert get(base + path)[0] == 404, path
    assert post(base + "/model/parse", {"text": "hi"})[0] == 404
    assert post(base + "/conversations/someone/messages", {"text": "hi", "sender": "user"})[0] == 404
    assert get(base + "/")[0] == 200  # the health check and the channels stay


def test_api_flags_only_with_a_token_or_jwt_secret() -> None:
    assert api_arguments({}) == [] and api_arguments({"RASA_API_TOKEN": "  "}) == []
    assert api_arguments({"RASA_API_TOKEN": "t0k"}) == ["--enable-api", "--auth-token=t0k"]
    assert api_arguments({"RASA_JWT_SECRET": "s3c"}) == ["--enable-api", "--jwt-secret=s3c", "--jwt-method=HS256"]
    with pytest.raises(SystemExit, match="RASA_API_TOKEN or RASA_JWT_SECRET"):
        rasa_server_main(["run", "--enable-api"])  # an open API cannot be asked for


@dataclass
class ApiServer:
    processes: Processes
    token: str
    jwt_secret: str

    def tracker(self, conversation: str) -> str:
        return f"{self.processes.url('rasa')}/conversations/{conversation}/tracker"

    def bearer(self, username: str, role: str, secret: str | None = None) -> dict[str, str]:
        claims = {"user": {"username": username, "role": role}, "exp": int(time.time()) + 300}
        return {"Authorization": f"Bearer {jwt.encode(claims, secret or self.jwt_secret, algorithm='HS256')}"}


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A Rasa server with the API enabled the only way the project allows: token and JWT secret
    in the environment (no action server needed for these requests)."""
    workdir = tmp_path_factory.mktemp("api")
    # Both start with "-", as about one random secret in 64 does: argparse must not take them for flags.
    token, jwt_secret = "-" + secrets.token_urlsafe(24), "-" + secrets.token_urlsafe(32)
    processes = Processes(workdir)
    env = server_env(f"http://127.0.0.1:{free_port()}/webhook", workdir, RASA_API_TOKEN=token, RASA_JWT_SECRET=jwt_secret)
    try:
        processes.start_rasa("rasa", env)
        processes.wait("rasa")
        say(processes.url("rasa"), "hi", "alice")
        say(processes.url("rasa"), "hi", "bob")
        yield ApiServer(processes, token, jwt_secret)
    finally:
        processes.stop_all()


def test_enabled_api_needs_the_token(api_server: ApiServer) -> None:
    tracker = api_server.tracker(rest_id("alice"))  # REST's "alice" is stored as "rest:alice"
    assert get(tracker)[0] == 401
    assert get(tracker + "?token=not-the-token")[0] == 401
    status, body = get(f"{tracker}?token={api_server.token}")
    assert status == 200 and body["sender_id"] == "rest:alice"
    assert get(f"{api_server.processes.url('rasa')}/status?token={api_server.token}")[0] == 200


def test_enabled_api_accepts_a_jwt_for_its_own_conversation_only(api_server: ApiServer) -> None:
    alice, bob = rest_id("alice"), rest_id("bob")
    assert get(api_server.tracker(alice), api_server.bearer(alice, "user"))[0] == 200
    assert get(api_server.tracker(bob), api_server.bearer(alice, "user"))[0] == 403
    assert get(api_server.tracker(bob), api_server.bearer("ops", "admin"))[0] == 200
    assert get(api_server.tracker(bob), api_server.bearer("ops", "admin", secret="forged-" + api_server.jwt_secret))[0] == 401
    # An unsigned token is refused too; sanic-jwt 1.8 lets PyJWT's InvalidAlgorithmError
    # through, so Rasa answers 500 rather than 401 (upstream; no access either way).
    unsigned = jwt.encode({"user": {"username": "ops", "role": "admin"}}, None, algorithm="none")
    assert get(api_server.tracker(bob), {"Authorization": f"Bearer {unsigned}"})[0] in (401, 403, 500)


def test_api_secrets_never_appear_on_a_command_line(api_server: ApiServer) -> None:
    process = api_server.processes.running["rasa"]
    command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    assert b"server.rasa_server" in command_line
    assert api_server.token.encode() not in command_line and api_server.jwt_secret.encode() not in command_line


def raw_request(advisor: RunningAdvisor, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """Status and headers (names lower-cased) of one request to the Rasa server."""
    connection = http.client.HTTPConnection("127.0.0.1", advisor.rasa_port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def test_every_response_has_security_headers_and_none_allows_credentials(advisor: RunningAdvisor) -> None:
    """Stock Rasa set these on nothing but the chat pages (ours), and said
    Access-Control-Allow-Credentials: true on every response, though nothing here uses
    cookies or HTTP auth across origins."""
    own, other = advisor.base_url, "http://elsewhere.example"
    rest = json.dumps({"sender": f"headers-{secrets.token_hex(4)}", "message": "hi"}).encode()
    requests = {
        "health check": ("GET", "/", None, {}),
        "REST webhook": ("POST", "/webhooks/rest/webhook", rest, {"Content-Type": "application/json", "Origin": other}),
        "REST preflight": ("OPTIONS", "/webhooks/rest/webhook", None, {"Origin": other, "Access-Control-Request-Method": "POST"}),
        "Socket.IO handshake": ("GET", "/socket.io/?EIO=4&transport=polling", None, {"Origin": own}),
        "Socket.IO from another origin": ("GET", "/socket.io/?EIO=4&transport=polling", None, {"Origin": other}),
        "chat page": ("GET", "/chat/", None, {}),
        "chat script": ("GET", "/chat/chat.js", None, {}),
        "unsigned Slack request": ("POST", "/webhooks/slack/webhook", b"{}", {"Content-Type": "application/json"}),
        "unknown path": ("GET", "/no-such-page", None, {"Origin": other}),
    }
    problems = []
    for name, (method, path, body, headers) in requests.items():
        status, got = raw_request(advisor, method, path, body, headers)
        if got.get("x-content-type-options") != "nosniff":
            problems.append(f"{name} ({status}): X-Content-Type-Options {got.get('x-content-type-options')!r}")
        if got.get("referrer-policy") != "no-referrer" or "frame-ancestors 'none'" not in got.get("content-security-policy", ""):
            problems.append(f"{name} ({status}): Referrer-Policy / frame-ancestors missing")
        if "access-control-allow-credentials" in got:
            problems.append(f"{name} ({status}): Access-Control-Allow-Credentials {got['access-control-allow-credentials']!r}")
    assert not problems, problems
    # The pages keep their own, stricter, Content-Security-Policy (scripts from this server only).
    assert "script-src 'self'" in raw_request(advisor, "GET", "/chat/")[1]["content-security-policy"]
    assert raw_request(advisor, "POST", "/webhooks/rest/webhook", rest, {"Content-Type": "application/json"})[1]["cache-control"] == "no-store"


def test_both_servers_listen_on_loopback_only_by_default(advisor: RunningAdvisor) -> None:
    assert launch.defaults()["SANIC_HOST"] == "127.0.0.1"
    assert listening_addresses(advisor.action_port) == {"127.0.0.1"}
    assert listening_addresses(advisor.rasa_port) == {"127.0.0.1"}


# --- the repository ----------------------------------------------------------------------------


def repository_files() -> list[Path]:
    """Files git tracks or would track (untracked files not ignored count too)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


SECRET_PATTERNS = {
    "Slack token": r"xox[abposr]-[0-9A-Za-z-]{10,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "AWS access key": r"AKIA[0-9A-Z]{16}",
    "GitHub token": r"gh[pousr]_[0-9A-Za-z]{30,}",
    # user:password@ in a URL, unless the password is a placeholder (${VAR}, <...>, ***)
    "password in a URL": r"[a-z0-9+]+://[^/\s:@'\"]+:(?![$<*])[^@\s/'\"]{3,}@",
    # a long random-looking value (it has a digit: names of Secrets and variables rarely do)
    "secret assigned a literal": r"(?i)\b[A-Z_]*(?:SECRET|TOKEN|PASSWORD)[A-Z_]*\s*[=:]\s*['\"]?(?=[\w+/-]*\d)[\w+/-]{16,}(?=['\"\s]|$)",
}


def test_no_secrets_in_the_repository() -> None:
    assert not (ROOT / ".env").exists() or ".env" not in [p.name for p in repository_files()], ".env must stay untracked"
    found = []
    for path in repository_files():
        try:
            content = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for kind, pattern in SECRET_PATTERNS.items():
            for match in re.finditer(pattern, content):
                found.append(f"{path.relative_to(ROOT)}: {kind}: {match.group(0)[:40]}")
    assert not found, found


def variables_documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {m.group(1) for line in lines if (m := re.match(r"^#?\s?([A-Z][A-Z0-9_]+)=", line))}


def yaml_variables(name: str) -> set[str]:
    """The ${VAR}s Rasa expands in a YAML file (comments left out)."""
    lines = [line for line in (ROOT / name).read_text().splitlines() if not line.lstrip().startswith("#")]
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", "\n".join(lines)))


def variables_used() -> set[str]:
    """Every variable endpoints.yml, credentials.yml, the launcher and our Python code read."""
    used = set(launch.defaults())
    for name in ("endpoints.yml", "credentials.yml"):
        used |= yaml_variables(name)
    reads = re.compile(r"(?:environ|env)\.get\(\s*\"([A-Z][A-Z0-9_]+)\"|environ\[\"([A-Z][A-Z0-9_]+)\"\]|getenv\(\s*\"([A-Z][A-Z0-9_]+)\"")
    for folder in ("actions", "channels", "server", "tools", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= {name for match in reads.findall(path.read_text()) for name in match if name}
    return used


def test_env_example_documents_every_variable_and_readme_lists_them() -> None:
    documented = variables_documented()
    assert not variables_used() - documented, f"add to .env.example: {sorted(variables_used() - documented)}"
    readme = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    assert not {v for v in documented if f"`{v}`" not in readme}, "every .env.example variable belongs in the README or docs/ (configuration.md)"
    # Secrets are documented empty, never with a value.
    for line in (ROOT / ".env.example").read_text().splitlines():
        if re.match(r"^#?\s?[A-Z_]*(SECRET|TOKEN|PASSWORD)[A-Z_]*=", line):
            assert line.split("=", 1)[1].strip() == "", line


def test_endpoints_read_every_store_setting_from_the_environment() -> None:
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"] == {"url": "${ACTION_SERVER_URL}", "token": "${ACTION_SERVER_TOKEN}"}
    assert endpoints["tracker_store"] == {"type": "SQL", "url": "${TRACKER_STORE_URL}"}
    assert endpoints["lock_store"]["type"] == "${LOCK_STORE_TYPE}" and endpoints["lock_store"]["url"] == "${REDIS_HOST}"
    given = set(launch.defaults()) | set(launch.GENERATED_SECRETS)
    assert yaml_variables("endpoints.yml") <= given, "an unset ${VAR} stops Rasa at start-up"


# --- Conversations are per channel (issue 15, finding 2) -----------------------------------------


def plan_for(advisor: RunningAdvisor, rest_sender: str) -> str:
    """"Give me an action plan" over REST: the advice of the conversation `rest_sender` reaches."""
    return texts(say(advisor.base_url, "/ask_summary", rest_sender))


NO_PLAN = "We haven't gone through any advice yet"


async def answer(chat: Any, message: str) -> str:
    """A web chat message and every part of its answer (the bot's messages until it goes quiet)."""
    await chat.say(message)
    parts = [(await chat.reply())["text"]]
    while True:
        try:
            parts.append((await chat.reply(timeout=1.5))["text"])
        except asyncio.TimeoutError:
            return "\n".join(parts)


async def test_a_web_chat_conversation_cannot_be_read_or_deleted_over_rest(advisor: RunningAdvisor) -> None:
    from tests.channels.test_web import CHALLENGE, ChatClient, web_id

    chat = await ChatClient().connect(advisor)
    try:
        session = (await chat.session()).split(".")[0]  # the first half of the page's signed token
        await answer(chat, "I'm a community pharmacist")
        assert "\u201cFunding\u201d challenge" in await answer(chat, CHALLENGE)
        stored = advisor.user_messages(web_id(session), expect=["I'm a community pharmacist", CHALLENGE])
        assert stored == ["I'm a community pharmacist", CHALLENGE]

        # The session id, or the id it is stored under, sent as REST's `sender`: a new, empty REST conversation.
        for guess in (session, web_id(session)):
            plan = plan_for(advisor, guess)
            assert plan.startswith(NO_PLAN) and "Funding" not in plan and "pharmac" not in plan.lower(), plan
            assert texts(say(advisor.base_url, "delete my data", guess)).endswith("Delete them?")
            assert texts(say(advisor.base_url, "/affirm", guess)).startswith("Done: I've deleted this conversation")
        assert advisor.user_messages(web_id(session)) == stored  # the web conversation is untouched

        # ... and the page's own conversation carries on with its context.
        assert "Funding" in await answer(chat, "/ask_summary")
    finally:
        await chat.close()


def test_a_slack_conversation_cannot_be_read_or_deleted_over_rest(advisor: RunningAdvisor) -> None:
    from tests.channels.test_slack import deliver, message_event, new_ids, slack_id

    user, channel, ts = new_ids()  # a Slack user id: not a secret in a workspace
    said = ["I'm a community pharmacist", "one partner only joined for the grant"]  # advice at once, for a pharmacist
    for n, text in enumerate(said):
        assert deliver(advisor, message_event(text, user, channel, f"{ts[:-1]}{n}"), "application/json")[0] == 200
        advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=n + 1)
    stored = advisor.user_messages(slack_id(user), expect=said)
    assert stored == said

    for guess in (user, slack_id(user)):
        plan = plan_for(advisor, guess)
        assert plan.startswith(NO_PLAN) and "Funding" not in plan, plan
        say(advisor.base_url, "delete my data", guess)
        assert texts(say(advisor.base_url, "/affirm", guess)).startswith("Done: I've deleted this conversation")
    assert advisor.user_messages(slack_id(user)) == stored


def test_every_channel_has_its_own_namespace() -> None:
    from channels.inputs import channel_sender_id, conversation_id

    assert conversation_id("rest", "alice") == "rest:alice"
    assert conversation_id("socketio", "0123abcd") == "web:0123abcd"
    assert conversation_id("slack", "U0TEST") == "slack:U0TEST"
    assert conversation_id("rest", "web:0123abcd") == "rest:web:0123abcd"  # never another channel's
    assert channel_sender_id("socketio", "web:0123abcd") == "0123abcd"


# --- The REST channel: token, sender, well-formed bodies (findings 2, 4, 5) ----------------------


def rest_post(advisor: RunningAdvisor, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, reply = post(advisor.webhook, body, headers)
    return status, reply


def stored_sender_ids(advisor: RunningAdvisor) -> set[str]:
    import sqlite3

    with sqlite3.connect(advisor.tracker_db) as db:
        return {s for (s,) in db.execute("SELECT DISTINCT sender_id FROM events")}


def test_rest_needs_its_token(advisor: RunningAdvisor) -> None:
    me = sender("no-token")
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer not-the-token"}, {"Authorization": f"Basic {TEST_REST_TOKEN}"}):
        status, reply = rest_post(advisor, {"sender": me, "message": "hi"}, headers)
        assert status == 401 and "REST_TOKEN" in reply["error"], (headers, status, reply)
    assert rest_id(me) not in stored_sender_ids(advisor)
    assert rest_post(advisor, {"sender": me, "message": "hi"})[0] == 200  # with the token


def test_rest_channel_is_open_only_with_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from channels.rest import TokenRestInput

    def channels(**env: str) -> dict:
        return yaml.safe_load(launch.render_credentials(env, tmp_path / "credentials.yml").read_text())

    assert launch.REST_CHANNEL not in channels() and launch.REST_CHANNEL not in channels(REST_TOKEN=" ")
    assert launch.REST_CHANNEL in channels(REST_TOKEN="some-token-of-enough-length")
    assert "rest" not in channels(REST_TOKEN="some-token-of-enough-length")  # never Rasa's open one
    monkeypatch.setenv("REST_TOKEN", "short")
    with pytest.raises(Exception, match="REST_TOKEN"):
        TokenRestInput.from_credentials(None)


MALFORMED_REST = {
    "not JSON": (b"message=hi", 400, "the body must be JSON"),
    "not UTF-8": (b'{"sender": "a", "message": "\xff"}', 400, "the body must be JSON"),
    "a list": ([{"sender": "a", "message": "hi"}], 400, "the body must be a JSON object"),
    "no sender": ({"message": "hi"}, 400, "'sender' is required"),
    "empty sender": ({"sender": " ", "message": "hi"}, 400, "'sender' must be a non-empty string"),
    "sender a number": ({"sender": 42, "message": "hi"}, 400, "'sender' must be a non-empty string"),
    "sender with a lone surrogate": ({"sender": "a\ud800", "message": "hi"}, 400, "'sender' must be printable text"),
    "no message": ({"sender": "a"}, 400, "'message' is required"),
    "message a number": ({"sender": "a", "message": 12345}, 400, "'message' must be a string"),
    "message a list": ({"sender": "a", "message": ["hi"]}, 400, "'message' must be a string"),
    "message an object": ({"sender": "a", "message": {"text": "hi"}}, 400, "'message' must be a string"),
    "metadata a list": ({"sender": "a", "message": "hi", "metadata": [1]}, 400, "'metadata' must be a JSON object"),
    # sizes (finding 4)
    "sender id of 100 KB": ({"sender": "s" * 100_000, "message": "hi"}, 400, "'sender' must be at most 128 characters"),
    "sender id of 129 characters": ({"sender": "s" * 129, "message": "hi"}, 400, "'sender' must be at most 128 characters"),
    "metadata of 5 KB": ({"sender": "a", "message": "hi", "metadata": {"x": "m" * 5000}}, 413, "'metadata' must be at most 4,096 bytes"),
    "message of 50,001 characters": ({"sender": "a", "message": "w" * 50_001}, 413, "'message' must be at most 50,000 characters"),
}


@pytest.mark.parametrize("kind", list(MALFORMED_REST))
def test_malformed_or_oversized_rest_bodies_get_a_4xx_naming_the_problem_and_nothing_is_stored(kind: str, advisor: RunningAdvisor) -> None:
    body, status, reason = MALFORMED_REST[kind]
    before = stored_sender_ids(advisor)
    got, reply = rest_post(advisor, body)
    assert got == status and reason in reply["error"], (got, reply)
    assert stored_sender_ids(advisor) == before


def test_limits_accept_what_people_send(advisor: RunningAdvisor) -> None:
    """At the limits: a 128-character sender, 4 KB of metadata, 50,000 characters (read up to 2,000)."""
    me = "s" * 127 + "!"
    status, reply = rest_post(advisor, {"sender": me, "message": "what are the key principles?", "metadata": {"x": "m" * 4000}})
    assert status == 200 and "openness, trust and honesty" in texts(reply) and reply[0]["recipient_id"] == me
    assert rest_post(advisor, {"sender": sender("long"), "message": "w " * 25_000})[0] == 200


def post_oversized(url: str, body: bytes) -> tuple[int, Any]:
    """POST a body the server refuses from its Content-Length: it may answer 413 and close before the
    body is all sent (a broken pipe for urllib, seen in CI), so the answer is read whatever the send did."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest("POST", parts.path)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **REST_AUTH}.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            connection.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end of the body: the 413 is already waiting to be read
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None
    finally:
        connection.close()


def test_a_request_body_over_1_mb_gets_413_and_nothing_is_stored(advisor: RunningAdvisor) -> None:
    before = stored_sender_ids(advisor)
    body = json.dumps({"sender": "big-body", "message": "hi", "padding": "p" * (1024 * 1024)}).encode()
    status, reply = post_oversized(advisor.webhook, body)
    assert status == 413 and "exceeds the size limit" in reply["message"], (status, reply)
    # Every route of the Rasa server, not only REST: the Slack webhook too.
    status, _ = post_oversized(f"{advisor.base_url}/webhooks/slack/webhook", body)
    assert status == 413
    assert stored_sender_ids(advisor) == before


# --- Web chat limits (finding 4) ----------------------------------------------------------------


async def test_oversized_web_chat_metadata_gets_a_polite_reply_and_nothing_is_stored(advisor: RunningAdvisor) -> None:
    from channels.inputs import TOO_LARGE_REPLY
    from tests.channels.test_web import ChatClient, web_id

    chat = await ChatClient().connect(advisor)
    try:
        session = (await chat.session()).split(".")[0]
        await chat.say("what are the key principles?", metadata={"x": "m" * 1_000_000})
        assert (await chat.reply())["text"] == TOO_LARGE_REPLY
        await chat.say("what are the benefits?")  # the connection and the conversation carry on
        assert "Benefits" in (await chat.reply())["text"]
        assert advisor.user_messages(web_id(session), expect=["what are the benefits?"]) == ["what are the benefits?"]
    finally:
        await chat.close()


async def test_a_web_chat_frame_of_1_2_mb_gets_a_polite_reply_and_nothing_is_stored(advisor: RunningAdvisor) -> None:
    """Over the WebSocket transport, as browsers send (python-socketio's client here is limited to
    long-polling, whose requests are capped at 1 MB: 413). Stock settings closed the connection."""
    import websockets

    from channels.inputs import TOO_LARGE_REPLY
    from tests.channels.test_web import web_id

    async def receive_event(ws) -> list:
        while True:
            frame = await asyncio.wait_for(ws.recv(), 20)
            if frame == "2":  # Engine.IO ping
                await ws.send("3")
            elif frame.startswith("42"):
                return json.loads(frame[2:])

    url = f"ws://127.0.0.1:{advisor.rasa_port}/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, max_size=None) as ws:
        await ws.recv()  # Engine.IO open
        await ws.send("40")  # Socket.IO connect
        await ws.recv()
        await ws.send('42["session_request",{"session_id":null}]')
        event, token = await receive_event(ws)
        session = token.split(".")[0]
        await ws.send("42" + json.dumps(["user_uttered", {"message": "what are the key principles? " + "z" * 1_200_000}]))
        assert await receive_event(ws) == ["bot_uttered", {"text": TOO_LARGE_REPLY}]
        await ws.send("42" + json.dumps(["user_uttered", {"message": "what are the benefits?"}]))
        event, reply = await receive_event(ws)
        assert event == "bot_uttered" and "Benefits" in reply["text"]
    assert advisor.user_messages(web_id(session), expect=["what are the benefits?"]) == ["what are the benefits?"]


# --- The action server answers the Rasa server only (finding 3) -----------------------------------


def knowledge_rows(advisor: RunningAdvisor) -> tuple[int, int]:
    from sqlalchemy import func, select

    from actions.store.db import make_engine, make_session_factory
    from actions.store.models import Feedback, HealthCheckResult

    engine = make_engine(advisor.knowledge_url)
    with make_session_factory(engine)() as session:
        counts = tuple(session.scalar(select(func.count()).select_from(m)) for m in (Feedback, HealthCheckResult))
    engine.dispose()
    return counts


def forged_call(action: str, conversation: str) -> dict:
    slots = {"last_advice": ["funding_outcomes"], "current_challenge": "challenge_funding"}
    return {
        "next_action": action,
        "tracker": {"sender_id": conversation, "slots": slots, "events": [],
                    "latest_message": {"intent": {"name": "feedback_helpful"}, "text": "/feedback_helpful"}},
        "domain": {},
    }


def test_forged_action_calls_are_rejected(advisor: RunningAdvisor) -> None:
    webhook = f"http://127.0.0.1:{advisor.action_port}/webhook"
    victim = rest_id(sender("victim"))
    before = knowledge_rows(advisor)
    for action in ("action_record_feedback", "action_delete_my_data"):
        for url, headers in [
            (webhook, {}),
            (webhook + "?token=not-the-token", {}),
            (webhook + "?token=", {}),
            (webhook, {"Authorization": f"Bearer {advisor.env.get('ACTION_SERVER_TOKEN')}"}),  # Rasa sends it as ?token=
        ]:
            status, _, reply = post(url, forged_call(action, victim), headers)
            assert status == 401 and "only the Rasa server" in reply["error"], (action, url, status, reply)
    assert get(f"http://127.0.0.1:{advisor.action_port}/actions")[0] == 401
    assert knowledge_rows(advisor) == before
    assert get(f"http://127.0.0.1:{advisor.action_port}/health")[0] == 200  # probes need no secret
    # The Rasa server's own calls carry it: a turn that runs a custom action is answered.
    assert "openness, trust and honesty" in texts(say(advisor.base_url, "what are the key principles?", sender("real")))


def test_the_action_server_does_not_start_without_its_secret() -> None:
    env = {k: v for k, v in launch.server_env().items() if k != "ACTION_SERVER_TOKEN"}
    for token in ({}, {"ACTION_SERVER_TOKEN": "short"}):
        done = subprocess.run([sys.executable, "-m", "server.action_server", "--port", str(free_port())],
                              cwd=ROOT, env={**env, **token}, capture_output=True, text=True, timeout=120)
        assert done.returncode != 0 and "ACTION_SERVER_TOKEN" in done.stderr, done.stderr[-500:]


def test_the_launcher_generates_and_keeps_the_action_server_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "RUN_DIR", tmp_path)
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    first = launch.server_env()["ACTION_SERVER_TOKEN"]
    assert len(first) == 64 and launch.server_env()["ACTION_SERVER_TOKEN"] == first  # kept across restarts
    assert (tmp_path / "action-server-token").stat().st_mode & 0o077 == 0  # readable by its owner only
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "from-the-environment-0123456789")
    assert launch.server_env()["ACTION_SERVER_TOKEN"] == "from-the-environment-0123456789"


def test_deployments_keep_the_action_server_off_public_interfaces_and_give_it_the_secret() -> None:
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "action-server-values.yaml").read_text())
    env = {e["name"]: e for e in values["extraEnv"]}
    host = env["SANIC_HOST"]
    assert host.get("value") not in ("0.0.0.0", "::", "") and host.get("valueFrom") == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert "secretKeyRef" in env["ACTION_SERVER_TOKEN"]["valueFrom"]
    assert values["service"]["type"] == "ClusterIP" and not values.get("ingress", {}).get("enabled")
    rasa = yaml.safe_load((ROOT / "deploy" / "helm" / "rasa-values.yaml").read_text())
    assert "secretKeyRef" in {e["name"]: e for e in rasa["extraEnv"]}["ACTION_SERVER_TOKEN"]["valueFrom"]
    site = (ROOT / "deploy" / "nginx" / "advisor.conf").read_text()
    public = site.split("listen ${ADVISOR_LISTEN};")[1].split("\nserver {")[0]
    assert "/webhooks/rest/" not in public and "location / {\n        return 404;" in public
