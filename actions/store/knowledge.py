"""A read-only, in-memory snapshot of the knowledge store, shared by all actions.

The content is small (a few hundred rows), so each action server process reads it
once and answers from memory. A cheap version check, run off the event loop at most
every KNOWLEDGE_REFRESH_SECONDS, picks up a reload without restarting anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from actions import settings
from actions.store.db import make_engine, make_session_factory
from actions.store.models import AdviceItem, AskedExample, ContentVersion, GlossaryTerm, PracticeQuestion, Source, Topic

logger = logging.getLogger(__name__)


class KnowledgeUnavailable(Exception):
    """The store cannot be read and there is no earlier snapshot to answer from."""


@dataclass(frozen=True)
class SourceView:
    id: str
    citation: str
    url: str | None
    kind: str


@dataclass(frozen=True)
class PassageView:
    id: str
    topic_id: str
    title: str
    text: str
    source: SourceView
    attribution: str | None


@dataclass(frozen=True)
class AdviceView:
    id: str
    challenge_id: str
    title: str
    text: str
    position: int
    principles: tuple[PassageView, ...]
    tags: dict[str, frozenset[str]] = field(default_factory=dict)
    how: tuple[str, ...] = ()  # steps
    example: str = ""
    why: str = ""


@dataclass(frozen=True)
class SignpostView:
    text: str
    nations: frozenset[str]  # subset of vocabulary.NATIONS: england, scotland, wales, northern_ireland


@dataclass(frozen=True)
class PracticeView:
    """One entry of data/knowledge/practice.yml: general guidance on a practical question."""

    id: str
    title: str
    answer: str
    steps: tuple[str, ...]
    questions: tuple[str, ...]
    signposts: tuple[SignpostView, ...]
    principles: tuple[PassageView, ...]
    legal: bool
    position: int
    example: str = ""  # an illustrative, invented case
    keywords: tuple[str, ...] = ()  # phrases that name the topic plainly ("terms of reference", "joint bid")


@dataclass(frozen=True)
class GlossaryView:
    """One entry of data/knowledge/glossary.yml: a term people ask about and its definition."""

    term: str
    aliases: tuple[str, ...]
    definition: str
    nations: frozenset[str]
    related: str | None  # a practice question or advice item id

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


@dataclass(frozen=True)
class TopicView:
    id: str
    title: str
    passages: tuple[PassageView, ...]


@dataclass(frozen=True)
class Knowledge:
    digest: str
    topics: dict[str, TopicView]
    passages: dict[str, PassageView]
    advice_by_challenge: dict[str, tuple[AdviceView, ...]]
    sources: tuple[SourceView, ...]
    practice: dict[str, PracticeView] = field(default_factory=dict)  # by id, in file order
    glossary: tuple[GlossaryView, ...] = ()  # in file order
    # How practitioners asked for each answer, by "practice:<id>" / "challenge:<id>" /
    # "practice_or_a_challenge:<practice id>" (data/knowledge/asked.yml).
    asked: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def advice(self, advice_id: str) -> AdviceView | None:
        for items in self.advice_by_challenge.values():
            for item in items:
                if item.id == advice_id:
                    return item
        return None


def read_digest(session: Session) -> str | None:
    return session.scalar(select(ContentVersion.digest).where(ContentVersion.id == 1))


def read_knowledge(session: Session) -> Knowledge:
    """Read the whole store into immutable views."""
    sources = {
        s.id: SourceView(id=s.id, citation=s.citation, url=s.url, kind=s.kind)
        for s in session.scalars(select(Source).order_by(Source.position))
    }
    passages: dict[str, PassageView] = {}
    topics: dict[str, TopicView] = {}
    for topic in session.scalars(select(Topic).order_by(Topic.position).options(selectinload(Topic.passages))):
        views = tuple(PassageView(p.id, topic.id, p.title, p.text, sources[p.source_id], p.attribution) for p in topic.passages)
        passages.update((view.id, view) for view in views)
        topics[topic.id] = TopicView(topic.id, topic.title, views)
    advice: dict[str, list[AdviceView]] = {}
    query = (
        select(AdviceItem)
        .order_by(AdviceItem.position)
        .options(selectinload(AdviceItem.principles), selectinload(AdviceItem.tags))
    )
    for item in session.scalars(query):
        tags: dict[str, set[str]] = {}
        for tag in item.tags:
            tags.setdefault(tag.dimension, set()).add(tag.value)
        advice.setdefault(item.challenge_id, []).append(
            AdviceView(
                id=item.id,
                challenge_id=item.challenge_id,
                title=item.title,
                text=item.text,
                position=item.position,
                principles=tuple(passages[p.id] for p in item.principles),
                tags={d: frozenset(v) for d, v in tags.items()},
                how=_lines(item.how),
                example=item.example or "",
                why=item.why or "",
            )
        )
    practice: dict[str, PracticeView] = {}
    query = (
        select(PracticeQuestion)
        .order_by(PracticeQuestion.position)
        .options(selectinload(PracticeQuestion.principles), selectinload(PracticeQuestion.signposts))
    )
    for entry in session.scalars(query):
        practice[entry.id] = PracticeView(
            id=entry.id,
            title=entry.title,
            answer=entry.answer,
            steps=_lines(entry.steps),
            questions=_lines(entry.questions),
            signposts=tuple(SignpostView(s.text, frozenset(s.nations.split(","))) for s in entry.signposts),
            principles=tuple(passages[p.id] for p in entry.principles),
            legal=entry.legal,
            position=entry.position,
            example=entry.example or "",
            keywords=_lines(entry.keywords),
        )
    glossary = tuple(
        GlossaryView(g.term, _lines(g.aliases), g.definition, frozenset(g.nations.split(",")), g.related)
        for g in session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.position))
    )
    asked: dict[str, list[str]] = {}
    for example in session.scalars(select(AskedExample).order_by(AskedExample.answer, AskedExample.position)):
        asked.setdefault(example.answer, []).append(example.text)
    return Knowledge(
        digest=read_digest(session) or "",
        topics=topics,
        passages=passages,
        advice_by_challenge={c: tuple(items) for c, items in advice.items()},
        sources=tuple(sources.values()),
        practice=practice,
        glossary=glossary,
        asked={answer: tuple(texts) for answer, texts in asked.items()},
    )


def _lines(text: str | None) -> tuple[str, ...]:
    """Steps and questions are stored one per line; NULL (a store loaded before they existed) is none."""
    return tuple(text.split("\n")) if text else ()


class KnowledgeCache:
    """Holds the current snapshot; database work runs in a worker thread, never on the loop."""

    def __init__(self, url: str | None = None, refresh_seconds: float | None = None) -> None:
        self._url = url
        self._refresh_seconds = settings.knowledge_refresh_seconds() if refresh_seconds is None else refresh_seconds
        self._engine: Engine | None = None
        self._snapshot: Knowledge | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Knowledge:
        """The current knowledge; an older snapshot if the store is briefly unreachable."""
        if self._snapshot is not None and time.monotonic() - self._checked_at < self._refresh_seconds:
            return self._snapshot
        async with self._lock:
            if self._snapshot is None or time.monotonic() - self._checked_at >= self._refresh_seconds:
                try:
                    self._snapshot = await asyncio.to_thread(self._refresh, self._snapshot)
                except SQLAlchemyError as error:
                    if self._snapshot is None:
                        raise KnowledgeUnavailable(str(error)) from error
                    logger.warning("Knowledge store unreachable, answering from the last snapshot: %s", error)
                self._checked_at = time.monotonic()
        return self._snapshot

    def _refresh(self, current: Knowledge | None) -> Knowledge:
        if self._engine is None:
            self._engine = make_engine(self._url)
        with make_session_factory(self._engine)() as session:
            digest = read_digest(session)
            if digest is None:
                raise KnowledgeUnavailable("the knowledge store is empty: run `make load`")
            if current is not None and current.digest == digest:
                return current
            logger.info("Loading knowledge snapshot %s", digest[:12])
            return read_knowledge(session)
