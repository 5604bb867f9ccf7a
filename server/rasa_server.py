"""Rasa's own command line, with the project's seams installed first (server/seams/).

    python -m server.rasa_server run --model ... --endpoints endpoints.yml ...
    python -m server.rasa_server shell --model ...

For `run`, the HTTP API is on only when RASA_API_TOKEN or RASA_JWT_SECRET is set, and then only
with it: they are read here and handed to Rasa in-process, never on a process command line.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from actions import settings
from server.seams import install_all


def api_arguments(env: Mapping[str, str] | None = None) -> list[str]:
    """`rasa run` flags for the HTTP API: none (API off) unless a token or JWT secret is set."""
    token, jwt_secret, jwt_method = settings.rasa_api_auth(env)
    if not (token or jwt_secret):
        return []
    # "--flag=value": a secret may start with "-", which argparse would take for an option.
    arguments = ["--enable-api"]
    if token:
        arguments.append(f"--auth-token={token}")
    if jwt_secret:
        arguments += [f"--jwt-secret={jwt_secret}", f"--jwt-method={jwt_method}"]
    return arguments


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--enable-api" in argv:
        sys.exit("Set RASA_API_TOKEN or RASA_JWT_SECRET instead of passing --enable-api: the API never runs without auth.")
    if argv[:1] == ["run"] and argv[1:2] != ["actions"]:
        argv += api_arguments()
    install_all()
    import rasa.__main__

    sys.argv = ["rasa", *argv]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
