"""What a practitioner sees, read from the bot's reply: which kind of answer it is and what it is about.

The practitioner set (tests/practitioner/conversations.yml, written apart from the training
data) says what a good answer to each turn is ({kind: how}, {kind: practice, topic: ...});
`matches` checks a real reply against it by what the person would read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.vocabulary import DIMENSIONS

ROOT = Path(__file__).resolve().parent.parent
PRACTITIONER_DIR = ROOT / "tests" / "practitioner"


@lru_cache(maxsize=1)
def titles() -> dict[str, str]:
    """Titles of practice questions, challenges and topics, by id, as the replies show them."""
    knowledge = ROOT / "data" / "knowledge"
    found = {p["id"]: p["title"] for p in yaml.safe_load((knowledge / "practice.yml").read_text())["practice"]}
    for topic in yaml.safe_load((knowledge / "topics.yml").read_text())["topics"]:
        found[f"topic:{topic['id']}"] = topic["title"]
        for passage in topic["passages"]:
            if topic["id"] == "challenges":
                found[passage["id"]] = passage["title"]
    return found


@lru_cache(maxsize=1)
def responses() -> dict[str, str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return {name: variants[0]["text"] for name, variants in domain["responses"].items() if variants and variants[0].get("text")}


# Replies about the bot itself and its own state ("nothing to stop": "pause" with no check running).
SMALLTALK = ("utter_greet", "utter_thank", "utter_goodbye", "utter_bot_challenge", "utter_capabilities", "utter_affirm", "utter_deny", "utter_no_check_to_stop")
CLARIFY_MARKS = ("I'm not sure", "I'm not quite sure", "Did you mean", "Happy to. What would you like help with", "Which is closer to your question", "I still don't understand")


def start(text: str, template: str) -> bool:
    return text.startswith(template.split("{")[0][:40])


def kind_of(text: str) -> set[str]:
    """Every kind the reply can be read as."""
    kinds = set()
    if text.startswith("Sorry, I can't help with that"):
        kinds.add("decline")
    # Privacy facts ("I keep this conversation...") are about the bot itself, like "are you a bot?".
    if any(start(text, responses()[r]) for r in SMALLTALK if r in responses()) or text.startswith(("Before you go", "You're welcome", "I keep this conversation")):
        kinds.add("smalltalk")
    if any(mark in text for mark in CLARIFY_MARKS):
        kinds.add("clarify")
    if "challenge:" in text or "That sounds like the \u201c" in text or "two things are going on" in text or text.startswith("Another idea on"):
        kinds.add("advice")
    if text.startswith("Another idea on"):
        kinds.add("another")
    # The steps, or the steps after a line on what was asked ("There's no set timescale for this...").
    if text.startswith("How to put \u201c") or "\nHow to put \u201c" in text or "here are the steps instead" in text:
        kinds.add("how")
    if text.startswith("An illustrative example"):
        kinds.add("example")
    if text.startswith(("Why \u201c", "Why it matters")):
        kinds.add("why")
    if text.startswith("In short:"):
        kinds.add("simpler")
    if "Partnership Advisor's own practical guidance" in text or text.startswith(("Where to get help with", "My answers come from")) or "\u201d comes from:" in text:
        kinds.add("sources")
    if "I'll tailor my advice for" in text:
        kinds.add("context")
    return kinds


def matches(expect: dict[str, Any], text: str) -> bool:
    """Does the reply `text` meet the expectation written in the practitioner set?"""
    if "any" in expect:
        return any(matches(option, text) for option in expect["any"])
    kind = expect["kind"]
    read = kind_of(text)
    if kind in ("decline", "smalltalk", "clarify", "how", "example", "why", "simpler", "another", "sources"):
        return kind in read and not (kind != "decline" and "decline" in read)
    if kind == "advice":
        wanted = expect.get("challenges") or ([expect["challenge"]] if expect.get("challenge") else [])
        return "advice" in read and all(f"\u201c{titles()[c]}\u201d" in text or f"on {titles()[c].lower()}" in text for c in wanted)
    if kind == "practice":
        wanted = [expect["topic"]] if expect.get("topic") else [k for k in titles() if ":" not in k and not k.startswith("challenge_")]
        return any(text.startswith(titles()[t] + ":") or f"\u201c{titles()[t]}\u201d" in text for t in wanted)
    if kind == "knowledge":
        topic = expect.get("topic") or ""
        if not topic:
            return not read & {"decline", "clarify"}
        if topic == "sources":
            return "sources" in read
        if topic == "challenges" and text.startswith("Partnerships commonly run into these challenges"):
            return True
        return text.startswith(titles()[f"topic:{topic}"]) or titles()[f"topic:{topic}"] in text.split("\n")[0]
    if kind == "context":
        if "context" not in read:
            return False
        return all(DIMENSIONS[d][expect[d]] in text for d in DIMENSIONS if d in expect)
    if kind == "meaning":
        term = str(expect.get("term") or "")
        words = [w for w in re.findall(r"[a-z]+", term.lower()) if len(w) > 2]
        # "what do you mean by outcomes" is answered by the definition of "outcome"
        singular = [w[:-1] for w in words if w.endswith("s") and len(w) > 4]
        return not read & {"decline", "clarify"} and (not words or any(w in text.lower() for w in words + singular))
    if kind == "pick":
        return not read & {"decline", "clarify"} and bool(text.strip())
    if kind == "ask_sector":
        return "which sector" in text
    raise ValueError(f"unknown kind {kind!r}")


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))
