"""Every environment variable the actions, channels and servers read, with embedded defaults.

One place, so a deployment can be configured without reading the code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = PROJECT_ROOT / "data" / "knowledge"
DEFAULT_KNOWLEDGE_DB = PROJECT_ROOT / "var" / "knowledge.db"
DEFAULT_TRACKER_DB = PROJECT_ROOT / "var" / "tracker.db"
DEFAULT_RETENTION_DAYS = 30


def knowledge_db_url() -> str:
    """SQLAlchemy URL of the knowledge store: a SQLite file unless KNOWLEDGE_DB_URL says otherwise."""
    url = os.environ.get("KNOWLEDGE_DB_URL", "").strip()
    if not url:
        DEFAULT_KNOWLEDGE_DB.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_KNOWLEDGE_DB}"
    # Heroku-style URLs name the dialect "postgres", which SQLAlchemy 1.4 rejects.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


def tracker_store_url() -> str:
    """SQLAlchemy URL of Rasa's SQL tracker store (conversations), as endpoints.yml gets it.

    The launcher gives Rasa the same default (server/launch.py); the retention purge reads it here.
    """
    url = os.environ.get("TRACKER_STORE_URL", "").strip()
    if not url:
        return f"sqlite:///{DEFAULT_TRACKER_DB}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


def retention_days() -> int:
    """How many days a conversation is kept after its last message (RETENTION_DAYS, default 30).

    The purge (`make purge`) deletes older conversations and anonymises older feedback and
    health-check rows; the welcome message and the privacy notice state this number.
    """
    raw = os.environ.get("RETENTION_DAYS", "").strip() or str(DEFAULT_RETENTION_DAYS)
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"RETENTION_DAYS must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError(f"RETENTION_DAYS must be at least 1, not {days}")
    return days


def knowledge_refresh_seconds() -> float:
    """How often an action server checks whether the content in the store changed."""
    return float(os.environ.get("KNOWLEDGE_REFRESH_SECONDS", "5"))


def privacy_hash_key() -> bytes:
    """Key for hashing conversation ids before they are stored next to feedback and scores.

    Replicas must share it (set PRIVACY_HASH_KEY); on one machine a random key is made once
    and kept in var/privacy.key.
    """
    key = os.environ.get("PRIVACY_HASH_KEY", "").strip()
    return (key or secret_in_file(PROJECT_ROOT / "var" / "privacy.key", "PRIVACY_HASH_KEY")).encode()


def secret_in_file(path: Path, variable: str) -> str:
    """A random secret made once into `path` (mode 0600), then read from there; for settings
    that replicas must share (`variable` names the setting that replaces the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # exclusive create: processes starting together must end up with one secret
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        import secrets

        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
    for _ in range(100):  # another process may be between creating the file and writing it
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it, or set {variable}")


def pending_records_file() -> Path:
    """Where submissions wait if the database is unreachable, until the next successful write."""
    return Path(os.environ.get("PENDING_RECORDS_FILE", PROJECT_ROOT / "var" / "pending-records.jsonl"))


DEFAULT_RASA_PORT = 5005  # where the launcher (server/launch.py) serves unless told otherwise
ORIGIN_FORM = r"^https?://[^/\s?#@]+$"  # scheme://host[:port], nothing more


def local_origins(port: int = DEFAULT_RASA_PORT) -> list[str]:
    """The addresses the launcher serves the web chat page on, on this machine."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def public_origins() -> list[str]:
    """Where people open the web chat page: PUBLIC_ORIGINS, comma-separated origins such as
    https://advisor.example.org (scheme, host and any port; no path).

    Unset, the local address the launcher serves on (it sets this for its own port; a server
    started otherwise is taken to be on the default port). The web chat's Socket.IO connection
    accepts these origins, and WEBCHAT_ALLOWED_ORIGINS, and no others: the check never
    trusts what a request says about itself (Host, X-Forwarded-Host).
    """
    import re

    origins = []
    for given in os.environ.get("PUBLIC_ORIGINS", "").split(","):
        origin = given.strip().rstrip("/").lower()
        if not origin:
            continue
        if not re.match(ORIGIN_FORM, origin):
            raise ValueError(
                f"PUBLIC_ORIGINS: {given.strip()!r} is not an origin like https://advisor.example.org (scheme://host[:port])"
            )
        # As browsers send it: without the scheme's default port.
        origins.append(re.sub(r"^(http://[^/]+):80$|^(https://[^/]+):443$", lambda m: m.group(1) or m.group(2), origin))
    return origins or local_origins()


# --- The Rasa server (server/) ---------------------------------------------------------------

DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0
DEFAULT_CONCURRENT_TURNS = 4


def action_timeout_seconds() -> float:
    """How long the Rasa server waits for one action call before apologising (ACTION_TIMEOUT_SECONDS;
    Rasa's own is a fixed 300 s)."""
    return float(os.environ.get("ACTION_TIMEOUT_SECONDS") or DEFAULT_ACTION_TIMEOUT_SECONDS)


def concurrent_turns() -> int:
    """Turns one Rasa process works on at once (CONCURRENT_TURNS, at least 1)."""
    turns = int(os.environ.get("CONCURRENT_TURNS") or DEFAULT_CONCURRENT_TURNS)
    if turns < 1:
        raise ValueError(f"CONCURRENT_TURNS must be 1 or more, not {turns}")
    return turns


def rasa_api_auth(env: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    """The Rasa HTTP API's (token, JWT secret, JWT method): RASA_API_TOKEN, RASA_JWT_SECRET and
    RASA_JWT_METHOD (default HS256). With neither a token nor a secret the API stays off."""
    env = os.environ if env is None else env
    return env.get("RASA_API_TOKEN", "").strip(), env.get("RASA_JWT_SECRET", "").strip(), env.get("RASA_JWT_METHOD") or "HS256"


def action_server_token() -> str:
    """ACTION_SERVER_TOKEN: the secret the Rasa server sends with each action call ("" unset)."""
    return os.environ.get("ACTION_SERVER_TOKEN", "").strip()


def rest_token() -> str:
    """REST_TOKEN: the bearer token of the REST channel ("" unset: the channel is not opened)."""
    return os.environ.get("REST_TOKEN", "").strip()


def slack_api_url(default: str) -> str:
    """SLACK_API_URL: where the Slack channel posts (a stand-in's address in tests)."""
    return os.environ.get("SLACK_API_URL") or default


def webchat_allowed_origins() -> list[str]:
    """WEBCHAT_ALLOWED_ORIGINS: origins, comma-separated, allowed besides PUBLIC_ORIGINS."""
    return [o.strip().rstrip("/") for o in os.environ.get("WEBCHAT_ALLOWED_ORIGINS", "").split(",") if o.strip()]


def webchat_session_secret() -> str:
    """WEBCHAT_SESSION_SECRET: the key the web chat's session ids are signed with ("" unset)."""
    return os.environ.get("WEBCHAT_SESSION_SECRET", "")
