"""Choosing and wording advice: pure functions over the knowledge snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from actions.store.knowledge import AdviceView, Knowledge, PassageView
from actions.vocabulary import DIMENSIONS, TOPIC_BUTTON_TITLES

ITEMS_PER_ANSWER = 1  # one item per answer: a chat reply a phone shows whole; the rest is a tap away
# How much fit to the described problem counts against the person's context (tags score +2 matched,
# -1 for someone else, -0.5 unknown): a cosine similarity of 0.2 is worth 2, a matched tag. (With
# -0.25 unknown, "the secondary school just ghosts us" got the pharmacy-hours idea first on a fit
# of 0.058 against 0.031: an item for someone else needs a clearly better fit to lead.)
FIT_WEIGHT = 10.0


@dataclass(frozen=True)
class RankedAdvice:
    item: AdviceView
    score: float
    matched: tuple[str, ...]  # labels of the person's context the item's tags matched


def rank_advice(
    items: Iterable[AdviceView],
    context: Mapping[str, str | None],
    exclude: Iterable[str] = (),
    fit: Mapping[str, float] | None = None,
) -> list[RankedAdvice]:
    """Best fit first: how well an item matches the problem as described (`fit`, by item id),
    then items tagged for the person's context, then general ones, then items tagged for
    someone else. Items already given (`exclude`) are left out."""
    excluded = set(exclude)
    ranked = []
    for item in items:
        if item.id in excluded:
            continue
        score, matched = FIT_WEIGHT * (fit or {}).get(item.id, 0.0), []
        for dimension, labels in DIMENSIONS.items():
            tagged = item.tags.get(dimension)
            if not tagged:
                continue
            value = context.get(dimension)
            if value is None:
                score -= 0.5  # unknown context: general advice is the safer first answer
            elif value in tagged:
                score += 2
                matched.append(labels[value])
            else:
                score -= 1
        ranked.append(RankedAdvice(item, score, tuple(matched)))
    ranked.sort(key=lambda r: (-r.score, r.item.position))
    return ranked


def cite(passage: PassageView) -> str:
    """How a passage's origin is shown: its attribution, else its source's citation."""
    origin = (passage.attribution or passage.source.citation).strip()
    return origin[1:-1] if origin.startswith("(") and origin.endswith(")") else origin


def quoted(passage: PassageView) -> str:
    """A passage in quotation marks with where it comes from."""
    return f"\u201c{passage.text}\u201d ({cite(passage)})"


def brief_advice(ranked: RankedAdvice) -> str:
    """One advice item on one line: title, why it suits the person, text, its principles."""
    why = f" (suits {' and '.join(ranked.matched)})" if ranked.matched else ""
    names = ", ".join(p.title for p in ranked.item.principles)
    return f"{ranked.item.title}{why}: {ranked.item.text} (Rests on: {names}.)"


def two_challenges_reply(knowledge: Knowledge, answers: list[tuple[str, list[RankedAdvice]]]) -> str:
    """Two challenges described in one message: one idea for each, numbered so "the second one" works."""
    titles = " and ".join(f"\u201c{knowledge.passages[c].title}\u201d" for c, _ in answers)
    lines = [f"It sounds like two things are going on: {titles}. One idea for each:"]
    number = 0
    for challenge_id, chosen in answers:
        for ranked in chosen:
            number += 1
            suits = f" (suits {' and '.join(ranked.matched)})" if ranked.matched else ""
            lines.append(
                f"{number}. {knowledge.passages[challenge_id].title}: \u201c{ranked.item.title}\u201d{suits}. {ranked.item.text}"
            )
    origins = dict.fromkeys(cite(knowledge.passages[c]) for c, _ in answers)
    lines.append("Challenges from: " + "; ".join(origins) + ". Say \u201chow\u201d or \u201cthe second one\u201d for more.")
    return "\n".join(lines)


def action_plan_reply(knowledge: Knowledge, advice_ids: list[str]) -> str:
    """The advice given in this conversation, one line per action under a heading per challenge."""
    by_challenge: dict[str, list] = {}
    for advice_id in dict.fromkeys(advice_ids):
        item = knowledge.advice(advice_id)
        if item is not None:
            by_challenge.setdefault(item.challenge_id, []).append(item)
    lines = ["Your action plan from this conversation:"]
    for challenge_id, items in by_challenge.items():
        lines += ["", f"{knowledge.passages[challenge_id].title}:"]
        lines += [f"\u2610 {item.title} (rests on {', '.join(p.title.lower() for p in item.principles)})" for item in items]
    lines += [
        "",
        "Ask \u201chow\u201d about any of them for the steps. The actions are Partnership Advisor's own guidance, built on the principles named.",
    ]
    return "\n".join(lines)


def topic_reply(knowledge: Knowledge, topic_id: str) -> str:
    """A knowledge answer: the topic's passages verbatim, each with where it comes from."""
    topic = knowledge.topics[topic_id]
    lines = [f"{topic.title}:"]
    for passage in topic.passages:
        if passage.text.strip() == passage.title.strip():
            lines.append(f"\u2022 {passage.title}")  # a named item of a list the topic's intro quotes
        elif passage.id.endswith("_intro"):
            lines.append(passage.text)
        elif passage.attribution:
            lines.append(f"\u2022 {passage.title}: {quoted(passage)}")
        else:
            lines.append(f"\u2022 {passage.title}: {passage.text}")
    origins = dict.fromkeys(p.source.citation for p in topic.passages if p.source.kind != "derived")
    if origins:
        lines.append("")
        lines.append("Source: " + "; ".join(origins) + ".")
    return "\n".join(lines)


def sources_reply(knowledge: Knowledge) -> str:
    """Where the advice comes from: the guidance documents and the works they cite."""
    lines = ["My answers come from two guidance documents on partnership working and the works they cite:"]
    for source in knowledge.sources:
        if source.kind == "derived":
            continue
        lines.append(f"\u2022 {source.citation}" + (f" {source.url}" if source.url else ""))
    lines.append("")
    lines.append(
        "Quotes and principles are given in the documents' own words. The numbered practical advice is written "
        "for Partnership Advisor and names the principle it rests on."
    )
    return "\n".join(lines)


def challenges_reply(knowledge: Knowledge) -> str:
    topic = knowledge.topics["challenges"]
    # One line each, so the list scans on a phone; picking one gives the guidance's own words.
    lines = ["Partnerships commonly run into these challenges:"]
    lines += [f"\u2022 {p.title}: {TOPIC_BUTTON_TITLES.get(p.id, p.title).lower()}" for p in topic.passages]
    lines.append("(" + "; ".join(dict.fromkeys(cite(p) for p in topic.passages)) + ")")
    lines.append("Which one sounds most like yours? Pick one, or describe what is happening.")
    return "\n".join(lines)
