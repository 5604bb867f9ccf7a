"""The partnership health check: scoring answers, re-asking, the result, and what is stored."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.health_check import SLOTS, ActionHealthCheckIntro, ActionHealthCheckResult, ValidateHealthCheckForm, parse_score
from actions.store.db import make_engine, make_session_factory
from actions.store.models import HealthCheckResult
from actions.store.records import Recorder, conversation_key
from tests.conftest import make_tracker


@pytest.mark.parametrize(
    "answer,score",
    [("4", 4), ("four", 4), ("quite a lot", 4), ("5 - a serious problem", 5), ("1", 1), ("not at all", 1),
     ("a little", 2), ("somewhat", 3), ("skip", "skipped"), ("not sure", "skipped"), ("banana", None), ("7", None), ("", None)],
)
def test_answers_are_scored_or_refused(answer, score) -> None:
    assert parse_score(answer) == score


async def test_an_answer_that_is_not_a_score_is_re_asked(domain) -> None:
    form = ValidateHealthCheckForm()
    dispatcher = CollectingDispatcher()
    assert form.validate_hc_time("purple", dispatcher, make_tracker("inform"), domain) == {"hc_time": None}
    assert "from 1 (not a problem) to 5 (a serious problem)" in dispatcher.messages[0]["text"]
    assert form.validate_hc_time("quite a lot", CollectingDispatcher(), make_tracker("inform"), domain) == {"hc_time": "4"}


async def test_intro_says_where_a_paused_check_resumes(domain) -> None:
    dispatcher = CollectingDispatcher()
    await ActionHealthCheckIntro().run(dispatcher, make_tracker("start_health_check", slots={"hc_competition": "2", "hc_authority": "skipped"}), domain)
    assert "2 of 7 questions answered" in dispatcher.messages[0]["text"]


def stored_results(url: str) -> list[HealthCheckResult]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = session.scalars(select(HealthCheckResult)).all()
        for row in rows:
            _ = row.scores  # load before the session closes
    engine.dispose()
    return rows


async def test_result_names_pressing_challenges_with_advice_and_is_stored(knowledge_cache, recorder, sqlite_url, domain) -> None:
    scores = {"hc_competition": "1", "hc_authority": "5", "hc_purpose": "2", "hc_communication": "4",
              "hc_funding": "skipped", "hc_culture_clash": "3", "hc_time": "2"}
    tracker = make_tracker("affirm", slots={**scores, "sector": "health"}, sender="hc-person")
    dispatcher = CollectingDispatcher()
    events = await ActionHealthCheckResult().run(dispatcher, tracker, domain)
    text = dispatcher.messages[0]["text"]
    pressing = text.split("Most pressing for your partnership:")[1].split("Strengths")[0]
    assert pressing.index("Authority (5/5)") < pressing.index("Communication (4/5)") < pressing.index("Culture clash (3/5)")
    assert pressing.count("Try: ") == 3
    assert "Strengths (scored 1 or 2): Competition between organisations, Purpose, Time." in text
    assert "Skipped: Funding." in text
    slots = {e["name"]: e["value"] for e in events}
    assert all(slots[s] is None for s in SLOTS)  # a new check starts afresh
    assert len(slots["advice_given"]) == 3 and slots["current_challenge"] == "challenge_authority"

    [row] = stored_results(sqlite_url)
    assert row.conversation_key == conversation_key("hc-person") != "hc-person"
    assert row.sector == "health"
    assert {s.challenge_id: s.score for s in row.scores} == {
        "challenge_competition": 1, "challenge_authority": 5, "challenge_purpose": 2, "challenge_communication": 4,
        "challenge_funding": None, "challenge_culture_clash": 3, "challenge_time": 2,
    }


async def test_records_are_stored_on_sqlite_and_postgresql(store_url, tmp_path) -> None:
    recorder = Recorder(url=store_url, spool=tmp_path / "spool.jsonl")
    assert await recorder.save("health_check", {"conversation_key": "k1", "scores": {"challenge_time": 4, "challenge_purpose": None}, "sector": "pharmacy"})
    assert await recorder.save("feedback", {"conversation_key": "k1", "challenge_id": "challenge_time", "helpful": False, "advice_ids": ["a", "b"]})
    assert await recorder.save("feedback_comment", {"conversation_key": "k1", "comment": "too generic"})
    [row] = stored_results(store_url)
    assert {s.challenge_id: s.score for s in row.scores} == {"challenge_time": 4, "challenge_purpose": None}

    from actions.store.models import Feedback

    engine = make_engine(store_url)
    with make_session_factory(engine)() as session:
        [feedback] = session.scalars(select(Feedback)).all()
        assert (feedback.helpful, feedback.comment, sorted(i.advice_id for i in feedback.items)) == (False, "too generic", ["a", "b"])
    engine.dispose()


async def test_nothing_is_lost_while_the_database_is_down(tmp_path, sqlite_url) -> None:
    spool = tmp_path / "spool.jsonl"
    down = Recorder(url="postgresql://nobody@127.0.0.1:9/none", spool=spool)  # port 9: nothing listens
    assert not await down.save("health_check", {"conversation_key": "k2", "scores": {"challenge_time": 5}})
    assert spool.exists()
    back = Recorder(url=sqlite_url, spool=spool)  # the database is reachable again
    assert await back.save("health_check", {"conversation_key": "k3", "scores": {"challenge_time": 1}})
    assert not spool.exists()
    assert sorted(r.conversation_key for r in stored_results(sqlite_url)) == ["k2", "k3"]
