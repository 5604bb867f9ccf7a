"""The partnership health check: scoring answers, re-asking, the result, and what is stored."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.health_check import (
    QUESTION_NAMES,
    SLOTS,
    ActionHealthCheckIntro,
    ActionHealthCheckResult,
    ActionScoreOutsideCheck,
    ValidateHealthCheckForm,
    asks_for_the_check,
    parse_score,
    resumes_paused_check,
)
from actions.store.db import make_engine, make_session_factory
from actions.store.models import HealthCheckResult
from actions.store.records import Recorder, conversation_key
from tests.conftest import RunningAdvisor, make_tracker
from tests.conftest import run_action as run
from tests.servers import rest_id, say, sender, texts


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


async def test_thanks_during_the_check_is_welcomed_and_the_question_asked_again(domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("thank", text="cheers pal")
    assert ValidateHealthCheckForm().validate_hc_purpose("cheers pal", dispatcher, tracker, domain) == {"hc_purpose": None}
    assert [m["text"] for m in dispatcher.messages] == ["You're welcome."]


@pytest.mark.parametrize(
    "intent,text,pauses",
    [
        ("ask_practice_question", "is there a regional body I should raise it with", True),
        ("inform", "I'm deputy head at a secondary school", True),
        ("ask_why", "why would that help though", True),
        # The challenge being scored, told in words, is an answer: asked again, not a pause.
        ("challenge_time", "everything takes forever", False),
        ("nlu_fallback", "purple", False),
    ],
)
async def test_a_question_during_the_check_pauses_it(intent, text, pauses, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent, text=text, ranking=[(intent, 0.8)])
    validated = ValidateHealthCheckForm().validate_hc_time(text, dispatcher, tracker, domain)
    assert validated == ({"hc_time": None, "requested_slot": None} if pauses else {"hc_time": None})
    assert dispatcher.messages[0]["text"].startswith("I've paused the health check" if pauses else "Sorry, I didn't catch a score")


async def test_a_paused_check_hands_the_question_to_its_answer(domain) -> None:
    tracker = make_tracker("ask_practice_question", text="is there a regional body I should raise it with", slots={"hc_competition": "3"})
    messages, events = await run(ActionHealthCheckResult(), tracker, domain)
    assert messages == [] and events == [{"event": "followup", "timestamp": None, "name": "action_practice_answer"}]


def test_carry_on_resumes_only_a_paused_check() -> None:
    paused = {"hc_competition": "3"}
    assert resumes_paused_check(make_tracker("out_of_scope", text="carry on", slots=paused))
    assert not resumes_paused_check(make_tracker("out_of_scope", text="carry on"))  # no check begun
    assert not resumes_paused_check(make_tracker("out_of_scope", text="carry on to Leeds then book us a hotel near the station", slots=paused))


@pytest.mark.parametrize(
    "text,asks",
    [
        ("can you run the health check with me", True), ("how are we doing as a partnership", True),
        ("help me find where our partnership is weak", True), ("/start_health_check", True),
        ("I lead our partnership with the health board on hospital discharge", False),
        ("the partnership wi the health centre", False),
    ],
)
def test_the_check_starts_only_when_asked_for(text, asks) -> None:
    assert asks_for_the_check(text, resuming=False) is asks


async def test_who_someone_is_read_as_a_check_request_is_taken_as_who_they_are(domain) -> None:
    text = "I lead our partnership with the health board on hospital discharge"
    role = [{"entity": "role", "value": "lead", "start": 2, "end": 6}]
    messages, events = await run(ActionHealthCheckIntro(), make_tracker("start_health_check", text=text, entities=role), domain)
    assert messages == [] and events[-1]["name"] == "action_acknowledge_context"
    messages, events = await run(ActionHealthCheckIntro(), make_tracker("start_health_check", text="the partnership wi the health centre"), domain)
    assert messages == [] and events[-1]["name"] == "action_clarify"


async def test_answers_already_stored_are_kept_when_the_form_is_activated_again(domain) -> None:
    # Rasa validates every filled slot again when "continue the health check" re-activates
    # the form, with the stored value ("skipped", "4"), not what the person typed.
    form = ValidateHealthCheckForm()
    dispatcher = CollectingDispatcher()
    for stored in ["skipped", "1", "4", "5"]:
        assert form.validate_hc_authority(stored, dispatcher, make_tracker("start_health_check"), domain) == {"hc_authority": stored}
    assert dispatcher.messages == []


async def test_intro_says_where_a_paused_check_resumes(domain) -> None:
    dispatcher = CollectingDispatcher()
    await ActionHealthCheckIntro().run(dispatcher, make_tracker("start_health_check", slots={"hc_competition": "2", "hc_authority": "4"}), domain)
    assert dispatcher.messages[0]["text"] == "Let's carry on with the health check: 2 of 7 questions answered."


async def test_intro_names_the_skipped_questions_when_a_check_resumes(domain) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"hc_competition": "skipped", "hc_authority": "2", "hc_communication": "skipped"}
    await ActionHealthCheckIntro().run(dispatcher, make_tracker("start_health_check", slots=slots), domain)
    assert dispatcher.messages[0]["text"] == (
        "Let's carry on with the health check: 1 of 7 questions answered, 2 skipped (Competition, Communication)."
    )


def test_question_names_are_those_the_questions_start_with(domain) -> None:
    assert set(QUESTION_NAMES) == set(SLOTS)
    for slot, name in QUESTION_NAMES.items():
        assert domain["responses"][f"utter_ask_{slot}"][0]["text"].startswith(f"{name}: ")


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


async def test_the_web_chat_alone_gets_the_scores_as_data_for_its_chart(knowledge_cache, recorder, domain) -> None:
    scores = {"hc_competition": "1", "hc_authority": "5", "hc_purpose": "2", "hc_communication": "4",
              "hc_funding": "skipped", "hc_culture_clash": "3", "hc_time": "2"}
    for channel in ("rest", "slack", "cmdline", None):
        tracker = make_tracker("affirm", slots=scores)
        tracker.events[-1]["input_channel"] = channel
        dispatcher = CollectingDispatcher()
        await ActionHealthCheckResult().run(dispatcher, tracker, domain)
        assert [bool(m.get("custom")) for m in dispatcher.messages] == [False], channel  # the text alone

    tracker = make_tracker("affirm", slots=scores)
    tracker.events[-1]["input_channel"] = "socketio"
    dispatcher = CollectingDispatcher()
    await ActionHealthCheckResult().run(dispatcher, tracker, domain)
    chart, result = dispatcher.messages
    # Rasa's Socket.IO output emits a custom message as emit(event, **custom): the page gets "data".
    assert chart["custom"] == {"data": {"health_check": {"scores": [
        {"title": "Competition between organisations", "score": 1}, {"title": "Authority", "score": 5},
        {"title": "Purpose", "score": 2}, {"title": "Communication", "score": 4}, {"title": "Funding", "score": None},
        {"title": "Culture clash", "score": 3}, {"title": "Time", "score": 2},
    ]}}}
    assert chart["text"] is None and result["text"].startswith("Thanks, that's the health check done.")


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


# --- over REST, against the real Rasa server and action server -----------------------------
# `rasa test core` (tests/test_stories.yml) checks the dialogue but runs no custom action, so the
# form's validation on resuming is only seen here.

class Check:
    """One person's health check over the REST webhook."""

    def __init__(self, advisor: RunningAdvisor, prefix: str) -> None:
        self.advisor, self.me = advisor, sender(prefix)

    def say(self, message: str) -> list[dict]:
        return say(self.advisor.base_url, message, self.me)

    def answer(self, message: str, then_asked: str | None) -> list[dict]:
        """Answers the question asked; checks the next question (None: the check ends)."""
        replies = self.say(message)
        assert not any("didn't catch" in (r.get("text") or "") for r in replies), texts(replies)
        if then_asked:
            assert len(replies) == 1 and replies[0]["text"].startswith(f"{then_asked}: "), texts(replies)
        return replies

    def resume(self, expected_intro: str, then_asked: str) -> None:
        """Stops, says "continue the health check", and checks exactly what comes back."""
        assert self.say("stop")[0]["text"].startswith("Health check paused.")
        self.resume_after_pause(expected_intro, then_asked)

    def resume_after_pause(self, expected_intro: str, then_asked: str) -> None:
        replies = self.say("continue the health check")
        assert [r["text"] for r in replies][:1] == [expected_intro], texts(replies)
        assert len(replies) == 2 and replies[1]["text"].startswith(f"{then_asked}: "), texts(replies)

    def stored_scores(self) -> dict[str, int | None]:
        secret = self.advisor.env.get("PRIVACY_HASH_KEY")
        stored_as = rest_id(self.me)  # the conversation id the action server sees: "rest:<sender>"
        key = hmac.new(secret.encode(), stored_as.encode(), hashlib.sha256).hexdigest() if secret else conversation_key(stored_as)
        [row] = [r for r in stored_results(self.advisor.knowledge_url) if r.conversation_key == key]
        return {s.challenge_id: s.score for s in row.scores}


def test_a_skipped_question_stays_skipped_after_stop_and_continue(advisor: RunningAdvisor) -> None:
    check = Check(advisor, "hc-skip-stop")
    assert check.say("check our partnership")[-1]["text"].startswith("Competition: ")
    check.answer("3", then_asked="Authority")
    check.answer("skip", then_asked="Purpose")
    check.resume("Let's carry on with the health check: 1 of 7 questions answered, 1 skipped (Authority).", then_asked="Purpose")
    for answer, next_question in [("2", "Communication"), ("4", "Funding"), ("1", "Culture clash"), ("5", "Time")]:
        check.answer(answer, then_asked=next_question)
    [result] = check.answer("2", then_asked=None)
    assert "Skipped: Authority." in result["text"] and "Authority (" not in result["text"]  # no score
    assert check.stored_scores() == {
        "challenge_competition": 3, "challenge_authority": None, "challenge_purpose": 2, "challenge_communication": 4,
        "challenge_funding": 1, "challenge_culture_clash": 5, "challenge_time": 2,
    }


def test_two_skips_survive_two_pauses(advisor: RunningAdvisor) -> None:
    check = Check(advisor, "hc-two-skips")
    check.say("check our partnership")
    check.answer("skip", then_asked="Authority")
    check.resume("Let's carry on with the health check: 0 of 7 questions answered, 1 skipped (Competition).", then_asked="Authority")
    check.answer("4", then_asked="Purpose")
    check.answer("not sure", then_asked="Communication")
    check.resume(
        "Let's carry on with the health check: 1 of 7 questions answered, 2 skipped (Competition, Purpose).",
        then_asked="Communication",
    )
    for answer, next_question in [("3", "Funding"), ("2", "Culture clash"), ("5", "Time")]:
        check.answer(answer, then_asked=next_question)
    [result] = check.answer("1", then_asked=None)
    assert "Skipped: Competition between organisations, Purpose." in result["text"]
    assert check.stored_scores() == {
        "challenge_competition": None, "challenge_authority": 4, "challenge_purpose": None, "challenge_communication": 3,
        "challenge_funding": 2, "challenge_culture_clash": 5, "challenge_time": 1,
    }


def test_a_check_stopped_at_the_last_question_resumes_there(advisor: RunningAdvisor) -> None:
    check = Check(advisor, "hc-stop-last")
    check.say("check our partnership")
    for answer, next_question in [("2", "Authority"), ("3", "Purpose"), ("1", "Communication"), ("4", "Funding"),
                                  ("skip", "Culture clash"), ("2", "Time")]:
        check.answer(answer, then_asked=next_question)
    check.resume("Let's carry on with the health check: 5 of 7 questions answered, 1 skipped (Funding).", then_asked="Time")
    [result] = check.answer("5", then_asked=None)
    assert "Time (5/5)" in result["text"] and "Skipped: Funding." in result["text"]
    assert check.stored_scores() == {
        "challenge_competition": 2, "challenge_authority": 3, "challenge_purpose": 1, "challenge_communication": 4,
        "challenge_funding": None, "challenge_culture_clash": 2, "challenge_time": 5,
    }


def test_a_question_part_way_pauses_the_check_answers_it_and_the_check_resumes(advisor: RunningAdvisor) -> None:
    check = Check(advisor, "hc-question")
    check.say("can we do the partnership health check")
    check.answer("3", then_asked="Authority")
    paused, answer = check.say("is there a regional body I should raise it with")
    assert paused["text"].startswith("I've paused the health check to answer that.")
    assert answer["text"].startswith("Which body to raise it with:"), answer["text"]
    replies = check.say("continue the health check")
    assert replies[0]["text"] == "Let's carry on with the health check: 1 of 7 questions answered."
    assert replies[1]["text"].startswith("Authority: ")
    for answer_given, next_question in [("4", "Purpose"), ("2", "Communication"), ("1", "Funding"), ("5", "Culture clash"), ("3", "Time")]:
        check.answer(answer_given, then_asked=next_question)
    check.answer("2", then_asked=None)
    assert check.stored_scores()["challenge_competition"] == 3 and check.stored_scores()["challenge_authority"] == 4


def test_carry_on_after_a_pause_resumes_the_check(advisor: RunningAdvisor) -> None:
    # "carry on" alone reads as out of scope to the classifier; with a check paused it resumes it.
    check = Check(advisor, "hc-carry-on")
    check.say("can we do the partnership health check")
    check.answer("4", then_asked="Authority")
    paused = check.say("is there a regional body I should raise it with")
    assert paused[0]["text"].startswith("I've paused the health check")
    replies = check.say("carry on")
    assert replies[0]["text"] == "Let's carry on with the health check: 1 of 7 questions answered.", texts(replies)
    assert replies[1]["text"].startswith("Authority: ")
    check.answer("2", then_asked="Purpose")


@pytest.mark.parametrize(
    "text,starts",
    [("4", "I use scores in the partnership health check"), ("ugh honestly it's all a bit much today", "That sounds difficult.")],
)
async def test_a_score_outside_the_check_offers_it_unless_it_is_distress(text, starts, knowledge_cache, domain) -> None:
    messages, _ = await run(ActionScoreOutsideCheck(), make_tracker("give_score", text=text), domain)
    said = messages[0].get("text") or domain["responses"][messages[0]["response"]][0]["text"]
    assert said.startswith(starts), messages[0]


@pytest.mark.parametrize("request_to_stop", ["abort health check", "end health check", "get me out of this quiz"])
def test_a_plain_request_to_stop_pauses_the_check(advisor: RunningAdvisor, request_to_stop) -> None:
    # The words "health check" drew these to start_health_check: the person leaving was asked the next question.
    check = Check(advisor, "hc-plain-stop")
    # Before any check it matched no rule, and the person got no reply at all.
    assert check.say(request_to_stop)[0]["text"].startswith("There's no health check running"), request_to_stop
    check.say("check our partnership")
    check.answer("3", then_asked="Authority")
    assert check.say(request_to_stop)[0]["text"].startswith("Health check paused."), request_to_stop
    check.resume_after_pause("Let's carry on with the health check: 1 of 7 questions answered.", then_asked="Authority")
