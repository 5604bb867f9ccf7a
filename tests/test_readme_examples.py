"""Every example conversation in README.md is played over REST against the real servers, and the
bot's text and buttons must be exactly what the README shows, so the README cannot drift.

The format (also described in an HTML comment next to the README's example):

- An example conversation is a fenced code block whose info string is ``conversation``
  (three backticks, then ``conversation``). Any other code block showing ``Your input ->``
  fails this test, so an example cannot escape it by a missing tag.
- ``Your input ->`` starts a person's turn; the rest of the line is what they type.
  ``Your input ->  [Health / NHS]`` (the whole input in square brackets) is a click on that
  button of the previous reply: the button's payload is sent, as the web chat and rasa shell
  do, and the test fails if the previous reply had no such button.
- The lines after an input, up to the next input, are the bot's reply: its text, wrapped as you
  like, then for a message with buttons one line starting ``? `` with each button's title in
  square brackets: ``? [More advice on this] [Another challenge]``.
- Text is compared with every run of whitespace (line breaks, blank lines, indentation) taken as
  one space; nothing else is forgiven: no "..." elisions, the whole reply is shown.

Each block is a fresh conversation. On a mismatch the failure shows the bot's actual reply in
this format, ready to paste.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT, RunningAdvisor
from tests.servers import say, sender

README = ROOT / "README.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INPUT = "Your input ->"
BUTTONS = "? "
BUTTON_TITLE = re.compile(r"\[([^\]]+)\]")
CLICK = re.compile(r"^\[([^\]]+)\]$")


@dataclass
class Turn:
    said: str  # typed text, or "[Title]" for a click
    reply: list[str] = field(default_factory=list)  # the README's lines for the bot's reply
    line: int = 0  # in README.md


def normalise(reply_lines: list[str]) -> list[tuple[str, object]]:
    """A reply as ("text", words separated by single spaces) and ("buttons", [titles]) items;
    consecutive text lines (and messages without buttons) merge."""
    items: list[tuple[str, object]] = []
    for line in reply_lines:
        if line.startswith(BUTTONS):
            titles = BUTTON_TITLE.findall(line[len(BUTTONS):])
            if items and items[-1][0] == "buttons":  # a button list wrapped over two lines
                items[-1] = ("buttons", items[-1][1] + titles)
            else:
                items.append(("buttons", titles))
        elif line.strip():
            text = " ".join(line.split())
            if items and items[-1][0] == "text":
                items[-1] = ("text", f"{items[-1][1]} {text}")
            else:
                items.append(("text", text))
    return items


def render(replies: list[dict]) -> list[str]:
    """The bot's messages as README lines (not wrapped)."""
    lines: list[str] = []
    for message in replies:
        if message.get("text"):
            lines += message["text"].splitlines()
        if message.get("buttons"):
            lines.append(BUTTONS + " ".join(f"[{b['title']}]" for b in message["buttons"]))
    return lines


def example_blocks(markdown: str) -> tuple[list[tuple[int, list[Turn]]], list[str]]:
    """(line number, turns) of every ```conversation block, and what is wrong with the format."""
    blocks, problems = [], []
    for match in FENCE.finditer(markdown):
        info, body = match.group(1).strip(), match.group(2)
        start = markdown.count("\n", 0, match.start()) + 1
        if info != "conversation":
            if INPUT in body:
                problems.append(f"README.md line {start}: a conversation example must be a ```conversation block")
            continue
        turns: list[Turn] = []
        for offset, line in enumerate(body.splitlines(), start=start + 1):
            if line.startswith(INPUT):
                turns.append(Turn(line[len(INPUT):].strip(), line=offset))
            elif turns:
                turns[-1].reply.append(line)
            elif line.strip():
                problems.append(f"README.md line {offset}: a conversation block starts with {INPUT!r}")
        if turns:
            blocks.append((start, turns))
        else:
            problems.append(f"README.md line {start}: an empty conversation block")
    return blocks, problems


BLOCKS, PROBLEMS = example_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_examples_are_in_the_format() -> None:
    assert not PROBLEMS, "\n".join(PROBLEMS)
    assert BLOCKS, "README.md has no ```conversation example"


def test_the_format_is_read_as_documented() -> None:
    markdown = (
        "Intro.\n\n```conversation\nYour input ->  hello\nA reply wrapped\n   over lines.\n\nA second paragraph.\n"
        "? [Health / NHS] [Pharmacy]\n\nYour input ->  [Pharmacy]\nDone.\n```\n\n```\nYour input ->  untagged\n```\n"
    )
    [(line, [first, second])], problems = example_blocks(markdown)
    assert line == 3 and (first.said, first.line, second.said) == ("hello", 4, "[Pharmacy]")
    assert normalise(first.reply) == [("text", "A reply wrapped over lines. A second paragraph."), ("buttons", ["Health / NHS", "Pharmacy"])]
    assert normalise(first.reply) == normalise(render([{"text": "A reply wrapped over lines.\n\nA second paragraph.",
                                                        "buttons": [{"title": "Health / NHS"}, {"title": "Pharmacy"}]}]))
    assert normalise(["A reply ... paragraph."]) != normalise(["A reply wrapped over lines. A second paragraph."])
    # A reply of two messages, each with its own buttons (an idea, then a question under it), in order.
    two = render([{"text": "An idea.", "buttons": [{"title": "Another idea"}]}, {"text": "Which sector?", "buttons": [{"title": "Pharmacy"}]}])
    assert normalise(two) == [("text", "An idea."), ("buttons", ["Another idea"]), ("text", "Which sector?"), ("buttons", ["Pharmacy"])]
    assert problems == ["README.md line 15: a conversation example must be a ```conversation block"]


@pytest.mark.parametrize("turns", [turns for _, turns in BLOCKS], ids=[f"README.md-line-{line}" for line, _ in BLOCKS])
def test_readme_example_is_what_the_bot_says(advisor: RunningAdvisor, turns: list[Turn]) -> None:
    me = sender("readme")
    offered: dict[str, str] = {}  # button title -> payload, from the previous reply
    for turn in turns:
        click = CLICK.match(turn.said)
        if click:
            title = click.group(1)
            assert title in offered, f"README.md line {turn.line}: no button {title!r} in the previous reply (offered: {list(offered)})"
            message = offered[title]
        else:
            message = turn.said
        replies = say(advisor.base_url, message, me)
        actual = render(replies)
        if normalise(turn.reply) != normalise(actual):
            elided = " (no \"...\" elisions: the README shows the whole reply)" if "..." in "\n".join(turn.reply) else ""
            pytest.fail(
                f"README.md line {turn.line}: the bot's reply to {turn.said!r} differs from the README's{elided}; it is:\n"
                + "\n".join(actual),
                pytrace=False,
            )
        offered = {b["title"]: b["payload"] for m in replies for b in m.get("buttons") or []}
