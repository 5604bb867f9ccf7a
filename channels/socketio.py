"""The web chat channel: Rasa's Socket.IO channel with its two holes closed, and the page served.

Stock Rasa 3.6.21 (rasa/core/channels/socketio.py)
- calls `sio.enter_room(...)` without `await`; since python-socketio 5.10 that is a coroutine, so a
  persistent session never joins its room and bot replies never arrive (RasaHQ/rasa issue 13027);
- uses the `session_id` the client sends as the conversation id, unchecked: whoever learns or
  guesses it reads and writes someone else's conversation; and it turns the origin check off.

Here the server issues every session id, signed with HMAC (WEBCHAT_SESSION_SECRET). A client that
presents an id with a bad signature gets a fresh one. The conversation id of each socket is kept
on the server (`sio.save_session`); what a message says about its session is ignored.
Allowed origins: the configured public origin(s) (PUBLIC_ORIGINS, actions/settings.py; by
default the local address the launcher serves on) and WEBCHAT_ALLOWED_ORIGINS (comma-separated),
never what a request's Host or X-Forwarded-Host says.

The same channel serves the page (web/), its privacy notice and the Socket.IO client
(node_modules/) under /chat/, so the page and its socket share one origin and one port: nothing
else to run or configure. The pages state the retention period, RETENTION_DAYS, filled in as
they are served.

Conversation ids and sizes (channels/inputs.py): the Rasa server stores each conversation as
"web:<session id>", so no other channel can reach it. A frame of up to 2 MB is read; a message
over the limits (text over 50,000 characters, metadata over 4 KB, not text) gets a polite reply
and is not stored; a bigger WebSocket frame is closed with code 1009 (message too big) and a
bigger long-polling request gets 413, instead of the connection dropping with nothing said.

When a person's "delete my data" is done, the confirmation is followed by a
`{"privacy": "conversation_deleted"}` message, on which the page drops its copy of the
conversation and asks for a new session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from actions import settings
from actions.replies import CONVERSATION_DELETED, PRIVACY_SIGNAL
from channels import inputs

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PAGE_URL = "/chat/"
# The only files the page needs, by URL: an explicit list, so no path from a request reaches the disk.
ASSETS = {
    PAGE_URL: (ROOT / "web" / "index.html", "text/html; charset=utf-8"),
    PAGE_URL + "privacy.html": (ROOT / "web" / "privacy.html", "text/html; charset=utf-8"),
    PAGE_URL + "accessibility.html": (ROOT / "web" / "accessibility.html", "text/html; charset=utf-8"),
    PAGE_URL + "contact.html": (ROOT / "web" / "contact.html", "text/html; charset=utf-8"),
    PAGE_URL + "chat.js": (ROOT / "web" / "chat.js", "text/javascript; charset=utf-8"),
    PAGE_URL + "chat.css": (ROOT / "web" / "chat.css", "text/css; charset=utf-8"),
    PAGE_URL + "favicon.svg": (ROOT / "web" / "favicon.svg", "image/svg+xml"),
    PAGE_URL + "socket.io.min.js": (
        ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
}
# Everything comes from this server: no inline script, no third-party request, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def allowed_origins() -> list[str]:
    """The origins whose pages may open the Socket.IO connection: the configured public
    origin(s) (settings.public_origins, PUBLIC_ORIGINS) and any in WEBCHAT_ALLOWED_ORIGINS.

    Never None: python-socketio then takes "the server's own origin" from the request's Host
    and X-Forwarded-Host headers, which the request itself chooses (a page on a rebound DNS
    name, or any client, passed by sending its own origin in both)."""
    return list(dict.fromkeys(settings.public_origins() + settings.webchat_allowed_origins()))


class SessionSigner:
    """Session ids the server issued: `<id>.<hmac of id>`; anything else is refused."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise InvalidConfigException(
                "WEBCHAT_SESSION_SECRET must be set to a random string of at least 16 characters "
                "(server/launch.py generates one into var/ when it is not set)."
            )
        self._key = secret.encode()

    def _signature(self, session_id: str) -> str:
        return hmac.new(self._key, f"webchat-session:{session_id}".encode(), hashlib.sha256).hexdigest()

    def issue(self) -> tuple[str, str]:
        """A new conversation id and the token the client keeps to resume it."""
        session_id = uuid.uuid4().hex
        return session_id, f"{session_id}.{self._signature(session_id)}"

    def verify(self, token: Any) -> str | None:
        """The conversation id inside a token this server signed, else None."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        session_id, signature = token.split(".")
        if hmac.compare_digest(signature, self._signature(session_id)):
            return session_id
        return None


class PageAndSocketBlueprint(SocketBlueprint):
    """Attaches Socket.IO (as Rasa's does) and adds the chat page's routes to the app."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        # Sanic's default (1 MB) closed a 1.2 MB frame before anything could answer it.
        app.config.WEBSOCKET_MAX_SIZE = inputs.MAX_WEBSOCKET_FRAME_BYTES
        for url, (path, content_type) in ASSETS.items():
            name = "webchat_" + (url.rstrip("/").rsplit("/", 1)[-1] or "page").replace(".", "_")
            app.add_route(_file_route(path, content_type), url, methods=["GET"], name=name)
        missing = [str(path.relative_to(ROOT)) for path, _ in ASSETS.values() if not path.exists()]
        if missing:
            logger.error(f"Web chat page incomplete, missing {missing}: run `make install` (npm ci).")


RETENTION_PLACEHOLDER = b"{{retention_days}}"


def _file_route(path: Path, content_type: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    async def serve(_: Request) -> HTTPResponse:
        if not path.exists():
            return response.text(f"{path.name} is missing: run `make install`.", status=404)
        body = path.read_bytes()
        if content_type.startswith("text/html"):
            body = body.replace(RETENTION_PLACEHOLDER, str(settings.retention_days()).encode())
        return response.raw(body, content_type=content_type, headers=SECURITY_HEADERS)

    return serve


class PageSocketIOOutput(SocketIOOutput):
    """Rasa's Socket.IO output, passing the privacy signal of a message on to the page."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        signal = message.get(PRIVACY_SIGNAL)
        await super().send_response(recipient_id, message)
        if signal == CONVERSATION_DELETED:
            await self._send_message(recipient_id, {PRIVACY_SIGNAL: signal})


class SignedSocketIOInput(SocketIOInput):
    """Rasa's socketio channel with server-issued, signed sessions (name and events unchanged)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SignedSocketIOInput:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,  # sessions always persist: that is the point of signing them
            credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "metadata"),
        )

    def get_output_channel(self) -> OutputChannel | None:
        return PageSocketIOOutput(self.sio, self.bot_message_evt) if self.sio is not None else super().get_output_channel()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        signer = SessionSigner(settings.webchat_session_secret())
        # No credentials: the session id travels in the messages, never in a cookie.
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=allowed_origins(),
            cors_credentials=False,
            max_http_buffer_size=inputs.MAX_WEBSOCKET_FRAME_BYTES,  # checked again, per message, by the Rasa server
        )
        self.sio = sio  # Rasa's get_output_channel reads it
        blueprint = PageAndSocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        namespace = self.namespace

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            session_id = signer.verify(token)
            if session_id is None:
                if token:
                    logger.info("Web chat client presented a session id this server did not sign; issuing a new one.")
                session_id, token = signer.issue()
            previous = (await sio.get_session(sid, namespace=namespace)).get("sender_id")
            if previous and previous != session_id:
                await sio.leave_room(sid, previous, namespace=namespace)
            await sio.save_session(sid, {"sender_id": session_id}, namespace=namespace)
            # Every tab of one conversation shares a room named by it; bot replies go to that room.
            await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            sender_id = (await sio.get_session(sid, namespace=namespace)).get("sender_id")
            if not sender_id:
                logger.warning("Web chat message before session_request; ignored.")
                return
            data = data if isinstance(data, dict) else {}
            metadata = data.get(self.metadata_key)
            text = data.get("message", "")
            message = UserMessage(
                text if isinstance(text, str) else None,  # None: refused politely as not text
                PageSocketIOOutput(sio, self.bot_message_evt),
                sender_id,  # from the server-side session, never from the message
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            await on_new_message(message)

        return blueprint
