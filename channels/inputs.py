"""What every channel hands to Rasa: conversation ids of its own, and inputs of bounded size.

Conversation ids are per channel. Rasa keys conversations (tracker store, lock store, the
action server's conversation key) by sender id alone, so without this a web chat session id
sent as the REST `sender` read and deleted that web conversation, and a Slack user id (not a
secret) did the same for Slack. Each channel's ids are therefore stored as
"<namespace>:<the id the channel gave>": "rest:<sender>", "web:<session id>",
"slack:<Slack user id>", "cmdline:<id>" (`rasa shell`). The Rasa server adds the namespace
where channels hand messages to Rasa (server/seams/web.py, install_conversation_namespaces),
from the channel's class, never from the request, so no channel can name another's
conversations; replies still go out under the id the channel knows.

Limits: the same for every channel, checked where the message enters Rasa (and earlier by the
REST channel, to answer 4xx with the reason). Nothing over a limit is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Channel name (InputChannel.name()) -> namespace of its conversation ids; others use their name.
NAMESPACES = {"socketio": "web"}

# Any HTTP request body to the Rasa server (Sanic's default is 100 MB); also nginx's
# client_max_body_size in deploy/nginx/advisor.conf.
MAX_REQUEST_BYTES = 1024 * 1024
# A WebSocket frame of the web chat the server still reads, to answer it politely when it is
# over the limits below; bigger frames are closed by Sanic with code 1009 (message too big).
MAX_WEBSOCKET_FRAME_BYTES = 2 * 1024 * 1024
# The longest message accepted at all; only the first 2,000 characters are read
# (server/seams/reliability.py, MAX_MESSAGE_CHARS), longer ones are refused.
MAX_MESSAGE_INPUT_CHARS = 50_000
# A sender id as a channel gives it (a REST client's, a Slack user id, a session id).
MAX_SENDER_ID_CHARS = 128
# A message's metadata, as JSON. Nothing in this bot reads metadata; Rasa stores it with each message.
MAX_METADATA_BYTES = 4096

TOO_LARGE_REPLY = (
    "Sorry, that message was too large for me to read, so I haven't kept it. "
    "Please send a shorter message (up to 2,000 characters)."
)
UNREADABLE_REPLY = "Sorry, I couldn't read that message, so I haven't kept it. Please type it again as plain text."


def namespace(channel_name: str) -> str:
    return NAMESPACES.get(channel_name, channel_name)


def conversation_id(channel_name: str, sender_id: str) -> str:
    """The id Rasa stores a channel's conversation under."""
    return f"{namespace(channel_name)}:{sender_id}"


def channel_sender_id(channel_name: str, stored_id: str) -> str:
    """The id the channel knows, from the id Rasa stores (unchanged if it is not of this channel)."""
    prefix = namespace(channel_name) + ":"
    return stored_id[len(prefix) :] if stored_id.startswith(prefix) else stored_id


@dataclass(frozen=True)
class Problem:
    status: int  # the HTTP status a request with it gets: 400 malformed, 413 too large
    reason: str  # what is wrong, without the content


def is_text(value: str) -> bool:
    """Valid Unicode text: JSON's "\\ud800" decodes to a lone surrogate, which no encoder accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def valid_text(value: str) -> str:
    """`value` with lone surrogates replaced by U+FFFD (as a browser shows them)."""
    return value if is_text(value) else value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def sender_problem(sender: Any) -> Problem | None:
    if not isinstance(sender, str) or not sender.strip():
        return Problem(400, "'sender' must be a non-empty string: the id of the conversation")
    if len(sender) > MAX_SENDER_ID_CHARS:
        return Problem(400, f"'sender' must be at most {MAX_SENDER_ID_CHARS} characters")
    if not is_text(sender) or not sender.isprintable():
        return Problem(400, "'sender' must be printable text")
    return None


def text_problem(text: Any) -> Problem | None:
    if not isinstance(text, str):
        return Problem(400, "'message' must be a string")
    if len(text) > MAX_MESSAGE_INPUT_CHARS:
        return Problem(413, f"'message' must be at most {MAX_MESSAGE_INPUT_CHARS:,} characters")
    return None


def metadata_problem(metadata: Any) -> Problem | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return Problem(400, "'metadata' must be a JSON object")
    try:
        size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        return Problem(400, "'metadata' must be JSON")
    if size > MAX_METADATA_BYTES:
        return Problem(413, f"'metadata' must be at most {MAX_METADATA_BYTES:,} bytes of JSON")
    return None


def message_problem(text: Any, sender: Any, metadata: Any) -> Problem | None:
    """Why a message must not reach Rasa, or None."""
    return sender_problem(sender) or text_problem(text) or metadata_problem(metadata)
