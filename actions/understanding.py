"""Reading what Rasa understood: two problems in one message, and what to offer when unsure."""

from __future__ import annotations

from typing import Any

from actions.clauses import challenges_by_clause
from actions.vocabulary import CHALLENGES, TOPIC_BUTTON_TITLES


def ranking(message: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        (r["name"], float(r.get("confidence") or 0.0))
        for r in message.get("intent_ranking") or []
        if r.get("name") != "nlu_fallback"
    ]


def two_challenges(message: dict[str, Any]) -> tuple[str, str] | None:
    """The two challenges a message describes, if it clearly describes two (see actions/clauses.py).
    Only for messages Rasa read as a challenge or could not place."""
    intent = (message.get("intent") or {}).get("name")
    if intent not in CHALLENGES and intent != "nlu_fallback":
        return None
    found = challenges_by_clause(message.get("text") or "")
    if len(found) < 2:
        return None
    if intent in found[:2]:  # lead with the problem Rasa itself recognised
        found.remove(intent)
        found.insert(0, intent)
    return found[0], found[1]


def clarification_options(message: dict[str, Any], count: int = 2, keep_out_of_scope: bool = False) -> list[str]:
    """The most likely topics worth offering as "Did you mean ...?" buttons (with
    `keep_out_of_scope`, "out_of_scope" too where it ranks, so callers can see it)."""
    wanted = set(TOPIC_BUTTON_TITLES) | ({"out_of_scope"} if keep_out_of_scope else set())
    return [name for name, _ in ranking(message) if name in wanted][:count]
