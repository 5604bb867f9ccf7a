"""Rendering the report page: the figures and charts go into templates/report.html.j2 (Jinja2,
autoescaped, because messages and comments are people's own words) and the stylesheet beside it
is inlined, so the page stays one self-contained file."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from actions.health_check import PRESSING
from report.charts import Chart, feedback_charts, health_check_charts, question_charts
from report.figures import (
    Table,
    advice_title,
    feedback_tables,
    health_check_tables,
    item_votes,
    least_helpful,
    most_common,
    not_understood_tables,
    question_tables,
    title_of,
)
from report.groups import Group
from report.read import Data

TEMPLATES = Path(__file__).resolve().parent / "templates"
GROUP_EXAMPLES = 5  # messages shown per group on the page; the CSV has them all
NUMBER = re.compile(r"\d+(\.\d+)?%?")


@dataclass
class Report:
    html: str
    tables: list[Table]


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # never off: the page shows free text typed by anyone
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def stylesheet() -> Markup:
    return Markup((TEMPLATES / "report.css").read_text(encoding="utf-8").strip())


def is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        or (isinstance(value, str) and NUMBER.fullmatch(value) is not None)
    )


def table_view(table: Table) -> dict[str, Any]:
    """A table as the template shows it: readable headings, and per cell its CSS class and value."""

    def cell(column: str, value: Any) -> tuple[str, Any]:
        css = "number" if is_number(value) else ("message" if column in table.free_text_columns else "")
        return css, "" if value is None else value

    return {
        "name": table.name,
        "caption": table.caption,
        "head": [column.replace("_", " ") for column in table.columns],
        "rows": [[cell(column, value) for column, value in zip(table.columns, row, strict=False)] for row in table.rows],
    }


def chart_view(chart: Chart, caption: str) -> dict[str, str]:
    return {"uri": "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii"), "alt": chart.alt, "caption": caption}


def group_view(data: Data, group: Group) -> dict[str, Any]:
    hints = []
    if group.guesses:
        hints.append(f"best guess: {title_of(data, most_common(group.guesses))} ({most_common(group.guesses)})")
    if group.chosen:
        hints.append(f"then chose: {title_of(data, most_common(group.chosen))} ({most_common(group.chosen)})")
    return {
        "size": group.size,
        "hints": "; ".join(hints),
        "examples": group.examples[:GROUP_EXAMPLES],
        "more": len(group.examples) - GROUP_EXAMPLES,
    }


def build(data: Data, free_text: bool, since: datetime | None, now: datetime) -> Report:
    questions = question_tables(data)
    checks = health_check_tables(data)
    feedback = feedback_tables(data, free_text)
    unclear, groups = not_understood_tables(data, free_text)
    total_questions = sum(data.questions.values())

    notes = []
    if not data.tracker_found:
        notes.append("There is no tracker store yet: nobody has talked to the advisor on this installation.")
    if not data.knowledge_found:
        notes.append("There is no knowledge store yet: run `make load` to load the content.")
    context: dict[str, Any] = {
        "css": stylesheet(),
        "day": now.strftime("%Y-%m-%d"),
        "generated": now.strftime("%Y-%m-%d %H:%M"),
        "period": f"what happened since {since.strftime('%Y-%m-%d %H:%M')} UTC" if since else "everything in the stores",
        "privacy": (
            "Free text is included only where it is needed: messages the advisor did not understand and comments left with feedback."
            if free_text
            else "Free text is left out (--no-free-text): no message or comment text appears; only counts."
        ),
        "notes": " ".join(notes),
        "stats": [
            (total_questions, "questions on challenges and topics"),
            (len(data.not_understood), "messages not understood"),
            (len(data.health_checks), "health checks completed"),
            (len(data.votes), "feedback votes"),
        ],
        "free_text": free_text,
        "pressing": PRESSING,
        "questions": None,
        "checks": None,
        "feedback": None,
        "unclear": None,
    }
    if total_questions:
        charts = question_charts(data, questions)
        captions: tuple[str, ...] = (
            "Questions per challenge and knowledge topic.",
            "Questions per week, by challenge and topic.",
            "Questions by sector and by role.",
        )
        context["questions"] = {
            "total": total_questions,
            "live": data.live_questions,
            "tallied": data.tallied_questions,
            "charts": [chart_view(chart, caption) for chart, caption in zip(charts, captions, strict=False)],
            "tables": [table_view(table) for table in questions],
        }
    if data.health_checks:
        charts = health_check_charts(checks)
        captions = (
            f"Average score per challenge; the dashed line marks {PRESSING}, from which a challenge counts as pressing.",
            "How often each challenge was among the three most pressing.",
        )
        context["checks"] = {
            "count": len(data.health_checks),
            "charts": [chart_view(chart, caption) for chart, caption in zip(charts, captions, strict=False)],
            "tables": [table_view(table) for table in checks],
        }
    if data.votes:
        charts = feedback_charts(data)
        worst = least_helpful(item_votes(data))
        context["feedback"] = {
            "votes": len(data.votes),
            "charts": [chart_view(chart, "Helpful rate per advice item, lowest first (up to 25 items).") for chart in charts],
            "tables": [table_view(table) for table in feedback],
            "any_unhelpful": bool(worst),
            "commented": [(advice_title(data, item.advice_id), item.comments) for item in worst if item.comments],
        }
    if data.not_understood:
        context["unclear"] = {
            "count": len(data.not_understood),
            "tables": [table_view(table) for table in unclear],
            "groups": [group_view(data, group) for group in groups],
        }
    page = environment().get_template("report.html.j2").render(context)
    return Report(page, questions + checks + feedback + unclear)
