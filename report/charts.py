"""The report's charts: matplotlib (Agg) bar charts as PNG bytes, each with a text
alternative that states the figures it shows."""

from __future__ import annotations

import io
import textwrap
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from actions.health_check import PRESSING
from actions.vocabulary import QUESTION_INTENTS
from report.figures import Table, advice_title, item_votes, role_label, sector_label, title_of
from report.read import Data

UNKNOWN_GREY = "#6b6b6b"  # 5:1 on white
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")  # Okabe-Ito


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


def barh(
    labels: list[str],
    values: list[float],
    colours: list[str],
    xlabel: str,
    notes: list[str] | None = None,
    xlim: float | None = None,
):
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
    for position, value, note in zip(positions, values, notes or [f"{v:g}" for v in values], strict=False):
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

    figure.axes[0].legend(
        handles=[Patch(color=PALETTE[0], label="Challenge"), Patch(color=PALETTE[1], label="Knowledge topic")], loc="lower right"
    )
    charts.append(
        Chart(
            _save(figure),
            "Bar chart of questions per challenge and knowledge topic. Most asked: " + _highest((r[2], r[3]) for r in rows) + ".",
        )
    )

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
            bottoms = [b + c for b, c in zip(bottoms, counts, strict=False)]
    axes.set_ylabel("Questions")
    axes.set_xlabel("Week starting")
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_xlim(-0.6, max(len(weeks), 6) - 0.4)  # a few weeks do not make wide bars
    axes.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    if len(weeks) > 8:
        axes.tick_params(axis="x", labelrotation=45)
        step = -(-len(weeks) // 20)  # at most 20 labels
        axes.set_xticks(range(0, len(weeks), step), weeks[::step])
    charts.append(
        Chart(
            _save(figure),
            f"Stacked bar chart of questions per week by challenge and topic, {len(weeks)} week(s) from {weeks[0]} to {weeks[-1]}; "
            f"the busiest week: {weeks[bottoms.index(max(bottoms))]} with {max(bottoms)} questions.",
        )
    )

    sectors: Counter = Counter()
    roles: Counter = Counter()
    for (_, _, sector, role), count in data.questions.items():
        sectors[sector_label(sector)] += count
        roles[role_label(role)] += count
    figure, (left, right) = plt.subplots(1, 2, figsize=(8.5, 0.4 * max(len(sectors), len(roles)) + 1.6))
    for axes, tally, name, colour in ((left, sectors, "Sector", PALETTE[2]), (right, roles, "Role", PALETTE[4])):
        labels = sorted(tally, key=lambda label: (label == "Not known", -tally[label], label))
        axes.barh(
            range(len(labels)),
            [tally[label] for label in labels],
            color=[UNKNOWN_GREY if label == "Not known" else colour for label in labels],
        )
        axes.set_yticks(list(range(len(labels))), [_wrap(label, 22) for label in labels])
        axes.invert_yaxis()
        axes.set_title(f"By {name.lower()}")
        axes.set_xlabel("Questions")
        axes.xaxis.set_major_locator(_integer_ticks())
    charts.append(
        Chart(
            _save(figure),
            "Two bar charts of questions by the person's sector and by their role. Sectors: "
            + _highest(sectors.items(), 9)
            + ". Roles: "
            + _highest(roles.items(), 6)
            + ".",
        )
    )
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
    charts = [
        Chart(
            _save(figure),
            "Bar chart of the average health-check score per challenge; highest: "
            + _highest(((r[1], float(r[4])) for r in rows), unit="/5")
            + ".",
        )
    ]
    rows = [r for r in top.rows if r[3]]
    if rows:
        figure = barh(
            [r[1] for r in rows],
            [r[3] for r in rows],
            [PALETTE[3]] * len(rows),
            "Health checks with the challenge in their top three",
            notes=[f"{r[3]} ({r[2]} as the most pressing)" for r in rows],
        )
        charts.append(
            Chart(
                _save(figure),
                "Bar chart of how often each challenge was among a health check's three most pressing: "
                + _highest((r[1], r[3]) for r in rows)
                + ".",
            )
        )
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
    return [
        Chart(
            _save(figure),
            f"Bar chart of the helpful rate of the {len(items)} advice items with the lowest rate; lowest: {lowest}.",
        )
    ]
