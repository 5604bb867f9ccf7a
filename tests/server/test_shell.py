"""`make shell` as a person runs it in a terminal: the literal make target, through a
pseudo-terminal (pexpect), so what is tested is what people get: the launcher, the action
server and the patched Rasa server's shell (not stock `rasa shell`). Buttons are an arrow-key
menu there: typing "2" does not pick item 2.

The install step is taken as done (`-o install`: it would only reinstall the environment);
everything else runs as in `make shell ARGS="--port ... --action-port ..."`, the store loaded
by the target's own `load` step into a private knowledge store, on free ports."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

import pexpect

from actions.replies import UNAVAILABLE_REPLY
from tests.conftest import ROOT, free_port
from tests.servers import listening_addresses, wait_until

DOWN, ENTER = "\x1b[B", "\r"
PROMPT = "Your input ->"
TYPE_OWN = "Type out your own message..."
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
# A log line as Rasa, rasa_sdk and the launcher's servers write them: "2026-11-29 00:10:00 INFO ..."
LOG_LINE = re.compile(r"^\s*\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\S*\s+(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")
ACTION_SERVER_LOG = ROOT / "var" / "action-server.log"  # where the launcher writes the action server's log


def shell_env(tmp_path: Path) -> dict[str, str]:
    """A person's terminal: the launcher's defaults, private stores, no Slack, logs at INFO (the
    default level, said explicitly). No ACTION_SERVER_URL, so --action-port decides it; no
    TF_CPP_MIN_LOG_LEVEL, which this test process may carry (jax, imported by in-process tests
    before this one, sets it to 1 in os.environ)."""
    inherited = ("TF_CPP_MIN_LOG_LEVEL", "ACTION_SERVER_URL", "KNOWLEDGE_DB_URL", "TRACKER_STORE_URL", "LOG_LEVEL", "MAKEFLAGS", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k not in inherited}
    env.update(
        KNOWLEDGE_DB_URL=f"sqlite:///{tmp_path / 'knowledge.db'}",
        TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'shell-tracker.db'}",
        LOG_LEVEL="INFO",
        TERM="xterm",
        COLUMNS="120",
        LINES="50",
    )
    return env


def make_shell(rasa_port: int, action_port: int, env: dict[str, str], screen: io.StringIO) -> pexpect.spawn:
    terminal = pexpect.spawn(
        "make", ["-o", "install", "shell", f"ARGS=--port {rasa_port} --action-port {action_port}"],
        cwd=str(ROOT), env=env, encoding="utf-8", timeout=240, dimensions=(50, 120),
    )
    terminal.logfile_read = screen
    return terminal


def plain(text: str) -> str:
    return ANSI.sub("", text)


def choose(terminal: pexpect.spawn, title: str, timeout: float = 60) -> list[str]:
    """Wait for the button menu (it always ends with TYPE_OWN), then pick `title` with the arrow
    keys as a person does; returns the menu's items."""
    terminal.expect_exact(TYPE_OWN, timeout=timeout)
    items = re.findall(r"\d+: (.+?) \(/[^)]*\)", plain(terminal.before)) + [TYPE_OWN]
    assert title in items, f"{title!r} is not in the menu {items}"
    terminal.send(DOWN * items.index(title))
    terminal.send(ENTER)
    return items


def say(terminal: pexpect.spawn, text: str) -> None:
    """Type a message at the prompt (the prompt, not a menu, must be showing)."""
    terminal.expect_exact(PROMPT, timeout=60)
    terminal.sendline(text)


def process_tree(root: int) -> list[int]:
    """`root` and every process below it, from /proc (parents before children)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, queue = [], [root]
    while queue:
        pid = queue.pop(0)
        tree.append(pid)
        queue += children.get(pid, [])
    return tree


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child nobody has waited for yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def command_of(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    return "?"


def kill_everything(terminal: pexpect.spawn, seen: list[int]) -> None:
    """Every process `make shell` started, found or seen, even when the test failed half-way."""
    for pid in reversed(seen + process_tree(terminal.pid)):
        if pid != os.getpid() and running(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        terminal.close(force=True)


def stored_user_texts(tracker_db: Path) -> list[str]:
    if not tracker_db.exists():
        return []
    with contextlib.closing(sqlite3.connect(tracker_db)) as db:
        return [text for (text,) in db.execute("SELECT json_extract(data, '$.text') FROM events WHERE type_name = 'user'")]


def test_make_shell_advises_offers_buttons_deletes_on_request_keeps_text_out_of_logs_and_apologises_when_actions_are_down(
    tmp_path: Path,
) -> None:
    rasa_port, action_port = free_port(), free_port()
    env = shell_env(tmp_path)
    tracker_db = tmp_path / "shell-tracker.db"
    action_log_start = ACTION_SERVER_LOG.stat().st_size if ACTION_SERVER_LOG.exists() else 0
    screen = io.StringIO()
    started = time.monotonic()
    terminal = make_shell(rasa_port, action_port, env, screen)
    seen: list[int] = []
    challenge = "one partner only joined for the grant"
    try:
        terminal.expect_exact(PROMPT)
        print(f"\n[make shell ready in {time.monotonic() - started:.0f} s]")
        seen = process_tree(terminal.pid)  # make, the launcher, the action server, the Rasa server's shell

        # (a) An advice turn: the first idea at once, its buttons printed as a numbered list (it
        # is not the last message), then the sector, asked once, as an arrow-key menu (a button
        # choice) of the four sectors.
        terminal.sendline(challenge)
        terminal.expect_exact("Buttons:", timeout=60)
        terminal.expect("\u201cFunding\u201d challenge")
        listed = re.findall(r"\d+: (.+?) \(/[^)]*\)", plain(terminal.before))
        assert listed == ["How do I do that?", "An example", "Another idea", "Sources", "A different problem"], listed
        terminal.expect_exact("Try this: ")
        terminal.expect_exact("which sector do you work in?")
        sectors = choose(terminal, "Health / NHS")
        assert sectors == ["Health / NHS", "Council", "Charity or community group", "Pharmacy", TYPE_OWN], sectors
        # The answer: thanks, and the next idea, picked for that sector.
        terminal.expect_exact("Thanks, I'll tailor my advice for the health sector.", timeout=60)
        terminal.expect("Another idea on funding: \u201c.+\u201d \\(suits the health sector\\)")
        # (b) That idea's buttons; "How do I do that?" gives the steps of the idea just given.
        advice_buttons = choose(terminal, "How do I do that?")
        assert [advice_buttons[i] for i in (0, 2, 4)] == ["How do I do that?", "Another idea", "A different problem"], advice_buttons
        terminal.expect("How to put \u201c.+\u201d into practice:", timeout=60)
        choose(terminal, TYPE_OWN)  # back to typing
        assert wait_until(lambda: challenge in stored_user_texts(tracker_db), timeout=10), stored_user_texts(tracker_db)

        # (d) "Delete my data": asked first, then the conversation is gone from the tracker store.
        say(terminal, "delete my data")
        terminal.expect_exact("Delete them?", timeout=60)
        choose(terminal, "Yes, delete my data")
        terminal.expect_exact("Done: I've deleted this conversation", timeout=60)
        assert wait_until(lambda: challenge not in stored_user_texts(tracker_db), timeout=10), stored_user_texts(tracker_db)

        # (c) The action server goes down mid-session: the next turn is answered with the
        # apology, not silence.
        actions = [pid for pid in process_tree(terminal.pid) if "action_server" in command_of(pid)]
        assert len(actions) == 1, {pid: command_of(pid) for pid in process_tree(terminal.pid)}
        os.kill(actions[0], signal.SIGKILL)
        assert wait_until(lambda: not listening_addresses(action_port), timeout=10)
        with contextlib.suppress(pexpect.TIMEOUT):  # the deletion's reply may end with a menu
            choose(terminal, TYPE_OWN, timeout=3)
        say(terminal, "what are the key principles?")
        terminal.expect_exact(UNAVAILABLE_REPLY, timeout=60)

        with contextlib.suppress(pexpect.TIMEOUT):
            choose(terminal, TYPE_OWN, timeout=3)
        say(terminal, "/stop")
        terminal.expect(pexpect.EOF, timeout=60)
    finally:
        kill_everything(terminal, seen)

    # The session's logs (on the screen, and the action server's file) carry no message text.
    typed = (challenge, "delete my data", "what are the key principles")
    shown_logs = [line for line in plain(screen.getvalue()).splitlines() if LOG_LINE.match(line)]
    action_log = ACTION_SERVER_LOG.read_text(errors="replace")[action_log_start:] if ACTION_SERVER_LOG.exists() else ""
    leaked = [line for line in shown_logs + action_log.splitlines() if any(text in line for text in typed)]
    assert not leaked, leaked
    print(f"[{time.monotonic() - started:.0f} s in all; {len(shown_logs)} log lines on screen, "
          f"{len(action_log.splitlines())} in the action server's log]")


def test_make_shell_listens_on_loopback_starts_quietly_and_stops_when_its_terminal_closes(tmp_path: Path) -> None:
    """`make shell` run by the terminal itself (a terminal profile, `ssh -t host make shell`):
    make is then the terminal's session leader, the only process the kernel tells of the
    hang-up."""
    rasa_port, action_port = free_port(), free_port()
    screen = io.StringIO()
    terminal = make_shell(rasa_port, action_port, shell_env(tmp_path), screen)
    problems: list[str] = []
    tree: list[int] = []
    try:
        terminal.expect_exact(PROMPT)
        # Third-party notices (DeprecationWarning and kin, TensorFlow's start-up warnings) are not the person's business.
        noise = [line.strip()[:160] for line in screen.getvalue().splitlines() if re.search(r"\w*Warning\b", line)]
        if noise:
            problems.append(f"{len(noise)} warning line(s) on screen before the first prompt, e.g. {noise[:3]}")
        # Stock `rasa shell` serves REST on 0.0.0.0: anyone on the network could talk to the bot.
        for name, port in (("Rasa server", rasa_port), ("action server", action_port)):
            if listening_addresses(port) != {"127.0.0.1"}:
                problems.append(f"{name} listens on {sorted(listening_addresses(port))}, not loopback only")

        terminal.sendline("what are the key principles?")
        terminal.expect_exact("openness, trust and honesty", timeout=60)
        terminal.expect_exact([PROMPT, TYPE_OWN], timeout=30)  # answers with buttons end in a menu

        tree = process_tree(terminal.pid)  # make, the launcher, the action server, the Rasa server's shell
        servers = {pid: command_of(pid) for pid in tree}
        assert sum("rasa_server shell" in c or "action_server" in c for c in servers.values()) == 2, servers
        terminal.ptyproc.fileobj.close()  # the terminal window closes: no signal from us, only the hang-up

        def all_gone() -> bool:
            return not any(running(pid) for pid in tree) and not listening_addresses(rasa_port) | listening_addresses(action_port)

        if not wait_until(all_gone, timeout=30):
            left = {pid: servers[pid] for pid in tree if running(pid)}
            problems.append(
                f"30 s after the terminal closed, still running: {left}; "
                f"ports held: {sorted(p for p in (rasa_port, action_port) if listening_addresses(p))}"
            )
    finally:
        kill_everything(terminal, tree)
    assert not problems, "\n".join(problems) + "\n--- screen ---\n" + screen.getvalue()[-3000:]
