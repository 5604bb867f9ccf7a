"""Security: the Rasa HTTP API is off unless a token or JWT secret is set, and then needs
one; both servers listen on loopback by default; no secrets in the repo; .env.example
documents every variable. (Socket.IO session ids and Slack signatures are tested with the
web channel work.)"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import jwt
import pytest
import yaml

from scripts import launch
from scripts.rasa_server import api_arguments
from scripts.rasa_server import main as rasa_server_main
from tests.conftest import ROOT, RunningAdvisor, free_port
from tests.servers import Processes, get, listening_addresses, post, say, server_env

def test_http_api_is_off_by_default(advisor: RunningAdvisor) -> None:
    base = f"http://127.0.0.1:{advisor.rasa_port}"
    for path in ("/conversations/someone/tracker", "/status", "/domain"):
        assert get(base + path)[0] == 404, path
    assert post(base + "/model/parse", {"text": "hi"})[0] == 404
    assert post(base + "/conversations/someone/messages", {"text": "hi", "sender": "user"})[0] == 404
    assert get(base + "/")[0] == 200  # the health check and the channels stay


def test_api_flags_only_with_a_token_or_jwt_secret() -> None:
    assert api_arguments({}) == [] and api_arguments({"RASA_API_TOKEN": "  "}) == []
    assert api_arguments({"RASA_API_TOKEN": "t0k"}) == ["--enable-api", "--auth-token=t0k"]
    assert api_arguments({"RASA_JWT_SECRET": "s3c"}) == ["--enable-api", "--jwt-secret=s3c", "--jwt-method=HS256"]
    with pytest.raises(SystemExit, match="RASA_API_TOKEN or RASA_JWT_SECRET"):
        rasa_server_main(["run", "--enable-api"])  # an open API cannot be asked for


@dataclass
class ApiServer:
    processes: Processes
    token: str
    jwt_secret: str

    def tracker(self, conversation: str) -> str:
        return f"{self.processes.url('rasa')}/conversations/{conversation}/tracker"

    def bearer(self, username: str, role: str, secret: str | None = None) -> dict[str, str]:
        claims = {"user": {"username": username, "role": role}, "exp": int(time.time()) + 300}
        return {"Authorization": f"Bearer {jwt.encode(claims, secret or self.jwt_secret, algorithm='HS256')}"}


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A Rasa server with the API enabled the only way the project allows: token and JWT secret
    in the environment (no action server needed for these requests)."""
    workdir = tmp_path_factory.mktemp("api")
    # Both start with "-", as about one random secret in 64 does: argparse must not take them for flags.
    token, jwt_secret = "-" + secrets.token_urlsafe(24), "-" + secrets.token_urlsafe(32)
    processes = Processes(workdir)
    env = server_env(f"http://127.0.0.1:{free_port()}/webhook", workdir, RASA_API_TOKEN=token, RASA_JWT_SECRET=jwt_secret)
    try:
        processes.start_rasa("rasa", env)
        processes.wait("rasa")
        say(processes.url("rasa"), "hi", "alice")
        say(processes.url("rasa"), "hi", "bob")
        yield ApiServer(processes, token, jwt_secret)
    finally:
        processes.stop_all()


def test_enabled_api_needs_the_token(api_server: ApiServer) -> None:
    tracker = api_server.tracker("alice")
    assert get(tracker)[0] == 401
    assert get(tracker + "?token=not-the-token")[0] == 401
    status, body = get(f"{tracker}?token={api_server.token}")
    assert status == 200 and body["sender_id"] == "alice"
    assert get(f"{api_server.processes.url('rasa')}/status?token={api_server.token}")[0] == 200


def test_enabled_api_accepts_a_jwt_for_its_own_conversation_only(api_server: ApiServer) -> None:
    assert get(api_server.tracker("alice"), api_server.bearer("alice", "user"))[0] == 200
    assert get(api_server.tracker("bob"), api_server.bearer("alice", "user"))[0] == 403
    assert get(api_server.tracker("bob"), api_server.bearer("ops", "admin"))[0] == 200
    assert get(api_server.tracker("bob"), api_server.bearer("ops", "admin", secret="forged-" + api_server.jwt_secret))[0] == 401
    # An unsigned token is refused too; sanic-jwt 1.8 lets PyJWT's InvalidAlgorithmError
    # through, so Rasa answers 500 rather than 401 (upstream; no access either way).
    unsigned = jwt.encode({"user": {"username": "ops", "role": "admin"}}, None, algorithm="none")
    assert get(api_server.tracker("bob"), {"Authorization": f"Bearer {unsigned}"})[0] in (401, 403, 500)


def test_api_secrets_never_appear_on_a_command_line(api_server: ApiServer) -> None:
    process = api_server.processes.running["rasa"]
    command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    assert b"scripts.rasa_server" in command_line
    assert api_server.token.encode() not in command_line and api_server.jwt_secret.encode() not in command_line


def raw_request(advisor: RunningAdvisor, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """Status and headers (names lower-cased) of one request to the Rasa server."""
    connection = http.client.HTTPConnection("127.0.0.1", advisor.rasa_port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def test_every_response_has_security_headers_and_none_allows_credentials(advisor: RunningAdvisor) -> None:
    """Stock Rasa set these on nothing but the chat pages (ours), and said
    Access-Control-Allow-Credentials: true on every response, though nothing here uses
    cookies or HTTP auth across origins."""
    own, other = advisor.base_url, "http://elsewhere.example"
    rest = json.dumps({"sender": f"headers-{secrets.token_hex(4)}", "message": "hi"}).encode()
    requests = {
        "health check": ("GET", "/", None, {}),
        "REST webhook": ("POST", "/webhooks/rest/webhook", rest, {"Content-Type": "application/json", "Origin": other}),
        "REST preflight": ("OPTIONS", "/webhooks/rest/webhook", None, {"Origin": other, "Access-Control-Request-Method": "POST"}),
        "Socket.IO handshake": ("GET", "/socket.io/?EIO=4&transport=polling", None, {"Origin": own}),
        "Socket.IO from another origin": ("GET", "/socket.io/?EIO=4&transport=polling", None, {"Origin": other}),
        "chat page": ("GET", "/chat/", None, {}),
        "chat script": ("GET", "/chat/chat.js", None, {}),
        "unsigned Slack request": ("POST", "/webhooks/slack/webhook", b"{}", {"Content-Type": "application/json"}),
        "unknown path": ("GET", "/no-such-page", None, {"Origin": other}),
    }
    problems = []
    for name, (method, path, body, headers) in requests.items():
        status, got = raw_request(advisor, method, path, body, headers)
        if got.get("x-content-type-options") != "nosniff":
            problems.append(f"{name} ({status}): X-Content-Type-Options {got.get('x-content-type-options')!r}")
        if got.get("referrer-policy") != "no-referrer" or "frame-ancestors 'none'" not in got.get("content-security-policy", ""):
            problems.append(f"{name} ({status}): Referrer-Policy / frame-ancestors missing")
        if "access-control-allow-credentials" in got:
            problems.append(f"{name} ({status}): Access-Control-Allow-Credentials {got['access-control-allow-credentials']!r}")
    assert not problems, problems
    # The pages keep their own, stricter, Content-Security-Policy (scripts from this server only).
    assert "script-src 'self'" in raw_request(advisor, "GET", "/chat/")[1]["content-security-policy"]
    assert raw_request(advisor, "POST", "/webhooks/rest/webhook", rest, {"Content-Type": "application/json"})[1]["cache-control"] == "no-store"


def test_both_servers_listen_on_loopback_only_by_default(advisor: RunningAdvisor) -> None:
    assert launch.defaults()["SANIC_HOST"] == "127.0.0.1"
    assert listening_addresses(advisor.action_port) == {"127.0.0.1"}
    assert listening_addresses(advisor.rasa_port) == {"127.0.0.1"}


# --- the repository ----------------------------------------------------------------------------


def repository_files() -> list[Path]:
    """Files git tracks or would track (untracked files not ignored count too)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


SECRET_PATTERNS = {
    "Slack token": r"xox[abposr]-[0-9A-Za-z-]{10,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "AWS access key": r"AKIA[0-9A-Z]{16}",
    "GitHub token": r"gh[pousr]_[0-9A-Za-z]{30,}",
    # user:password@ in a URL, unless the password is a placeholder (${VAR}, <...>, ***)
    "password in a URL": r"[a-z0-9+]+://[^/\s:@'\"]+:(?![$<*])[^@\s/'\"]{3,}@",
    # a long random-looking value (it has a digit: names of Secrets and variables rarely do)
    "secret assigned a literal": r"(?i)\b[A-Z_]*(?:SECRET|TOKEN|PASSWORD)[A-Z_]*\s*[=:]\s*['\"]?(?=[\w+/-]*\d)[\w+/-]{16,}(?=['\"\s]|$)",
}


def test_no_secrets_in_the_repository() -> None:
    assert not (ROOT / ".env").exists() or ".env" not in [p.name for p in repository_files()], ".env must stay untracked"
    found = []
    for path in repository_files():
        try:
            content = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for kind, pattern in SECRET_PATTERNS.items():
            for match in re.finditer(pattern, content):
                found.append(f"{path.relative_to(ROOT)}: {kind}: {match.group(0)[:40]}")
    assert not found, found


def variables_documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {m.group(1) for line in lines if (m := re.match(r"^#?\s?([A-Z][A-Z0-9_]+)=", line))}


def yaml_variables(name: str) -> set[str]:
    """The ${VAR}s Rasa expands in a YAML file (comments left out)."""
    lines = [line for line in (ROOT / name).read_text().splitlines() if not line.lstrip().startswith("#")]
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", "\n".join(lines)))


def variables_used() -> set[str]:
    """Every variable endpoints.yml, credentials.yml, the launcher and our Python code read."""
    used = set(launch.defaults())
    for name in ("endpoints.yml", "credentials.yml"):
        used |= yaml_variables(name)
    reads = re.compile(r"(?:environ|env)\.get\(\s*\"([A-Z][A-Z0-9_]+)\"|environ\[\"([A-Z][A-Z0-9_]+)\"\]|getenv\(\s*\"([A-Z][A-Z0-9_]+)\"")
    for folder in ("actions", "scripts", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= {name for match in reads.findall(path.read_text()) for name in match if name}
    return used


def test_env_example_documents_every_variable_and_readme_lists_them() -> None:
    documented = variables_documented()
    assert not variables_used() - documented, f"add to .env.example: {sorted(variables_used() - documented)}"
    readme = (ROOT / "README.md").read_text()
    assert not {v for v in documented if f"`{v}`" not in readme}, "every .env.example variable belongs in the README"
    # Secrets are documented empty, never with a value.
    for line in (ROOT / ".env.example").read_text().splitlines():
        if re.match(r"^#?\s?[A-Z_]*(SECRET|TOKEN|PASSWORD)[A-Z_]*=", line):
            assert line.split("=", 1)[1].strip() == "", line


def test_endpoints_read_every_store_setting_from_the_environment() -> None:
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "${ACTION_SERVER_URL}"
    assert endpoints["tracker_store"] == {"type": "SQL", "url": "${TRACKER_STORE_URL}"}
    assert endpoints["lock_store"]["type"] == "${LOCK_STORE_TYPE}" and endpoints["lock_store"]["url"] == "${REDIS_HOST}"
    assert yaml_variables("endpoints.yml") <= set(launch.defaults()), "an unset ${VAR} stops Rasa at start-up"
