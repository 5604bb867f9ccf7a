"""`rasa shell` as a person uses it in a terminal: through a pseudo-terminal (pexpect), with the
running action server. Buttons are an arrow-key menu there: typing "2" does not pick item 2."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pexpect

from scripts import launch
from tests.conftest import ROOT, RunningAdvisor, free_port

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
