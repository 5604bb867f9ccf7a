"""The bench's statistics, targets and report writing (tools/bench.py), without servers."""

from __future__ import annotations

import json
import random

import numpy
import pytest

from tools.bench import Result, conversation, percentile, summarise, targets, write_report


@pytest.mark.parametrize("q", [0, 50, 95, 99, 100])
def test_percentile_matches_numpy(q: float) -> None:
    values = [random.Random(q).uniform(1, 500) for _ in range(37)]
    assert percentile(values, q) == pytest.approx(numpy.percentile(values, q))


def test_percentile_of_small_samples() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # unsorted input, interpolated median


def test_summary_counts_errors_apart_from_latency() -> None:
    results = [Result("advice", ms) for ms in (10, 20, 30)] + [
        Result("advice", 30000, error="no reply within 30 s"),
        Result("greet", 5, off_script=True),
    ]
    summary = summarise(results, seconds=2.0)
    advice = summary["by_type"]["advice"]
    assert advice["turns"] == 4 and advice["errors"] == 1
    assert advice["p50_ms"] == 20 and advice["p99_ms"] < 30.1  # the failed turn's 30 s is not a latency
    assert summary["all"]["off_script"] == 1
    assert summary["turns_per_second"] == 2.0  # answered turns only
    assert summary["error_messages"] == ["no reply within 30 s"]


def bot(advice_p50: float, c50_p95: float, c50_tps: float, errors: int = 0, **extra) -> dict:
    """A bot's measured figures: concurrency 1 with three advice turns, concurrency 50 as given."""
    c50 = summarise([Result("greet", c50_p95)] * 3 + [Result("greet", 0, error="HTTP 500")] * errors, 3 / c50_tps)
    return {"model": "m.tar.gz", "levels": {"1": summarise([Result("advice", advice_p50)] * 3, 1.0), "50": c50}, **extra}


def test_targets_are_judged_against_the_limits_and_the_default_bot() -> None:
    ours = bot(20, 400, 30, training_seconds=90, startup_seconds=20, peak_mb={"rasa": 900, "actions": 100})
    default = bot(50, 900, 10)
    verdicts = {t["target"]: t["met"] for t in targets(ours, default)}
    assert all(verdicts.values()), verdicts

    slow = bot(60, 600, 12, errors=2, training_seconds=200, startup_seconds=40, peak_mb={"rasa": 1500})
    verdicts = {t["target"]: t["met"] for t in targets(slow, default)}
    assert not any(verdicts.values()), verdicts
    assert all(t["met"] is None for t in targets(ours, None) if "default" in t["target"])


def test_report_is_written_as_markdown_and_json(tmp_path) -> None:
    ours = bot(20, 400, 30, training_seconds=90, startup_seconds=20, peak_mb={"rasa": 900, "actions": 100})
    default = bot(50, 900, 10, training_seconds=150, startup_seconds=30, peak_mb={"rasa": 1100, "actions": 100})
    report = {"started": "now", "machine": {"cpus": 2, "load_before": [1, 1, 1]}, "levels": [[1, 1, 1]],
              "bots": {"ours": ours, "default": default}, "targets": targets(ours, default)}
    md, js = write_report(report, tmp_path)
    text = md.read_text()
    assert "| concurrency 1: advice turn p50, ms | 20 | 50 | 0.40 |" in text  # ours, default, ratio
    assert "- met: training <= 2 minutes (measured: 90)" in text
    assert "## Default config (rasa init): latency per turn type" in text
    assert json.loads(js.read_text())["bots"]["ours"]["startup_seconds"] == 20


def test_conversations_reach_advice_and_the_health_check_result_within_their_turns() -> None:
    advice = conversation(0)
    assert [t.kind for t in advice[:3]] == ["greet", "context", "advice"]  # sector first: advice comes at once
    health = conversation(1)[:8]  # the 50-conversation level's bound
    assert health[0].kind == "health_start" and health[-1].expect == "Most pressing"


def test_long_conversation_cycles_the_turns_and_growth_compares_the_first_and_last_ten() -> None:
    from tools.bench import growth, long_conversation

    turns = long_conversation(200)
    assert len(turns) == 200 and turns[0].kind == "context"
    assert [t.kind for t in turns[1:6]] == ["advice", "more", "knowledge", "advice", "thanks"]
    assert len({t.message for t in turns if t.kind == "advice"}) > 3  # different challenges over the conversation
    figures = growth([500.0] + [10.0] * 189 + [13.0] * 10)  # turn 1 (the session start) is left out
    assert figures["first_p50_ms"] == 10.0 and figures["last_p50_ms"] == 13.0 and figures["ratio"] == pytest.approx(1.3)


def test_growth_by_kind_compares_like_with_like() -> None:
    """Cheap and dear turns mixed differently at the two ends are not growth; one kind that slows is."""
    from tools.bench import Result, growth_by_kind

    def turns(thanks_ms: float, advice_ms: float) -> list[Result]:
        return [Result("thanks" if i % 2 else "advice", thanks_ms if i % 2 else advice_ms, "", False) for i in range(100)]

    flat = [Result("context", 50.0, "", False)] + turns(5.0, 12.0) + turns(5.0, 12.0)[1:] + [Result("advice", 12.0, "", False)]
    assert growth_by_kind(flat) == 1.0
    slowing = [Result("context", 50.0, "", False)] + turns(5.0, 12.0) + turns(10.0, 12.0)
    assert growth_by_kind(slowing) == 2.0
    assert growth_by_kind(flat[:30]) is None  # too short for two windows worth comparing


def test_long_conversation_and_burst_targets_are_judged() -> None:
    from tools.bench import growth_targets

    ours = bot(20, 400, 30, training_seconds=90, startup_seconds=20, peak_mb={"rasa": 900, "actions": 100})
    ours["long"] = {"200": {"ratio": 1.2}, "1000": {"ratio": 1.6}}
    ours["burst"] = summarise([Result("advice", 100.0)] * 20, 1.0)
    verdicts = {t["target"]: t["met"] for t in growth_targets(ours)}
    assert verdicts["200-turn conversation: last ten turns' p50 <= 1.3x turns 2-11's"] is True
    assert verdicts["1,000-turn conversation: last ten turns' p50 <= 1.5x turns 2-11's"] is False
    assert verdicts["50 conversations starting together: p95 <= 500 ms"] is True
    assert verdicts["50 conversations starting together: zero errors"] is True
    assert "200-turn conversation: last ten / turns 2-11" in __import__("tools.bench", fromlist=["markdown"]).markdown(
        {"started": "now", "machine": {"cpus": 2, "load_before": [0]}, "levels": [], "bots": {"ours": ours}, "targets": growth_targets(ours)})


def test_repeated_bursts_are_each_reported() -> None:
    from tools.bench import burst_spread, markdown

    ours = bot(20, 400, 30, training_seconds=90, startup_seconds=20, peak_mb={"rasa": 900, "actions": 100})
    ours["bursts"] = [summarise([Result("advice", ms)] * 20, 1.0) for ms in (400.0, 450.0, 600.0)]
    ours["burst"] = ours["bursts"][0]
    spread = burst_spread(ours)
    assert spread is not None
    assert spread["p95_ms"] == [400.0, 450.0, 600.0] and spread["median_p95_ms"] == 450.0 and spread["met"] == 2
    assert "3 bursts, each p95, ms | 400, 450, 600 (median 450; 2 of 3 <= 500 ms; 0 errors)" in markdown(
        {"started": "now", "machine": {"cpus": 2, "load_before": [0]}, "levels": [], "bots": {"ours": ours}, "targets": []})
