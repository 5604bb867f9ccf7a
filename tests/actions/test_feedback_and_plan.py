"""Feedback on advice, the optional comment, the action plan and the goodbye offer."""

from __future__ import annotations

from sqlalchemy import select

from actions.conversation import ActionActionPlan, ActionGoodbye, ActionRecordFeedback, ActionRecordFeedbackComment
from actions.store.db import make_engine, make_session_factory
from actions.store.models import Feedback
from actions.store.records import conversation_key
from tests.conftest import make_tracker
from tests.conftest import run_action as run
from tests.servers import rest_id, say, sender, texts


def feedback_rows(url: str) -> list[tuple]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = [(f.conversation_key, f.helpful, f.comment, sorted(i.advice_id for i in f.items)) for f in session.scalars(select(Feedback))]
    engine.dispose()
    return rows


async def test_feedback_is_stored_at_once_against_the_advice_then_a_comment_is_added(knowledge_cache, recorder, sqlite_url, domain) -> None:
    slots = {"last_advice": ["funding_a", "funding_b"], "current_challenge": "challenge_funding"}
    _, events = await run(ActionRecordFeedback(), make_tracker("feedback_not_helpful", slots=slots, sender="fb-1"), domain)
    assert feedback_rows(sqlite_url) == [(conversation_key("fb-1"), False, None, ["funding_a", "funding_b"])]

    comment = make_tracker("inform", text="it was too generic for a small charity", slots={"feedback_comment": "it was too generic for a small charity"}, sender="fb-1", ranking=[("inform", 0.5)])
    messages, _ = await run(ActionRecordFeedbackComment(), comment, domain)
    assert "comment is noted" in messages[0]["text"]
    assert feedback_rows(sqlite_url)[0][2] == "it was too generic for a small charity"


async def test_no_comment_stores_nothing_more(knowledge_cache, recorder, sqlite_url, domain) -> None:
    await run(ActionRecordFeedback(), make_tracker("feedback_helpful", slots={"last_advice": ["x"]}, sender="fb-2"), domain)
    messages, _ = await run(ActionRecordFeedbackComment(), make_tracker("deny", slots={"feedback_comment": "-"}, sender="fb-2"), domain)
    assert messages[0]["text"].startswith("No problem")
    assert feedback_rows(sqlite_url) == [(conversation_key("fb-2"), True, None, ["x"])]


async def test_a_question_instead_of_a_comment_is_answered_not_stored(knowledge_cache, recorder, sqlite_url, domain) -> None:
    await run(ActionRecordFeedback(), make_tracker("feedback_helpful", slots={"last_advice": ["x"]}, sender="fb-3"), domain)
    question = make_tracker("challenge_time", text="results are taking forever", slots={"feedback_comment": "results are taking forever"}, sender="fb-3", ranking=[("challenge_time", 0.95)])
    messages, events = await run(ActionRecordFeedbackComment(), question, domain)
    assert messages == []
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_challenge_advice"]
    assert feedback_rows(sqlite_url)[0][2] is None


async def test_action_plan_groups_the_advice_given_by_challenge(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    time_items = knowledge.advice_by_challenge["challenge_time"][:2]
    funding_item = knowledge.advice_by_challenge["challenge_funding"][0]
    given = [time_items[0].id, funding_item.id, time_items[1].id]
    messages, _ = await run(ActionActionPlan(), make_tracker("ask_summary", slots={"advice_given": given}), domain)
    text = messages[0]["text"]
    assert text.index("\nTime:") < text.index(time_items[1].title) < text.index("\nFunding:") < text.index(funding_item.title)
    assert text.count("\u2610 ") == 3 and "rests on " in text  # one line per action, with its principle
    assert len(text.split()) < 120

    messages, _ = await run(ActionActionPlan(), make_tracker("ask_summary"), domain)
    assert "haven't gone through any advice yet" in messages[0]["text"]


async def test_goodbye_offers_the_plan_once_when_advice_was_given(domain) -> None:
    messages, events = await run(ActionGoodbye(), make_tracker("goodbye", slots={"advice_given": ["x"]}), domain)
    assert "action plan" in messages[0]["text"] and messages[0]["buttons"][0]["payload"] == "/ask_summary"
    messages, _ = await run(ActionGoodbye(), make_tracker("goodbye", slots={"advice_given": ["x"], "plan_offered": True}), domain)
    assert messages[0]["response"] == "utter_goodbye"
    messages, _ = await run(ActionGoodbye(), make_tracker("goodbye"), domain)
    assert messages[0]["response"] == "utter_goodbye"


def test_over_rest_a_vote_asks_for_a_comment_and_stores_it(advisor) -> None:
    """The real servers: clicking "Not helpful" asks for a comment (activated by a rule, Rasa's form
    would take the click's own payload as the comment), and a later click without new advice
    leaves that comment alone."""
    me = sender("feedback")
    base = advisor.base_url
    say(base, '/inform{"sector": "pharmacy"}', me)
    assert "\u201cFunding\u201d challenge" in texts(say(base, "one partner only joined for the grant", me))
    assert "Anything to add" in texts(say(base, "/feedback_not_helpful", me))
    assert "comment is noted" in texts(say(base, "it missed how small our pharmacy team is", me))
    assert "haven't given you any yet" in texts(say(base, "/feedback_helpful", me))
    rows = [r for r in feedback_rows(advisor.knowledge_url) if r[0] == conversation_key(rest_id(me))]  # stored as "rest:<sender>"
    assert [(helpful, comment, len(items)) for _, helpful, comment, items in rows] == [(False, "it missed how small our pharmacy team is", 1)]  # the one item shown


def test_over_rest_thanks_that_says_it_helped_gets_a_welcome_not_what_would_have_helped_more(advisor) -> None:
    """ "diolch, that's really helpful" after advice is a verdict and thanks: the comment question
    fits it ("You're welcome ...") instead of asking what would have helped more."""
    me = sender("feedback-helpful")
    base = advisor.base_url
    say(base, '/inform{"sector": "pharmacy"}', me)
    say(base, "one partner only joined for the grant", me)
    helped = texts(say(base, "/feedback_helpful", me))
    assert helped.startswith("You're welcome") and "Anything to add" in helped and "helped more" not in helped
    say(base, "one partner only joined for the grant", me)
    assert "what would have helped more" in texts(say(base, "/feedback_not_helpful", me))


def test_over_rest_a_typed_rating_of_the_answer_is_stored_as_feedback(advisor) -> None:
    """ "wrong answer" was read as a plain no ("No problem.") and "top answer" as thanks, so neither
    rating was stored; with no advice to rate, "wrong answer" got "You're welcome"."""
    base = advisor.base_url
    me = sender("typed-rating")
    say(base, "one partner only joined for the grant", me)
    assert "what would have helped more" in texts(say(base, "wrong answer", me))
    say(base, "no comment", me)
    say(base, "the people at our meetings can't sign anything off", me)
    assert "I've saved that it helped" in texts(say(base, "top answer, cheers", me))
    rows = [r for r in feedback_rows(advisor.knowledge_url) if r[0] == conversation_key(rest_id(me))]
    assert [helpful for _, helpful, _, _ in rows] == [False, True]
    nothing_to_rate = texts(say(base, "wrong answer", sender("typed-rating-first")))
    assert nothing_to_rate.startswith("Sorry that didn't help") and "welcome" not in nothing_to_rate
