"""Real processes on loopback for the failure, security and scale-out tests: Rasa servers,
action servers and nginx started by a test module, plus the services they need
(PostgreSQL, Redis, nginx), skipped with a reason when missing (failed in CI)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from channels.inputs import conversation_id
from server import launch
from tests.conftest import POSTGRES_URL, TEST_REST_TOKEN, free_port, service_missing

WEBHOOK = "/webhooks/rest/webhook"
REST_AUTH = {"Authorization": f"Bearer {TEST_REST_TOKEN}"}
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT") or 6379)

# Messages people send that are not questions; each must get a polite reply.
LONG_MESSAGE = ("We have far too many meetings and people have stopped coming. " * 800)[:50_000]
BAD_INPUTS = {
    "empty": "",
    "whitespace": " \t\n  ",
    "50,000 characters": LONG_MESSAGE,
    "binary-looking": "PK\x03\x04\x00\x01\x02\x7f\x9c\xff\xfe\ufffd\x1b[31m\u200b",
    "emoji only": "\U0001F600\U0001F91D\U0001F3E5\u2764\ufe0f",
    "non-English": "Nuestros socios no se ponen de acuerdo sobre la financiación. \u00bfQu\u00e9 hacemos?",
    "SQL-like": "'; DROP TABLE events; -- SELECT * FROM advice_items WHERE 1=1",
    "HTML-like": '<script>alert("x")</script><img src=x onerror=alert(1)>',
}


# --- HTTP ---------------------------------------------------------------------------


def post(url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, dict[str, str], Any]:
    """POST JSON (or raw bytes); returns status, headers and the decoded JSON body (None if not JSON).
    Requests to the REST webhook carry the test servers' REST token unless `headers` say otherwise."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    auth = REST_AUTH if url.endswith(WEBHOOK) or WEBHOOK + "?" in url else {}
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **auth, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, reply_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, reply_headers, raw = error.code, dict(error.headers), error.read()
    try:
        return status, reply_headers, json.loads(raw)
    except ValueError:
        return status, reply_headers, None


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def say(base_url: str, message: str, sender: str, timeout: float = 60) -> list[dict]:
    """One turn over the REST webhook; the bot's messages (an HTTP error fails the test)."""
    status, _, replies = post(base_url + WEBHOOK, {"sender": sender, "message": message}, timeout=timeout)
    assert status == 200, f"{message[:40]!r}: HTTP {status} {replies}"
    return replies


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def advice_titles(reply_text: str) -> list[str]:
    """The advice items of an advice reply: each "Try this: “Title” ..." / "Another idea on x: “Title” ..."
    line, or the numbered items of a two-problem reply ("1. Authority: “Title” ...")."""
    found = []
    for line in reply_text.splitlines():
        if line.startswith(("Try this: ", "Another idea on ")) or (line[:1].isdigit() and line[1:3] == ". " and ": “" in line):
            found.append(line.split("“", 1)[1].split("”", 1)[0])
    return found


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def rest_id(sender_id: str) -> str:
    """The id the tracker store (and the action server) knows a REST conversation by."""
    return conversation_id("rest", sender_id)


def listening_addresses(port: int) -> set[str]:
    """Addresses with a listening TCP socket on `port`, from the kernel's tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # The kernel prints each 32-bit word in host (little-endian) order.
                packed = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
                found.add(str(ipaddress.ip_address(packed)))
    return found


# --- processes ----------------------------------------------------------------------


class Processes:
    """Servers one test module starts; each has a name, a port and a log file in `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start_actions(self, name: str, env: dict[str, str], port: int | None = None) -> int:
        port = port or self.ports.get(name) or free_port()
        self.ports[name] = port
        self.running[name] = launch.start_action_server(port, env, log=self.log(name))
        return port

    def start_rasa(self, name: str, env: dict[str, str], port: int | None = None) -> int:
        port = port or self.ports.get(name) or free_port()
        self.ports[name] = port
        self.running[name] = launch.start_rasa_server(port, launch.train(), env, log=self.log(name))
        return port

    def wait(self, name: str, path: str = "/", timeout: float = 240) -> None:
        try:
            launch.wait_for_http(f"http://127.0.0.1:{self.ports[name]}{path}", self.running[name], timeout=timeout)
        except Exception:
            print(f"--- {name} log ---\n{self.tail(name)}")
            raise

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self, name: str) -> None:
        launch.stop(self.running.pop(name))

    def pause(self, name: str) -> None:
        """A hung server: the kernel still accepts connections, nothing answers."""
        self.running[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.running[name].send_signal(signal.SIGCONT)

    def tail(self, name: str, chars: int = 4000) -> str:
        path = self.log(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            with contextlib.suppress(Exception):
                self.resume(name)
                self.stop(name)


def server_env(action_url: str, workdir: Path, **overrides: str) -> dict[str, str]:
    """The launcher's environment for a test server, with its own SQLite stores unless overridden."""
    stores = {"TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}", "KNOWLEDGE_DB_URL": f"sqlite:///{workdir / 'knowledge.db'}"}
    return launch.server_env(**{**stores, "ACTION_SERVER_URL": action_url, "REST_TOKEN": TEST_REST_TOKEN, **overrides})


# --- services -----------------------------------------------------------------------


@contextlib.contextmanager
def postgres_schema(prefix: str = "ops") -> Iterator[str]:
    """A fresh schema in the PostgreSQL test database (dropped afterwards); yields a URL
    whose connections use it (search_path), usable by SQLAlchemy and Rasa's SQL tracker store."""
    if not POSTGRES_URL:
        service_missing("PostgreSQL not available: set TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, future=True)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as error:  # noqa: BLE001 - any connection failure means the service is missing
        admin.dispose()
        service_missing(f"PostgreSQL at {POSTGRES_URL} unreachable: {error}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def with_port(url: str, port: int) -> str:
    """The same database URL, reached through another local port."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def redis_address() -> tuple[str, int]:
    if not REDIS_HOST:
        service_missing("Redis not available: set TEST_REDIS_HOST (e.g. 127.0.0.1) for the Redis lock store tests")
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3).ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {REDIS_HOST}:{REDIS_PORT} unreachable: {error}")
    return REDIS_HOST, REDIS_PORT


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
    if not found:
        service_missing("nginx not installed (Debian: apt-get install -y nginx); the load-balanced tests need it")
    return found


def wait_until(check, timeout: float, interval: float = 0.2) -> bool:
    """Poll `check()` until it is true or `timeout` seconds pass (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())
