"""Every custom action against a real loaded store, with real rasa_sdk trackers."""

from __future__ import annotations

import pytest

from actions.actions import (
    ActionAcknowledgeContext,
    ActionChallengeAdvice,
    ActionKnowledgeAnswer,
    ActionMoreAdvice,
)
from actions.common import UNAVAILABLE_REPLY
from actions.conversation import ActionOutOfScope
from actions.store.knowledge import KnowledgeCache
from actions.vocabulary import CHALLENGES
from tests.conftest import make_tracker, slots_of
from tests.conftest import run_action as run


@pytest.mark.parametrize("challenge", CHALLENGES)
async def test_challenge_answer_quotes_source_gives_advice_and_buttons(challenge, knowledge_cache: KnowledgeCache, domain) -> None:
    knowledge = await knowledge_cache.get()
    # The sector already asked for: the idea alone, without the question under it.
    messages, events = await run(ActionChallengeAdvice(), make_tracker(challenge, slots={"context_asked": True}), domain)
    [message] = messages
    passage = knowledge.passages[challenge]
    assert passage.text in message["text"]  # recognition in the source's words
    assert "Adapted from: Top 10 Partnership Killers, Improvement Network" in message["text"]
    assert message["text"].count("Rests on:") == 1  # one item: a chat-sized answer
    assert len(message["text"].split()) <= 150
    assert [b["payload"] for b in message["buttons"]] == ["/ask_how", "/ask_example", "/ask_more", '/ask_sources{"option": "this"}', "/ask_challenges"]
    slots = slots_of(events)
    assert slots["current_challenge"] == challenge
    assert len(slots["advice_given"]) == 1 and slots["focus"] == f"advice:{slots['advice_given'][0]}"
    # With no context known, general (untagged) advice leads.
    first = knowledge.advice(slots["advice_given"][0])
    assert first.tags == {}
    assert first.text in message["text"]


async def test_more_never_repeats_and_says_when_done(knowledge_cache: KnowledgeCache, domain) -> None:
    knowledge = await knowledge_cache.get()
    challenge = "challenge_funding"
    total = len(knowledge.advice_by_challenge[challenge])
    slots = {"context_asked": True}
    _, events = await run(ActionChallengeAdvice(), make_tracker(challenge, slots=slots), domain)
    slots.update(slots_of(events))
    seen = list(slots["advice_given"])
    while len(seen) < total:
        messages, events = await run(ActionMoreAdvice(), make_tracker("ask_more", slots=slots), domain)
        slots.update(slots_of(events))
        new = slots["advice_given"][len(seen):]
        assert new and not set(new) & set(seen)
        assert messages[0]["text"].startswith("Another idea on funding")
        seen += new
    assert sorted(seen) == sorted(a.id for a in knowledge.advice_by_challenge[challenge])
    # Once everything is given, no "more" button is offered any longer ...
    assert "/ask_more" not in [b["payload"] for b in messages[0]["buttons"]]
    # ... and asking anyway says so honestly.
    messages, events = await run(ActionMoreAdvice(), make_tracker("ask_more", slots=slots), domain)
    assert "That's all the advice I have on funding" in messages[0]["text"]
    assert slots_of(events).get("advice_given") is None
    assert "/ask_summary" in [b["payload"] for b in messages[0]["buttons"]]


async def test_context_changes_which_advice_comes_first(knowledge_cache: KnowledgeCache, domain) -> None:
    knowledge = await knowledge_cache.get()
    for challenge in CHALLENGES:
        items = knowledge.advice_by_challenge[challenge]
        tagged = next(a for a in items if a.tags.get("sector"))
        sector = sorted(tagged.tags["sector"])[0]
        messages, events = await run(ActionChallengeAdvice(), make_tracker(challenge, slots={"sector": sector}), domain)
        first = knowledge.advice(slots_of(events)["advice_given"][0])
        assert sector in first.tags.get("sector", ()), f"{challenge}: {sector} advice should lead"
        assert "(suits " in messages[0]["text"]


async def test_more_without_a_challenge_asks_which(knowledge_cache: KnowledgeCache, domain) -> None:
    messages, events = await run(ActionMoreAdvice(), make_tracker("ask_more"), domain)
    assert "Which challenge" in messages[0]["text"]
    assert len(messages[0]["buttons"]) == len(CHALLENGES)
    assert events == []


KNOWLEDGE_EXPECTATIONS = {
    "ask_definition": ["two or more groups coming together to achieve a common purpose", "(Community Change 2010)", "Hugh Annett"],
    "ask_key_principles": ["Openness", "Trust and honesty", "Agreed shared goals and values", "Regular communication between partners"],
    "ask_good_practice": ["Identify bespoke solutions", "Give partnerships time to yield results", "Scottish Government", "King's Fund"],
    "ask_benefits": ["Joint Service Delivery", "Efficiency", "Common purpose", "Momentum", "Attracting funding", "Effectiveness"],
    "ask_health_inequalities": ["unequal distribution of health determinants", "DHSPSS, 2012"],
    "ask_case_study": ["Building the Community Pharmacy Partnership", "over 500 projects"],
    "ask_sources": ["Community Change (2010)", "DHSPSS NI (2012)", "Scottish Government (2002)", "kingsfund.org.uk", "Top 10 Partnership Killers"],
    "ask_challenges": ["Competition between organisations", "Culture clash", "Adapted from: Top 10 Partnership Killers"],
}


@pytest.mark.parametrize("intent", KNOWLEDGE_EXPECTATIONS)
async def test_knowledge_questions_are_answered_from_the_store(intent, knowledge_cache: KnowledgeCache, domain) -> None:
    messages, events = await run(ActionKnowledgeAnswer(), make_tracker(intent), domain)
    [message] = messages
    text = message["text"]
    assert message["buttons"]
    if slots_of(events).get("focus"):  # a topic: a summary first, the passages on "tell me more"
        assert len(text.split()) <= 120 and message["buttons"][0]["payload"] == "/ask_more"
        messages, _ = await run(ActionMoreAdvice(), make_tracker("ask_more", slots=slots_of(events)), domain)
        text = messages[0]["text"]
    for expected in KNOWLEDGE_EXPECTATIONS[intent]:
        assert expected in text, f"{intent}: {expected!r} missing"


async def test_more_on_one_named_part_of_a_topic_gives_that_part(knowledge_cache: KnowledgeCache, domain) -> None:
    slots = {"focus": "topic:benefits"}
    messages, _ = await run(ActionMoreAdvice(), make_tracker("ask_more", text="the efficiency point, say more", slots=slots), domain)
    text = messages[0]["text"]
    assert text.startswith("\u201cEfficiency\u201d") and "economies of scale" in text and "Momentum" not in text
    assert len(text.split()) < 60


async def test_acknowledges_context_and_offers_tailored_advice(knowledge_cache: KnowledgeCache, domain) -> None:
    knowledge = await knowledge_cache.get()
    started = [knowledge.advice_by_challenge["challenge_time"][0].id]
    slots = {"sector": "pharmacy", "role": "lead", "current_challenge": "challenge_time", "advice_given": started}
    messages, _ = await run(ActionAcknowledgeContext(), make_tracker("inform", slots=slots), domain)
    assert "pharmacy" in messages[0]["text"] and "lead or chair" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/ask_more"
    messages, _ = await run(ActionAcknowledgeContext(), make_tracker("inform"), domain)
    assert "I'm not sure I caught your sector" in messages[0]["text"]


async def test_unreachable_store_gives_a_clear_reply(tmp_path, monkeypatch, domain) -> None:
    # A store that was never loaded stands in for one that cannot be read.
    monkeypatch.setattr("actions.common.KNOWLEDGE", KnowledgeCache(url=f"sqlite:///{tmp_path / 'empty.db'}", refresh_seconds=0))
    messages, events = await run(ActionChallengeAdvice(), make_tracker("challenge_time"), domain)
    assert messages[0]["text"] == UNAVAILABLE_REPLY == "I can't reach my advice library right now, please try again shortly."
    assert events == []
    # A follow-up the out-of-scope action reads: the apology once, not a decline after it.
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    tracker = make_tracker("out_of_scope", text="how do i get proper named contacts set up", slots=slots, ranking=[("out_of_scope", 0.81)])
    messages, _ = await run(ActionOutOfScope(), tracker, domain)
    assert [m.get("text") or m.get("response") for m in messages] == [UNAVAILABLE_REPLY]


async def test_reload_is_picked_up_without_restart(content_dir, sqlite_url, monkeypatch, domain) -> None:
    import yaml

    from actions.store.loader import load

    load(content_dir, sqlite_url)
    cache = KnowledgeCache(url=sqlite_url, refresh_seconds=0)
    monkeypatch.setattr("actions.common.KNOWLEDGE", cache)
    advice_file = content_dir / "advice.yml"
    data = yaml.safe_load(advice_file.read_text())
    data["advice"][0]["text"] = "A freshly edited piece of advice about naming rivalry."
    advice_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    load(content_dir, sqlite_url)
    tracker = make_tracker(data["advice"][0]["challenge"], slots={"context_asked": True})
    messages, _ = await run(ActionChallengeAdvice(), tracker, domain)
    assert "A freshly edited piece of advice" in messages[0]["text"]


def test_the_action_server_builds_the_two_problem_model_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """server/action_server.py trains the clause model before it takes requests, so the first
    person after a start who writes two problems in one message does not wait for it."""
    import sys

    import rasa_sdk.__main__

    from actions.clauses import challenges_by_clause, clause_model
    from server import action_server

    serving_started_with = []
    monkeypatch.setattr(rasa_sdk.__main__, "main", lambda: serving_started_with.append(clause_model.cache_info().currsize))
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # main() sets rasa_sdk's command line
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-test-token-of-enough-length")  # it refuses to start without one
    clause_model.cache_clear()
    action_server.main(["--actions", "actions"])
    assert serving_started_with == [1]  # the model existed when rasa_sdk began serving
    found = challenges_by_clause("we have far too many pointless meetings and one partner only joined for the grant money")
    assert found == ["challenge_communication", "challenge_funding"]
    assert clause_model.cache_info().misses == 1  # answered by the model built at start-up


def test_the_action_server_builds_the_retriever_before_serving(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The retriever and its practice classifiers (a few seconds) are built for the content loaded
    before the action server takes requests, not while the first person after a start waits."""
    import sys

    import rasa_sdk.__main__

    from actions import retrieval
    from actions.settings import CONTENT_DIR
    from actions.store.loader import load, read_content
    from server import action_server

    url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    load(CONTENT_DIR, url)
    digest = read_content(CONTENT_DIR).digest
    monkeypatch.setenv("KNOWLEDGE_DB_URL", url)
    monkeypatch.setattr(retrieval, "_CACHE", {})
    serving_started_with = []
    monkeypatch.setattr(rasa_sdk.__main__, "main", lambda: serving_started_with.append(set(retrieval._CACHE)))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-test-token-of-enough-length")
    action_server.main(["--actions", "actions"])
    assert serving_started_with == [{digest}]


async def test_signposts_say_each_nation_once(knowledge_cache) -> None:
    """Signposts name the nation they apply to once: "In England, ..." gets no "England:" before it."""
    from actions.answers import signposts_reply

    knowledge = await knowledge_cache.get()
    for practice in knowledge.practice.values():
        text = signposts_reply(practice)
        assert "England: In England" not in text and "Scotland: In Scotland" not in text, text
    assert "\u2022 In England, Section 75" in signposts_reply(knowledge.practice["pooled_budgets"])


async def test_a_yes_that_tells_about_the_partnership_is_context_and_a_plain_yes_a_prompt(domain) -> None:
    from actions.conversation import ActionAffirm

    told = make_tracker("affirm", "yes we end on 31 march", entities=[{"entity": "stage", "value": "ending", "start": 4, "end": 13}])
    messages, events = await run(ActionAffirm(), told, domain)
    assert messages == [] and slots_of(events)["stage"] == "ending"
    assert any(e.get("event") == "followup" and e.get("name") == "action_acknowledge_context" for e in events)
    messages, events = await run(ActionAffirm(), make_tracker("affirm", "yes"), domain)
    assert messages[0]["response"] == "utter_affirm" and not slots_of(events)
