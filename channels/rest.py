"""The REST channel: Rasa's, for other services, behind a token and with its input checked.

Stock Rasa 3.6.21 (rasa/core/channels/rest.py) takes anyone's request; uses a missing `sender`
as the conversation "default", shared by every such request; takes the channel name from the
body; and answers a body that is not an object, or a `message` that is not a string, with a
500 or with 200 and nothing (the failure logged with the text). Here:

- every request needs `Authorization: Bearer <REST_TOKEN>` (compared in constant time); the
  channel is opened only when REST_TOKEN is set (server/launch.py leaves it out otherwise);
- the body must be a JSON object with a `sender` (1 to 128 printable characters) and a
  `message` (a string of at most 50,000 characters); `metadata`, if any, an object of at most
  4 KB. Anything else gets a 400 (or 413 when too large) that says what is wrong, and nothing
  reaches Rasa; the body's `input_channel` is ignored;
- conversations are REST's own: the Rasa server stores them as "rest:<sender>"
  (channels/inputs.py), so a web chat session id or a Slack user id sent as `sender` starts a
  new REST conversation instead of reading theirs.

Same URL and reply format as Rasa's (POST /webhooks/rest/webhook, `?stream=true` too).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import settings
from channels.inputs import Problem, message_problem

logger = logging.getLogger(__name__)

MIN_TOKEN_CHARS = 16


def rest_token() -> str:
    """REST_TOKEN, checked: the channel never runs open."""
    token = settings.rest_token()
    if len(token) < MIN_TOKEN_CHARS:
        raise InvalidConfigException(
            f"The REST channel needs REST_TOKEN, a random string of at least {MIN_TOKEN_CHARS} characters "
            "(clients send it as 'Authorization: Bearer <token>'). Leave the channel out of the "
            "credentials file to run without REST (server/launch.py does when REST_TOKEN is unset)."
        )
    return token


def authorised(request: Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    # compare_digest on bytes: constant time for any characters the header may hold.
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def parse(body: bytes) -> tuple[dict | None, Problem | None]:
    """The request body as a checked message, or the problem with it."""
    try:
        call: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, Problem(400, "the body must be JSON (UTF-8)")
    if not isinstance(call, dict):
        return None, Problem(400, 'the body must be a JSON object with "sender" and "message"')
    if "sender" not in call:
        return None, Problem(400, "'sender' is required: the id of the conversation")
    if "message" not in call:
        return None, Problem(400, "'message' is required")
    problem = message_problem(call["message"], call["sender"], call.get("metadata"))
    return (None, problem) if problem else (call, None)


def refused(problem: Problem) -> HTTPResponse:
    kind = "Too large" if problem.status == 413 else "Bad request"
    return response.json({"error": f"{kind}: {problem.reason}."}, status=problem.status)


class TokenRestInput(RestInput):
    """Rasa's REST channel (same name and URL), needing REST_TOKEN and a well-formed body."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        return cls(rest_token())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("token_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            if not authorised(request, self.token):
                return response.json(
                    {"error": "Unauthorised: send 'Authorization: Bearer <REST_TOKEN>'."},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="rest"'},
                )
            call, problem = parse(request.body or b"")
            if problem or call is None:
                return refused(problem or Problem(400, "the body must be a JSON object"))
            text, sender, metadata = call["message"], call["sender"], call.get("metadata")
            if request.args.get("stream", "").lower() == "true":
                return response.stream(
                    self.stream_response(on_new_message, text, sender, self.name(), metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except asyncio.CancelledError:
                logger.error("A REST message was cancelled before it was answered.")
            except Exception:  # noqa: BLE001 - say so to the client; the trace (no text) goes to the log
                logger.exception("A REST message could not be answered.")
                return response.json({"error": "The message could not be answered; see the server's log."}, status=500)
            return response.json(collector.messages)

        return webhook
