"""A stand-in for Slack's Web API on loopback: the only fake in the Slack tests, because Slack
itself is outside this machine. It records each chat.postMessage the Rasa server makes and
answers as Slack does ({"ok": true, "ts": ...})."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl

TEST_TOKEN = "xoxb-test"  # short on purpose: not a real token, and not mistaken for one
TEST_SIGNING_SECRET = "test-signing-secret-for-tests-only"


class SlackWebAPIStandIn:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(body or "{}")
                else:
                    args = dict(parse_qsl(body))
                method = self.path.rsplit("/", 1)[-1]
                ts = f"{int(time.time())}.{next(standin._ts):06d}"
                with standin._changed:
                    standin.posts.append({"method": method, "auth": self.headers.get("Authorization"), "ts": ts, **args})
                    standin._changed.notify_all()
                reply = json.dumps({"ok": True, "channel": args.get("channel"), "ts": ts}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def posts_where(self, match: Callable[[dict], bool]) -> list[dict[str, Any]]:
        with self._changed:
            return [post for post in self.posts if match(post)]

    def wait_for(self, match: Callable[[dict], bool], count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        """The first `count` posts that `match`, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [post for post in self.posts if match(post)]
                if len(found) >= count:
                    return found
                if not self._changed.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise AssertionError(f"expected {count} chat.postMessage call(s) within {timeout:.0f} s, got {found}")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
