"""Validate the knowledge content under data/knowledge/ and load it into the store.

    python -m actions.store.loader            # validate, then load into KNOWLEDGE_DB_URL
    python -m actions.store.loader --check    # validate only
    python -m actions.store.loader --export DIR   # write the store back as content files

The content files are sources.yml, topics.yml, advice.yml, practice.yml and glossary.yml.

Loading is one transaction and idempotent: the store ends up holding exactly the
content files, or (on any error) is left as it was.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from actions import settings
from actions.store.db import make_engine, make_session_factory
from actions.store.models import (
    AdviceItem,
    AdviceTag,
    ContentVersion,
    GlossaryTerm,
    Passage,
    PracticeQuestion,
    PracticeSignpost,
    Source,
    Topic,
    advice_principles,
    practice_principles,
)
from actions.vocabulary import CHALLENGES, DIMENSIONS, NATIONS, PRINCIPLE_TOPICS, REQUIRED_TOPICS

CONTENT_FILES = ("sources.yml", "topics.yml", "advice.yml", "practice.yml", "glossary.yml")
MIN_ADVICE_PER_CHALLENGE = 5
SOURCE_KINDS = ("reference", "document", "derived")
# Steps (an advice item's `how`, a practice question's `steps`): how many, and how long each.
MIN_STEPS, MAX_STEPS, MAX_STEP_WORDS = 2, 6, 30
# Word limits that keep a chat reply short enough to read on a phone.
MAX_WORDS = {"example": 70, "why": 50, "answer": 80}
# A practice example is a short story (two to four sentences), not a phrase.
MIN_EXAMPLE_WORDS = 20
MAX_DEFINITION_WORDS = 45
# A practice keyword names the topic in a few words: "terms of reference", "share ... data", "# staff".
MAX_KEYWORD_WORDS = 6
KEYWORD = re.compile(r"(?:[a-z0-9-]+\*?|#|\.\.\.)(?: (?:[a-z0-9-]+\*?|#|\.\.\.))*")
PRACTICE_FIELDS = {
    "id",
    "title",
    "questions",
    "answer",
    "steps",
    "example",
    "signposts",
    "principles",
    "general_guidance",
    "legal",
}


class ContentError(Exception):
    """The content is invalid; the message names each file and entry at fault."""


@dataclass
class Content:
    """Validated content, ready to load."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    advice: list[dict[str, Any]] = field(default_factory=list)
    practice: list[dict[str, Any]] = field(default_factory=list)
    glossary: list[dict[str, Any]] = field(default_factory=list)
    digest: str = ""


def read_content(content_dir: Path = settings.CONTENT_DIR) -> Content:
    """Read and validate the content files; raise ContentError listing every problem."""
    problems: list[str] = []
    raw: dict[str, Any] = {}
    digest = hashlib.sha256()
    for name in CONTENT_FILES:
        path = content_dir / name
        try:
            text = path.read_text(encoding="utf-8")
            raw[name] = yaml.safe_load(text) or {}
            digest.update(text.encode("utf-8"))
        except FileNotFoundError:
            problems.append(f"{path}: file is missing")
        except yaml.YAMLError as error:
            problems.append(f"{path}: not valid YAML ({error})")
    if problems:
        raise ContentError("\n".join(problems))

    check = _Checker(content_dir, problems)
    sources = check.entries("sources.yml", raw["sources.yml"], "sources", {"id", "citation", "kind"}, {"url"})
    source_ids = check.unique_ids("sources.yml", "source", sources)
    for entry in sources:
        where = f"sources.yml: source {entry.get('id')!r}"
        if entry.get("kind") not in SOURCE_KINDS:
            check.fail(where, f"kind must be one of {', '.join(SOURCE_KINDS)}")
        check.text(where, entry, "citation")

    topics = check.entries("topics.yml", raw["topics.yml"], "topics", {"id", "title", "passages"}, set())
    check.unique_ids("topics.yml", "topic", topics)
    passages_by_topic: dict[str, list[dict[str, Any]]] = {}
    all_passages: list[dict[str, Any]] = []
    for topic in topics:
        where = f"topics.yml: topic {topic.get('id')!r}"
        check.text(where, topic, "title")
        passages = check.entries(where, topic, "passages", {"id", "title", "text", "source", "attribution"}, set())
        passages_by_topic[str(topic.get("id"))] = passages
        all_passages.extend(passages)
        for passage in passages:
            pwhere = f"topics.yml: passage {passage.get('id')!r}"
            check.text(pwhere, passage, "title")
            check.text(pwhere, passage, "text")
            if passage.get("source") not in source_ids:
                check.fail(pwhere, f"source {passage.get('source')!r} is not in sources.yml")
            attribution = passage.get("attribution")
            if attribution is not None and not (isinstance(attribution, str) and attribution.strip()):
                check.fail(pwhere, "attribution must be text or null")
    passage_ids = check.unique_ids("topics.yml", "passage", all_passages)
    for required in REQUIRED_TOPICS:
        if required not in passages_by_topic:
            check.fail("topics.yml", f"topic {required!r} is missing")
    challenge_ids = {p.get("id") for p in passages_by_topic.get("challenges", [])}
    for challenge in CHALLENGES:
        if challenge not in challenge_ids:
            check.fail("topics.yml: topic 'challenges'", f"passage {challenge!r} is missing")
        else:
            passage = next(p for p in all_passages if p.get("id") == challenge)
            if passage.get("source") not in source_ids or not passage.get("attribution"):
                check.fail(f"topics.yml: passage {challenge!r}", "a challenge needs its source and attribution")
    principle_ids = {str(p.get("id")) for t in PRINCIPLE_TOPICS for p in passages_by_topic.get(t, [])}

    advice = check.entries(
        "advice.yml",
        raw["advice.yml"],
        "advice",
        {"id", "challenge", "title", "text", "how", "example", "why", "principles"},
        {"tags"},
    )
    advice_ids = check.unique_ids("advice.yml", "advice", advice, taken=passage_ids, taken_by="a passage")
    per_challenge = {c: 0 for c in CHALLENGES}
    for item in advice:
        where = f"advice.yml: advice {item.get('id')!r}"
        check.text(where, item, "title")
        check.text(where, item, "text")
        check.lines(where, item, "how", MIN_STEPS, MAX_STEPS, MAX_STEP_WORDS)
        check.text(where, item, "example", MAX_WORDS["example"])
        check.text(where, item, "why", MAX_WORDS["why"])
        if item.get("challenge") not in challenge_ids:
            check.fail(where, f"challenge {item.get('challenge')!r} is not a passage of the challenges topic")
        else:
            per_challenge[item["challenge"]] = per_challenge.get(item["challenge"], 0) + 1
        check.principles(where, item, principle_ids)
        tags = item.get("tags") or {}
        if not isinstance(tags, dict):
            check.fail(where, "tags must be a mapping of sector/role/stage to lists")
            tags = {}
        for dimension, values in tags.items():
            if dimension not in DIMENSIONS:
                check.fail(where, f"unknown tag dimension {dimension!r} (use {', '.join(DIMENSIONS)})")
                continue
            if not isinstance(values, list):
                check.fail(where, f"tags.{dimension} must be a list")
                continue
            for value in values:
                if value not in DIMENSIONS[dimension]:
                    check.fail(where, f"unknown {dimension} {value!r} (use {', '.join(DIMENSIONS[dimension])})")
    for challenge, count in per_challenge.items():
        if challenge in challenge_ids and count < MIN_ADVICE_PER_CHALLENGE:
            check.fail(
                "advice.yml", f"challenge {challenge!r} has {count} advice items; at least {MIN_ADVICE_PER_CHALLENGE} are needed"
            )

    practice = check.entries("practice.yml", raw["practice.yml"], "practice", PRACTICE_FIELDS, {"keywords"})
    check.unique_ids("practice.yml", "practice", practice, taken=passage_ids | advice_ids, taken_by="an advice item or passage")
    for entry in practice:
        where = f"practice.yml: practice {entry.get('id')!r}"
        check.text(where, entry, "title")
        check.text(where, entry, "answer", MAX_WORDS["answer"])
        check.lines(where, entry, "questions", 1, None, None)
        check.lines(where, entry, "keywords", 1, None, MAX_KEYWORD_WORDS)
        for keyword in entry.get("keywords") or []:
            if isinstance(keyword, str) and not KEYWORD.fullmatch(keyword.strip()):
                check.fail(
                    where,
                    f"keyword {keyword!r} may hold only lower-case words, '*' (any ending), '#' (a number) and '...' (a gap)",
                )
        check.lines(where, entry, "steps", MIN_STEPS, MAX_STEPS, MAX_STEP_WORDS)
        check.text(where, entry, "example", MAX_WORDS["example"], MIN_EXAMPLE_WORDS)
        check.principles(where, entry, principle_ids)
        for flag in ("general_guidance", "legal"):
            if flag in entry and not isinstance(entry[flag], bool):
                check.fail(where, f"{flag} must be true or false")
        signposts = entry.get("signposts", [])
        if not isinstance(signposts, list):
            check.fail(where, "signposts must be a list (empty if there are none)")
            continue
        for number, signpost in enumerate(signposts, 1):
            swhere = f"{where}: signpost {number}"
            if not isinstance(signpost, dict):
                check.fail(swhere, "expected a mapping with text and nations")
                continue
            for unknown in sorted(set(signpost) - {"text", "nations"}):
                check.fail(swhere, f"unknown field {unknown!r}")
            for missing in sorted({"text", "nations"} - set(signpost)):
                check.fail(swhere, f"missing field {missing!r}")
            check.text(swhere, signpost, "text")
            if "nations" not in signpost:
                continue
            check.nations(swhere, signpost["nations"])

    glossary = check.entries(
        "glossary.yml", raw["glossary.yml"], "glossary", {"term", "aliases", "definition", "nations"}, {"related"}
    )
    practice_ids = {entry.get("id") for entry in practice}
    names: dict[str, str] = {}  # every term and alias, lower-cased, to the term it belongs to
    for entry in glossary:
        where = f"glossary.yml: term {entry.get('term')!r}"
        check.text(where, entry, "term")
        check.text(where, entry, "definition", MAX_DEFINITION_WORDS)
        aliases = entry.get("aliases")
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() and "\n" not in a for a in aliases):
            check.fail(where, "aliases must be a list of one-line texts (empty if there are none)")
            aliases = []
        # Names are matched case-insensitively, so each may belong to one term only, once.
        own = [n.strip().lower() for n in [entry.get("term")] + aliases if isinstance(n, str) and n.strip()]
        for name in dict.fromkeys(own):
            if own.count(name) > 1:
                check.fail(where, f"{name!r} is listed twice (names match whatever their case)")
            elif names.setdefault(name, str(entry.get("term"))) != entry.get("term"):
                check.fail(where, f"{name!r} is already a term or alias of {names[name]!r}")
        if "nations" in entry:
            check.nations(where, entry["nations"])
        related = entry.get("related")
        if related is not None and related not in practice_ids | advice_ids:
            check.fail(where, f"related {related!r} is not a practice question or advice item id")

    if problems:
        raise ContentError(f"{len(problems)} problem(s) in {content_dir}:\n" + "\n".join(f"- {p}" for p in problems))
    return Content(sources=sources, topics=topics, advice=advice, practice=practice, glossary=glossary, digest=digest.hexdigest())


class _Checker:
    """Collects problems with the file and entry they belong to."""

    def __init__(self, content_dir: Path, problems: list[str]) -> None:
        self.content_dir = content_dir
        self.problems = problems

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{self.content_dir / where}: {message}")

    def entries(self, where: str, parent: Any, key: str, required: set[str], optional: set[str]) -> list[dict[str, Any]]:
        if not isinstance(parent, dict) or not isinstance(parent.get(key), list):
            self.fail(where, f"expected a list under {key!r}")
            return []
        good = []
        for index, entry in enumerate(parent[key]):
            label = (
                f"{where}: {key}[{index}]" if not isinstance(entry, dict) else f"{where}: {key} entry {entry.get('id', index)!r}"
            )
            if not isinstance(entry, dict):
                self.fail(label, "expected a mapping")
                continue
            for unknown in sorted(set(entry) - required - optional):
                self.fail(label, f"unknown field {unknown!r}")
            for missing in sorted(required - set(entry)):
                self.fail(label, f"missing field {missing!r}")
            good.append(entry)
        return good

    def unique_ids(
        self,
        where: str,
        kind: str,
        entries: list[dict[str, Any]],
        taken: frozenset[str] | set[str] = frozenset(),
        taken_by: str = "",
    ) -> set[str]:
        seen: set[str] = set()
        for entry in entries:
            entry_id = entry.get("id")
            if not isinstance(entry_id, str) or not entry_id:
                self.fail(where, f"a {kind} has no id")
            elif entry_id in seen:
                self.fail(where, f"{kind} id {entry_id!r} is used twice")
            elif entry_id in taken:
                self.fail(where, f"{kind} id {entry_id!r} is already the id of {taken_by}")
            if isinstance(entry_id, str):
                seen.add(entry_id)
        return seen

    def text(self, where: str, entry: dict[str, Any], key: str, max_words: int | None = None, min_words: int = 0) -> None:
        if key not in entry:
            return
        if not (isinstance(entry[key], str) and entry[key].strip()):
            self.fail(where, f"{key} must be non-empty text")
        elif max_words is not None and len(entry[key].split()) > max_words:
            self.fail(where, f"{key} has {len(entry[key].split())} words; at most {max_words} keep a chat reply short")
        elif len(entry[key].split()) < min_words:
            self.fail(where, f"{key} has {len(entry[key].split())} words; at least {min_words} are needed")

    def lines(self, where: str, entry: dict[str, Any], key: str, least: int, most: int | None, max_words: int | None) -> None:
        """A list of short texts, each on one line (the store keeps them one per line)."""
        if key not in entry:
            return
        items = entry[key]
        if not isinstance(items, list) or len(items) < least or (most is not None and len(items) > most):
            self.fail(
                where,
                f"{key} must be a list of {least} to {most} items"
                if most
                else f"{key} must be a list of at least {least} item(s)",
            )
            return
        for number, item in enumerate(items, 1):
            if not (isinstance(item, str) and item.strip()) or "\n" in item.strip():
                self.fail(where, f"{key} item {number} must be non-empty text on one line")
            elif max_words is not None and len(item.split()) > max_words:
                self.fail(
                    where, f"{key} item {number} has {len(item.split())} words; at most {max_words} keep a chat reply short"
                )

    def nations(self, where: str, nations: Any) -> None:
        if not isinstance(nations, list) or not nations or len(set(map(str, nations))) != len(nations):
            self.fail(where, f"nations must be a non-empty list of different nations ({', '.join(NATIONS)})")
            return
        for nation in nations:
            if not isinstance(nation, str) or nation not in NATIONS:
                self.fail(where, f"unknown nation {nation!r} (use {', '.join(NATIONS)})")

    def principles(self, where: str, entry: dict[str, Any], principle_ids: set[str]) -> None:
        if "principles" not in entry:
            return
        principles = entry["principles"]
        if not isinstance(principles, list) or not principles:
            self.fail(where, "principles must be a non-empty list of principle passage ids")
            return
        for principle in principles:
            if not isinstance(principle, str) or principle not in principle_ids:
                self.fail(where, f"principle {principle!r} is not a passage of {' or '.join(PRINCIPLE_TOPICS)}")
        if len(set(map(str, principles))) != len(principles):
            self.fail(where, "principles must not name a passage twice")


def load_content(session: Session, content: Content) -> dict[str, int]:
    """Make the store hold exactly `content`; the caller commits (or rolls back)."""
    # Children first, so foreign keys hold at every step; ids are stable, so rows that
    # other tables point at are updated in place rather than deleted.
    session.execute(delete(advice_principles))
    session.execute(delete(AdviceTag))
    session.execute(delete(practice_principles))
    session.execute(delete(PracticeSignpost))
    session.execute(delete(GlossaryTerm))  # nothing points at it: simply rewritten
    keep_advice = {item["id"] for item in content.advice}
    keep_practice = {entry["id"] for entry in content.practice}
    keep_passages = {p["id"] for t in content.topics for p in t["passages"]}
    keep_topics = {t["id"] for t in content.topics}
    keep_sources = {s["id"] for s in content.sources}

    for position, entry in enumerate(content.sources):
        session.merge(
            Source(
                id=entry["id"], citation=entry["citation"].strip(), url=entry.get("url"), kind=entry["kind"], position=position
            )
        )
    for position, topic in enumerate(content.topics):
        session.merge(Topic(id=topic["id"], title=topic["title"].strip(), position=position))
    session.flush()
    for topic in content.topics:
        for position, passage in enumerate(topic["passages"]):
            session.merge(
                Passage(
                    id=passage["id"],
                    topic_id=topic["id"],
                    title=passage["title"].strip(),
                    text=passage["text"].strip(),
                    source_id=passage["source"],
                    attribution=(passage.get("attribution") or None),
                    position=position,
                )
            )
    session.flush()
    for position, item in enumerate(content.advice):
        session.merge(
            AdviceItem(
                id=item["id"],
                challenge_id=item["challenge"],
                title=item["title"].strip(),
                text=item["text"].strip(),
                how=_join_lines(item["how"]),
                example=item["example"].strip(),
                why=item["why"].strip(),
                position=position,
            )
        )
    for position, entry in enumerate(content.practice):
        session.merge(
            PracticeQuestion(
                id=entry["id"],
                title=entry["title"].strip(),
                answer=entry["answer"].strip(),
                steps=_join_lines(entry["steps"]),
                example=entry["example"].strip(),
                questions=_join_lines(entry["questions"]),
                keywords=_join_lines(entry.get("keywords") or []) or None,
                general_guidance=entry["general_guidance"],
                legal=entry["legal"],
                position=position,
            )
        )
    session.flush()
    for entry in content.practice:
        for position, principle in enumerate(entry["principles"]):
            session.execute(practice_principles.insert().values(practice_id=entry["id"], passage_id=principle, position=position))
        for position, signpost in enumerate(entry["signposts"]):
            session.add(
                PracticeSignpost(
                    practice_id=entry["id"],
                    text=signpost["text"].strip(),
                    nations=",".join(signpost["nations"]),
                    position=position,
                )
            )
    for item in content.advice:
        for position, principle in enumerate(item["principles"]):
            session.execute(advice_principles.insert().values(advice_id=item["id"], passage_id=principle, position=position))
        for dimension, values in (item.get("tags") or {}).items():
            for value in dict.fromkeys(values):
                session.add(AdviceTag(advice_id=item["id"], dimension=dimension, value=value))

    for position, entry in enumerate(content.glossary):
        session.add(
            GlossaryTerm(
                term=entry["term"].strip(),
                aliases=_join_lines(entry["aliases"]),
                definition=entry["definition"].strip(),
                nations=",".join(entry["nations"]),
                related=entry.get("related"),
                position=position,
            )
        )
    session.execute(delete(AdviceItem).where(AdviceItem.id.not_in(keep_advice)))
    session.execute(delete(PracticeQuestion).where(PracticeQuestion.id.not_in(keep_practice)))
    session.execute(delete(Passage).where(Passage.id.not_in(keep_passages)))
    session.execute(delete(Topic).where(Topic.id.not_in(keep_topics)))
    session.execute(delete(Source).where(Source.id.not_in(keep_sources)))
    loaded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    session.merge(ContentVersion(id=1, digest=content.digest, loaded_at=loaded_at))
    session.flush()
    return {
        "sources": len(keep_sources),
        "topics": len(keep_topics),
        "passages": len(keep_passages),
        "advice items": len(keep_advice),
        "tags": session.scalar(select(func.count()).select_from(AdviceTag)),
        "practice questions": len(keep_practice),
        "signposts": session.scalar(select(func.count()).select_from(PracticeSignpost)),
        "glossary terms": len(content.glossary),
    }


def _join_lines(items: list[str]) -> str:
    """Steps and example questions are stored one per line (validation keeps each on one line)."""
    return "\n".join(item.strip() for item in items)


def split_lines(text: str | None) -> list[str]:
    """The list _join_lines stored; [] for a column that is still NULL (a store from before it existed)."""
    return text.split("\n") if text else []


def load(content_dir: Path = settings.CONTENT_DIR, url: str | None = None) -> dict[str, int]:
    """Validate and load in one transaction; returns counts of what the store now holds."""
    content = read_content(content_dir)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            return load_content(session, content)
    finally:
        engine.dispose()


def export(session: Session, target: Path) -> dict[str, int]:
    """Write what the store holds in the content format, so an edited database can be reviewed
    as a diff against data/knowledge/ (and loaded again as it is)."""
    sources = [
        {"id": s.id, "citation": s.citation, "url": s.url, "kind": s.kind}
        for s in session.scalars(select(Source).order_by(Source.position))
    ]
    topics = [
        {
            "id": t.id,
            "title": t.title,
            "passages": [
                {"id": p.id, "title": p.title, "text": p.text, "source": p.source_id, "attribution": p.attribution}
                for p in t.passages
            ],
        }
        for t in session.scalars(select(Topic).order_by(Topic.position))
    ]
    advice = []
    for item in session.scalars(select(AdviceItem).order_by(AdviceItem.position)):
        entry = {
            "id": item.id,
            "challenge": item.challenge_id,
            "title": item.title,
            "text": item.text,
            "how": split_lines(item.how),
            "example": item.example,
            "why": item.why,
            "principles": [p.id for p in item.principles],
        }
        tags: dict[str, list[str]] = {}
        for tag in item.tags:
            tags.setdefault(tag.dimension, []).append(tag.value)
        if tags:
            entry["tags"] = tags
        advice.append(entry)
    practice = [
        {
            "id": q.id,
            "title": q.title,
            "questions": split_lines(q.questions),
            **({"keywords": split_lines(q.keywords)} if q.keywords else {}),
            "answer": q.answer,
            "steps": split_lines(q.steps),
            "example": q.example,
            "signposts": [{"text": s.text, "nations": s.nations.split(",")} for s in q.signposts],
            "principles": [p.id for p in q.principles],
            "general_guidance": q.general_guidance,
            "legal": q.legal,
        }
        for q in session.scalars(
            select(PracticeQuestion)
            .order_by(PracticeQuestion.position)
            .options(selectinload(PracticeQuestion.principles), selectinload(PracticeQuestion.signposts))
        )
    ]
    glossary = []
    for term in session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.position)):
        entry = {
            "term": term.term,
            "aliases": split_lines(term.aliases),
            "definition": term.definition,
            "nations": term.nations.split(","),
        }
        if term.related:
            entry["related"] = term.related
        glossary.append(entry)
    target.mkdir(parents=True, exist_ok=True)
    files = (
        ("sources.yml", "sources", sources),
        ("topics.yml", "topics", topics),
        ("advice.yml", "advice", advice),
        ("practice.yml", "practice", practice),
        ("glossary.yml", "glossary", glossary),
    )
    for name, key, entries in files:
        text = yaml.safe_dump({key: entries}, sort_keys=False, allow_unicode=True, width=100)
        (target / name).write_text(
            f"# Exported from the knowledge store by `python -m actions.store.loader --export`.\n{text}", encoding="utf-8"
        )
    return {
        "sources": len(sources),
        "topics": len(topics),
        "advice items": len(advice),
        "practice questions": len(practice),
        "glossary terms": len(glossary),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="validate the content only; do not touch the store")
    parser.add_argument("--content", type=Path, default=settings.CONTENT_DIR, help="content folder (default: data/knowledge)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: KNOWLEDGE_DB_URL or var/knowledge.db)")
    parser.add_argument("--export", type=Path, metavar="DIR", help="write the store's content to DIR as content files")
    args = parser.parse_args(argv)
    if args.export:
        engine = make_engine(args.db)
        with make_session_factory(engine)() as session:
            counts = export(session, args.export)
        engine.dispose()
        print(f"Exported to {args.export}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        return 0
    try:
        if args.check:
            content = read_content(args.content)
            print(
                f"Content OK: {len(content.sources)} sources, {len(content.topics)} topics, {len(content.advice)} advice items, "
                f"{len(content.practice)} practice questions, {len(content.glossary)} glossary terms."
            )
            return 0
        counts = load(args.content, args.db)
    except ContentError as error:
        print(f"Knowledge content not loaded; the store is unchanged.\n{error}", file=sys.stderr)
        return 1
    print("Knowledge store loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
