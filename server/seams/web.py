"""The Rasa server's HTTP side: each channel's conversations in their own namespace, messages
over the limits refused politely, request bodies capped, security headers on every response
and CORS without credentials; and installed libraries' deprecation notices kept off the screen.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from actions import settings
from channels import inputs
from server.seams import wrap_once
from server.seams.privacy import note_turn_values

logger = logging.getLogger(__name__)


def install_conversation_namespaces() -> None:
    """Each channel's conversations under its own namespace, and messages over the limits
    refused politely, where Rasa hands channels the function for their messages (idempotent).

    Rasa's `register` gives every channel the same handler, which passes the message to the
    agent as it is: the sender id as the channel (or the request) gave it, and for REST the
    channel name from the body. This gives each channel its own handler, which
    - refuses a message whose sender id, text or metadata is over the limits of
      channels/inputs.py (or is not text): a polite reply, a warning without the content, and
      nothing stored;
    - stores it under "<namespace>:<sender id>" with the channel's own name as its input channel;
    - sends the replies to the sender id the channel knows (the web chat's room, say)."""
    from rasa.core.channels import channel as channel_module

    def handler_for(app: Any, input_channel: Any) -> Any:
        name = input_channel.name()

        async def handler(message: Any) -> None:
            problem = inputs.message_problem(message.text, message.sender_id, message.metadata)
            if problem:
                logger.warning("A message on the %s channel was not read: %s.", name, problem.reason)
                reply = inputs.TOO_LARGE_REPLY if problem.status == 413 else inputs.UNREADABLE_REPLY
                await message.output_channel.send_response(message.sender_id, {"text": reply})
                return
            sender_id = message.sender_id
            message.sender_id = inputs.conversation_id(name, sender_id)
            message.input_channel = name
            note_turn_values(sender_id, message.sender_id, message.text)
            output = message.output_channel
            if not getattr(output, "namespaced", False):
                send_response = output.send_response

                async def send_to_channel_id(recipient_id: str, reply: dict) -> None:
                    await send_response(inputs.channel_sender_id(name, recipient_id), reply)

                output.send_response = send_to_channel_id
                output.namespaced = True
            await app.ctx.agent.handle_message(message)

        return handler

    def register(input_channels: list, app: Any, route: str | None) -> None:
        """Rasa's register (rasa/core/channels/channel.py), with a handler per channel."""
        for input_channel in input_channels:
            prefix = channel_module.urljoin(route, input_channel.url_prefix()) if route else None
            app.blueprint(input_channel.blueprint(handler_for(app, input_channel)), url_prefix=prefix)
        app.ctx.input_channels = input_channels

    wrap_once(channel_module, "register", lambda original: register)


def install_request_size_limit() -> None:
    """Every HTTP request body to the Rasa server at most channels.inputs.MAX_REQUEST_BYTES;
    Sanic answers a bigger one with 413, and its error answers are JSON, as the channels' own
    are, rather than an HTML page (idempotent)."""
    import rasa.core.run

    def wrap(original: Any) -> Any:
        def configure_app(*args: Any, **kwargs: Any) -> Any:
            app = original(*args, **kwargs)
            app.config.REQUEST_MAX_SIZE = inputs.MAX_REQUEST_BYTES
            app.config.FALLBACK_ERROR_FORMAT = "json"
            return app

        return configure_app

    wrap_once(rasa.core.run, "configure_app", wrap)


def install_quiet_third_party_warnings() -> None:
    """No deprecation notices of installed libraries on the screen (idempotent; call it first).

    Sanic switches every DeprecationWarning on when it is imported (`filterwarnings("once")`),
    so `make shell` opened with two screens of notices from pkg_resources, SQLAlchemy,
    pyparsing, click, distutils and others: nothing the person can act on (the versions are
    pinned for Rasa 3.6). They are dropped where they would be shown, whatever filters the
    libraries set; deprecations raised in the project's own code still show. TensorFlow's C++
    start-up notices (oneDNN, CUDA, TensorRT) are turned off as Rasa does once it has loaded
    TensorFlow (TF_CPP_MIN_LOG_LEVEL=2), only before the import, where it has an effect."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def wrap(original: Any) -> Any:
        project = str(settings.PROJECT_ROOT) + os.sep

        def showwarning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
            own = filename.startswith(project) and "site-packages" not in filename
            if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)) and not own:
                return
            original(message, category, filename, lineno, file, line)

        return showwarning

    wrap_once(warnings, "showwarning", wrap)


# On every response of the Rasa server (REST, Slack, Socket.IO, the health check, errors); a
# response that sets its own keeps it (the chat pages: their Content-Security-Policy and caching).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def add_security_headers(request: Any, response: Any) -> None:
    """A Sanic response middleware: SECURITY_HEADERS, and never Access-Control-Allow-Credentials."""
    if response is None:
        return
    for name, value in SECURITY_HEADERS.items():
        if name not in response.headers:
            response.headers[name] = value
    response.headers.pop("Access-Control-Allow-Credentials", None)


def install_security_headers() -> None:
    """Security headers on every response, and CORS without credentials (idempotent).

    Rasa's configure_cors (rasa/server.py), which every Rasa app goes through, tells
    Sanic-CORS to allow credentials, so every response said
    `Access-Control-Allow-Credentials: true`; nothing here uses cookies or HTTP auth across
    origins (the web chat's session id travels in its messages), so it is not allowed. The
    same function, otherwise as Rasa's, adds the security headers to the app."""
    import rasa.server
    from sanic_cors import CORS

    def configure_cors(app: Any, cors_origins: Any = "") -> None:
        app.config.CORS_AUTOMATIC_OPTIONS = True
        app.config.CORS_SUPPORTS_CREDENTIALS = False
        app.config.CORS_EXPOSE_HEADERS = "filename"
        CORS(app, resources={r"/*": {"origins": cors_origins or ""}}, automatic_options=True)
        app.register_middleware(add_security_headers, "response")

    wrap_once(rasa.server, "configure_cors", lambda original: configure_cors)
