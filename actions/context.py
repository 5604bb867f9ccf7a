"""What a message tells us about the person (sector, role, partnership stage)."""

from __future__ import annotations

import re
from typing import Any

from actions.vocabulary import DIMENSIONS, known_context

# A context word counts as being about the person only when they say so ("I'm a pharmacist",
# "as a council officer", "we're a new partnership"); in "the council won't share" the council
# is a partner.
FIRST_PERSON = re.compile(
    r"\b(i'?m|i am|i work|i lead|i chair|i run|i manage|i'?ve been|as an?|we'?re|we are|our (?:partnership|group) is|my role)\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = re.compile(r"[.;!?]|\b(but|and the|while|whereas)\b", re.IGNORECASE)


def context_from_message(message: dict[str, Any]) -> dict[str, str]:
    """Context values in a message that describes a problem, where the person speaks of themselves."""
    text = message.get("text") or ""
    found: dict[str, str] = {}
    for entity in message.get("entities") or []:
        dimension, value = entity.get("entity"), entity.get("value")
        if dimension not in DIMENSIONS or known_context(dimension, value) is None or dimension in found:
            continue
        # Up to the entity's end: the first person may be the entity itself ("I manage ...").
        upto = text[: entity.get("end", entity.get("start", 0))]
        clause = CLAUSE_BREAK.split(upto)[-1] if upto else ""
        if FIRST_PERSON.search(clause or ""):
            found[dimension] = value
    return found
