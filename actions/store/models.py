"""SQLAlchemy 1.4 models of the knowledge store, written in the 2.0 style."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base, relationship

Base: Any = declarative_base()  # typed Any: mypy cannot see SQLAlchemy 1.4's declarative classes

# Which principles (passages of the key_principles / good_practice topics) an advice item rests on.
advice_principles = Table(
    "advice_principles",
    Base.metadata,
    Column("advice_id", String(80), ForeignKey("advice_items.id", ondelete="CASCADE"), primary_key=True),
    Column("passage_id", String(80), ForeignKey("passages.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

# Which principles a practice question's answer rests on (as for advice).
practice_principles = Table(
    "practice_principles",
    Base.metadata,
    Column("practice_id", String(80), ForeignKey("practice_questions.id", ondelete="CASCADE"), primary_key=True),
    Column("passage_id", String(80), ForeignKey("passages.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)


class Source(Base):
    """A document or reference that content is taken from (or 'derived' for our own guidance)."""

    __tablename__ = "sources"
    id = Column(String(80), primary_key=True)
    citation = Column(Text, nullable=False)
    url = Column(Text)
    kind = Column(String(20), nullable=False)  # reference | document | derived
    position = Column(Integer, nullable=False)


class Topic(Base):
    """A group of passages that together answer one question (definition, benefits, challenges...)."""

    __tablename__ = "topics"
    id = Column(String(80), primary_key=True)
    title = Column(Text, nullable=False)
    position = Column(Integer, nullable=False)
    passages = relationship("Passage", back_populates="topic", order_by="Passage.position")


class Passage(Base):
    """Text from the guidance documents, verbatim, with its source and attribution."""

    __tablename__ = "passages"
    id = Column(String(80), primary_key=True)
    topic_id = Column(String(80), ForeignKey("topics.id"), nullable=False, index=True)
    title = Column(Text, nullable=False)
    text = Column(Text, nullable=False)
    source_id = Column(String(80), ForeignKey("sources.id"), nullable=False)
    attribution = Column(Text)
    position = Column(Integer, nullable=False)
    topic = relationship("Topic", back_populates="passages")
    source = relationship("Source")


class AdviceItem(Base):
    """Practical guidance written for this project for one challenge (a passage of the challenges topic)."""

    __tablename__ = "advice_items"
    id = Column(String(80), primary_key=True)
    challenge_id = Column(String(80), ForeignKey("passages.id"), nullable=False, index=True)
    title = Column(Text, nullable=False)
    text = Column(Text, nullable=False)
    position = Column(Integer, nullable=False)
    # Added after the first release, so nullable: db.make_engine adds them to older stores.
    how = Column(Text)  # the steps, one per line
    example = Column(Text)
    why = Column(Text)
    principles = relationship("Passage", secondary=advice_principles, order_by=advice_principles.c.position)
    tags = relationship("AdviceTag", cascade="all, delete-orphan", order_by="AdviceTag.id")


class AdviceTag(Base):
    """Who an advice item suits best: one (dimension, value) pair such as ('sector', 'health')."""

    __tablename__ = "advice_tags"
    __table_args__ = (UniqueConstraint("advice_id", "dimension", "value"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    advice_id = Column(String(80), ForeignKey("advice_items.id", ondelete="CASCADE"), nullable=False, index=True)
    dimension = Column(String(20), nullable=False)  # sector | role | stage
    value = Column(String(40), nullable=False)


class PracticeQuestion(Base):
    """General guidance on one practical question (terms of reference, information sharing...)."""

    __tablename__ = "practice_questions"
    id = Column(String(80), primary_key=True)
    title = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    steps = Column(Text, nullable=False)  # one per line
    questions = Column(Text, nullable=False)  # example wordings, one per line
    general_guidance = Column(Boolean, nullable=False, default=True)
    legal = Column(Boolean, nullable=False)  # touches on the law: not legal advice
    position = Column(Integer, nullable=False)
    # Added after the first release, so nullable: db.make_engine adds it to older stores.
    example = Column(Text)
    keywords = Column(Text)  # phrases that name the topic plainly, one per line (see actions/retrieval.py)
    principles = relationship("Passage", secondary=practice_principles, order_by=practice_principles.c.position)
    signposts = relationship("PracticeSignpost", cascade="all, delete-orphan", order_by="PracticeSignpost.position")


class PracticeSignpost(Base):
    """Where to go next for a practice question, with the UK nations it applies to."""

    __tablename__ = "practice_signposts"
    id = Column(Integer, primary_key=True, autoincrement=True)
    practice_id = Column(String(80), ForeignKey("practice_questions.id", ondelete="CASCADE"), nullable=False, index=True)
    text = Column(Text, nullable=False)
    nations = Column(String(80), nullable=False)  # comma-joined: england,scotland,wales,northern_ireland
    position = Column(Integer, nullable=False)


class GlossaryTerm(Base):
    """A partnership term people ask about ("ICB", "Section 75"), with its aliases and definition."""

    __tablename__ = "glossary_terms"
    term = Column(String(120), primary_key=True)
    aliases = Column(Text, nullable=False)  # one per line ("" for none)
    definition = Column(Text, nullable=False)
    nations = Column(String(80), nullable=False)  # comma-joined, as for signposts
    related = Column(String(80))  # a practice question or advice item id, offered as "more"
    position = Column(Integer, nullable=False)


class AskedExample(Base):
    """How a practitioner asked for one answer (data/knowledge/asked.yml): examples for the classifiers
    that choose between answers (actions/retrieval.py). `answer` is "practice:<id>", "challenge:<id>" or
    "practice_or_a_challenge:<practice id>" (a message the practice question or challenge advice fits)."""

    __tablename__ = "asked_examples"
    id = Column(Integer, primary_key=True, autoincrement=True)
    answer = Column(String(120), nullable=False, index=True)
    text = Column(Text, nullable=False)
    position = Column(Integer, nullable=False)


class ContentVersion(Base):
    """One row: a hash of the loaded content, so running action servers notice a reload."""

    __tablename__ = "content_version"
    id = Column(Integer, primary_key=True)
    digest = Column(String(64), nullable=False)
    loaded_at = Column(String(40), nullable=False)


# --- What people submit: written by actions, never by the content loader. ---------------
# Conversations are identified by a keyed hash of Rasa's sender id (actions/store/records.py),
# never by the raw id. The retention purge sets the key (and free text) to NULL, keeping the
# figures without any link to a person.


class HealthCheckResult(Base):
    """One completed partnership health check: when, whose conversation, and their context."""

    __tablename__ = "health_check_results"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_key = Column(String(64), index=True)  # NULL once purged
    created_at = Column(DateTime(timezone=True), nullable=False)
    sector = Column(String(40))
    role = Column(String(40))
    stage = Column(String(40))
    scores = relationship("HealthCheckScore", cascade="all, delete-orphan", order_by="HealthCheckScore.challenge_id")


class HealthCheckScore(Base):
    """How pressing one challenge is, 1 (not at all) to 5 (serious); NULL when skipped."""

    __tablename__ = "health_check_scores"
    result_id = Column(Integer, ForeignKey("health_check_results.id", ondelete="CASCADE"), primary_key=True)
    challenge_id = Column(String(80), primary_key=True)  # a challenge passage id; kept if content changes
    score = Column(Integer)


class Feedback(Base):
    """'Was this helpful?' for one advice answer, with an optional comment."""

    __tablename__ = "feedback"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_key = Column(String(64), index=True)  # NULL once purged
    created_at = Column(DateTime(timezone=True), nullable=False)
    challenge_id = Column(String(80))
    helpful = Column(Boolean, nullable=False)
    comment = Column(Text)
    items = relationship("FeedbackItem", cascade="all, delete-orphan")


class FeedbackItem(Base):
    """The advice items the feedback was about (ids kept even if the content later drops one)."""

    __tablename__ = "feedback_items"
    feedback_id = Column(Integer, ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True)
    advice_id = Column(String(80), primary_key=True)


class QuestionTally(Base):
    """Questions asked per day, intent and known context, rolled up from conversations before
    the retention purge deletes them, so the insight report keeps its figures (no sender, no text)."""

    __tablename__ = "question_tallies"
    day = Column(Date, primary_key=True)
    intent = Column(String(80), primary_key=True)
    sector = Column(String(40), primary_key=True, default="")  # "" when not known
    role = Column(String(40), primary_key=True, default="")
    count = Column(Integer, nullable=False)


class PurgePending(Base):
    """Conversations the retention purge has rolled up into question_tallies but not yet seen
    deleted from the tracker store (keyed hashes, as in feedback). A purge interrupted between
    its two stores finishes them on its next run without counting them twice; the table is
    empty once a run completes."""

    __tablename__ = "purge_pending"
    conversation_key = Column(String(64), primary_key=True)
