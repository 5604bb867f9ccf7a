"""Which answer a first message gets (issue 13): a practice topic named plainly over an unsure
challenge, a context message that also states a problem, context-only messages and corrections.
Real actions against the real loaded store; the sentences are written for these tests."""

from __future__ import annotations

import pytest

from actions.actions import (
    ActionAcknowledgeContext,
    ActionChallengeAdvice,
    ActionKnowledgeAnswer,
    ActionMoreAdvice,
    closing_question,
)
from actions.context import context_from_message
from actions.conversation import (
    CLARIFYING_QUESTION,
    ActionActionPlan,
    ActionBotChallenge,
    ActionClarify,
    ActionOutOfScope,
    ActionSomethingElse,
)
from actions.follow_ups import ActionFollowUp, ActionPracticeAnswer
from actions.health_check import ActionHealthCheckIntro
from actions.retrieval import keyword_pattern, keyword_text, retriever_for
from actions.store.knowledge import KnowledgeCache
from tests.conftest import make_tracker, slots_of
from tests.conftest import run_action as run


def followed_by(events: list[dict], action: str) -> bool:
    return any(e.get("event") == "followup" and e.get("name") == action for e in events)


def entity(text: str, said: str, dimension: str, value: str) -> dict:
    start = text.index(said)
    return {"entity": dimension, "value": value, "start": start, "end": start + len(said)}


@pytest.mark.parametrize(
    "text,challenge,topic",
    [
        (
            "our ToR was written five years ago and lists organisations that have since merged",
            "challenge_purpose",
            "terms_of_reference",
        ),
        ("could the three food banks bid together for the lottery money", "challenge_competition", "joint_bids"),
        (
            "the surgery says GDPR means they can't share data about our shared clients",
            "challenge_communication",
            "information_sharing",
        ),
        # Partners who won't share read like rivals, but a short question about it is about sharing.
        (
            "CAMHS wont share anything with us about the kids we refer, they say GDPR. is that right??",
            "challenge_competition",
            "information_sharing",
        ),
        (
            "the officer who ran everything for us has just left and nobody has the files",
            "challenge_communication",
            "staff_turnover",
        ),
        (
            "our joint committee doesn't know what it may decide without the full board",
            "challenge_purpose",
            "scheme_of_delegation",
        ),
    ],
)
async def test_a_practice_topic_named_plainly_wins_over_an_unsure_challenge(
    text, challenge, topic, knowledge_cache: KnowledgeCache, domain
) -> None:
    knowledge = await knowledge_cache.get()
    tracker = make_tracker(challenge, text=text, ranking=[(challenge, 0.6), ("ask_practice_question", 0.2)])
    messages, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert slots_of(events)["focus"] == f"practice:{topic}"
    assert messages[0]["text"].startswith(knowledge.practice[topic].title)


@pytest.mark.parametrize(
    "text,challenge,topic",
    [
        (
            "the surgery round the corner never answers my calls or emails about the flu clinic, I've tried for months",
            "challenge_communication",
            "engaging_a_partner",
        ),
        ("our project lead at the trust has moved on and nobody has picked up her work", "challenge_time", "staff_turnover"),
    ],
)
async def test_a_story_practitioners_tell_when_asking_a_practice_question_gets_that_answer(
    text, challenge, topic, knowledge_cache: KnowledgeCache, domain
) -> None:
    """No practice question matches these words well (retrieval alone keeps the challenge), but they
    are told the way practitioners asked that question (data/knowledge/asked.yml)."""
    tracker = make_tracker(challenge, text=text, ranking=[(challenge, 0.7)], slots={"context_asked": True})
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert slots_of(events)["focus"] == f"practice:{topic}"
    # A classifier sure of the challenge keeps it.
    sure = make_tracker(challenge, text=text, ranking=[(challenge, 0.85)], slots={"context_asked": True})
    _, events = await run(ActionChallengeAdvice(), sure, domain)
    assert slots_of(events)["current_challenge"] == challenge
    # So does a message read as the challenge already being discussed: it goes on with that one.
    going_on = make_tracker(
        challenge, text=text, ranking=[(challenge, 0.7)], slots={"context_asked": True, "current_challenge": challenge}
    )
    _, events = await run(ActionChallengeAdvice(), going_on, domain)
    assert slots_of(events)["current_challenge"] == challenge and not str(slots_of(events).get("focus")).startswith("practice:")


@pytest.mark.parametrize(
    "text,challenge",
    [
        ("one of the partners only joined so it could get the grant", "challenge_funding"),
        ("the two charities keep undercutting each other for the same contracts", "challenge_competition"),
        ("we have far too many meetings and nobody reads the minutes of any of them", "challenge_communication"),
        ("the people at the table can never sign anything off", "challenge_authority"),
        ("suddenly nobody will share their data or say what they're planning for the tender", "challenge_competition"),
    ],
)
async def test_a_challenge_without_a_practice_subject_keeps_its_challenge(text, challenge, knowledge_cache, domain) -> None:
    tracker = make_tracker(challenge, text=text, ranking=[(challenge, 0.6)], slots={"context_asked": True})
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert slots_of(events)["current_challenge"] == challenge


async def test_the_question_a_story_ends_with_is_answered(knowledge_cache, domain) -> None:
    """The story says why they ask; a closing question that matches a practice question well on its
    own is what they want answered (by its words alone, the whole message matched joining a
    partnership a little better)."""
    story = "the ICB wants the alliance to show its worth by the autumn or the money goes. all we have is footfall. "
    tracker = make_tracker("challenge_funding", text=story + "what should we be measuring", ranking=[("challenge_funding", 0.6)])
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert slots_of(events)["focus"] == "practice:measuring_success"
    # A closing question that matches nothing well on its own leaves the reading of the whole message,
    # which the practice classifier (data/knowledge/asked.yml) also takes for measuring.
    whole = story + "How do we cope?"
    tracker = make_tracker("challenge_funding", text=whole, ranking=[("challenge_funding", 0.6)], slots={"context_asked": True})
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    knowledge = await knowledge_cache.get()
    whole_reading = next(d for d, _ in retriever_for(knowledge).search(whole, k=100) if d.kind == "practice")
    assert slots_of(events)["focus"] == whole_reading.key == "practice:measuring_success"


def test_the_closing_question_is_the_last_sentence_of_several_when_it_asks() -> None:
    assert closing_question("we've only footfall. What should we be measuring?") == "What should we be measuring?"
    assert closing_question("what should we be measuring?") is None  # one sentence: the whole message
    assert closing_question("what should we measure? we only have footfall.") is None


async def test_a_sure_classifier_keeps_the_challenge_even_when_a_topic_is_named(knowledge_cache, domain) -> None:
    text = "our ToR was written five years ago and lists organisations that have since merged"
    tracker = make_tracker("challenge_purpose", text=text, ranking=[("challenge_purpose", 0.95)], slots={"context_asked": True})
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert slots_of(events)["current_challenge"] == "challenge_purpose"


async def test_context_with_a_short_question_gets_the_question_answered(knowledge_cache, domain) -> None:
    text = "i'm new to all these NHS and council structures, who's who round here"
    ents = [entity(text, "NHS", "sector", "health")]
    tracker = make_tracker("inform", text=text, entities=ents, ranking=[("inform", 0.7)])
    messages, events = await run(ActionAcknowledgeContext(), tracker, domain)
    assert slots_of(events)["focus"] == "practice:the_local_system"
    assert "What is getting in the way" not in " ".join(m.get("text") or "" for m in messages)


async def test_context_with_a_problem_gets_the_problem_answered_too(knowledge_cache, domain) -> None:
    text = "I'm a pharmacist on my own in the shop all day, so I can't get to the council's lunchtime partnership calls"
    ents = [entity(text, "pharmacist", "sector", "pharmacy")]
    # The classifier sees a challenge: advice on it, tailored, with the context noted.
    tracker = make_tracker("inform", text=text, entities=ents, ranking=[("inform", 0.5), ("challenge_communication", 0.3)])
    messages, events = await run(ActionAcknowledgeContext(), tracker, domain)
    slots = slots_of(events)
    assert slots["sector"] == "pharmacy" and slots["current_challenge"] == "challenge_communication"
    assert len(messages) == 2 and "tailor my advice for pharmacy" in messages[1]["text"]
    assert "What is getting in the way" not in messages[1]["text"]
    # It does not: the best match in the store answers, still with the context noted.
    tracker = make_tracker("inform", text=text, entities=ents, ranking=[("inform", 0.65), ("ask_practice_question", 0.1)])
    messages, events = await run(ActionAcknowledgeContext(), tracker, domain)
    assert slots_of(events)["sector"] == "pharmacy" and slots_of(events)["focus"]
    assert len(messages) == 2


async def test_context_naming_a_practice_topic_gets_that_topic(knowledge_cache, domain) -> None:
    text = "we're a little refugee charity and I'm worried the two big national charities in the bid will swallow us up"
    ents = [entity(text, "charity", "sector", "voluntary_community")]
    tracker = make_tracker("inform", text=text, entities=ents, ranking=[("inform", 0.4), ("challenge_purpose", 0.3)])
    _, events = await run(ActionAcknowledgeContext(), tracker, domain)
    assert slots_of(events)["focus"] == "practice:small_organisations"


async def test_context_alone_is_only_acknowledged(knowledge_cache, domain) -> None:
    text = "I'm a council officer and I look after the partnership with our local hospital and two charities"
    ents = [entity(text, "council", "sector", "local_government")]
    messages, events = await run(ActionAcknowledgeContext(), make_tracker("inform", text=text, entities=ents), domain)
    assert len(messages) == 1 and "What is getting in the way" in messages[0]["text"]
    assert "focus" not in slots_of(events)


async def test_a_long_message_only_about_the_person_is_context_not_a_question(knowledge_cache, domain) -> None:
    text = "hello, I chair a new carers network across the district, we only started meeting this spring"
    ents = [entity(text, "chair", "role", "lead")]
    tracker = make_tracker(
        "nlu_fallback", text=text, entities=ents, ranking=[("nlu_fallback", 0.35), ("ask_practice_question", 0.3)]
    )
    _, events = await run(ActionClarify(), tracker, domain)
    assert followed_by(events, "action_acknowledge_context")
    assert slots_of(events)["role"] == "lead" and slots_of(events)["stage"] == "forming"


async def test_a_correction_of_who_they_are_is_not_a_new_problem(knowledge_cache, domain) -> None:
    text = "actually, sorry, I moved to the county council in the summer, I keep forgetting"
    ents = [entity(text, "county council", "sector", "local_government")]
    slots = {"sector": "health", "current_challenge": "challenge_time"}
    tracker = make_tracker("challenge_time", text=text, entities=ents, ranking=[("challenge_time", 0.7)], slots=slots)
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert slots_of(events)["sector"] == "local_government"
    assert followed_by(events, "action_acknowledge_context")
    # Read as a practice question because it names a body the store explains: still a correction.
    text = "sorry, actually I've just moved across to the ICB, still commissioning"
    ents = [entity(text, "ICB", "sector", "health")]
    tracker = make_tracker(
        "ask_practice_question",
        text=text,
        entities=ents,
        ranking=[("ask_practice_question", 0.37)],
        slots={"sector": "local_government"},
    )
    _, events = await run(ActionPracticeAnswer(), tracker, domain)
    assert slots_of(events)["sector"] == "health" and followed_by(events, "action_acknowledge_context")
    # A correction that also states a problem is still answered as a problem.
    text = "actually, I'm at the county council, and they never answer our emails about the joint clinic"
    tracker = make_tracker("challenge_communication", text=text, entities=ents[:0], ranking=[("challenge_communication", 0.7)])
    _, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert not followed_by(events, "action_acknowledge_context")


async def test_an_unsure_knowledge_intent_gives_way_to_a_practice_question_that_fits_better(knowledge_cache, domain) -> None:
    text = "can we just walk away from a partnership if it no longer suits us"
    tracker = make_tracker("ask_definition", text=text, ranking=[("ask_definition", 0.8)])
    _, events = await run(ActionKnowledgeAnswer(), tracker, domain)
    assert slots_of(events)["focus"] == "practice:leaving_a_partnership"
    # A sure one, or a request for an example, keeps its answer.
    tracker = make_tracker("ask_benefits", text="what are the benefits of partnership working", ranking=[("ask_benefits", 0.7)])
    _, events = await run(ActionKnowledgeAnswer(), tracker, domain)
    assert slots_of(events)["focus"].startswith("topic:")


async def test_an_out_of_scope_guess_gives_way_when_a_practice_topic_is_named(knowledge_cache, domain) -> None:
    text = "tips for bringing people with lived experience into the partnership"
    ranking = [("nlu_fallback", 0.35), ("out_of_scope", 0.4), ("ask_practice_question", 0.3)]
    _, events = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    assert slots_of(events)["focus"] == "practice:involving_community"
    # An everyday request guessed out of scope is still not answered from the store, even one that
    # uses a keyword's words.
    for text in ("set an alarm for seven tomorrow", "what time does the match kick off tonight"):
        ranking = [("nlu_fallback", 0.35), ("out_of_scope", 0.4)]
        _, events = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
        assert "focus" not in slots_of(events)


@pytest.mark.parametrize(
    "keyword,text,named",
    [
        ("share ... data", "can we share our crime data with them", True),
        ("share ... data", "we share an office; the data team is next door", False),
        ("# staff", "a tiny charity (3 staff)", True),
        ("delegat*", "what has been delegated to the board", True),
        ("tor", "our tory councillor", False),
        ("co-produc*", "we want to co-produce it", True),
        ("wont engage", "they won't engage", True),
    ],
)
def test_keyword_patterns(keyword, text, named) -> None:
    assert bool(keyword_pattern(keyword).search(keyword_text(text))) is named


async def test_keywords_lift_the_topic_a_long_story_names(knowledge_cache) -> None:
    knowledge = await knowledge_cache.get()
    retriever = retriever_for(knowledge)
    story = (
        "we've been meeting as a group for a couple of years now with the hospital, the council and the hospice, "
        "and honestly the ToR hasn't been looked at since we started"
    )
    assert [d.key for d in retriever.named(story)] == ["practice:terms_of_reference"]
    assert retriever.search(story, k=1)[0][0].key == "practice:terms_of_reference"


async def test_an_unsure_out_of_scope_that_names_a_practice_topic_is_answered(knowledge_cache, domain) -> None:
    from actions.conversation import ActionOutOfScope

    text = "any tips on getting a partnership off the ground with the local mosque?"
    tracker = make_tracker("out_of_scope", text=text, ranking=[("out_of_scope", 0.5), ("ask_practice_question", 0.3)])
    _, events = await run(ActionOutOfScope(), tracker, domain)
    assert slots_of(events)["focus"] == "practice:start_partnership"
    # Everyday requests that happen to use a keyword's words are still declined.
    for text in ("what time does the match kick off tonight", "how do I get started with yoga"):
        tracker = make_tracker("out_of_scope", text=text, ranking=[("out_of_scope", 0.5)])
        messages, events = await run(ActionOutOfScope(), tracker, domain)
        assert messages[0]["response"] == "utter_out_of_scope" and not events


async def test_a_long_message_about_the_person_that_the_store_answers_well_is_answered(knowledge_cache, domain) -> None:
    text = "I'm a council officer looking for a terms of reference template for our steering group"
    ents = [entity(text, "council", "sector", "local_government")]
    tracker = make_tracker("nlu_fallback", text=text, entities=ents, ranking=[("nlu_fallback", 0.35), ("inform", 0.3)])
    _, events = await run(ActionClarify(), tracker, domain)
    assert not followed_by(events, "action_acknowledge_context")
    assert slots_of(events)["focus"] == "practice:terms_of_reference"


async def test_vague_trouble_gets_a_question_back_not_a_weak_guess(knowledge_cache, domain) -> None:
    text = "to be honest I don't know where to start any more, everything has gone wrong"
    ranking = [("nlu_fallback", 0.35), ("challenge_communication", 0.3), ("challenge_purpose", 0.2)]
    messages, events = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    assert "focus" not in slots_of(events)
    assert messages and messages[0].get("buttons")  # a choice offered instead


async def test_a_question_the_classifier_cannot_place_is_answered_when_out_of_scope_is_far_behind(
    knowledge_cache, domain
) -> None:
    """Unsure between "about me" and a practice question, with "out of scope" far behind: the store
    answers it (the guess that decides is the best reading of what it is about, not the best topic button)."""
    text = "I'm a locality manager in an HSCP in Scotland. most of what I read online is English. whats the equivalent of an ICB up here"
    ents = [entity(text, "HSCP", "sector", "health"), entity(text, "locality manager", "role", "manager")]
    ranking = [("nlu_fallback", 0.35), ("inform", 0.40), ("ask_practice_question", 0.38), ("out_of_scope", 0.08)]
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, entities=ents, ranking=ranking), domain)
    assert messages[0]["text"].startswith("Understanding the local system"), messages[0]


async def test_a_term_asked_while_saying_who_they_are_is_defined(knowledge_cache, domain) -> None:
    text = "I work in a health and social care partnership in Fife. What's the IJB's role exactly? I'm new to this side of things"
    messages, _ = await run(ActionAcknowledgeContext(), make_tracker("inform", text=text), domain)
    assert messages[0]["text"].startswith("IJB (Integration Joint Board): In Scotland"), messages[0]["text"][:120]


async def test_a_sector_typed_in_answer_to_the_sector_question_is_taken(knowledge_cache, domain) -> None:
    ents = [entity("NHS", "NHS", "sector", "health")]
    slots = {"context_asked": True, "current_challenge": "challenge_communication"}
    _, events = await run(ActionOutOfScope(), make_tracker("out_of_scope", text="NHS", entities=ents, slots=slots), domain)
    assert slots_of(events)["sector"] == "health" and followed_by(events, "action_acknowledge_context")
    # Not asked: a bare name is still declined.
    messages, events = await run(ActionOutOfScope(), make_tracker("out_of_scope", text="NHS", entities=ents), domain)
    assert messages[0]["response"] == "utter_out_of_scope" and events == []


async def test_a_close_call_with_out_of_scope_is_answered_when_a_practice_topic_is_named(knowledge_cache, domain) -> None:
    text = (
        "different question - can we share info on repeat ASB victims with the housing provider or will I get my knuckles rapped"
    )
    ranking = [("nlu_fallback", 0.35), ("out_of_scope", 0.45), ("ask_practice_question", 0.41)]
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    assert messages[0]["text"].startswith("Sharing information between partners:"), messages[0]
    # A clear "out of scope" stays declined however the store matches.
    ranking = [("nlu_fallback", 0.35), ("out_of_scope", 0.65), ("ask_practice_question", 0.2)]
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    assert not (messages[0].get("text") or "").startswith("Sharing information")


async def test_a_practice_topic_named_plainly_beats_two_guessed_challenges(knowledge_cache, domain) -> None:
    text = "two of our partners had a massive row at the board over who pays for the outreach worker and now theyre not speaking"
    ranking = [("nlu_fallback", 0.35), ("challenge_competition", 0.33), ("challenge_communication", 0.3)]
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    assert messages[0]["text"].startswith("Handling disagreements between partners:"), messages[0]["text"][:120]


async def test_two_problems_told_with_who_they_are_are_both_answered(knowledge_cache, domain) -> None:
    text = (
        "hi there, I'm Sam, social prescribing link worker at a PCN in Kent. Hoping you can help! The local VCSE alliance "
        "meets monthly but the NHS people who come can't agree anything without checking with their boss, and half the "
        "charities are only there for the grant money"
    )
    ents = [entity(text, "social prescribing link worker", "role", "practitioner"), entity(text, "PCN", "sector", "health")]
    ranking = [("inform", 0.5), ("challenge_authority", 0.3), ("challenge_funding", 0.1)]
    messages, _ = await run(ActionAcknowledgeContext(), make_tracker("inform", text=text, entities=ents, ranking=ranking), domain)
    assert "two things are going on" in messages[0]["text"] and "\u201cAuthority\u201d" in messages[0]["text"], messages[0][
        "text"
    ][:160]


async def test_the_case_study_is_the_example_asked_for_by_its_place(knowledge_cache, domain) -> None:
    text = "is there a good example of partnership working from NI i could point to"
    tracker = make_tracker("ask_example", text=text, slots={"focus": "practice:roles_and_responsibilities"})
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert messages[0]["text"].startswith("Case study: Building the Community Pharmacy Partnership"), messages[0]["text"][:120]


async def test_an_unsure_out_of_scope_mid_conversation_is_answered_when_it_names_a_practice_topic(
    knowledge_cache, domain
) -> None:
    text = "is a RACI overkill for something this size"
    ranking = [("out_of_scope", 0.38), ("ask_sources", 0.21)]
    slots = {"focus": "practice:community_safety"}
    messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text=text, ranking=ranking, slots=slots), domain)
    assert messages[0]["text"].startswith("Agreeing roles and responsibilities:"), messages[0]
    # A confident everyday request that happens to use a practice keyword is still declined.
    text = "when does the match kick off on saturday"
    ranking = [("out_of_scope", 0.95)]
    messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text=text, ranking=ranking, slots=slots), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_something_else_typed_after_an_answer_is_another_idea(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    first = knowledge.advice_by_challenge["challenge_time"][0].id
    slots = {"focus": f"advice:{first}", "current_challenge": "challenge_time", "advice_given": [first]}
    tracker = make_tracker("something_else", text="something else?", slots=slots, bot_said=["Try this: ..."])
    _, events = await run(ActionSomethingElse(), tracker, domain)
    assert followed_by(events, "action_more_advice")
    # The "Something else" button under "Did you mean one of these?": asked to say it another way.
    tracker = make_tracker("something_else", text="/something_else", slots=slots, bot_said=[CLARIFYING_QUESTION])
    messages, events = await run(ActionSomethingElse(), tracker, domain)
    assert messages[0]["response"] == "utter_ask_rephrase" and events == []


async def test_a_sector_named_on_its_own_is_taken_wherever_it_lands(knowledge_cache, domain) -> None:
    text = "small charity"
    ents = [entity(text, "charity", "sector", "voluntary_community")]
    for action, intent in ((ActionPracticeAnswer, "ask_practice_question"), (ActionClarify, "nlu_fallback")):
        _, events = await run(action(), make_tracker(intent, text=text, entities=ents), domain)
        assert slots_of(events)["sector"] == "voluntary_community" and followed_by(events, "action_acknowledge_context")


async def test_steps_asked_for_after_an_answer_are_its_steps_not_a_plan(knowledge_cache, domain) -> None:
    slots = {"focus": "practice:terms_of_reference"}
    tracker = make_tracker("ask_summary", text="can you break that into steps", slots=slots)
    messages, _ = await run(ActionActionPlan(), tracker, domain)
    assert messages[0]["text"].startswith("How to put \u201c"), messages[0]["text"][:80]


async def test_what_they_want_is_answered_when_their_sector_is_not_one_we_know(knowledge_cache, domain) -> None:
    text = "I work for an IJB partner in Moray. We're changing how respite works and want carers and the families who use it properly involved from the start"
    messages, _ = await run(ActionAcknowledgeContext(), make_tracker("inform", text=text), domain)
    assert messages[0]["text"].startswith("Involving the community and service users:"), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "text,said,dimension,value",
    [
        ("who should lead it", "lead", "role", "lead"),
        ("council won't reply", "council", "sector", "local_government"),
        ("can a pharmacist join?", "pharmacist", "sector", "pharmacy"),
    ],
)
async def test_a_short_question_or_problem_naming_a_sector_is_not_taken_for_who_they_are(
    knowledge_cache, domain, text, said, dimension, value
) -> None:
    ents = [entity(text, said, dimension, value)]
    slots = {"context_asked": True}
    _, events = await run(
        ActionPracticeAnswer(), make_tracker("ask_practice_question", text=text, entities=ents, slots=slots), domain
    )
    assert not followed_by(events, "action_acknowledge_context")


async def test_a_bare_sector_is_who_they_are_not_a_request_for_the_case_study(knowledge_cache, domain) -> None:
    text = "community pharmacy"
    ents = [entity(text, "community pharmacy", "sector", "pharmacy")]
    _, events = await run(ActionKnowledgeAnswer(), make_tracker("ask_case_study", text=text, entities=ents), domain)
    assert slots_of(events)["sector"] == "pharmacy" and followed_by(events, "action_acknowledge_context")
    # Asking for the case study by the sector's name is still a request for it.
    text = "the pharmacy case study"
    ents = [entity(text, "pharmacy", "sector", "pharmacy")]
    messages, events = await run(ActionKnowledgeAnswer(), make_tracker("ask_case_study", text=text, entities=ents), domain)
    assert not followed_by(events, "action_acknowledge_context") and messages[0]["text"].startswith("Case study")


async def test_a_question_about_a_sector_after_and_is_answered_not_taken_as_who_they_are(knowledge_cache, domain) -> None:
    text = "and what's in it for the council"
    ents = [entity(text, "council", "sector", "local_government")]
    messages, events = await run(ActionKnowledgeAnswer(), make_tracker("ask_benefits", text=text, entities=ents), domain)
    assert not followed_by(events, "action_acknowledge_context") and messages[0]["text"].startswith("Benefits"), messages[0]


async def test_a_problem_told_beside_who_they_are_is_read_from_the_rest_of_the_ranking(knowledge_cache, domain) -> None:
    # Read mostly as "about them", but what little else the classifier sees is one challenge.
    text = "I'm a support worker with a housing provider and at the joint case review I never know what I can commit us to, so everything waits on my manager"
    ents = [entity(text, "housing provider", "sector", "housing")]
    ranking = [("inform", 0.84), ("challenge_authority", 0.11), ("challenge_culture_clash", 0.02)]
    messages, events = await run(
        ActionAcknowledgeContext(), make_tracker("inform", text=text, entities=ents, ranking=ranking), domain
    )
    assert slots_of(events)["current_challenge"] == "challenge_authority", messages[0]["text"][:120]


async def test_a_question_about_local_help_read_as_about_the_bot_gets_the_help(knowledge_cache, domain) -> None:
    messages, _ = await run(
        ActionBotChallenge(), make_tracker("bot_challenge", text="is there anyone locally I could ring about it"), domain
    )
    assert messages[0]["text"].startswith("Where to get help"), messages[0]
    messages, _ = await run(ActionBotChallenge(), make_tracker("bot_challenge", text="am I talking to a human or not"), domain)
    assert messages[0]["response"] == "utter_bot_challenge"


async def test_one_topic_word_mid_conversation_is_enough_when_out_of_scope_is_unsure(knowledge_cache, domain) -> None:
    text = "and the agenda?"
    tracker = make_tracker(
        "out_of_scope", text=text, ranking=[("out_of_scope", 0.45)], slots={"focus": "practice:start_partnership"}
    )
    messages, _ = await run(ActionOutOfScope(), tracker, domain)
    assert messages[0]["text"].startswith("Running partnership meetings well"), messages[0]
    # At the start of a conversation one word is not enough.
    messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text=text, ranking=[("out_of_scope", 0.45)]), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_why_with_a_word_of_emphasis_is_still_about_the_idea_in_focus(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    first = knowledge.advice_by_challenge["challenge_time"][0]
    slots = {"focus": f"advice:{first.id}", "current_challenge": "challenge_time", "last_advice": [first.id]}
    tracker = make_tracker("ask_why", text="why's that so important though", slots=slots)
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert messages[0]["text"].startswith(f"Why \u201c{first.title}\u201d helps"), messages[0]["text"][:80]


async def test_a_few_words_about_who_they_are_are_taken_even_when_read_as_out_of_scope(knowledge_cache, domain) -> None:
    text = "I'm based at a food bank fyi"
    ents = [entity(text, "food bank", "sector", "voluntary_community")]
    tracker = make_tracker("out_of_scope", text=text, entities=ents, ranking=[("out_of_scope", 0.6)])
    _, events = await run(ActionOutOfScope(), tracker, domain)
    assert slots_of(events)["sector"] == "voluntary_community" and followed_by(events, "action_acknowledge_context")
    # ...but not a question, nor a sector named beside something else.
    for text, said in (("who should chair it", "chair"), ("I need a school for my son", "school")):
        ents = [entity(text, said, "role" if said == "chair" else "sector", "lead" if said == "chair" else "education")]
        tracker = make_tracker("out_of_scope", text=text, entities=ents, ranking=[("out_of_scope", 0.6)])
        messages, events = await run(ActionOutOfScope(), tracker, domain)
        assert not followed_by(events, "action_acknowledge_context"), text


async def test_a_sector_in_a_story_is_not_the_practice_topic_it_is_named_after(knowledge_cache, domain) -> None:
    # "community safety" is who they are; the story is partners measuring success differently.
    text = "community safety team at the district. our youth diversion partners each report different numbers and nobody agrees what counts as success"
    ents = [entity(text, "community safety", "sector", "police_justice")]
    tracker = make_tracker("challenge_culture_clash", text=text, entities=ents, ranking=[("challenge_culture_clash", 0.7)])
    messages, _ = await run(ActionChallengeAdvice(), tracker, domain)
    assert not messages[0]["text"].startswith("Working with police and community safety"), messages[0]["text"][:100]


@pytest.mark.parametrize(
    "text,said,dimension,value,expected",
    [
        ("I'm the practice manager", "practice manager", "role", "manager", {"role": "manager", "sector": "health"}),
        (
            "I run a pharmacy and we've been in this network for years",
            "pharmacy",
            "sector",
            "pharmacy",
            {"sector": "pharmacy", "stage": "established"},
        ),
        (
            "I'm with a charity and it's all brand new",
            "charity",
            "sector",
            "voluntary_community",
            {"sector": "voluntary_community", "stage": "forming"},
        ),
    ],
)
def test_what_a_few_words_about_them_imply(text, said, dimension, value, expected) -> None:
    assert context_from_message({"text": text, "entities": [entity(text, said, dimension, value)]}) == expected


async def test_a_practice_topic_named_mid_conversation_overrules_a_fairly_sure_out_of_scope(knowledge_cache, domain) -> None:
    text = "trouble is he never returns my calls"
    slots = {"focus": "advice:competition_name_the_tension"}
    messages, _ = await run(
        ActionOutOfScope(), make_tracker("out_of_scope", text=text, ranking=[("out_of_scope", 0.8)], slots=slots), domain
    )
    assert messages[0]["text"].startswith("Engaging an unresponsive partner"), messages[0]
    # Not at the start of a conversation, and not when out of scope is all but certain.
    for ranking, slots in (([("out_of_scope", 0.8)], {}), ([("out_of_scope", 0.95)], slots)):
        messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text=text, ranking=ranking, slots=slots), domain)
        assert messages[0]["response"] == "utter_out_of_scope"


async def test_asked_in_brief_after_an_idea_is_the_shorter_version_even_when_read_as_out_of_scope(knowledge_cache, domain) -> None:
    text = "is there a version I could give in two minutes at a watch handover"
    slots = {"focus": "advice:authority_decision_log", "advice_given": ["authority_decision_log"]}
    tracker = make_tracker("out_of_scope", text=text, ranking=[("out_of_scope", 0.73)], slots=slots)
    messages, _ = await run(ActionOutOfScope(), tracker, domain)
    assert messages[0].get("response") is None and "decision log" in messages[0]["text"].lower(), messages[0]["text"]
    # With nothing in focus, or out of scope all but certain, it is declined.
    for ranking, slots in (([("out_of_scope", 0.73)], {}), ([("out_of_scope", 0.95)], slots)):
        tracker = make_tracker("out_of_scope", text=text, ranking=ranking, slots=slots)
        messages, _ = await run(ActionOutOfScope(), tracker, domain)
        assert messages[0]["response"] == "utter_out_of_scope"


async def test_a_short_question_about_themselves_is_answered(knowledge_cache, domain) -> None:
    text = "we're only volunteers, does that matter?"
    messages, _ = await run(ActionAcknowledgeContext(), make_tracker("inform", text=text, ranking=[("inform", 0.45)]), domain)
    assert messages[0]["text"].startswith("Partnering as a small organisation"), messages[0]["text"][:80]


async def test_approval_with_a_blessing_is_thanked(knowledge_cache, domain) -> None:
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text="ha fair enough. god bless"), domain)
    assert messages[0]["response"] == "utter_thank"


async def test_a_longer_answer_to_the_sector_question_is_still_the_answer(knowledge_cache, domain) -> None:
    from actions.context import SECTOR_QUESTION

    text = "community pharmacist, been on the high street for 20 yrs"
    ents = [entity(text, "community pharmacist", "sector", "pharmacy")]
    tracker = make_tracker("out_of_scope", text=text, entities=ents, slots={"context_asked": True}, bot_said=[SECTOR_QUESTION])
    _, events = await run(ActionOutOfScope(), tracker, domain)
    assert slots_of(events)["sector"] == "pharmacy" and followed_by(events, "action_acknowledge_context")


@pytest.mark.parametrize(
    "intent,text,said,dimension,value,expected",
    [
        ("ask_case_study", "pharmacy obviously lol", "pharmacy", "sector", "pharmacy", {"sector": "pharmacy"}),
        ("challenge_communication", "school nursing so NHS", "NHS", "sector", "health", {"sector": "health"}),
        ("out_of_scope", "housing assoc", "housing assoc", "sector", "housing", {"sector": "housing"}),
        (
            "ask_practice_question",
            "sorry should have said, police obviously",
            "police",
            "sector",
            "police_justice",
            {"sector": "police_justice"},
        ),
        ("out_of_scope", "midwife", "midwife", "role", "practitioner", {"role": "practitioner", "sector": "health"}),
        (
            "nlu_fallback",
            "Church, we run it out of the hall",
            "Church",
            "sector",
            "voluntary_community",
            {"sector": "voluntary_community"},
        ),
    ],
)
async def test_who_they_are_said_in_passing_is_taken_whatever_it_was_read_as(
    intent, text, said, dimension, value, expected, knowledge_cache, domain
) -> None:
    # Said after an answer that did not ask (their sector was known, or two problems were answered).
    action = {
        "ask_case_study": ActionKnowledgeAnswer,
        "challenge_communication": ActionChallengeAdvice,
        "out_of_scope": ActionOutOfScope,
        "nlu_fallback": ActionClarify,
        "ask_practice_question": ActionPracticeAnswer,
    }[intent]()
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    ents = [entity(text, said, dimension, value)] + (
        [entity(text, "school nursing", "sector", "health")] if "nursing" in text else []
    )
    tracker = make_tracker(
        intent, text=text, entities=ents, ranking=[(intent, 0.5)], slots=slots, previous_intents=["challenge_communication"]
    )
    _, events = await run(action, tracker, domain)
    assert {k: v for k, v in slots_of(events).items() if k in ("sector", "role")} == expected
    assert followed_by(events, "action_acknowledge_context")


async def test_a_short_problem_or_an_app_naming_a_sector_is_not_who_they_are(knowledge_cache, domain) -> None:
    for intent, text, said in (
        ("challenge_communication", "GP practices won't share data", "GP practices"),
        ("out_of_scope", "NHS app", "NHS"),
    ):
        tracker = make_tracker(intent, text=text, entities=[entity(text, said, "sector", "health")], ranking=[(intent, 0.9)])
        _, events = await run(
            {"out_of_scope": ActionOutOfScope, "challenge_communication": ActionChallengeAdvice}[intent](), tracker, domain
        )
        assert not followed_by(events, "action_acknowledge_context"), text


@pytest.mark.parametrize(
    "intent,text",
    [
        ("out_of_scope", "i swear this job wil be the death of me"),
        ("ask_why", "honestly some days I wonder why I bother"),
        ("inform", "i'm honestly at the end of my rope with this job"),
        ("inform", "i'm just so tired of all of it"),
        ("challenge_culture_clash", "Sorry, bit emotional about it, these families deserve so much better"),
        ("challenge_time", "long week. everything feels like it's going sideways"),
        ("out_of_scope", "honestly feel like packing it all in"),
        ("challenge_time", "it's all getting a bit much to be honest"),
    ],
)
async def test_venting_about_the_job_gets_a_question_back_not_advice(intent, text, knowledge_cache, domain) -> None:
    action = {
        "out_of_scope": ActionOutOfScope,
        "ask_why": ActionFollowUp,
        "inform": ActionAcknowledgeContext,
        "challenge_culture_clash": ActionChallengeAdvice,
        "challenge_time": ActionChallengeAdvice,
    }[intent]()
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    messages, _ = await run(action, make_tracker(intent, text=text, ranking=[(intent, 0.6)], slots=slots), domain)
    assert messages[0]["text"].startswith("That sounds difficult."), messages[0]


async def test_a_message_unclear_only_between_thanks_and_goodbye_signs_off(knowledge_cache, domain) -> None:
    text = "I'll take that to the next forum, cheers"
    tracker = make_tracker("nlu_fallback", text=text, ranking=[("thank", 0.38), ("goodbye", 0.33), ("out_of_scope", 0.06)])
    messages, _ = await run(ActionClarify(), tracker, domain)
    assert messages[0]["response"] == "utter_thank"
    tracker = make_tracker("nlu_fallback", text=text, ranking=[("goodbye", 0.38), ("thank", 0.33)])
    _, events = await run(ActionClarify(), tracker, domain)
    assert followed_by(events, "action_goodbye")


async def test_a_sector_and_role_alone_to_start_with_is_who_they_are_not_an_empty_reply(knowledge_cache, domain) -> None:
    text = "pharmacy tech at a community pharmacy"
    ents = [entity(text, "pharmacy tech", "role", "practitioner"), entity(text, "community pharmacy", "sector", "pharmacy")]
    tracker = make_tracker("ask_case_study", text=text, entities=ents, ranking=[("ask_case_study", 0.77)])
    _, events = await run(ActionKnowledgeAnswer(), tracker, domain)
    assert slots_of(events) == {"role": "practitioner", "sector": "pharmacy"} and followed_by(
        events, "action_acknowledge_context"
    )


async def test_a_bad_week_is_not_a_request_for_the_health_check(knowledge_cache, domain) -> None:
    from actions.health_check import ActionHealthCheckIntro

    text = "not having a good week with our partnership"
    messages, events = await run(ActionHealthCheckIntro(), make_tracker("start_health_check", text=text), domain)
    assert messages[0]["text"].startswith("That sounds difficult.") and followed_by(events, "action_listen")
    messages, events = await run(
        ActionHealthCheckIntro(), make_tracker("start_health_check", text="can we do the health check"), domain
    )
    assert messages[0]["text"].startswith("Let's check your partnership") and not events


async def test_a_follow_up_that_reads_a_little_like_goodbye_is_answered(knowledge_cache, domain) -> None:
    from actions.conversation import ActionGoodbye

    slots = {
        "focus": "advice:competition_name_the_tension",
        "current_challenge": "challenge_competition",
        "advice_given": ["competition_name_the_tension"],
    }
    text = "have you seen that actually play out anywhere"
    messages, _ = await run(ActionGoodbye(), make_tracker("goodbye", text=text, ranking=[("goodbye", 0.38)], slots=slots), domain)
    assert messages[0]["text"].startswith("An illustrative example"), messages[0]
    messages, _ = await run(
        ActionGoodbye(), make_tracker("goodbye", text="right, I'm off", ranking=[("goodbye", 0.9)], slots=slots), domain
    )
    assert messages[0]["text"].startswith("Before you go")


PROBLEM_TOLD = "PHA money finished in june and, surprise surprise, half our partners have stopped turning up"


def after(told: str, replies: list[tuple[str, str]], intent: str, text: str, ranking: list | None = None):
    """A tracker for `text` right after the message `told`, which the advisor answered only with
    `replies` ((action, what it said) pairs)."""
    tracker = make_tracker(intent, text=text, ranking=ranking)
    told_parse = {
        "text": told,
        "intent": {"name": "nlu_fallback", "confidence": 0.35},
        "intent_ranking": [{"name": "challenge_funding", "confidence": 0.33}, {"name": "out_of_scope", "confidence": 0.16}],
    }
    earlier = [{"event": "user", "text": told, "parse_data": told_parse}]
    for action, said in replies:
        earlier += [{"event": "action", "name": action}, {"event": "bot", "text": said}]
    tracker.events = earlier + [{"event": "action", "name": "action_listen"}] + tracker.events
    return tracker


@pytest.mark.parametrize(
    "action,intent,text,starts",
    [
        (ActionFollowUp, "ask_how", "how", "How to put \u201c"),
        (ActionFollowUp, "ask_why", "why does it keep happening tho", "Why \u201c"),
        (ActionFollowUp, "ask_simpler", "say that simpler", "In short:"),
        (ActionClarify, "nlu_fallback", "put that in plain english for me", "In short:"),
        (ActionActionPlan, "ask_summary", "tl;dr?", "In short:"),  # not "nothing to put in a plan"
    ],
)
async def test_a_bare_follow_up_after_a_clarifying_question_is_about_the_problem_told(
    action, intent, text, starts, knowledge_cache, domain
) -> None:
    # "how?" after "Did you mean one of these?": the person ignored the buttons; a good adviser
    # answers about the problem they told (the best fit for it), not "what would you like help with?".
    tracker = after(PROBLEM_TOLD, [("action_clarify", CLARIFYING_QUESTION)], intent, text, [(intent, 0.9)])
    messages, events = await run(action(), tracker, domain)
    assert messages[0]["text"].startswith(starts), messages[0]
    assert slots_of(events).get("focus"), events


async def test_what_to_say_read_as_out_of_scope_after_a_clarifying_question_is_about_the_problem_told(
    knowledge_cache, domain
) -> None:
    text = "what would I say to get them to turn up"
    tracker = after(PROBLEM_TOLD, [("action_clarify", CLARIFYING_QUESTION)], "out_of_scope", text, [("out_of_scope", 0.58)])
    messages, events = await run(ActionOutOfScope(), tracker, domain)
    assert messages[0]["text"].startswith("How to put \u201c"), messages[0]
    assert slots_of(events).get("focus"), events


async def test_an_example_asked_for_after_a_clarifying_question_is_of_the_problem_told(knowledge_cache, domain) -> None:
    tracker = after(PROBLEM_TOLD, [("action_clarify", CLARIFYING_QUESTION)], "ask_case_study", "example pls")
    _, events = await run(ActionKnowledgeAnswer(), tracker, domain)
    assert followed_by(events, "action_follow_up")  # not the guidance's case study
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert messages[0]["text"].startswith("An illustrative example"), messages[0]


async def test_a_bare_follow_up_after_a_declined_request_is_not_answered_with_advice(knowledge_cache, domain) -> None:
    declined = "Sorry, I can't help with that: I only advise on working in partnership between organisations."
    tracker = after(
        "book me a train from leeds to york for friday morning please", [("action_out_of_scope", declined)], "ask_how", "how"
    )
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert messages[0]["text"].startswith("Happy to. What would you like help with?"), messages[0]


@pytest.mark.parametrize(
    "text,ranking,advised",
    [
        (PROBLEM_TOLD, [("challenge_funding", 0.33), ("out_of_scope", 0.16), ("challenge_time", 0.1)], True),
        # short: still asked which was meant
        ("PHA money finished", [("challenge_funding", 0.33), ("out_of_scope", 0.16)], False),
        # two readings neck and neck: still asked
        (PROBLEM_TOLD, [("challenge_funding", 0.33), ("challenge_time", 0.31)], False),
        # the best reading is not a challenge
        (PROBLEM_TOLD, [("out_of_scope", 0.33), ("challenge_funding", 0.2)], False),
    ],
)
async def test_a_long_unplaced_message_leaning_to_one_challenge_is_answered(
    text, ranking, advised, knowledge_cache, domain
) -> None:
    tracker = make_tracker("nlu_fallback", text=text, ranking=[("nlu_fallback", 0.35)] + ranking)
    messages, _ = await run(ActionClarify(), tracker, domain)
    got_advice = "That sounds like the \u201cFunding\u201d challenge" in messages[0].get("text", "")
    assert got_advice == advised, messages[0]


async def test_what_do_you_actually_do_is_a_question_about_the_advisor(knowledge_cache, domain) -> None:
    ranking = [("nlu_fallback", 0.35), ("ask_meaning", 0.32), ("ask_capabilities", 0.3)]
    _, events = await run(ActionClarify(), make_tracker("nlu_fallback", text="what do you actually do", ranking=ranking), domain)
    assert followed_by(events, "action_capabilities")


async def test_a_problem_read_as_no_is_not_answered_as_no(knowledge_cache, domain) -> None:
    from actions.conversation import ActionDeny

    text = "emailed the clinical director four times about the diabetes project. nothing. not even a no thanks"
    _, events = await run(ActionDeny(), make_tracker("deny", text=text, ranking=[("deny", 0.61)]), domain)
    assert followed_by(events, "action_clarify")
    messages, _ = await run(ActionDeny(), make_tracker("deny", text="no thanks, not today"), domain)
    assert messages[0]["response"] == "utter_deny"


async def test_a_request_for_more_that_names_a_practice_topic_gets_that_topic(knowledge_cache, domain) -> None:
    from actions.actions import ActionMoreAdvice

    slots = {
        "focus": "advice:funding_ask_why_joining",
        "current_challenge": "challenge_funding",
        "advice_given": ["funding_ask_why_joining"],
    }
    text = "if the grant comes through should we get it all down on paper with them"
    messages, _ = await run(
        ActionMoreAdvice(), make_tracker("ask_more", text=text, slots=slots, ranking=[("ask_more", 0.5)]), domain
    )
    assert messages[0]["text"].startswith("MoU or partnership agreement:"), messages[0]["text"][:120]
    messages, _ = await run(ActionMoreAdvice(), make_tracker("ask_more", text="any more ideas?", slots=slots), domain)
    assert messages[0]["text"].startswith("Another idea on funding"), messages[0]["text"][:120]


async def test_a_how_naming_an_idea_with_nothing_in_focus_gets_its_steps(knowledge_cache, domain) -> None:
    text = "how would I test each agenda item then"
    messages, events = await run(ActionFollowUp(), make_tracker("ask_how", text=text, ranking=[("ask_how", 0.97)]), domain)
    assert messages[0]["text"].startswith("How to put \u201cTest every agenda item\u201d"), messages[0]["text"][:120]
    assert slots_of(events)["focus"] == "advice:purpose_test_agenda_items"


@pytest.mark.parametrize(
    "action,intent,text",
    [
        (ActionActionPlan, "ask_summary", "can you email a summary of this to my deputy"),
        (ActionOutOfScope, "out_of_scope", "grand. can you send the ToR over to the Trust and the PHA for me"),
        (ActionOutOfScope, "out_of_scope", "book me a slot with the council's finance director"),
        # read as a problem or not placed at all, an errand is still an errand
        (ActionChallengeAdvice, "challenge_funding", "could you ring the PHA and check they got our funding form"),
        (ActionClarify, "nlu_fallback", "can you post that on our facebook page"),
        (ActionKnowledgeAnswer, "ask_health_inequalities", "can you look up how much our ICB got in health inequalities money this year"),
        (ActionClarify, "nlu_fallback", "Would you be able to email that summary to the co-chair? Her address is on the council website."),
        (ActionFollowUp, "ask_simpler", "could you email all that to my chair please"),
        (ActionPracticeAnswer, "ask_practice_question", "can you email the ICB chair for me and ask for a meeting"),
        (ActionClarify, "nlu_fallback", "while I'm here, can you move 200 pounds from our business account into petty cash?"),
        (ActionClarify, "nlu_fallback", "could you give the practice manager a call for me"),
    ],
)
async def test_an_errand_naming_partnership_work_is_declined(action, intent, text, knowledge_cache, domain) -> None:
    # The advisor cannot send, book or arrange anything: not the action plan, not the answer on
    # terms of reference.
    slots = {"focus": "advice:communication_agree_rhythm", "advice_given": ["communication_agree_rhythm"]}
    messages, events = await run(action(), make_tracker(intent, text=text, slots=slots, ranking=[(intent, 0.6)]), domain)
    assert messages[0]["text"].startswith("Sorry, I can't help with that: I can't send, book or arrange"), messages
    assert not slots_of(events)


@pytest.mark.parametrize(
    "action,intent,text,stage",
    [
        (ActionChallengeAdvice, "challenge_time", "btw we're only three months in, literally just started", "forming"),
        (
            ActionClarify,
            "nlu_fallback",
            "should say we're about to renew the agreement for another three years, if that changes anything",
            "renewing",
        ),
        (ActionChallengeAdvice, "challenge_time", "for context it's been going about 6 years", "established"),
        (ActionClarify, "nlu_fallback", "we're due to renew the partnership in the spring, if that matters", "renewing"),
        (ActionChallengeAdvice, "challenge_competition", "the drop-in's been going about four years btw", "established"),
        (ActionClarify, "nlu_fallback", "sorry, should've said we're right at the start, first meeting was only last month", "forming"),
    ],
)
async def test_an_aside_about_the_partnerships_stage_is_taken_as_context(
    action, intent, text, stage, knowledge_cache, domain
) -> None:
    slots = {
        "focus": "advice:purpose_one_page_statement",
        "current_challenge": "challenge_purpose",
        "advice_given": ["purpose_one_page_statement"],
    }
    _, events = await run(action(), make_tracker(intent, text=text, slots=slots, ranking=[(intent, 0.6)]), domain)
    assert slots_of(events).get("stage") == stage and followed_by(events, "action_acknowledge_context"), events


@pytest.mark.parametrize(
    "action,intent,text,said,dimension,value",
    [
        (ActionChallengeAdvice, "challenge_culture_clash", "we're a tiny charity by the way, 3 staff, 20 volunteers", "charity", "sector", "voluntary_community"),
        (ActionChallengeAdvice, "challenge_communication", "charity. there's three of us", "charity", "sector", "voluntary_community"),
        (ActionPracticeAnswer, "ask_practice_question", "we're a community group btw, three staff and a lot of volunteers", "community group", "sector", "voluntary_community"),
        (ActionChallengeAdvice, "challenge_competition", "I'm the council's public health commissioner btw, I hold the grant pot", "commissioner", "role", "funder"),
        (ActionPracticeAnswer, "ask_practice_question", "to be fair it's probably winding down whether we like it or not", "winding down", "stage", "ending"),
    ],
)
async def test_an_aside_about_who_they_are_after_an_answer_is_taken_as_context(
    action, intent, text, said, dimension, value, knowledge_cache, domain
) -> None:
    # Mid-conversation, a short message that only tells who the person is (or how far on the
    # partnership is) tailors what follows; it is not a new problem or a practice question.
    slots = {"focus": "advice:purpose_one_page_statement", "current_challenge": "challenge_purpose"}
    entities = [entity(text, said, dimension, value)]
    tracker = make_tracker(intent, text=text, slots=slots, ranking=[(intent, 0.6)], entities=entities)
    _, events = await run(action(), tracker, domain)
    assert slots_of(events).get(dimension) == value and followed_by(events, "action_acknowledge_context"), events


@pytest.mark.parametrize(
    "text,said",
    [
        ("we're a tiny charity and the council never replies to us", "charity"),
        ("we're a small charity, how do we get a seat at the table?", "charity"),
    ],
)
async def test_who_they_are_beside_a_problem_or_question_is_not_only_an_aside(text, said, knowledge_cache, domain) -> None:
    slots = {"focus": "advice:purpose_one_page_statement", "current_challenge": "challenge_purpose"}
    entities = [entity(text, said, "sector", "voluntary_community")]
    tracker = make_tracker("challenge_communication", text=text, slots=slots, ranking=[("challenge_communication", 0.6)], entities=entities)
    messages, events = await run(ActionChallengeAdvice(), tracker, domain)
    assert not followed_by(events, "action_acknowledge_context") and messages, events


async def test_being_all_volunteers_is_part_of_the_question(knowledge_cache, domain) -> None:
    # The sector someone names is left out of the practice match (who they are is not what they
    # ask about), but "all volunteers" is what makes weekday meetings a problem for a small group.
    text = "the council want us in their cost of living partnership but we're all volunteers, most of us work, and the meetings are 10am on a weekday"
    tracker = make_tracker(
        "challenge_communication", text=text, ranking=[("challenge_communication", 0.5)], entities=[entity(text, "all volunteers", "sector", "voluntary_community")]
    )
    messages, _ = await run(ActionChallengeAdvice(), tracker, domain)
    assert messages[0]["text"].startswith("Partnering as a small organisation:"), messages[0]["text"][:120]


async def test_an_email_told_about_is_a_problem_not_an_errand(knowledge_cache, domain) -> None:
    text = "email this morning from one of the big multiples saying they'll 'go it alone' on the care home flu jabs rather than share the rota"
    tracker = make_tracker("challenge_competition", text=text, ranking=[("challenge_competition", 0.8)])
    messages, _ = await run(ActionChallengeAdvice(), tracker, domain)
    assert "Competition" in messages[0]["text"], messages[0]["text"][:120]


async def test_remind_me_why_is_a_question_not_an_errand(knowledge_cache, domain) -> None:
    text = "remind me why partnership is supposed to help with inequalities at all? I need to persuade the partners"
    tracker = make_tracker("ask_health_inequalities", text=text, ranking=[("ask_health_inequalities", 0.6)])
    messages, _ = await run(ActionKnowledgeAnswer(), tracker, domain)
    assert "can't send, book or arrange" not in messages[0]["text"], messages[0]["text"][:120]


async def test_what_else_can_you_do_is_about_the_advisor_not_another_idea(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:time_realistic_timeline", "current_challenge": "challenge_time"}
    tracker = make_tracker("ask_more", text="lol ok. what else can you actually do", slots=slots)
    _, events = await run(ActionMoreAdvice(), tracker, domain)
    assert followed_by(events, "action_capabilities"), events


async def test_a_practice_topic_named_plainly_in_words_read_as_context_is_answered(knowledge_cache, domain) -> None:
    tracker = make_tracker("inform", text="honestly i'm tempted to walk away from the whole thing")
    messages, _ = await run(ActionAcknowledgeContext(), tracker, domain)
    assert messages[0]["text"].startswith("Leaving a partnership:"), messages[0]


async def test_distress_the_classifier_could_not_place_gets_a_question_back(knowledge_cache, domain) -> None:
    tracker = make_tracker("nlu_fallback", text="our partnership is a mess and i honestly don't know where to begin")
    messages, _ = await run(ActionClarify(), tracker, domain)
    assert messages[0]["text"].startswith("That sounds difficult."), messages[0]  # not "Starting a new partnership"


async def test_how_to_do_something_like_the_case_study_gets_practical_steps(knowledge_cache, domain) -> None:
    # A topic has no steps of its own: "how could we do that" after it is answered from what fits.
    tracker = make_tracker(
        "ask_how", text="how could my shop start something like that with local groups", slots={"focus": "topic:case_study"}
    )
    messages, events = await run(ActionFollowUp(), tracker, domain)
    assert "understanding rather than steps" not in messages[0]["text"], messages[0]
    assert str(slots_of(events).get("focus")).startswith("practice:"), events


@pytest.mark.parametrize("text", ["what do I say at the next meeting", "how could I design the next round differently"])
async def test_asking_what_to_say_or_design_after_an_idea_is_a_follow_up_however_sure_out_of_scope_is(
    text, knowledge_cache, domain
) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "advice_given": ["communication_agree_rhythm"]}
    messages, _ = await run(
        ActionOutOfScope(), make_tracker("out_of_scope", text=text, slots=slots, ranking=[("out_of_scope", 0.95)]), domain
    )
    assert messages[0]["text"].startswith("How to put \u201cAgree a communication rhythm\u201d"), messages[0]
    # An everyday request after the same idea is still declined.
    everyday = make_tracker("out_of_scope", text="how do we book a meeting room", slots=slots, ranking=[("out_of_scope", 0.93)])
    messages, _ = await run(ActionOutOfScope(), everyday, domain)
    assert messages[0].get("response") == "utter_out_of_scope", messages[0]


async def test_how_residents_get_a_say_after_the_principles_is_the_practice_answer(knowledge_cache, domain) -> None:
    tracker = make_tracker(
        "out_of_scope",
        text="how can residents like me have a real say in what it does",
        slots={"focus": "topic:key_principles"},
        ranking=[("out_of_scope", 0.5)],
    )
    messages, _ = await run(ActionOutOfScope(), tracker, domain)
    assert messages[0]["text"].startswith("Involving the community and service users:"), messages[0]


@pytest.mark.parametrize(
    "text,said,dimension,value",
    [
        ("I chair a wee befriending charity in Belfast", "charity", "sector", "voluntary_community"),
        ("SENCO at a high school in Motherwell", "SENCO", "role", "practitioner"),
    ],
)
async def test_who_the_person_is_read_as_unsure_out_of_scope_is_context(
    text, said, dimension, value, knowledge_cache, domain
) -> None:
    tracker = make_tracker(
        "out_of_scope", text=text, ranking=[("out_of_scope", 0.6)], entities=[entity(text, said, dimension, value)]
    )
    _, events = await run(ActionOutOfScope(), tracker, domain)
    assert slots_of(events).get(dimension) == value and followed_by(events, "action_acknowledge_context"), events
    # A request that names a sector is still declined: "NHS app keeps crashing on my phone".
    request = "NHS app keeps crashing on my phone"
    tracker = make_tracker(
        "out_of_scope", text=request, ranking=[("out_of_scope", 0.6)], entities=[entity(request, "NHS", "sector", "health")]
    )
    messages, events = await run(ActionOutOfScope(), tracker, domain)
    assert messages and messages[0].get("response") == "utter_out_of_scope", messages


@pytest.mark.parametrize(
    "text",
    [
        "Ta, that's really helped",
        "grand, that's me sorted",
        "catch yourself on, that's actually decent advice. ta",
        "ok, that was more use than i expected",
        "diolch, that'll do me",
        "I am most grateful. Goodnight.",
    ],
)
async def test_thanks_in_a_few_words_the_classifier_could_not_place_is_thanked(text, knowledge_cache, domain) -> None:
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text), domain)
    assert messages[0].get("response") == "utter_thank", messages[0]


@pytest.mark.parametrize(
    "text", ["thanks, how do I start", "ok thanks, and the funding", "ta. now can you write our christmas newsletter for me"]
)
async def test_thanks_with_something_more_is_not_only_thanks(text, knowledge_cache, domain) -> None:
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text), domain)
    assert messages[0].get("response") != "utter_thank", messages[0]


@pytest.mark.parametrize(
    "text,focus,starts",
    [
        (
            "could we bid together next time instead? how would that work",
            "advice:competition_consortium_bids",
            "Bidding for funding jointly:",
        ),
        (
            "so what do I do about the ones who never show up at all",
            "practice:terms_of_reference",
            "Engaging an unresponsive partner:",
        ),
        # how to raise it, not which body to raise it with: the idea just given
        ("how do I raise it with them without making things worse", "advice:competition_name_the_tension", "How to put"),
    ],
)
async def test_a_how_question_naming_another_practice_topic_is_about_that_topic(
    text, focus, starts, knowledge_cache, domain
) -> None:
    tracker = make_tracker("ask_how", text=text, slots={"focus": focus}, ranking=[("ask_how", 0.8)])
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert messages[0]["text"].startswith(starts), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "text",
    [
        "how do I do that without treading on the housing association's toes",
        "so how would I set things up so it doesn't happen next time",
    ],
)
async def test_how_do_i_do_that_is_about_the_idea_just_given_whatever_else_it_matches(text, knowledge_cache, domain) -> None:
    slots = {"focus": "advice:authority_send_decision_makers", "current_challenge": "challenge_authority"}
    messages, _ = await run(
        ActionFollowUp(), make_tracker("ask_how", text=text, slots=slots, ranking=[("ask_how", 0.85)]), domain
    )
    assert messages[0]["text"].startswith("How to put \u201cSend people who can decide\u201d"), messages[0]["text"][:120]


def test_a_correction_of_the_stage_is_not_a_problem_for_saying_wrong() -> None:
    from actions.context import corrects_context

    assert corrects_context({"text": "sorry, wrong - it's been going 2 years, I've just taken it over", "entities": []})
    assert not corrects_context({"text": "sorry, but it's all gone wrong since the council left", "entities": []})


async def test_a_practice_topic_named_mid_conversation_overrules_an_unsure_out_of_scope(knowledge_cache, domain) -> None:
    text = "also my council counterpart leaves next month and she's the only one who understands our BCF plan. panicking a bit"
    slots = {"focus": "advice:funding_ask_why_joining", "current_challenge": "challenge_funding"}
    ranking = [("nlu_fallback", 0.35), ("out_of_scope", 0.29), ("challenge_competition", 0.14)]
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, slots=slots, ranking=ranking), domain)
    assert messages[0]["text"].startswith("Keeping going when key people leave:"), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "intent,text,picked",
    [
        ("ask_practice_question", "lets start with the decision making bit, what do i do", "Send people who can decide"),
        ("ask_how", "start with the charities fighting, how do I deal with that", "Name the competition openly"),
        ("ask_how", "start with the second one", "Send people who can decide"),
    ],
)
async def test_an_option_picked_to_start_with_gets_its_steps(intent, text, picked, knowledge_cache, domain) -> None:
    options = ["advice:competition_name_the_tension", "advice:authority_send_decision_makers"]
    slots = {"focus": options[0], "last_options": options}
    action = ActionPracticeAnswer() if intent == "ask_practice_question" else ActionFollowUp()
    messages, _ = await run(action, make_tracker(intent, text=text, slots=slots, ranking=[(intent, 0.6)]), domain)
    assert messages[0]["text"].startswith(f"How to put \u201c{picked}\u201d"), messages[0]["text"][:120]


async def test_venting_whose_words_name_a_sector_is_not_who_they_are(knowledge_cache, domain) -> None:
    text = "sorry, I'm in a bit of a state today, everything's on fire"
    tracker = make_tracker("inform", text=text, entities=[entity(text, "fire", "sector", "fire_rescue")])
    messages, events = await run(ActionAcknowledgeContext(), tracker, domain)
    assert messages[0]["text"].startswith("That sounds difficult."), messages[0]
    assert "sector" not in slots_of(events)


def test_a_partner_named_after_with_is_not_the_persons_sector() -> None:
    text = "Deputy head at a secondary in Leicester. We're in a mental health partnership with CAMHS and a local charity."
    charity = entity(text, "charity", "sector", "voluntary_community")
    assert "sector" not in context_from_message({"text": text, "entities": [charity]})
    text = "We're a small charity working with the council"
    charity = entity(text, "charity", "sector", "voluntary_community")
    assert context_from_message({"text": text, "entities": [charity]})["sector"] == "voluntary_community"


async def test_a_question_out_of_scope_reads_as_the_answer_just_given_gets_its_steps_not_the_answer_again(
    knowledge_cache, domain
) -> None:
    slots = {"focus": "practice:leaving_a_partnership"}
    tracker = make_tracker("out_of_scope", text="how much notice is normal", slots=slots, ranking=[("out_of_scope", 0.82)])
    messages, _ = await run(ActionOutOfScope(), tracker, domain)
    assert messages[0]["text"].startswith("How to put \u201cLeaving a partnership\u201d"), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "text,focus,challenge,title",
    [
        (
            "how would you go about getting it back on track",
            "advice:purpose_check_before_renewing",
            "challenge_purpose",
            "Check the purpose before renewing",
        ),
        ("how do I handle the board on that", "advice:time_realistic_timeline", "challenge_time", "Set a realistic timeline"),
    ],
)
async def test_a_how_question_pointing_back_is_about_the_idea_just_given(
    text, focus, challenge, title, knowledge_cache, domain
) -> None:
    """It names no other practice topic by its keywords, though its words match one ("track",
    "board"): "it" and "that" are the idea just given."""
    slots = {"focus": focus, "current_challenge": challenge}
    messages, _ = await run(
        ActionFollowUp(), make_tracker("ask_how", text=text, slots=slots, ranking=[("ask_how", 0.51)]), domain
    )
    assert messages[0]["text"].startswith(f"How to put \u201c{title}\u201d"), messages[0]["text"][:120]


async def test_a_short_unplaced_message_that_names_a_practice_topic_is_answered(knowledge_cache, domain) -> None:
    """ "and what if we just want out of it now": one word of substance, but it names leaving a
    partnership, so the store answers instead of "Did you mean one of these?"."""
    text = "and what if we just want us out of it now"
    ranking = [("nlu_fallback", 0.35), ("challenge_culture_clash", 0.27), ("ask_practice_question", 0.26)]
    messages, events = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    assert slots_of(events)["focus"] == "practice:leaving_a_partnership", messages[0]["text"][:80]
    # A short unplaced message naming nothing still gets the question back.
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text="and what if", ranking=ranking), domain)
    assert CLARIFYING_QUESTION in messages[0]["text"]


@pytest.mark.parametrize(
    "text, stage",
    [
        ("we're about 2 years into integration btw", "established"),
        ("we are three months into the pilot", "forming"),
        ("we're at the very start, nothing agreed yet", "forming"),
        ("3 years", "established"),  # a bare answer to how long it has been going
        ("we're not new at this, the partnership has run for about two years", "established"),
        ("we've never partnered with anyone before, so this would be a first for us", "forming"),
        ("I'm leading it and it's only a few months old", "forming"),
        ("about 18 months now", "established"),
        ("6 months", "forming"),
        ("3 years late and over budget", None),
    ],
)
def test_how_far_in_a_partnership_is_read_as_its_stage(text: str, stage: str) -> None:
    from actions.context import stage_from_duration

    assert stage_from_duration(text) == stage


async def test_a_greeting_then_who_they_are_is_an_introduction_however_sure_out_of_scope_is(knowledge_cache, domain) -> None:
    text = "hiya. i volunteer at the food bank in merthyr"
    ents = [entity(text, "volunteer", "sector", "voluntary_community")]
    tracker = make_tracker("out_of_scope", text=text, entities=ents, ranking=[("out_of_scope", 0.72), ("inform", 0.11)])
    _, events = await run(ActionOutOfScope(), tracker, domain)
    assert followed_by(events, "action_acknowledge_context") and slots_of(events)["sector"] == "voluntary_community"
    # An everyday request after a greeting is still declined.
    tracker = make_tracker("out_of_scope", text="hiya. what's the weather in merthyr", ranking=[("out_of_scope", 0.9)])
    messages, events = await run(ActionOutOfScope(), tracker, domain)
    assert not followed_by(events, "action_acknowledge_context") and messages[0]["response"] == "utter_out_of_scope"


def test_nothing_agreed_yet_at_the_start_is_no_trouble() -> None:
    from actions.context import states_trouble

    assert not states_trouble("we're at the very start, nothing agreed yet")
    assert states_trouble("nothing has changed for the young people")
    assert states_trouble("we work with the Trust on discharge, everything takes forever")


def after_clarifying(intent: str, text: str, offered: list[str], slots: dict | None = None):
    """The latest message, typed right after "Did you mean one of these?" offered `offered`."""
    tracker = make_tracker(intent, text=text, slots=slots, bot_said=[CLARIFYING_QUESTION])
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}] + [{"name": o, "confidence": 0.3 - 0.1 * n} for n, o in enumerate(offered)]
    unclear = {"intent": ranking[0], "intent_ranking": ranking, "text": "our partnership is just messy, can't put my finger on why"}
    tracker.events.insert(0, {"event": "user", "text": unclear["text"], "parse_data": unclear})
    return tracker


async def test_a_typed_pick_after_did_you_mean_takes_that_button(knowledge_cache, domain) -> None:
    tracker = after_clarifying("choose_item", "probably the second one", ["ask_benefits", "challenge_time"])
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert "\u201cTime\u201d challenge" in messages[0]["text"], messages[0]["text"][:120]
    # A button that starts something else does what tapping it does: the health check starts.
    tracker = after_clarifying("choose_item", "the first one", ["start_health_check", "ask_benefits"])
    _, events = await run(ActionFollowUp(), tracker, domain)
    assert followed_by(events, "action_health_check_intro"), events
    messages, events = await run(ActionHealthCheckIntro(), tracker, domain)
    assert messages[0]["text"].startswith("Let's check your partnership") and followed_by(events, "health_check_form"), messages


async def test_a_typed_pick_under_the_challenges_offered_for_distress_takes_that_challenge(knowledge_cache, domain) -> None:
    """ "it's all a bit of a mess" gets the challenges as buttons (in CHALLENGES' order); "the second one" is Authority."""
    from actions.common import WHAT_IS_WRONG, challenge_buttons
    from actions.vocabulary import CHALLENGES

    knowledge = await knowledge_cache.get()
    assert [b["payload"] for b in challenge_buttons(knowledge)] == [f"/{c}" for c in CHALLENGES]
    tracker = make_tracker("choose_item", text="the second one", bot_said=[WHAT_IS_WRONG])
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert "\u201cAuthority\u201d challenge" in messages[0]["text"], messages[0]["text"][:120]


async def test_a_word_after_did_you_mean_is_no_pick_of_a_button(knowledge_cache, domain) -> None:
    # "a slow one" asks for an example of the answer in focus; it does not pick "Slow results".
    slots = {"focus": "advice:purpose_one_page_statement", "current_challenge": "challenge_purpose"}
    tracker = after_clarifying("ask_example", "any example of a slow one that paid off in the end", ["challenge_time", "ask_benefits"], slots)
    messages, _ = await run(ActionFollowUp(), tracker, domain)
    assert "\u201cTime\u201d challenge" not in messages[0]["text"], messages[0]["text"][:120]


def test_a_typed_pick_of_a_button_runs_what_its_rule_runs() -> None:
    # OFFERED_ACTIONS repeats what the rules do for these intents: they must not drift apart.
    import yaml

    from actions.follow_ups import OFFERED_ACTIONS
    from tests.conftest import ROOT

    ruled = {}
    for path in (ROOT / "data" / "rules").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text()).get("rules") or []:
            steps = rule.get("steps") or []
            if len(steps) >= 2 and "intent" in steps[0] and "action" in steps[1] and not rule.get("condition"):
                ruled.setdefault(steps[0]["intent"], steps[1]["action"])
    assert {intent: ruled.get(intent) for intent in OFFERED_ACTIONS} == OFFERED_ACTIONS


@pytest.mark.parametrize(
    "text,title",
    [
        ("how can residents like me have a real say in what it does", "Involving the community and service users"),
        ("how far ahead shud papers go out", "Running partnership meetings well"),
    ],
)
async def test_a_plain_practice_question_guessed_out_of_scope_is_answered(text, title, knowledge_cache, domain) -> None:
    ranking = [("nlu_fallback", 0.4), ("out_of_scope", 0.35), ("ask_example", 0.23)]
    slots = {"focus": "advice:purpose_one_page_statement", "current_challenge": "challenge_purpose"}
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, slots=slots, ranking=ranking), domain)
    assert messages[0]["text"].startswith(title), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "text",
    ["what time is it?", "what's the weather doing tomorrow? we've got an outdoor community safety walk"],
)
async def test_an_everyday_question_that_matches_the_store_is_still_declined(text, knowledge_cache, domain) -> None:
    ranking = [("nlu_fallback", 0.4), ("out_of_scope", 0.35), ("ask_practice_question", 0.23)]
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text, ranking=ranking), domain)
    said = messages[0].get("text") or messages[0].get("response") or ""
    assert said in (CLARIFYING_QUESTION, "utter_clarify", "utter_out_of_scope") or said.startswith("Sorry"), messages
