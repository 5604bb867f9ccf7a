"""What a message tells us about the person (sector, role, partnership stage)."""

from __future__ import annotations

import re
from typing import Any

from actions.vocabulary import DIMENSIONS, SECTOR_OF_ROLE, known_context

# A context word counts as being about the person only when they say so ("I'm a pharmacist",
# "as a council officer", "we're a new partnership"); in "the council won't share" the council
# is a partner.
FIRST_PERSON = re.compile(
    r"\b(i'?m|i am|i work|i lead|i chair|i run|i manage|i'?ve been|i(?:'?ve)? moved|i(?:'?ve)? joined|i now|as an?|we'?re|we are|"
    r"our (?:partnership|group) is|my role)\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = re.compile(r"[.;!?]|\b(but|and the|while|whereas)\b", re.IGNORECASE)

# How long the partnership has been going, when the person says so: "our partnership has been
# going about four years" (established), "we set it up three months ago" (forming).
NUMBER = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|a couple of|several|many)"
RUNNING_FOR = re.compile(
    r"\b(?:partnership|collaborative|network|group|alliance|we|we'?ve)\b[^.;!?]{0,60}?"
    r"\b(?:going|running|existed|been together|been working together|been in place|worked together)\b"
    r"(?:\s+(?:for|about|around|nearly|almost|over|more than|just|now|the last|the past))*\s+"
    rf"(?P<n>{NUMBER})\s+(?P<unit>years?|months?|weeks?)\b",
    re.IGNORECASE,
)


# "we only started meeting in January", "a new VCSE network": a partnership that is forming.
JUST_STARTED = re.compile(
    r"\b(?:only|just|recently)\s+(?:started|set (?:it |this )?up|began|formed|launched|got going)\b|"
    r"\bnew\s+(?:\w+\s+)?(?:partnership|network|alliance|collaborative|forum|consortium)\b"
    r"(?!\s+(?:manager|lead|chair|coordinator|officer|worker|contact|member))",
    re.IGNORECASE,
)


def stage_from_duration(text: str) -> str | None:
    match = RUNNING_FOR.search(text or "")
    if not match:
        return "forming" if JUST_STARTED.search(text or "") else None
    return "established" if match.group("unit").lower().startswith("year") else "forming"


def context_from_message(message: dict[str, Any]) -> dict[str, str]:
    """Context values in a message that describes a problem, where the person speaks of themselves."""
    text = message.get("text") or ""
    found: dict[str, str] = {}
    implied_sector: str | None = None
    for entity in message.get("entities") or []:
        dimension, value = entity.get("entity"), entity.get("value")
        if dimension not in DIMENSIONS or known_context(dimension, value) is None or dimension in found:
            continue
        # Up to the entity's end: the first person may be the entity itself ("I manage ...").
        upto = text[: entity.get("end", entity.get("start", 0))]
        clause = CLAUSE_BREAK.split(upto)[-1] if upto else ""
        if FIRST_PERSON.search(clause or ""):
            found[dimension] = value
            if dimension == "role":
                said = text[entity.get("start", 0) : entity.get("end", 0)].lower().strip()
                implied_sector = SECTOR_OF_ROLE.get(said)
    if implied_sector and "sector" not in found:
        found["sector"] = implied_sector
    stage = stage_from_duration(text)
    if stage and "stage" not in found:
        found["stage"] = stage
    return found
