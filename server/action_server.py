"""rasa_sdk's action server, answering only the Rasa server, and rejecting malformed requests
with a clear 400.

    python -m server.action_server --actions actions --port 5055

Stock rasa_sdk 3.6 runs any action for anyone who can reach it: a forged POST to /webhook wrote
a feedback row and ran "delete my data" for a sender id of the caller's choosing. Here every
request except GET /health must carry the shared secret ACTION_SERVER_TOKEN as `?token=`,
which is how Rasa sends an action endpoint's `token` (endpoints.yml; rasa/utils/endpoints.py,
EndpointConfig.combine_parameters); it is compared in constant time, and a request without it
gets 401 before anything is read. The server does not start without the secret (at least 16
characters; server/launch.py generates one into var/ when it is not set).

Stock rasa_sdk 3.6 answers a body that is not JSON, a JSON list or a call without its
tracker with a 500 (its catch-all error handler), which reads as "the server is broken"
rather than "your request is wrong". This wraps rasa_sdk's own app factory with a check
of the request's shape, then runs rasa_sdk's command line unchanged. It listens where
SANIC_HOST says (the launcher's default is 127.0.0.1).
"""

from __future__ import annotations

import hmac
import json
import sys
import zlib
from typing import Any

from actions import settings

MIN_TOKEN_CHARS = 16
OPEN_PATHS = frozenset({"/health"})  # for load balancers and the launcher's readiness check


def action_server_token() -> str:
    token = settings.action_server_token()
    if len(token) < MIN_TOKEN_CHARS:
        sys.exit(
            f"ACTION_SERVER_TOKEN must be set to a random string of at least {MIN_TOKEN_CHARS} characters, the same "
            "for the Rasa server (endpoints.yml sends it): server/launch.py generates one into var/ when it is not set."
        )
    return token


def from_rasa(given: str | None, token: str) -> bool:
    """Does a request's ?token= match the shared secret (in constant time)?"""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


# Keys of Rasa's action call that rasa_sdk reads, with the JSON type each must have.
TRACKER_FIELDS = {"sender_id": str, "slots": dict, "latest_message": dict, "events": list}


def malformed(body: bytes, content_encoding: str | None) -> str | None:
    """Why a POST /webhook body is not an action call Rasa could have sent, or None if it is."""
    try:
        raw = zlib.decompress(body) if content_encoding == "deflate" else body
        call: Any = json.loads(raw)
    except (zlib.error, UnicodeDecodeError, ValueError):
        return "the body is not valid JSON"
    if not isinstance(call, dict):
        return "the body must be a JSON object"
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        return "'next_action' must name an action"
    tracker = call.get("tracker")
    if not isinstance(tracker, dict):
        return "'tracker' must be an object"
    for key, kind in TRACKER_FIELDS.items():
        if tracker.get(key) is not None and not isinstance(tracker[key], kind):
            return f"'tracker.{key}' must be a JSON {kind.__name__.replace('dict', 'object')}"
    if call.get("domain") is not None and not isinstance(call["domain"], dict):
        return "'domain' must be an object"
    return None


def install_request_check(token: str) -> None:
    import rasa_sdk.endpoint
    from sanic import response
    from sanic.exceptions import SanicException

    create_app = rasa_sdk.endpoint.create_app
    if getattr(create_app, "checks_requests", False):
        return

    def checked_create_app(*args: Any, **kwargs: Any):
        app = create_app(*args, **kwargs)

        @app.on_request
        async def reject_malformed(request):
            if request.path not in OPEN_PATHS and not from_rasa(request.args.get("token"), token):
                return response.json({"error": "Unauthorised: only the Rasa server may call this server."}, status=401)
            if request.method == "POST" and request.path == "/webhook":
                problem = malformed(request.body, request.headers.get("Content-Encoding"))
                if problem:
                    return response.json({"error": f"Malformed action call: {problem}."}, status=400)
            return None

        # rasa_sdk's catch-all handler turns Sanic's own 4xx (unknown path, wrong method,
        # body too large) into 500s; keep their status.
        @app.exception(SanicException)
        async def client_error(request, exception: SanicException):
            status = getattr(exception, "status_code", 500)
            return response.json({"error": str(exception) or "request rejected"}, status=status)

        return app

    checked_create_app.checks_requests = True  # type: ignore[attr-defined]
    rasa_sdk.endpoint.create_app = checked_create_app


def warm_up() -> None:
    """Build before serving what the first request would otherwise build while a person waits:
    the clause model for two-problem messages (otherwise paid by the first person after each
    start who writes two clauses), and the retriever with its practice classifiers for the content
    loaded (a few seconds, otherwise paid by the first person after each start)."""
    from actions.clauses import clause_model

    clause_model()
    warm_retriever()


def warm_retriever() -> None:
    """The retriever for the loaded content; an empty or unreachable store is left for the first
    request to report, as it would be without this."""
    from sqlalchemy.exc import SQLAlchemyError

    from actions.retrieval import retriever_for
    from actions.store.db import make_engine, make_session_factory
    from actions.store.knowledge import read_digest, read_knowledge

    try:
        engine = make_engine()
        try:
            with make_session_factory(engine)() as session:
                knowledge = read_knowledge(session) if read_digest(session) else None
        finally:
            engine.dispose()
    except SQLAlchemyError:
        return
    if knowledge is not None:
        retriever_for(knowledge).learned.wait()


def main(argv: list[str] | None = None) -> None:
    install_request_check(action_server_token())
    warm_up()
    import rasa_sdk.__main__

    sys.argv = ["rasa_sdk", *(sys.argv[1:] if argv is None else argv)]
    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()
