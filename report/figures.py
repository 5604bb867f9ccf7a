"""The figures of the report, as tables: each is one CSV file and one table in the page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from actions.health_check import PRESSING
from actions.vocabulary import CHALLENGES, QUESTION_INTENTS, ROLE_LABELS, SECTORS, TOPIC_BUTTON_TITLES
from report.groups import Group, not_understood_groups
from report.read import Data

NOT_KNOWN = "not known"
LEAST_HELPFUL = 10


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
                    by_context.items(),
                    key=lambda item: (item[0][0] == "", item[0][0], item[0][1] == "", item[0][1], order[item[0][2]]),
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
        pressing = sorted((c for c, s in answered.items() if s >= PRESSING), key=lambda c: (-answered[c], _challenge_order(c)))[
            :3
        ]
        if pressing:
            most_pressing[pressing[0]] += 1
        in_top_three.update(pressing)
    challenges = list(CHALLENGES) + sorted({c for check in data.health_checks for c in check.scores} - set(CHALLENGES))
    for challenge in challenges:
        scores = [check.scores.get(challenge) for check in data.health_checks if challenge in check.scores]
        given = [s for s in scores if s is not None]
        rows.append(
            [
                challenge,
                title_of(data, challenge),
                len(given),
                len(scores) - len(given),
                f"{sum(given) / len(given):.2f}" if given else "",
            ]
            + [given.count(score) for score in range(1, 6)]
        )
    top = [
        [c, title_of(data, c), most_pressing[c], in_top_three[c], percent(in_top_three[c], len(data.health_checks))]
        for c in sorted(challenges, key=lambda c: (-in_top_three[c], -most_pressing[c], _challenge_order(c)))
    ]
    return [
        Table(
            "health_check_averages",
            f"Health check: average score per challenge (1 = not a problem, 5 = a serious problem), {len(data.health_checks)} completed checks",
            [
                "challenge_id",
                "title",
                "answered",
                "skipped",
                "average_score",
                "scored_1",
                "scored_2",
                "scored_3",
                "scored_4",
                "scored_5",
            ],
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
        [
            i.advice_id,
            advice_title(data, i.advice_id),
            advice_challenge(data, i.advice_id),
            i.votes,
            i.helpful,
            i.votes - i.helpful,
            f"{i.rate:.2f}",
            len(i.comments),
        ]
        for i in sorted(
            items,
            key=lambda i: (
                _challenge_order(advice_challenge(data, i.advice_id)),
                order.get(i.advice_id, len(order)),
                i.advice_id,
            ),
        )
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
            [
                [
                    i.advice_id,
                    advice_title(data, i.advice_id),
                    advice_challenge(data, i.advice_id),
                    i.votes,
                    f"{i.rate:.2f}",
                    len(i.comments),
                ]
                for i in worst
            ],
        ),
    ]
    if free_text:
        tables.append(
            Table(
                "least_helpful_comments",
                "Comments left on the least helpful items (a comment is about the whole answer it followed)",
                ["advice_id", "title", "vote", "comment"],
                [
                    [i.advice_id, advice_title(data, i.advice_id), "helpful" if helpful else "not helpful", comment]
                    for i in worst
                    for helpful, comment in i.comments
                ],
                free_text_columns=("comment",),
            )
        )
    return tables


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
                    [number, group.size, text, times, most_common(group.guesses), most_common(group.chosen)]
                    for number, group in enumerate(groups, start=1)
                    for text, times in group.examples
                ],
                free_text_columns=("message",),
            )
        )
    return tables, groups


def most_common(counter: Counter) -> str:
    """The most frequent key, or "" for an empty counter."""
    return counter.most_common(1)[0][0] if counter else ""
