"""The project's changes to Rasa, each installed at one of Rasa's seams (a method or function
replaced by a wrapper) before Rasa runs; server/rasa_server.py installs them all.

They were written and tested against one Rasa release (RASA_VERSION): they reach into Rasa's
internals, so install_all refuses any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RASA_VERSION = "3.6.21"

# The attribute a seam's wrapper carries: the seam that made it, and what it wrapped.
_SEAM = "_advisor_seam"
_ORIGINAL = "_advisor_original"


def wrap_once(owner: Any, name: str, make_wrapper: Callable[[Any], Any]) -> Any:
    """Replace `owner.name` by `make_wrapper(original)` unless this seam (known by make_wrapper's
    qualified name) already did; the function it wraps either way. A static method stays static.

    Looks through other seams' wrappers of the same name (two seams wrap handle_message), so
    installing twice never wraps twice."""
    import inspect

    seam = f"{make_wrapper.__module__}.{make_wrapper.__qualname__}"
    raw = inspect.getattr_static(owner, name)
    static = isinstance(raw, staticmethod)
    current = raw.__func__ if static else raw
    layer = current
    while layer is not None:
        if getattr(layer, _SEAM, None) == seam:
            return getattr(layer, _ORIGINAL)
        layer = getattr(layer, _ORIGINAL, None)
    wrapper = make_wrapper(current)
    setattr(wrapper, _SEAM, seam)
    setattr(wrapper, _ORIGINAL, current)
    setattr(owner, name, staticmethod(wrapper) if static else wrapper)
    return current


# The submodules import wrap_once from here: imported after it is defined.
from server.seams import long_conversations, privacy, reliability, speed, tracker_store, web  # noqa: E402

INSTALLED = (
    web.install_quiet_third_party_warnings,  # first: before Sanic and TensorFlow are imported
    reliability.install_never_silent_guard,
    # Both wrap MessageProcessor.handle_message. Admission, installed second, is the outer one:
    # a turn waits for its place before anything else, and only admitted turns are capped.
    reliability.install_message_length_cap,
    reliability.install_turn_admission,
    reliability.install_atomic_redis_locks,
    speed.install_cached_action_response_validation,
    speed.install_sqlite_write_ahead_log,
    tracker_store.install_fast_sql_tracker_store,
    speed.install_spacy_without_ner,
    speed.install_event_type_cache,
    speed.install_sequential_graph_runner,
    speed.install_single_threaded_blas,
    speed.install_frozen_start_up_heap,
    long_conversations.install_windowed_dialogue_states,
    long_conversations.install_incremental_applied_events,
    long_conversations.install_quick_tracker_copy,
    long_conversations.install_recent_events_to_actions,
    speed.install_kept_alive_endpoint_sessions,
    privacy.install_conversation_deletion,
    web.install_conversation_namespaces,
    web.install_request_size_limit,
    privacy.install_log_redaction,
    privacy.install_log_scrubbing,
    privacy.install_payload_warning_redaction,
    privacy.install_retention_in_responses,
    privacy.install_slot_validation,
    web.install_security_headers,
)


def check_rasa_version(found: str | None = None) -> None:
    """Refuse to run on a Rasa other than RASA_VERSION: the seams replace its internals."""
    if found is None:
        import rasa

        found = rasa.__version__
    if found != RASA_VERSION:
        raise SystemExit(
            f"Rasa {found} is installed, but the server's seams (server/seams/) were written and tested against "
            f"Rasa {RASA_VERSION}. Install the pinned versions: .venv/bin/pip install -r requirements.lock "
            "(or `make install`)."
        )


def install_all() -> None:
    """Check the Rasa version, then install every seam in INSTALLED, in order (idempotent)."""
    check_rasa_version()
    for install in INSTALLED:
        install()
