"""Privacy: "delete my data" deletes the conversation, logs carry no message text or sender id,
replies can state the retention period, and slots keep only the values the domain lists.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
import warnings
from typing import Any

from actions import settings
from actions.replies import CONVERSATION_DELETED, DELETE_ACTION, PRIVACY_SIGNAL
from actions.store import tracker_events
from actions.store.db import erase_deleted_from_files
from server.seams import wrap_once
from server.seams.reliability import MAX_MESSAGE_CHARS
from server.seams.tracker_store import kept_trackers

logger = logging.getLogger(__name__)


def deletion_confirmed(tracker: Any) -> bool:
    """Did this turn end with the delete action confirming it deleted the person's data?"""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    signalled = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(PRIVACY_SIGNAL) == CONVERSATION_DELETED:
            signalled = True
        elif signalled and isinstance(event, ActionExecuted):
            return event.action_name == DELETE_ACTION  # the signal must come from that action
    return False


def tracker_store_layers(store: Any) -> list[Any]:
    """The store and the stores it wraps (Rasa wraps the configured one in FailSafeTrackerStore,
    with an in-memory fallback, and sometimes in AwaitableTrackerStore)."""
    layers = []
    while store is not None and store not in layers:
        layers.append(store)
        fallback = getattr(store, "_fallback_tracker_store", None)
        if fallback is not None:
            layers.append(fallback)
        store = getattr(store, "_tracker_store", None)
    return layers


def delete_conversation(store: Any, sender_id: str) -> int | None:
    """Delete every stored event of one conversation (all its sessions); the number of events
    deleted from a SQL store, or None if a layer's kind of store cannot be handled."""
    from rasa.core.tracker_store import (
        AwaitableTrackerStore,
        FailSafeTrackerStore,
        InMemoryTrackerStore,
        RedisTrackerStore,
        SQLTrackerStore,
    )

    layers = tracker_store_layers(store)
    unsupported = [
        type(layer).__name__
        for layer in layers
        if not isinstance(
            layer, (AwaitableTrackerStore, FailSafeTrackerStore, InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore)
        )
    ]
    if unsupported:
        logger.error("Cannot delete a conversation from a %s tracker store; it was saved as usual.", ", ".join(unsupported))
        return None
    deleted = 0
    for layer in layers:
        if isinstance(layer, SQLTrackerStore):
            kept_trackers(layer).pop(sender_id, None)
            with layer.session_scope() as session:  # one transaction
                deleted += tracker_events.delete_conversation(session, layer.SQLEvent.__table__, sender_id)
                session.commit()
            erase_deleted_from_files(layer.engine)  # SQLite: not left readable in the -wal file
        elif isinstance(layer, InMemoryTrackerStore):
            layer.store.pop(sender_id, None)
        elif isinstance(layer, RedisTrackerStore):
            layer.red.delete(layer.key_prefix + sender_id)
    return deleted


def install_conversation_deletion() -> None:
    """Delete the conversation instead of saving the turn that confirmed "delete my data" (idempotent)."""
    from rasa.core.processor import MessageProcessor

    def wrap(original: Any) -> Any:
        async def save_tracker(self: MessageProcessor, tracker: Any) -> None:
            if not deletion_confirmed(tracker):
                return await original(self, tracker)
            try:
                deleted = delete_conversation(self.tracker_store, tracker.sender_id)
            except Exception:  # noqa: BLE001 - the database failed: say so in the log, never silently keep it
                logger.exception("A conversation could not be deleted on request; the retention purge will delete it later.")
                return None
            if deleted is None:
                return await original(self, tracker)
            # No conversation id in the log: the person asked to be forgotten.
            logger.info("Deleted a conversation on request (%d stored events).", deleted)
            return None

        return save_tracker

    wrap_once(MessageProcessor, "save_tracker", wrap)


# The event fields Rasa's own anonymiser treats as holding people's text (rasa/utils/log_utils.py).
TEXT_FIELDS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        # and the fields naming whose conversation it is
        "sender_id",
        "conversation_id",
        "recipient_id",
        "sender",
    }
)


VERBOSE_LEVELS = frozenset({"debug", "notset"})


REDACTED = "[redacted]"


def redact_text_fields(logger_: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: no people's text or conversation ids in events logged at INFO or
    above, and exception traces without the values of local variables."""
    if method_name not in VERBOSE_LEVELS:
        for key in TEXT_FIELDS.intersection(event_dict):
            event_dict[key] = REDACTED
        plain_exception(event_dict)
    return event_dict


def plain_exception(event_dict: dict[str, Any]) -> None:
    """Render the event's exception as Python's own traceback (files, lines, the exception),
    instead of leaving it to Rasa's renderers, which list every frame's local variables: the
    message, the sender id, the whole request."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif not isinstance(exc_info, tuple):
        exc_info = sys.exc_info()
    if exc_info[0] is not None:
        event_dict["exception"] = "".join(traceback.format_exception(*exc_info)).rstrip()


# The sender id and text of the turn being worked on (one context per request or event task),
# for the log scrubber below.
_TURN_VALUES: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("advisor_turn_values", default=())


MIN_SCRUBBED_CHARS = 3  # "2" or "ok" would blank out ordinary log text, and identify no one


def note_turn_values(*values: Any) -> None:
    """Remember this turn's sender ids and text (as logs may spell them) for scrub_line."""
    forms: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            continue
        for variant in {value, value.strip(), value[:MAX_MESSAGE_CHARS], value.strip()[:MAX_MESSAGE_CHARS]}:
            if len(variant) >= MIN_SCRUBBED_CHARS:
                quoted = repr(variant)[1:-1]
                forms |= {variant, json.dumps(variant)[1:-1], quoted, json.dumps(quoted)[1:-1]}
    _TURN_VALUES.set(tuple(sorted(forms, key=len, reverse=True)))  # longest first: no half-replaced text


def scrub_line(line: str) -> str:
    """A log line without the current turn's sender id or text."""
    for value in _TURN_VALUES.get():
        if value in line:
            line = line.replace(value, REDACTED)
    return line


def install_log_scrubbing() -> None:
    """Clear every formatted log line at INFO or above of the current turn's sender id and
    text, whoever logged it (idempotent).

    Key-based redaction misses what Rasa and its libraries put in message strings and
    exceptions: "Circuit breaker tripped ... for sender '<id>'" (a warning), "Could not
    acquire lock for conversation_id '<id>'" (an exception), an exception quoting the input.
    Every handler formats its records through logging.Formatter.format (Rasa's structlog
    lines too, rendered into the record's message), so the line is cleared there."""

    def wrap(original: Any) -> Any:
        def format(self: logging.Formatter, record: logging.LogRecord) -> str:
            line = original(self, record)
            return scrub_line(line) if record.levelno >= logging.INFO else line

        return format

    wrap_once(logging.Formatter, "format", wrap)


def install_log_redaction() -> None:
    """Put redact_text_fields in front of Rasa's structlog processors (idempotent).

    Rasa's configure_structlog puts its module's `_anonymizer` first in the chain; that name
    is looked up when the logging is configured, so it is replaced by one that runs the
    original and then redacts."""
    import rasa.utils.log_utils as log_utils

    def wrap(original: Any) -> Any:
        def anonymizer(logger_: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
            return redact_text_fields(logger_, method_name, original(logger_, method_name, event_dict))

        return anonymizer

    wrap_once(log_utils, "_anonymizer", wrap)


def install_payload_warning_redaction() -> None:
    """No message text in Rasa's warnings about a message that looks like a button payload (idempotent).

    A message starting with "/" is read as a payload ("/intent{...}"); when it is not a valid
    one, Rasa warns with the whole message ("Failed to parse arguments in line '/...'") and then
    reads it as text. The warnings are caught and one without the text is logged instead."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    def wrap(original: Any) -> Any:
        def unpack_regex_message(message: Any, domain: Any = None, entity_extractor_name: Any = None) -> Any:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                unpacked = original(message, domain, entity_extractor_name)
            if caught:
                logger.warning(
                    'A message starting with "/" is not a payload this bot knows (%d problem(s)); it is read as text.',
                    len(caught),
                )
            return unpacked

        return unpack_regex_message

    wrap_once(YAMLStoryReader, "unpack_regex_message", wrap)


def install_retention_in_responses() -> None:
    """Let responses say {retention_days} (idempotent)."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    def wrap(original: Any) -> Any:
        days = str(settings.retention_days())  # read once: a bad RETENTION_DAYS stops the start-up

        async def generate(self: Any, utter_action: str, tracker: Any, output_channel: str, **kwargs: Any) -> Any:
            kwargs.setdefault("retention_days", days)
            return await original(self, utter_action, tracker, output_channel, **kwargs)

        return generate

    wrap_once(TemplatedNaturalLanguageGenerator, "generate", wrap)


def valid_slot_events(events: list, domain: Any) -> list:
    """Drop SlotSet events that give a categorical slot a value outside its `values` in the domain.

    Entities (and so payloads like /inform{"sector": ...}) fill slots unchecked in Rasa 3.6: a dict
    or any string would otherwise be stored and read back by every later turn, the purge and the
    report. Only the slot's name is logged, never the value."""
    from rasa.shared.core.constants import DEFAULT_CATEGORICAL_SLOT_VALUE
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.slots import CategoricalSlot

    slots = {slot.name: slot for slot in domain.slots}
    kept = []
    for event in events:
        slot = slots.get(event.key) if isinstance(event, SlotSet) else None
        if isinstance(slot, CategoricalSlot) and event.value is not None:
            allowed = [v for v in slot.values if v != DEFAULT_CATEGORICAL_SLOT_VALUE]
            if not (isinstance(event.value, str) and event.value in allowed):
                logger.info("Ignored a value for the slot '%s' that is not one of its values in the domain.", event.key)
                continue
        kept.append(event)
    return kept


def install_slot_validation() -> None:
    """Validate slots filled from entities and payloads where Rasa validates them (idempotent):
    ActionExtractSlots._execute_validation_action, which also calls action_validate_slot_mappings
    when the domain has one; ours runs first, in-process, so a turn costs no extra call."""
    from rasa.core.actions.action import ActionExtractSlots

    def wrap(original: Any) -> Any:
        async def execute_validation_action(
            self: Any, extraction_events: list, output_channel: Any, nlg: Any, tracker: Any, domain: Any
        ) -> list:
            return await original(self, valid_slot_events(extraction_events, domain), output_channel, nlg, tracker, domain)

        return execute_validation_action

    wrap_once(ActionExtractSlots, "_execute_validation_action", wrap)
