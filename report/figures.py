"""The insight report (`make report`): what people ask, how their partnerships score, which
advice helps, and what the advisor did not understand.

    python -m scripts.report                       # into results/report/
    python -m scripts.report --out DIR --since 2025-01-01 --no-free-text

Reads Rasa's tracker store (TRACKER_STORE_URL) and the knowledge store (KNOWLEDGE_DB_URL), the
same settings the servers use, read-only, and writes `report.html` (self-contained: inline CSS,
charts as PNG data URIs, no external requests) plus one CSV per table.

Privacy: no sender id or conversation key is written anywhere. The only free text is the
messages the advisor did not understand and the comments left with feedback;
`--no-free-text` leaves both out (their counts remain).

Question figures are the conversations still in the tracker store plus the daily tallies the
retention purge keeps of the conversations it deleted. A question is a message recognised as
one of the seven challenges or eight knowledge topics, not an answer to a form (a health-check
score or a feedback comment) unless the advisor answered it as a question.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import io
import os
import re
import sys
import textwrap
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from actions import settings
from actions.conversation import QUESTION_ACTIONS
from actions.health_check import PRESSING
from actions.store.conversations import Exchange, exchanges
from actions.store.models import (
    AdviceItem,
    Feedback,
    FeedbackItem,
    HealthCheckResult,
    HealthCheckScore,
    Passage,
    QuestionTally,
    Topic,
)
from actions.vocabulary import CHALLENGES, KNOWLEDGE_TOPICS, QUESTION_INTENTS, ROLE_LABELS, SECTORS, TOPIC_BUTTON_TITLES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "results" / "report"

ANSWER_ACTIONS = frozenset(QUESTION_ACTIONS.values())  # the advisor answered a message as a question
FALLBACK = "nlu_fallback"
PAYLOAD = re.compile(r"/\w+(\{.*\})?", re.DOTALL)  # a button payload such as /feedback_helpful
NOT_KNOWN = "not known"
TEXT_LIMIT = 500  # characters of a not-understood message kept in the report
GROUP_DISTANCE = 0.8  # cosine distance (average linkage) under which messages are grouped
GROUP_EXAMPLES = 5
MAX_GROUPED = 3000
LEAST_HELPFUL = 10
UNKNOWN_GREY = "#6b6b6b"  # 5:1 on white
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")  # Okabe-Ito


class StoreError(Exception):
    """A store cannot be read; the message says which and why, without its password."""


# --- Reading the stores, read-only ------------------------------------------------------------


def tracker_store_url() -> str:
    """The tracker store the Rasa server writes to: TRACKER_STORE_URL, or the launcher's default."""
    from scripts.launch import defaults

    return _normalise(os.environ.get("TRACKER_STORE_URL", "").strip() or defaults()["TRACKER_STORE_URL"])


def _normalise(url: str) -> str:
    return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url


def shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid URL)"


def open_read_only(url: str, what: str) -> Engine | None:
    """An engine whose connections cannot write; None for a SQLite file that does not exist yet
    (a fresh install: nothing is created). StoreError if the database cannot be reached."""
    url = _normalise(url)
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"The {what} URL is not a database URL: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).exists():
            return None
        engine = create_engine(url, future=True)
        statements = ["PRAGMA query_only = ON"]
    else:
        engine = create_engine(url, future=True, connect_args={"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {})
        statements = ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"]

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()

    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(f"Cannot reach the {what} at {shown(url)}: {_reason(error)}") from error
    return engine


def _reason(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass
class NotUnderstood:
    text: str
    day: date
    guess: str | None
    guess_confidence: float | None
    chosen: str | None = None  # the "Did you mean" topic the person picked next, if any


@dataclass
class HealthCheck:
    created_at: datetime
    sector: str | None
    role: str | None
    scores: dict[str, int | None]


@dataclass
class Vote:
    created_at: datetime
    challenge_id: str | None
    helpful: bool
    comment: str | None
    advice_ids: list[str]


@dataclass
class Data:
    """Everything the report shows, read from both stores (no sender ids are kept)."""

    questions: Counter = field(default_factory=Counter)  # TallyKey -> count, live and tallied
    live_questions: int = 0
    tallied_questions: int = 0
    not_understood: list[NotUnderstood] = field(default_factory=list)
    health_checks: list[HealthCheck] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # intent or challenge passage id -> title
    advice: dict[str, tuple[str, str]] = field(default_factory=dict)  # advice id -> (title, challenge id)
    tracker_found: bool = False
    knowledge_found: bool = False


def is_question(exchange: Exchange) -> bool:
    if exchange.turn.intent not in QUESTION_INTENTS:
        return False
    return exchange.form is None or bool(ANSWER_ACTIONS & set(exchange.actions))


def is_not_understood(exchange: Exchange) -> bool:
    """A message that ended in the fallback outside a form, and was not answered as two problems."""
    return (
        exchange.turn.intent == FALLBACK
        and exchange.form is None
        and "advice_given" not in exchange.slots
        and bool(clean(exchange.turn.text))
    )


def read_tracker(connection: Connection, data: Data, since: datetime | None) -> None:
    previous: tuple[str, NotUnderstood] | None = None  # the last not-understood message of a conversation
    for exchange in exchanges(connection):
        turn = exchange.turn
        if previous and previous[0] == turn.sender_id:
            if turn.text.startswith("/") and turn.intent in TOPIC_BUTTON_TITLES:
                previous[1].chosen = turn.intent
        previous = None
        if since and turn.at < since:
            continue
        if is_question(exchange):
            data.questions[(turn.at.date(), turn.intent, turn.sector or "", turn.role or "")] += 1
            data.live_questions += 1
        elif is_not_understood(exchange):
            item = NotUnderstood(clean(turn.text)[:TEXT_LIMIT], turn.at.date(), exchange.guess, exchange.guess_confidence)
            data.not_understood.append(item)
            previous = (turn.sender_id, item)


def read_knowledge_store(connection: Connection, data: Data, since: datetime | None) -> None:
    tables = set(inspect(connection).get_table_names())
    if "topics" in tables and "passages" in tables:
        data.titles.update(connection.execute(select(Passage.id, Passage.title).where(Passage.id.in_(CHALLENGES))).all())
        topic_titles = dict(connection.execute(select(Topic.id, Topic.title)).all())
        for intent, topic in KNOWLEDGE_TOPICS.items():
            if topic in topic_titles:
                data.titles[intent] = topic_titles[topic]
    if "advice_items" in tables:
        data.advice = {row.id: (row.title, row.challenge_id) for row in connection.execute(select(AdviceItem.id, AdviceItem.title, AdviceItem.challenge_id))}
    if "question_tallies" in tables:
        query = select(QuestionTally.day, QuestionTally.intent, QuestionTally.sector, QuestionTally.role, QuestionTally.count)
        if since:
            query = query.where(QuestionTally.day >= since.date())
        for day, intent, sector, role, count in connection.execute(query.where(QuestionTally.intent.in_(QUESTION_INTENTS))):
            data.questions[(day, intent, sector or "", role or "")] += count
            data.tallied_questions += count
    if "health_check_results" in tables and "health_check_scores" in tables:
        query = select(HealthCheckResult.id, HealthCheckResult.created_at, HealthCheckResult.sector, HealthCheckResult.role)
        results = {}
        for result_id, created_at, sector, role in connection.execute(query.order_by(HealthCheckResult.id)):
            if since is None or _utc(created_at) >= since:
                results[result_id] = HealthCheck(_utc(created_at), sector, role, {})
        for result_id, challenge_id, score in connection.execute(select(HealthCheckScore.result_id, HealthCheckScore.challenge_id, HealthCheckScore.score)):
            if result_id in results:
                results[result_id].scores[challenge_id] = score
        data.health_checks = list(results.values())
    if "feedback" in tables and "feedback_items" in tables:
        votes = {}
        query = select(Feedback.id, Feedback.created_at, Feedback.challenge_id, Feedback.helpful, Feedback.comment)
        for feedback_id, created_at, challenge_id, helpful, comment in connection.execute(query.order_by(Feedback.id)):
            if since is None or _utc(created_at) >= since:
                votes[feedback_id] = Vote(_utc(created_at), challenge_id, bool(helpful), _comment(comment), [])
        for feedback_id, advice_id in connection.execute(select(FeedbackItem.feedback_id, FeedbackItem.advice_id)):
            if feedback_id in votes:
                votes[feedback_id].advice_ids.append(advice_id)
        data.votes = list(votes.values())


def _comment(text: str | None) -> str | None:
    """A feedback comment; a button payload is not one (releases before the comment-form fix
    stored the "/feedback_..." click itself as the comment)."""
    text = clean(text or "")
    return None if not text or PAYLOAD.fullmatch(text) else text


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Free text as it can be written to HTML and CSV: no control characters (a NUL stops Python's
    csv writer, an escape sequence is not text), no unpaired surrogates (not encodable in UTF-8)."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return CONTROL.sub("", text).strip()


def read_stores(tracker_url: str, knowledge_url: str, since: datetime | None) -> Data:
    data = Data()
    for url, what, reader in (
        (tracker_url, "tracker store", read_tracker),
        (knowledge_url, "knowledge store", read_knowledge_store),
    ):
        engine = open_read_only(url, what)
        if engine is None:
            continue
        try:
            with engine.connect() as connection:
                reader(connection, data, since)
        except SQLAlchemyError as error:
            raise StoreError(f"Cannot read the {what} at {shown(url)}: {_reason(error)}") from error
        finally:
            engine.dispose()
        if what == "tracker store":
            data.tracker_found = True
        else:
            data.knowledge_found = True
    return data


# --- Grouping the messages the advisor did not understand --------------------------------------


def group_similar(texts: Sequence[str], distance: float = GROUP_DISTANCE) -> list[list[int]]:
    """Indices of `texts` grouped by similarity (TF-IDF of words and character n-grams, cosine
    distance, average-linkage agglomerative clustering), largest group first."""
    if len(texts) < 2:
        return [list(range(len(texts)))] if texts else []
    from scipy.sparse import hstack
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    blocks = [TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True).fit_transform(texts)]
    try:
        blocks.append(TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit_transform(texts))
    except ValueError:  # every message is stop words only: characters alone
        pass
    vectors = normalize(hstack(blocks).tocsr())
    distances = (1.0 - (vectors @ vectors.T).toarray()).clip(min=0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, affinity="precomputed", linkage="average"
    ).fit_predict(distances)
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[label].append(index)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


# --- Figures -----------------------------------------------------------------------------------


@dataclass
class Table:
    """One CSV file and the table of the same figures in the HTML."""

    name: str  # file stem
    caption: str
    columns: list[str]
    rows: list[list[Any]]
    free_text_columns: tuple[str, ...] = ()


def title_of(data: Data, intent: str) -> str:
    return data.titles.get(intent) or TOPIC_BUTTON_TITLES.get(intent) or intent


def kind_of(intent: str) -> str:
    return "challenge" if intent in CHALLENGES else "knowledge topic"


def sector_label(value: str) -> str:
    if not value:
        return "Not known"
    label = SECTORS.get(value, value.replace("_", " "))
    label = label[4:] if label.startswith("the ") else label
    return label[:1].upper() + label[1:]


def role_label(value: str) -> str:
    return ROLE_LABELS.get(value, value.replace("_", " ").capitalize()) if value else "Not known"


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else ""


def question_tables(data: Data) -> list[Table]:
    by_topic: Counter = Counter()
    by_week: Counter = Counter()
    by_context: Counter = Counter()
    for (day, intent, sector, role), count in data.questions.items():
        by_topic[intent] += count
        by_week[(week_of(day), intent)] += count
        by_context[(sector, role, intent)] += count
    total = sum(by_topic.values())
    order = {intent: index for index, intent in enumerate(QUESTION_INTENTS)}
    return [
        Table(
            "questions_by_topic",
            "Questions per challenge and knowledge topic",
            ["kind", "topic_id", "title", "questions", "share"],
            [[kind_of(i), i, title_of(data, i), by_topic[i], percent(by_topic[i], total)] for i in QUESTION_INTENTS],
        ),
        Table(
            "questions_by_week",
            "Questions per week (weeks start on Monday, UTC)",
            ["week_starting", "kind", "topic_id", "title", "questions"],
            [
                [week.isoformat(), kind_of(i), i, title_of(data, i), count]
                for (week, i), count in sorted(by_week.items(), key=lambda item: (item[0][0], order[item[0][1]]))
            ],
        ),
        Table(
            "questions_by_sector_role",
            "Questions by the person's sector and role, where they said",
            ["sector", "role", "kind", "topic_id", "title", "questions"],
            [
                [sector or NOT_KNOWN, role or NOT_KNOWN, kind_of(i), i, title_of(data, i), count]
                for (sector, role, i), count in sorted(
                    by_context.items(), key=lambda item: (item[0][0] == "", item[0][0], item[0][1] == "", item[0][1], order[item[0][2]])
                )
            ],
        ),
    ]


def health_check_tables(data: Data) -> list[Table]:
    rows = []
    most_pressing: Counter = Counter()
    in_top_three: Counter = Counter()
    for check in data.health_checks:
        answered = {c: s for c, s in check.scores.items() if s is not None}
        # The same rule as the result the person was shown (actions/health_check.py).
        pressing = sorted((c for c, s in answered.items() if s >= PRESSING), key=lambda c: (-answered[c], _challenge_order(c)))[:3]
        if pressing:
            most_pressing[pressing[0]] += 1
        in_top_three.update(pressing)
    challenges = list(CHALLENGES) + sorted({c for check in data.health_checks for c in check.scores} - set(CHALLENGES))
    for challenge in challenges:
        scores = [check.scores.get(challenge) for check in data.health_checks if challenge in check.scores]
        answered = [s for s in scores if s is not None]
        rows.append(
            [challenge, title_of(data, challenge), len(answered), len(scores) - len(answered),
             f"{sum(answered) / len(answered):.2f}" if answered else ""]
            + [answered.count(score) for score in range(1, 6)]
        )
    top = [
        [c, title_of(data, c), most_pressing[c], in_top_three[c], percent(in_top_three[c], len(data.health_checks))]
        for c in sorted(challenges, key=lambda c: (-in_top_three[c], -most_pressing[c], _challenge_order(c)))
    ]
    return [
        Table(
            "health_check_averages",
            f"Health check: average score per challenge (1 = not a problem, 5 = a serious problem), {len(data.health_checks)} completed checks",
            ["challenge_id", "title", "answered", "skipped", "average_score", "scored_1", "scored_2", "scored_3", "scored_4", "scored_5"],
            rows,
        ),
        Table(
            "health_check_top_challenges",
            "Health check: how often each challenge was the most pressing, and among the top three (scored 3 or more)",
            ["challenge_id", "title", "most_pressing", "in_top_three", "share_of_checks"],
            top,
        ),
    ]


def _challenge_order(challenge: str) -> int:
    return CHALLENGES.index(challenge) if challenge in CHALLENGES else len(CHALLENGES)


@dataclass
class ItemVotes:
    advice_id: str
    votes: int = 0
    helpful: int = 0
    comments: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.helpful / self.votes if self.votes else 0.0


def item_votes(data: Data) -> list[ItemVotes]:
    items: dict[str, ItemVotes] = {}
    for vote in data.votes:
        for advice_id in dict.fromkeys(vote.advice_ids):
            item = items.setdefault(advice_id, ItemVotes(advice_id))
            item.votes += 1
            item.helpful += vote.helpful
            if vote.comment:
                item.comments.append((vote.helpful, vote.comment))
    return list(items.values())


def advice_title(data: Data, advice_id: str) -> str:
    return data.advice.get(advice_id, ("(no longer in the content)", ""))[0]


def advice_challenge(data: Data, advice_id: str) -> str:
    return data.advice.get(advice_id, ("", ""))[1]


def least_helpful(items: list[ItemVotes]) -> list[ItemVotes]:
    """Items with at least one "Not helpful", lowest helpful rate first (then most votes)."""
    return sorted((i for i in items if i.helpful < i.votes), key=lambda i: (i.rate, -i.votes, i.advice_id))[:LEAST_HELPFUL]


def feedback_tables(data: Data, free_text: bool) -> list[Table]:
    items = item_votes(data)
    order = {advice_id: index for index, advice_id in enumerate(data.advice)}
    rows = [
        [i.advice_id, advice_title(data, i.advice_id), advice_challenge(data, i.advice_id), i.votes, i.helpful,
         i.votes - i.helpful, f"{i.rate:.2f}", len(i.comments)]
        for i in sorted(items, key=lambda i: (_challenge_order(advice_challenge(data, i.advice_id)), order.get(i.advice_id, len(order)), i.advice_id))
    ]
    worst = least_helpful(items)
    tables = [
        Table(
            "feedback_by_advice_item",
            f"Feedback per advice item: {len(data.votes)} votes (\u201cThis helped\u201d / \u201cNot helpful\u201d), each about the items of one answer",
            ["advice_id", "title", "challenge_id", "votes", "helpful", "not_helpful", "helpful_rate", "comments"],
            rows,
        ),
        Table(
            "least_helpful_items",
            f"The least helpful advice items (up to {LEAST_HELPFUL}, lowest helpful rate first)",
            ["advice_id", "title", "challenge_id", "votes", "helpful_rate", "comments"],
            [[i.advice_id, advice_title(data, i.advice_id), advice_challenge(data, i.advice_id), i.votes, f"{i.rate:.2f}", len(i.comments)] for i in worst],
        ),
    ]
    if free_text:
        tables.append(
            Table(
                "least_helpful_comments",
                "Comments left on the least helpful items (a comment is about the whole answer it followed)",
                ["advice_id", "title", "vote", "comment"],
                [[i.advice_id, advice_title(data, i.advice_id), "helpful" if helpful else "not helpful", comment] for i in worst for helpful, comment in i.comments],
                free_text_columns=("comment",),
            )
        )
    return tables


@dataclass
class Group:
    size: int
    examples: list[tuple[str, int]]  # distinct messages, most frequent first, with how often
    guesses: Counter
    chosen: Counter


def not_understood_groups(items: list[NotUnderstood]) -> list[Group]:
    distinct: dict[str, list[NotUnderstood]] = {}
    for item in items:
        distinct.setdefault(_normalised(item.text), []).append(item)
    # Most frequent first; beyond MAX_GROUPED distinct messages the rarer ones stay on their own
    # (the pairwise distances of n messages take n x n memory).
    keys = sorted(distinct, key=lambda k: (-len(distinct[k]), k))
    grouped = group_similar(keys[:MAX_GROUPED]) + [[index] for index in range(MAX_GROUPED, len(keys))]
    groups = []
    for members in grouped:
        messages = [m for index in members for m in distinct[keys[index]]]
        counted = sorted(((distinct[keys[i]][0].text, len(distinct[keys[i]])) for i in members), key=lambda e: (-e[1], e[0]))
        groups.append(
            Group(
                size=len(messages),
                examples=counted,
                guesses=Counter(m.guess for m in messages if m.guess),
                chosen=Counter(m.chosen for m in messages if m.chosen),
            )
        )
    return sorted(groups, key=lambda g: (-g.size, g.examples[0][0]))


def not_understood_tables(data: Data, free_text: bool) -> tuple[list[Table], list[Group]]:
    weeks = Counter(week_of(item.day) for item in data.not_understood)
    tables = [
        Table(
            "not_understood_by_week",
            "Messages the advisor did not understand, per week (no text)",
            ["week_starting", "messages"],
            [[week.isoformat(), count] for week, count in sorted(weeks.items())],
        )
    ]
    groups: list[Group] = []
    if free_text:
        groups = not_understood_groups(data.not_understood)
        tables.append(
            Table(
                "not_understood",
                "Messages the advisor did not understand, grouped by similarity, largest group first: candidates for new training examples",
                ["group", "group_size", "message", "times", "nlu_best_guess", "then_chose"],
                [
                    [number, group.size, text, times, _top(group.guesses), _top(group.chosen)]
                    for number, group in enumerate(groups, start=1)
                    for text, times in group.examples
                ],
                free_text_columns=("message",),
            )
        )
    return tables, groups


def _top(counter: Counter) -> str:
    return counter.most_common(1)[0][0] if counter else ""


# --- Charts (matplotlib, Agg) ------------------------------------------------------------------


@dataclass
class Chart:
    png: bytes
    alt: str


def _pyplot():
    # pyparsing's deprecation notices about matplotlib 3.5's own code, at import and when fonts are looked up
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"matplotlib(\.|$)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100})
    return plt


def _save(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    _pyplot().close(figure)
    return buffer.getvalue()


def _wrap(label: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _highest(pairs: Iterable[tuple[str, float]], count: int = 3, unit: str = "") -> str:
    ranked = sorted(((label, value) for label, value in pairs if value), key=lambda p: -p[1])[:count]
    return "; ".join(f"{label} {value:g}{unit}" for label, value in ranked) or "none"


def barh(labels: list[str], values: list[float], colours: list[str], xlabel: str, notes: list[str] | None = None, xlim: float | None = None):
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8.5, 0.42 * len(labels) + 1.2))
    positions = range(len(labels))
    axes.barh(positions, values, color=colours)
    axes.set_yticks(list(positions), [_wrap(label) for label in labels])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    if xlim:
        axes.set_xlim(0, xlim)
    top = max(values, default=0) or 1
    for position, value, note in zip(positions, values, notes or [f"{v:g}" for v in values]):
        axes.text(value + (xlim or top) * 0.01, position, note, va="center", fontsize=9)
    axes.set_xlim(0, xlim * 1.15 if xlim else top * 1.4)  # room for the notes
    if not xlim:
        axes.xaxis.set_major_locator(_integer_ticks())
    return figure


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def question_charts(data: Data, tables: list[Table]) -> list[Chart]:
    by_topic, by_week, _ = tables
    charts = []
    rows = by_topic.rows
    figure = barh(
        [r[2] for r in rows],
        [r[3] for r in rows],
        [PALETTE[0] if r[0] == "challenge" else PALETTE[1] for r in rows],
        "Questions",
    )
    from matplotlib.patches import Patch

    figure.axes[0].legend(handles=[Patch(color=PALETTE[0], label="Challenge"), Patch(color=PALETTE[1], label="Knowledge topic")], loc="lower right")
    charts.append(Chart(_save(figure), "Bar chart of questions per challenge and knowledge topic. Most asked: " + _highest((r[2], r[3]) for r in rows) + "."))

    first, last = (date.fromisoformat(w) for w in (min(r[0] for r in by_week.rows), max(r[0] for r in by_week.rows)))
    weeks = [(first + timedelta(weeks=n)).isoformat() for n in range((last - first).days // 7 + 1)]  # quiet weeks too
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8.5, 4.2))
    bottoms = [0] * len(weeks)
    colours = plt.get_cmap("tab20").colors
    for index, intent in enumerate(QUESTION_INTENTS):
        counts = [sum(r[4] for r in by_week.rows if r[0] == week and r[2] == intent) for week in weeks]
        if any(counts):
            axes.bar(weeks, counts, bottom=bottoms, color=colours[index % len(colours)], label=title_of(data, intent), width=0.6)
            bottoms = [b + c for b, c in zip(bottoms, counts)]
    axes.set_ylabel("Questions")
    axes.set_xlabel("Week starting")
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_xlim(-0.6, max(len(weeks), 6) - 0.4)  # a few weeks do not make wide bars
    axes.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    if len(weeks) > 8:
        axes.tick_params(axis="x", labelrotation=45)
        step = -(-len(weeks) // 20)  # at most 20 labels
        axes.set_xticks(range(0, len(weeks), step), weeks[::step])
    charts.append(Chart(
        _save(figure),
        f"Stacked bar chart of questions per week by challenge and topic, {len(weeks)} week(s) from {weeks[0]} to {weeks[-1]}; "
        f"the busiest week: {weeks[bottoms.index(max(bottoms))]} with {max(bottoms)} questions.",
    ))

    sectors: Counter = Counter()
    roles: Counter = Counter()
    for (_, _, sector, role), count in data.questions.items():
        sectors[sector_label(sector)] += count
        roles[role_label(role)] += count
    figure, (left, right) = plt.subplots(1, 2, figsize=(8.5, 0.4 * max(len(sectors), len(roles)) + 1.6))
    for axes, counts, name, colour in ((left, sectors, "Sector", PALETTE[2]), (right, roles, "Role", PALETTE[4])):
        labels = sorted(counts, key=lambda label: (label == "Not known", -counts[label], label))
        axes.barh(range(len(labels)), [counts[label] for label in labels], color=[UNKNOWN_GREY if label == "Not known" else colour for label in labels])
        axes.set_yticks(list(range(len(labels))), [_wrap(label, 22) for label in labels])
        axes.invert_yaxis()
        axes.set_title(f"By {name.lower()}")
        axes.set_xlabel("Questions")
        axes.xaxis.set_major_locator(_integer_ticks())
    charts.append(Chart(
        _save(figure),
        "Two bar charts of questions by the person's sector and by their role. Sectors: "
        + _highest(sectors.items(), 9) + ". Roles: " + _highest(roles.items(), 6) + ".",
    ))
    return charts


def health_check_charts(tables: list[Table]) -> list[Chart]:
    averages, top = tables
    rows = [r for r in averages.rows if r[2]]
    if not rows:  # every question skipped
        return []
    figure = barh(
        [r[1] for r in rows],
        [float(r[4]) for r in rows],
        [PALETTE[3] if float(r[4]) >= PRESSING else PALETTE[5] for r in rows],
        "Average score (1 = not a problem, 5 = a serious problem)",
        notes=[f"{float(r[4]):.1f} (n={r[2]})" for r in rows],
        xlim=5,
    )
    figure.axes[0].axvline(PRESSING, color="#555555", linestyle="--", linewidth=1)
    charts = [Chart(_save(figure), "Bar chart of the average health-check score per challenge; highest: " + _highest(((r[1], float(r[4])) for r in rows), unit="/5") + ".")]
    rows = [r for r in top.rows if r[3]]
    if rows:
        figure = barh([r[1] for r in rows], [r[3] for r in rows], [PALETTE[3]] * len(rows), "Health checks with the challenge in their top three",
                      notes=[f"{r[3]} ({r[2]} as the most pressing)" for r in rows])
        charts.append(Chart(_save(figure), "Bar chart of how often each challenge was among a health check's three most pressing: " + _highest((r[1], r[3]) for r in rows) + "."))
    return charts


def feedback_charts(data: Data) -> list[Chart]:
    items = sorted(item_votes(data), key=lambda i: (i.rate, -i.votes, i.advice_id))[:25]
    if not items:
        return []
    figure = barh(
        [advice_title(data, i.advice_id) for i in items],
        [100 * i.rate for i in items],
        [PALETTE[3] if i.rate < 0.5 else PALETTE[2] for i in items],
        "Helpful rate (%)",
        notes=[f"{100 * i.rate:.0f}% of {i.votes}" for i in items],
        xlim=100,
    )
    lowest = "; ".join(f"{advice_title(data, i.advice_id)} {100 * i.rate:.0f}% of {i.votes} votes" for i in items[:3])
    return [Chart(_save(figure), f"Bar chart of the helpful rate of the {len(items)} advice items with the lowest rate; lowest: {lowest}.")]


# --- Output ------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, free_text: bool) -> Any:
    """Free text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if free_text and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(table: Table, folder: Path) -> Path:
    path = folder / f"{table.name}.csv"
    free = [column in table.free_text_columns for column in table.columns]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([csv_cell(value, is_free) for value, is_free in zip(row, free)])
    return path


CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; line-height: 1.5; color: #1b1b1b;
       background: #fff; margin: 0 auto; max-width: 62rem; padding: 1.5rem; }
h1 { font-size: 1.8rem; margin-bottom: .25rem; }
h2 { font-size: 1.35rem; margin-top: 2.5rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin-top: 1.5rem; }
.meta, .note { color: #444; }
.summary { display: flex; flex-wrap: wrap; gap: .75rem; padding: 0; list-style: none; }
.summary li { border: 1px solid #c9c9c9; border-radius: .4rem; padding: .5rem .8rem; min-width: 9rem; }
.summary strong { display: block; font-size: 1.5rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { color: #444; font-size: .9rem; }
table { border-collapse: collapse; margin: .75rem 0 1.25rem; width: 100%; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border: 1px solid #c9c9c9; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: .5rem 0 1rem; }
summary { cursor: pointer; color: #0b4f8a; }
.empty { background: #f6f6f6; border-left: 4px solid #0072B2; padding: .6rem .9rem; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def html_table(table: Table, collapsed: bool = False) -> str:
    if not table.rows:
        return ""
    head = "".join(f'<th scope="col">{esc(column.replace("_", " "))}</th>' for column in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for column, value in zip(table.columns, row):
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?%?", value or "") is not None)
            css = ' class="number"' if numeric else (' class="message"' if column in table.free_text_columns else "")
            cells.append(f"<td{css}>{esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    markup = (
        f"<table><caption>{esc(table.caption)} <span class=\"note\">({esc(table.name)}.csv)</span></caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
    if collapsed:
        return f"<details><summary>The figures as a table ({len(table.rows)} rows)</summary>{markup}</details>"
    return markup


def html_chart(chart: Chart, caption: str) -> str:
    data_uri = "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
    return f'<figure><img src="{data_uri}" alt="{esc(chart.alt)}"><figcaption>{esc(caption)}</figcaption></figure>'


def empty(message: str) -> str:
    return f'<p class="empty">{esc(message)}</p>'


@dataclass
class Report:
    html: str
    tables: list[Table]


def build(data: Data, free_text: bool, since: datetime | None, now: datetime) -> Report:
    questions = question_tables(data)
    checks = health_check_tables(data)
    feedback = feedback_tables(data, free_text)
    unclear, groups = not_understood_tables(data, free_text)
    total_questions = sum(data.questions.values())
    parts: list[str] = []

    period = f"what happened since {since.strftime('%Y-%m-%d %H:%M')} UTC" if since else "everything in the stores"
    privacy = (
        "Free text is included only where it is needed: messages the advisor did not understand and comments left with feedback."
        if free_text
        else "Free text is left out (--no-free-text): no message or comment text appears; only counts."
    )
    parts.append(
        f"<header><h1>Partnership Advisor: insight report</h1>"
        f'<p class="meta">Generated {esc(now.strftime("%Y-%m-%d %H:%M"))} UTC, covering {esc(period)}. '
        "No sender ids or conversation keys appear in this report or its CSV files. "
        f"{esc(privacy)}</p></header>"
    )
    notes = []
    if not data.tracker_found:
        notes.append("There is no tracker store yet: nobody has talked to the advisor on this installation.")
    if not data.knowledge_found:
        notes.append("There is no knowledge store yet: run `make load` to load the content.")
    if notes:
        parts.append(empty(" ".join(notes)))
    parts.append(
        '<nav aria-label="Contents"><ul>'
        '<li><a href="#questions">Questions</a></li><li><a href="#health-check">Health checks</a></li>'
        '<li><a href="#feedback">Feedback on advice</a></li><li><a href="#not-understood">Not understood</a></li></ul></nav>'
    )
    stats = [
        (total_questions, "questions on challenges and topics"),
        (len(data.not_understood), "messages not understood"),
        (len(data.health_checks), "health checks completed"),
        (len(data.votes), "feedback votes"),
    ]
    parts.append('<ul class="summary">' + "".join(f"<li><strong>{n}</strong>{esc(label)}</li>" for n, label in stats) + "</ul>")

    # Questions
    parts.append('<section aria-labelledby="questions"><h2 id="questions">Questions per challenge and topic</h2>')
    if total_questions:
        charts = question_charts(data, questions)
        parts.append(
            f'<p>{total_questions} questions: {data.live_questions} from conversations in the tracker store and '
            f"{data.tallied_questions} from the daily tallies kept of conversations the retention purge deleted. "
            "A question is a message recognised as one of the seven challenges or eight knowledge topics "
            "(typed or a button); answers to the health check and feedback comments are not counted.</p>"
        )
        parts.append(html_chart(charts[0], "Questions per challenge and knowledge topic."))
        parts.append(html_table(questions[0], collapsed=True))
        parts.append("<h3>Over time</h3>" + html_chart(charts[1], "Questions per week, by challenge and topic."))
        parts.append(html_table(questions[1], collapsed=True))
        parts.append(
            "<h3>By sector and role</h3><p>The sector and role people told the advisor (by the end of their conversation); "
            "\u201cNot known\u201d when they did not say.</p>" + html_chart(charts[2], "Questions by sector and by role.")
        )
        parts.append(html_table(questions[2], collapsed=True))
    else:
        parts.append(empty("No questions yet. Once people ask the advisor about partnership challenges or topics, they are counted here."))
    parts.append("</section>")

    # Health checks
    parts.append('<section aria-labelledby="health-check"><h2 id="health-check">Partnership health checks</h2>')
    if data.health_checks:
        charts = health_check_charts(checks)
        parts.append(
            f"<p>{len(data.health_checks)} completed health checks. Each scores every challenge from 1 (not a problem) "
            f"to 5 (a serious problem), or skips it; challenges scoring {PRESSING} or more are the person\u2019s most pressing "
            "(up to three, highest first), as the advisor told them.</p>"
        )
        if charts:
            parts.append(html_chart(charts[0], f"Average score per challenge; the dashed line marks {PRESSING}, from which a challenge counts as pressing."))
        parts.append(html_table(checks[0]))
        if len(charts) > 1:
            parts.append("<h3>The most common top challenges</h3>" + html_chart(charts[1], "How often each challenge was among the three most pressing."))
        parts.append(html_table(checks[1]))
    else:
        parts.append(empty("No health checks completed yet. People start one by saying \u201ccheck our partnership\u201d."))
    parts.append("</section>")

    # Feedback
    parts.append('<section aria-labelledby="feedback"><h2 id="feedback">Feedback on advice</h2>')
    if data.votes:
        charts = feedback_charts(data)
        parts.append(
            f"<p>{len(data.votes)} votes. \u201cThis helped\u201d and \u201cNot helpful\u201d are about one answer, "
            "so each vote counts for every advice item in it.</p>"
        )
        parts.append(html_chart(charts[0], "Helpful rate per advice item, lowest first (up to 25 items)."))
        parts.append(html_table(feedback[0], collapsed=True))
        parts.append("<h3>The least helpful items</h3>")
        worst = least_helpful(item_votes(data))
        if worst:
            parts.append(html_table(feedback[1]))
            if free_text:
                parts.append("<h3>Their comments</h3>")
                commented = [i for i in worst if i.comments]
                if commented:
                    for item in commented:
                        parts.append(f"<h4>{esc(advice_title(data, item.advice_id))}</h4><ul>")
                        parts.extend(
                            f'<li><span class="message">{esc(comment)}</span> <span class="note">({"helpful" if helpful else "not helpful"})</span></li>'
                            for helpful, comment in item.comments
                        )
                        parts.append("</ul>")
                else:
                    parts.append(empty("No comments were left on these items."))
            else:
                parts.append('<p class="note">Comments are left out of this report (--no-free-text).</p>')
        else:
            parts.append(empty("Every item with feedback was found helpful."))
    else:
        parts.append(empty("No feedback yet. People give it with \u201cThis helped\u201d or \u201cNot helpful\u201d under an answer."))
    parts.append("</section>")

    # Not understood
    parts.append('<section aria-labelledby="not-understood"><h2 id="not-understood">Messages the advisor did not understand</h2>')
    if data.not_understood:
        parts.append(
            f"<p>{len(data.not_understood)} messages ended in the fallback (the advisor asked \u201cDid you mean ...?\u201d "
            "or said it did not understand). Messages that were answered as two problems at once, answers to the "
            "health check and feedback comments are not included.</p>"
        )
        parts.append(html_table(unclear[0]))
        if free_text:
            parts.append(
                f"<h3>Grouped by similarity</h3><p>{len(groups)} groups, largest first: the list to turn into new training "
                "examples. <em>Best guess</em> is the intent the language model found most likely; <em>then chose</em> "
                "is the topic the person picked from \u201cDid you mean ...?\u201d, when they did.</p><ol>"
            )
            for group in groups:
                examples = "".join(
                    f'<li><span class="message">{esc(text)}</span>' + (f" <span class=\"note\">(\u00d7{times})</span>" if times > 1 else "") + "</li>"
                    for text, times in group.examples[:GROUP_EXAMPLES]
                )
                more = len(group.examples) - GROUP_EXAMPLES
                hints = []
                if group.guesses:
                    hints.append(f"best guess: {title_of(data, _top(group.guesses))} ({_top(group.guesses)})")
                if group.chosen:
                    hints.append(f"then chose: {title_of(data, _top(group.chosen))} ({_top(group.chosen)})")
                parts.append(
                    f"<li><strong>{group.size} message{'s' if group.size != 1 else ''}</strong>"
                    + (f' <span class="note">{esc("; ".join(hints))}</span>' if hints else "")
                    + f"<ul>{examples}</ul>"
                    + (f'<p class="note">and {more} more in not_understood.csv</p>' if more > 0 else "")
                    + "</li>"
                )
            parts.append("</ol>")
        else:
            parts.append('<p class="note">The messages themselves are left out of this report (--no-free-text).</p>')
    else:
        parts.append(empty("Nothing the advisor did not understand yet."))
    parts.append("</section>")

    parts.append(
        '<footer><p class="note">Made by <code>make report</code> (scripts/report.py) from the tracker store and the knowledge '
        "store. The same figures are in the CSV files beside this page.</p></footer>"
    )
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>Partnership Advisor insight report, {esc(now.strftime('%Y-%m-%d'))}</title>"
        f"<style>{CSS}</style></head><body><main>" + "\n".join(parts) + "</main></body></html>\n"
    )
    return Report(document, questions + checks + feedback + unclear)


def write(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(table, out) for table in report.tables]
    names = {table.name for table in report.tables}
    for stale in ("least_helpful_comments", "not_understood"):  # from an earlier run with free text
        if stale not in names:
            (out / f"{stale}.csv").unlink(missing_ok=True)
    page = out / "report.html"
    page.write_text(report.html, encoding="utf-8")
    return [page] + written


def parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date or date and time (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {value!r}") from error
    return _utc(moment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for report.html and the CSV files (default: results/report)")
    parser.add_argument("--no-free-text", action="store_true", help="leave out the not-understood messages and feedback comments")
    parser.add_argument("--since", type=parse_since, help="only what happened from this date (UTC), e.g. 2025-01-01; purged tallies count whole days")
    parser.add_argument("--tracker-db", help="tracker store URL (default: TRACKER_STORE_URL, else the launcher's var/tracker.db)")
    parser.add_argument("--knowledge-db", help="knowledge store URL (default: KNOWLEDGE_DB_URL, else var/knowledge.db)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    tracker_url = _normalise(args.tracker_db) if args.tracker_db else tracker_store_url()
    knowledge_url = _normalise(args.knowledge_db) if args.knowledge_db else settings.knowledge_db_url()
    try:
        data = read_stores(tracker_url, knowledge_url, args.since)
    except StoreError as error:
        print(f"No report written. {error}", file=sys.stderr)
        return 2
    report = build(data, free_text=not args.no_free_text, since=args.since, now=datetime.now(timezone.utc))
    files = write(report, args.out)
    print(
        f"Insight report written to {files[0]} with {len(files) - 1} CSV files in {time.monotonic() - started:.1f} s: "
        f"{sum(data.questions.values())} questions, {len(data.not_understood)} not understood, "
        f"{len(data.health_checks)} health checks, {len(data.votes)} feedback votes."
        + ("" if data.tracker_found else " (No tracker store yet.)")
        + ("" if data.knowledge_found else " (No knowledge store yet.)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
