"""`rasa shell` as a person uses it in a terminal: through a pseudo-terminal (pexpect), with the
running action server. Buttons are an arrow-key menu there: typing "2" does not pick item 2.
And `make shell` itself: where its servers listen, what it prints, and what closing its
terminal leaves behind."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sys
import time
from pathlib import Path

import pexpect

from server import launch
from tests.conftest import ROOT, RunningAdvisor, free_port
from tests.servers import listening_addresses, wait_until

DOWN, ENTER = "\x1b[B", "\r"
PROMPT = "Your input ->"


def test_shell_gives_advice_with_numbered_buttons_and_one_can_be_chosen(advisor: RunningAdvisor, tmp_path: Path) -> None:
    env = {k: v for k, v in advisor.env.items() if not k.startswith("SLACK_")}
    env.update(TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'shell-tracker.db'}", TERM="xterm", COLUMNS="120", LINES="50")
    started = time.monotonic()
    shell = pexpect.spawn(
        str(launch.VENV_BIN / "rasa"),
        ["shell", "--model", str(launch.model_path()), "--endpoints", "endpoints.yml",
         "--credentials", str(launch.render_credentials(env, tmp_path / "credentials.yml")), "--port", str(free_port())],
        cwd=str(ROOT), env=env, encoding="utf-8", timeout=180, dimensions=(50, 120),
    )
    shell.logfile_read = sys.stdout  # shown by pytest when the test fails
    try:
        shell.expect_exact(PROMPT)
        print(f"\n[rasa shell ready in {time.monotonic() - started:.0f} s]")

        shell.sendline("one partner only joined for the grant")
        # Asked once which sector, as a numbered arrow-key menu; the last choice skips it.
        shell.expect_exact("which sector do you work in?", timeout=30)
        shell.expect(r"1: Health / NHS")
        shell.expect(r"5: Just tell me \(/skip_context\)")
        shell.send(DOWN * 4)  # to item 5
        shell.send(ENTER)
        shell.expect("“Funding” challenge", timeout=30)
        shell.expect("Try this: ")
        # The advice's buttons, numbered, as an arrow-key menu with the first item selected.
        shell.expect(r"1: How do I do that\? \(/ask_how\)")
        shell.expect(r"3: Another idea \(/ask_more\)")
        shell.expect(r"5: A different problem \(/ask_challenges\)")

        shell.send(DOWN * 4)  # to item 5
        shell.send(ENTER)
        # "Another challenge" lists the common challenges, with a menu of its own.
        shell.expect_exact("Partnerships commonly run into these challenges:", timeout=30)
        shell.expect_exact("Which one sounds most like yours?")
        shell.expect(r"1: Competition between organisations \(/challenge_competition\)")
        shell.expect(r"7: Time \(/challenge_time\)")
        # The menu's last item lets one type instead; "/stop" leaves the shell.
        shell.expect_exact("Type out your own message...")
        shell.send(DOWN * 7)
        shell.send(ENTER)
        shell.expect_exact(PROMPT, timeout=30)
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
    finally:
        shell.close(force=True)


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


def test_make_shell_listens_on_loopback_starts_quietly_and_stops_when_its_terminal_closes(
    advisor: RunningAdvisor, tmp_path: Path
) -> None:
    """`make shell` run by the terminal itself (a terminal profile, `ssh -t host make shell`):
    make is then the terminal's session leader, the only process the kernel tells of the
    hang-up. The install and load steps are taken as done (-o): the advisor fixture loaded the store."""
    rasa_port, action_port = free_port(), free_port()
    # As in a person's terminal: no TF_CPP_MIN_LOG_LEVEL, which this test process may carry
    # (jax, imported by in-process tests before this one, sets it to 1 in os.environ).
    env = {k: v for k, v in advisor.env.items() if not k.startswith("SLACK_") and k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'shell-tracker.db'}", TERM="xterm", COLUMNS="120", LINES="50")
    screen = io.StringIO()
    terminal = pexpect.spawn(
        "make", ["-o", "install", "-o", "load", "shell", f"ARGS=--port {rasa_port} --action-port {action_port}"],
        cwd=str(ROOT), env=env, encoding="utf-8", timeout=240, dimensions=(50, 120),
    )
    terminal.logfile_read = screen
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
        terminal.expect_exact([PROMPT, "Type out your own message..."], timeout=30)  # answers with buttons end in a menu

        tree = process_tree(terminal.pid)  # make, the launcher, the action server, rasa shell
        servers = {pid: command_of(pid) for pid in tree}
        assert sum("server.rasa_server shell" in c or "server.action_server" in c for c in servers.values()) == 2, servers
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
        for pid in reversed(tree or process_tree(terminal.pid)):
            if running(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            terminal.close(force=True)
    assert not problems, "\n".join(problems) + "\n--- screen ---\n" + screen.getvalue()[-3000:]
