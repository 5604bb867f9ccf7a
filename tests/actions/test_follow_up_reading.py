"""A message about what was just said is read as a follow-up wherever the classifier sends it
(issue 13): the real actions on a real loaded store, with the classifier's reading given as the
tracker's intent and confidence. New questions, confident other readings and everyday requests
are not taken for follow-ups."""

from __future__ import annotations

import pytest

from actions import answers
from actions.actions import ActionChallengeAdvice, ActionKnowledgeAnswer, ActionMoreAdvice
from actions.conversation import (
    ActionActionPlan,
    ActionBotChallenge,
    ActionCapabilities,
    ActionClarify,
    ActionDeny,
    ActionOutOfScope,
    ActionRecordFeedback,
)
from actions.follow_ups import (
    ActionFollowUp,
    ActionPracticeAnswer,
    names_something_else,
    practicality_asked,
    short_follow_up,
    term_in,
)
from actions.glossary import asked_names
from tests.conftest import make_tracker, slots_of
from tests.conftest import run_action as run
from tests.servers import say, sender, texts

ACTIONS = {
    "nlu_fallback": ActionClarify,
    "ask_good_practice": ActionKnowledgeAnswer,
    "ask_key_principles": ActionKnowledgeAnswer,
    "ask_benefits": ActionKnowledgeAnswer,
    "ask_practice_question": ActionPracticeAnswer,
    "challenge_authority": ActionChallengeAdvice,
    "challenge_culture_clash": ActionChallengeAdvice,
    "challenge_competition": ActionChallengeAdvice,
    "challenge_communication": ActionChallengeAdvice,
    "out_of_scope": ActionOutOfScope,
    "ask_summary": ActionActionPlan,
    "ask_more": ActionMoreAdvice,
    "ask_example": ActionFollowUp,
    "ask_simpler": ActionFollowUp,
}


def tracker(intent: str, confidence: float, text: str, slots: dict):
    return make_tracker(intent, text, slots, ranking=[(intent, confidence), ("ask_how", 0.1)])


@pytest.mark.parametrize(
    "text,form",
    [
        ("what do we put in it then", "ask_how"),
        ("what next?", "ask_how"),
        ("where would I even start", "ask_how"),
        ("anything practical for monday?", "ask_how"),
        ("how have other councils handled it", "ask_example"),
        ("what might that look like for us", "ask_example"),
        ("got any example wording?", "ask_example"),
        ("and if they still don't answer?", "ask_more"),
        ("so why is openness so important", "ask_why"),
        ("tl;dr", "ask_simpler"),
        ("and the reasoning behind it? I'll have to justify this to the IJB", "ask_why"),
        ("wont naming it openly just make it worse? why do it", "ask_why"),
        ("go on then, what would you do", "ask_how"),
        ("which of those would you do first", "ask_how"),
        ("ok no worries. so what could I actually show the governors at the next meeting", "ask_how"),
        ("what would the purpose statement actually say", "ask_example"),
        ("what made it work do you think", "ask_why"),
        ("whats the main principle behind that", "ask_why"),
        ("ok but how do i raise that without putting the council's back up, theyre our biggest funder", "ask_how"),
        ("whats a simple way to stop this happening again", "ask_how"),
        ("is there a version I could give in two minutes at a watch handover", "ask_simpler"),
        ("how come?", "ask_why"),
        ("none of those fit tbh", "ask_more"),
        ("explain like I'm five", "ask_simpler"),
        ("right so how do we keep the staff on board", "ask_how"),
        ("and what made that one work", "ask_why"),
        ("ok and practically?", "ask_how"),
        ("in practice?", "ask_how"),
        ("Alternative?", "ask_more"),
        ("sorry for shouting lol. what would u suggest first", "ask_how"),
        ("What I should write in the email?", "ask_how"),
        ("what should it say", "ask_how"),
        # chat spellings and typos
        ("wat would u do first", "ask_how"),
        ("examle pls", "ask_example"),
        ("something else?", "ask_more"),
        ("can I ask about something else", None),
        # A question of its own, not "how do I do that"; a new problem before a how-question.
        ("How long do these things normally take to show results?", None),
        ("how far is it to leeds", None),
        ("We have too many meetings. How do we cut them?", None),
        # Pushback on the idea just given wants the next one.
        ("that won't work here, they'd never admit to it out loud in a meeting", "ask_more"),
        ("we already asked them to move it, no joy", "ask_more"),
        ("our chief exec won't go for 'be patient', she wants something for the next board", "ask_more"),
        ("they won't let us see the data", None),
        ("what can I tell the governors in two lines", "ask_simpler"),
        ("we have far too many meetings and nobody decides anything at any of them", None),
        ("what's the weather", None),
        # "look like in practice / week to week" asks for the steps; "look like for us" for a story.
        ("what does that look like week to week", "ask_how"),
        ("what dose that look like in practice", "ask_how"),
        ("what would that look like in practice, got an example?", "ask_example"),
        ("what would that look like in real life", "ask_example"),
        ("what might that look like on the ground?", "ask_example"),
        ("what should I tackle first", "ask_how"),
        ("can you squash that into a couple of lines I could say to my director", "ask_simpler"),
        ("have you seen that work anywhere, even a made-up case", "ask_example"),
        ("show me how that's looked in another school", "ask_example"),
        ("spell the steps out for me", "ask_how"),
        ("which questions would you ask them, in what order", "ask_how"),
        ("something different to try?", "ask_more"),
        ("is there a different angle I could take", "ask_more"),
        ("fair enough but why does it even matter if they're in it for the cash", "ask_why"),
        ("whys it take so long, honestly", "ask_why"),
        ("hows that work with shifts", "ask_how"),
        ("Is there a plainer way of putting that", "ask_simpler"),
        ("anothr", "ask_more"),
        ("Ok but really, why does it matter why they joined if they turn up", "ask_why"),
        ("honestly, how would that work", "ask_how"),
        ("sorry - could you say the advice more simply", "ask_simpler"),
        ("could you put that in plain english please", "ask_simpler"),
        ("sorry, how?", "ask_how"),
        ("ok give me another idea, we cant exactly bid together now its been awarded", "ask_more"),
        ("any other ideas for getting them back round the table", "ask_more"),
        ("what would you say to the minister", "ask_how"),
        ("ok, the two minute version for my director", "ask_simpler"),
        ("any other way of looking at it?", "ask_more"),
        ("what's the reason that works, feels like it's just more emails", "ask_why"),
        ("is that really so bad, we still do the work", "ask_why"),
        ("ok but what does that mean for us on Monday", "ask_how"),
        ("tried phoning too, I only ever get the receptionist", "ask_more"),
        ("back to the meetings, what do I actually say to the people chairing them", "ask_how"),
        ("back to my boss and March, how do I explain this without sounding like I'm making excuses", "ask_how"),
        ("ok so who do I need to get round the table first", "ask_how"),
        ("which of those matters most", "ask_simpler"),
        ("what sort of things should I be asking them", "ask_how"),
        ("back to square one", None),
        ("right, give me a different angle on the original problem", "ask_more"),
        ("sorry to bother you, our council never replies to anything", None),
        # what the first answer's steps are, asked in more ways (dev36, dev37)
        ("what would you cut first, practically", "ask_how"),
        ("whats the first thing id do", "ask_how"),
        ("what should I be doing first", "ask_how"),
        ("what would step one look like in reality", "ask_how"),
        ("testing every agenda item - how exactly", "ask_how"),
        ("how long should this one page thing be and what actually goes on it", "ask_how"),
        ("'realistic pace' - what does that mean in practice", "ask_how"),
        ("what would a decent handover note have in it", "ask_how"),
        ("got a concrete case of it working", "ask_example"),
        ("is there a case of this actually working", "ask_example"),
        ("what did another school do", "ask_example"),
        ("can you show me how that's played out somewhere in health and social care", "ask_example"),
        ("tell me why this matters beyond just keeping the peace", "ask_why"),
        ("is there a principle behind cutting it down", "ask_why"),
        ("what's the point of delegating, honestly, beyond speed", "ask_why"),
        ("what's the point of partnership working", None),
        ("have you another idea? they won't sit down for a values session", "ask_more"),
        ("so what would you put at the top of the agenda then", "ask_how"),
        ("is there an example where this sort of thing worked out", "ask_example"),
        ("honestly we did a joint away day last winter and it fell apart within a month", "ask_more"),
        ("give me a different approach, that one won't land with them", "ask_more"),
        ("Can you tell me again more easy?", "ask_simpler"),
        ("how do i bring it back round to the older people when im only the volunteer coordinator", "ask_how"),
        ("make that simpler for me please, it's been a long day", "ask_simpler"),
        ("Walk me through it in order, I'll need to take it to the board", "ask_how"),
        ("What's the one thing I could do at the next meeting?", "ask_how"),
        ("What could I, as a patient, actually do about it?", "ask_how"),
        ("what's a realistic example of bringing it back to the children", "ask_example"),
        ("Concretely, what should we be writing down", "ask_how"),
        # very short ones (nlu_dev10)
        ("less jargon pls", "ask_simpler"),
        ("too much jargon in our meetings", None),
        ("reason?", "ask_why"),
        ("whats the reason", "ask_why"),
        ("what is the reason partnerships fail", None),
        ("go deeper", "ask_more"),
        ("too much jargon", None),  # as a first message, the communication challenge
        ("meaning?", "ask_simpler"),
        ("huh?", "ask_simpler"),
        ("sorry, you lost me there", "ask_simpler"),
        ("i dont follow", "ask_simpler"),
        ("i don't understand why the council won't engage", None),
        ("the meaning of partnership", None),
        ("when?", "ask_how"),
        # Alone, right after an answer: its steps, led by "I can't give a set timescale".
        ("how long will it take?", "ask_how"),
        ("cost?", "ask_how"),
        ("who do i talk to", "ask_how"),
        ("template?", "ask_how"),
        ("so what?", "ask_why"),
        ("is it worth it?", "ask_why"),
        ("when is the next meeting", None),
        ("how long does it take to set up a partnership", None),
        ("who is the chief executive", None),
        ("sorry what?", "ask_simpler"),
        # the steps, the next idea, or why it helps, typed alone after an answer
        ("then what?", "ask_how"),
        ("got a checklist?", "ask_how"),
        ("bit vague", "ask_how"),
        ("any tips", "ask_how"),
        ("any tips on chairing a hostile meeting", None),
        ("is that it?", "ask_more"),
        ("is that it for the funding bit or is there more", None),
        ("doesn't apply to us", "ask_more"),
        ("the duty to cooperate doesn't apply to us, does it?", None),
        ("sounds like a lot of work", "ask_more"),
        ("and if they refuse?", "ask_more"),
        ("what if the ICB pushes back", "ask_more"),
        ("not convinced", "ask_why"),
        ("really?", "ask_why"),
        ("really struggling with the council", None),
    ],
)
def test_the_forms_of_a_follow_up(text: str, form: str | None) -> None:
    assert short_follow_up(text) == form


# (classifier's intent, its confidence, message, item in focus, how the reply starts)
FOLLOW_UPS = [
    # The classifier could not place it: a how about the answer just given.
    (
        "nlu_fallback",
        0.35,
        "what do we put in it then",
        "practice:terms_of_reference",
        "How to put \u201cWriting terms of reference\u201d",
    ),
    (
        "nlu_fallback",
        0.35,
        "anything practical for monday?",
        "practice:start_partnership",
        "How to put \u201cStarting a new partnership\u201d",
    ),
    # Read as a topic, unsure: about the meetings answer, in its words (agenda, papers).
    (
        "ask_good_practice",
        0.45,
        "how should the papers go out",
        "practice:running_meetings",
        "How to put \u201cRunning partnership meetings well\u201d",
    ),
    # Read as a challenge, unsure: an example of what is in focus.
    (
        "challenge_authority",
        0.6,
        "got any example wording?",
        "practice:terms_of_reference",
        "An illustrative example (not a real case) of \u201cWriting terms of reference\u201d",
    ),
    # Read as a practice question: how others do it is an example of the answer just given.
    (
        "ask_practice_question",
        0.8,
        "how have other councils handled it",
        "practice:pooled_budgets",
        "An illustrative example (not a real case) of \u201cPooled budgets",
    ),
    # Read as out of scope: an example, or the steps when it points back ("about it", "from my side").
    ("out_of_scope", 0.49, "what did another school do", "advice:purpose_test_agenda_items", "An illustrative example"),
    ("out_of_scope", 0.71, "what can I do about it from my side", "advice:purpose_test_agenda_items", "How to put"),
    ("out_of_scope", 0.43, "how do i bring it back round to the older people", "advice:purpose_test_agenda_items", "How to put"),
    # Read as "say it simpler", but asking what it means in practice: the steps.
    ("ask_simpler", 0.8, "'realistic pace' - what does that mean in practice", "practice:partnership_agreement", "How to put"),
    # Read as a request for an example, but asking what goes in it: the steps.
    ("ask_example", 0.8, "what would actually go in it", "practice:partnership_agreement", "How to put"),
    # Read confidently as the topic again, but in the topic's own words: why that principle matters.
    ("ask_key_principles", 0.92, "so why is openness so important", "topic:key_principles", "Why \u201cOpenness\u201d matters"),
    # Very short, as the classifier read them (nlu_dev10): the reason, plainer words, the next idea.
    ("nlu_fallback", 0.4, "reason?", "advice:purpose_test_agenda_items", "Why \u201c"),
    ("out_of_scope", 0.5, "whats the reason", "advice:purpose_test_agenda_items", "Why \u201c"),
    ("nlu_fallback", 0.4, "less jargon pls", "advice:purpose_test_agenda_items", "In short:"),
]


@pytest.mark.parametrize("intent,confidence,text,focus,starts", FOLLOW_UPS)
async def test_a_question_about_the_answer_just_given_is_a_follow_up(
    knowledge_cache, domain, intent, confidence, text, focus, starts
) -> None:
    messages, events = await run(ACTIONS[intent](), tracker(intent, confidence, text, {"focus": focus}), domain)
    assert messages[0]["text"].startswith(starts), messages[0]["text"][:200]


async def test_a_follow_up_with_a_challenge_recognised_and_nothing_in_focus_is_about_that_challenge(
    knowledge_cache, domain
) -> None:
    knowledge = await knowledge_cache.get()
    slots = {"current_challenge": "challenge_funding", "context_asked": True, "focus": None}
    text = "how do we hold on to partners once the money stops"
    messages, events = await run(ActionPracticeAnswer(), tracker("ask_practice_question", 0.93, text, slots), domain)
    assert messages[0]["text"].startswith("How to put \u201c"), messages[0]["text"][:200]
    given = slots_of(events)["advice_given"]
    assert knowledge.advice(given[0]).challenge_id == "challenge_funding"


async def test_a_why_read_as_a_challenge_is_about_what_was_said(knowledge_cache, domain) -> None:
    # Read as a new problem by the classifier, but "why's that" points back at the answer just given.
    slots = {
        "focus": "advice:purpose_test_agenda_items",
        "current_challenge": "challenge_purpose",
        "advice_given": ["purpose_test_agenda_items"],
    }
    text = "and why's that a problem if the meetings are fine"
    messages, _ = await run(ActionChallengeAdvice(), tracker("challenge_communication", 0.5, text, slots), domain)
    assert messages[0]["text"].startswith("Why \u201cTest every agenda item\u201d"), messages[0]["text"][:200]


async def test_a_why_about_a_challenge_advised_earlier_is_about_that_advice(knowledge_cache, domain) -> None:
    # Ideas on culture clash and on time were given, the culture one last; "why does it take so long"
    # is about the idea on time.
    given = ["time_early_quick_wins", "culture_clash_talk_expectations"]
    slots = {
        "focus": "advice:culture_clash_talk_expectations",
        "current_challenge": "challenge_culture_clash",
        "advice_given": given,
    }
    text = "why does it take so long though"
    messages, _ = await run(
        ActionChallengeAdvice(), make_tracker("challenge_time", text, slots, ranking=[("challenge_time", 0.82)]), domain
    )
    assert messages[0]["text"].startswith("Why \u201cAim for early quick wins\u201d"), messages[0]["text"][:200]


# Not follow-ups: a new question that names something else, a confident new problem, an everyday request.
NOT_FOLLOW_UPS = [
    (
        "ask_practice_question",
        0.97,
        "how do we write a terms of reference",
        "practice:start_partnership",
        "Writing terms of reference:",
    ),
    (
        "challenge_competition",
        0.95,
        "how do we stop our partners bidding against each other for the same contracts",
        "advice:communication_agree_rhythm",
        "That sounds like the \u201cCompetition between organisations\u201d challenge",
    ),
    # "it" is the partnership: winding one down is a practice topic of its own, named plainly.
    (
        "ask_practice_question",
        0.64,
        "how do we wind it down without upsetting people",
        "advice:purpose_one_page_statement",
        "Ending a partnership well:",
    ),
    ("out_of_scope", 0.93, "how do we book a meeting room", "practice:running_meetings", "Sorry, I can't help with that"),
    ("out_of_scope", 0.9, "what should we do for lunch", "practice:running_meetings", "Sorry, I can't help with that"),
]


@pytest.mark.parametrize("intent,confidence,text,focus,starts", NOT_FOLLOW_UPS)
async def test_new_questions_and_everyday_requests_are_not_taken_for_follow_ups(
    knowledge_cache, domain, intent, confidence, text, focus, starts
) -> None:
    slots = {"focus": focus, "context_asked": True}
    messages, _ = await run(ACTIONS[intent](), tracker(intent, confidence, text, slots), domain)
    reply = messages[0].get("text") or ""
    if messages[0].get("response") == "utter_out_of_scope":
        reply = domain["responses"]["utter_out_of_scope"][0]["text"]
    assert reply.startswith(starts), reply[:200]


@pytest.mark.parametrize("intent", ["challenge_culture_clash", "nlu_fallback"])
@pytest.mark.parametrize(
    "text,starts",
    [("and the LPC?", "LPC (Local Pharmaceutical Committee): "), ("what about CSPs", "CSP (Community Safety Partnership): ")],
)
async def test_and_another_term_after_a_definition_is_defined(knowledge_cache, domain, intent, text, starts) -> None:
    messages, _ = await run(ACTIONS[intent](), tracker(intent, 0.8, text, {"focus": "practice:getting_help"}), domain)
    assert messages[0]["text"].startswith(starts)


@pytest.mark.parametrize(
    "text", ["what is the difference between outputs and outcomes", "remind me the diffrence between outputs and outcomes"]
)
async def test_the_difference_between_two_terms_defines_both(knowledge_cache, domain, text) -> None:
    messages, _ = await run(ActionClarify(), tracker("nlu_fallback", 0.35, text, {}), domain)
    lines = messages[0]["text"].split("\n")
    assert lines[0].startswith("output: ") and lines[1].startswith("outcome: ")


@pytest.mark.parametrize(
    "text", ["so ICS and ICB, same thing or not?", "ICS, ICB... are those two different things or the same?"]
)
async def test_whether_two_bodies_are_the_same_thing_defines_both(knowledge_cache, domain, text) -> None:
    messages, _ = await run(ActionClarify(), tracker("nlu_fallback", 0.35, text, {}), domain)
    lines = messages[0]["text"].split("\n")
    assert lines[0].startswith("ICS (") and lines[1].startswith("ICB ("), lines


def test_two_bodies_named_in_a_problem_are_not_a_term_question() -> None:
    assert asked_names("the PCN and the LPC keep arguing about the same thing") == []


@pytest.mark.parametrize("text", ["who says so", "says who?", "where's that from", "what's that based on", "is that written up anywhere"])
async def test_where_the_answer_comes_from_asked_in_other_words(knowledge_cache, domain, text) -> None:
    slots = {"focus": "practice:terms_of_reference"}
    messages, _ = await run(ActionClarify(), tracker("nlu_fallback", 0.3, text, slots), domain)
    assert messages[0]["text"].startswith("Where to get help with writing terms of reference"), messages[0]["text"][:80]
    # With nothing in focus there is no answer to source: clarified as before.
    messages, _ = await run(ActionClarify(), tracker("nlu_fallback", 0.3, text, {}), domain)
    assert not (messages[0].get("text") or "").startswith("Where to get help")


async def test_asked_to_cite_the_answer_read_as_out_of_scope_gets_its_sources(knowledge_cache, domain) -> None:
    slots = {"focus": "practice:terms_of_reference"}
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.69, "cite it for me properly", slots), domain)
    assert messages[0]["text"].startswith("Where to get help with writing terms of reference"), messages[0]
    # With nothing in focus there is nothing to cite: declined as before.
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.69, "cite it for me properly", {}), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_a_different_angle_read_as_a_sources_question_is_the_next_idea(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    text = "right, give me a different angle on the original problem"
    _, events = await run(ActionKnowledgeAnswer(), tracker("ask_sources", 0.42, text, slots), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}]


async def test_if_that_does_not_work_asks_for_another_idea(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    _, events = await run(ActionClarify(), tracker("nlu_fallback", 0.35, "and if they still don't answer?", slots), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}]


async def test_another_misspelt_and_read_as_out_of_scope_still_gets_the_next_idea(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    _, events = await run(ActionOutOfScope(), tracker("out_of_scope", 0.44, "anothr", slots), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}]
    # With nothing said before it, there is no next idea: declined as before.
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.44, "anothr", {}), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_a_how_question_read_as_out_of_scope_gets_the_idea_on_that_challenge_it_asks_about(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "current_challenge": "challenge_communication"}
    text = "how do i get proper named contacts set up"
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.81, text, slots), domain)
    assert messages[0]["text"].startswith("How to put \u201c"), messages[0]
    # Sure it is out of scope, or an everyday request: declined as before.
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.95, "how do i get the projector set up", slots), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_if_that_does_not_work_read_as_feedback_is_still_a_question(knowledge_cache, domain) -> None:
    """Typed, "and if that doesn't work?" is about what to try next, not a verdict on the answer;
    the "Not helpful" button still records feedback."""
    slots = {"focus": "practice:engaging_a_partner", "last_advice": ["engaging_a_partner"]}
    messages, events = await run(
        ActionRecordFeedback(), tracker("feedback_not_helpful", 0.9, "and if that doesnt work?", slots), domain
    )
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}] and not messages
    _, events = await run(ActionRecordFeedback(), tracker("feedback_not_helpful", 1.0, "/feedback_not_helpful", slots), domain)
    assert {"event": "active_loop", "timestamp": None, "name": "feedback_form"} in events


async def test_tldr_after_an_answer_shortens_it_and_a_summary_is_still_the_plan(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "advice_given": ["communication_agree_rhythm"]}
    messages, _ = await run(ActionActionPlan(), tracker("ask_summary", 0.95, "tl;dr", slots), domain)
    assert messages[0]["text"].startswith("In short: Agree a communication rhythm.")
    messages, _ = await run(ActionActionPlan(), tracker("ask_summary", 0.95, "give me a summary of everything", slots), domain)
    assert messages[0]["text"].startswith("Your action plan")


async def test_another_one_after_a_topic_gives_its_next_part(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    topic = knowledge.topics["good_practice"]
    first, second = topic.passages[0], topic.passages[1]
    asked = tracker("ask_more", 0.95, "got another one?", {"focus": "topic:good_practice"})
    asked.events.insert(0, {"event": "bot", "text": f"{topic.title}: \u201c{first.text}\u201d"})
    messages, _ = await run(ActionMoreAdvice(), asked, domain)
    assert messages[0]["text"].startswith(
        f"Another idea on general principles for better partnerships: \u201c{second.title}\u201d"
    )
    # "tell me more" still gives the whole topic.
    messages, _ = await run(
        ActionMoreAdvice(), tracker("ask_more", 0.95, "tell me more", {"focus": "topic:good_practice"}), domain
    )
    assert not messages[0]["text"].startswith("Another idea")


@pytest.mark.parametrize("text", ["ace, cheers", "lovely stuff", "that's brilliant", "grand job", "you've been kind, bless you"])
async def test_approval_on_its_own_is_thanked_not_declined(knowledge_cache, domain, text) -> None:
    messages, _ = await run(
        ActionOutOfScope(), tracker("out_of_scope", 0.7, text, {"focus": "practice:running_meetings"}), domain
    )
    assert messages[0].get("response") == "utter_thank"


@pytest.mark.parametrize(
    "action, intent, text",
    [
        (ActionClarify(), "nlu_fallback", "lovely, that gives me something to work with"),
        (ActionClarify(), "nlu_fallback", "ok I'll try the GP we know from the food bank board. cheers"),
        (ActionOutOfScope(), "out_of_scope", "Grand, away to write it now"),
        (ActionMoreAdvice(), "ask_more", "ta, I'll give it a go at the next one"),
        (ActionChallengeAdvice(), "challenge_purpose", "muchas gracias, is very clear now"),
    ],
)
async def test_thanks_with_a_remark_after_an_answer_is_thanked(knowledge_cache, domain, action, intent, text) -> None:
    """Approval or thanks and what the person will do next, however the classifier read it."""
    messages, _ = await run(action, tracker(intent, 0.6, text, {"focus": "advice:communication_agree_rhythm"}), domain)
    assert messages[0].get("response") == "utter_thank"


async def test_thanks_that_says_who_they_are_is_not_only_thanks(knowledge_cache, domain) -> None:
    text = "thanks, actually I moved to the council last month"
    start = text.index("council")
    entities = [{"entity": "sector", "value": "local_government", "start": start, "end": start + len("council")}]
    asked = make_tracker("challenge_time", text, {"focus": "advice:communication_agree_rhythm"}, entities=entities)
    messages, events = await run(ActionChallengeAdvice(), asked, domain)
    assert not any(m.get("response") == "utter_thank" for m in messages)
    assert slots_of(events).get("sector") == "local_government"  # who they are is learned, not thanked away


@pytest.mark.parametrize(
    "text",
    ["lovely, the council has just pulled out of the partnership", "great, but what if they say no", "thanks, is there a template"],
)
async def test_approval_followed_by_a_problem_or_a_question_is_not_only_thanks(knowledge_cache, domain, text) -> None:
    slots = {"focus": "advice:communication_agree_rhythm", "context_asked": True}
    messages, _ = await run(ActionMoreAdvice(), tracker("ask_more", 0.6, text, slots), domain)
    assert messages[0].get("response") != "utter_thank"


async def test_a_greeting_before_a_question_to_the_advisor_is_that_question(knowledge_cache, domain) -> None:
    """Unclear only between "greet" and "bot_challenge": the greeting opens the question."""
    asked = make_tracker("nlu_fallback", "hi, who made you?", {}, ranking=[("nlu_fallback", 0.4), ("bot_challenge", 0.51), ("greet", 0.47)])
    _, events = await run(ActionClarify(), asked, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_bot_challenge"}]
    # Without a greeting, the same two readings are not one.
    asked = make_tracker("nlu_fallback", "who made you and why", {}, ranking=[("nlu_fallback", 0.4), ("bot_challenge", 0.51), ("greet", 0.47)])
    _, events = await run(ActionClarify(), asked, domain)
    assert not any(e.get("event") == "followup" and e.get("name") == "action_bot_challenge" for e in events)


@pytest.mark.parametrize(
    "text, topic",
    [
        ("how do we close it properly so people aren't just left", "Ending a partnership well"),
        ("how do we decide if it's worth our time to join", "Deciding whether to join a partnership"),
    ],
)
async def test_a_how_question_pointing_back_but_naming_another_practice_topic_gets_that_topic(
    knowledge_cache, domain, text, topic
) -> None:
    """"it" is the partnership, and the question names a practice topic of its own."""
    slots = {"focus": "advice:funding_plan_for_the_end"}
    messages, _ = await run(ActionPracticeAnswer(), tracker("ask_practice_question", 0.95, text, slots), domain)
    assert messages[0]["text"].startswith(topic), messages[0]["text"][:120]


async def test_what_follows_without_is_how_not_what_the_question_is_about(knowledge_cache, domain) -> None:
    """"falling out" names disagreements, but "how do we get it back on track without falling out"
    asks how to do what was just advised."""
    slots = {"focus": "advice:purpose_check_before_renewing"}
    text = "how do we get it back on track without falling out"
    messages, _ = await run(ActionPracticeAnswer(), tracker("ask_practice_question", 0.9, text, slots), domain)
    assert messages[0]["text"].startswith("How to put \u201cCheck the purpose before renewing\u201d into practice"), messages[0]["text"][:120]


async def test_a_clarifying_question_keeps_the_item_in_focus(knowledge_cache, domain) -> None:
    """An unclear message between an answer and its follow-up does not lose what was in focus."""
    slots = {"focus": "practice:running_meetings"}
    messages, events = await run(ActionClarify(), tracker("nlu_fallback", 0.35, "hmm the thing with the bits", slots), domain)
    assert "focus" not in slots_of(events)
    messages, _ = await run(ActionFollowUp(), tracker("ask_example", 0.99, "what would that look like", slots), domain)
    assert messages[0]["text"].startswith(
        "An illustrative example (not a real case) of \u201cRunning partnership meetings well\u201d"
    )


async def test_a_how_question_describing_a_new_problem_is_not_a_follow_up(knowledge_cache, domain) -> None:
    """Read (unsure) as another challenge, in words of its own: advice on that challenge, or the
    practice question practitioners ask in those words (schemes of delegation: who may sign off what),
    never the steps of the idea in focus."""
    text = "how do I get the managers to actually sign things off at the board"
    slots = {"focus": "advice:communication_agree_rhythm", "context_asked": True}
    messages, _ = await run(ActionChallengeAdvice(), tracker("challenge_authority", 0.7, text, slots), domain)
    reply = messages[0]["text"]
    authority = "\u201cAuthority\u201d" in reply or "Another idea on authority" in reply
    assert authority or reply.startswith("Schemes of delegation:"), reply[:200]
    assert "Agree a communication rhythm" not in reply


async def test_why_a_principle_matters_quotes_the_guidance_that_speaks_to_it(knowledge_cache, domain) -> None:
    slots = {"focus": "topic:key_principles"}
    text = "and why is trust such a big deal"
    messages, events = await run(ActionKnowledgeAnswer(), tracker("ask_key_principles", 0.9, text, slots), domain)
    reply = messages[0]["text"]
    assert reply.startswith("Why \u201cTrust and honesty\u201d matters: it is one of the key principles")
    assert "establish trust" in reply and "The key principles of partnership working are" not in reply
    assert [b["payload"] for b in messages[0]["buttons"]][0] == '/choose_item{"option": "1"}'
    assert len(slots_of(events)["last_options"]) == len(messages[0]["buttons"])


# Read as a question about the bot, but about the answer just given (issue 13).
@pytest.mark.parametrize(
    "text",
    ["what should I ask them", "go on then, what would you do"],
)
async def test_a_follow_up_read_as_what_can_you_do_is_a_follow_up(knowledge_cache, domain, text) -> None:
    knowledge = await knowledge_cache.get()
    title = knowledge.advice("funding_ask_why_joining").title
    messages, _ = await run(
        ActionCapabilities(), tracker("ask_capabilities", 0.9, text, {"focus": "advice:funding_ask_why_joining"}), domain
    )
    assert messages[0]["text"].startswith(f"How to put \u201c{title}\u201d"), messages[0]["text"][:120]


@pytest.mark.parametrize("focus", [None, "advice:funding_ask_why_joining"])
async def test_what_can_you_do_is_still_answered(knowledge_cache, domain, focus) -> None:
    for text in ("what can you do?", "what should I ask you", "what is this?", "/ask_capabilities"):
        messages, _ = await run(ActionCapabilities(), tracker("ask_capabilities", 0.9, text, {"focus": focus}), domain)
        assert messages == [dict(messages[0], response="utter_capabilities")], (text, messages)


async def test_distress_that_names_no_problem_gets_a_question_back(knowledge_cache, domain) -> None:
    for text in (
        "it's all a bit of a mess tbh",
        "such a mess, to be honest",
        "honestly i dont even know where to start, its all gone wrong",
        "honestly this partnership is doing my head in",
        "sorry, I'm in a bit of a state today, everything's on fire",
    ):
        messages, events = await run(ActionChallengeAdvice(), tracker("challenge_purpose", 0.44, text, {}), domain)
        assert "what is happening in your partnership?" in messages[0]["text"] and len(messages[0]["buttons"]) == 7, text
        assert not slots_of(events).get("advice_given")
    # A problem named beside the distress is answered.
    text = "it's a mess, the council never makes a decision at the meetings"
    messages, _ = await run(ActionChallengeAdvice(), tracker("challenge_authority", 0.8, text, {}), domain)
    assert "what is happening in your partnership?" not in messages[0]["text"]


@pytest.mark.parametrize(
    "action,intent",
    [(ActionDeny, "deny"), (ActionOutOfScope, "out_of_scope")],
)
async def test_pushback_on_the_idea_just_given_gets_the_next_idea(knowledge_cache, domain, action, intent) -> None:
    text = "members won't accept 'give it time', that's not going to fly"
    _, events = await run(action(), tracker(intent, 0.6, text, {"focus": "advice:time_realistic_timeline"}), domain)
    assert {"event": "followup", "name": "action_more_advice"}.items() <= events[0].items(), events


async def test_no_on_its_own_is_still_no(knowledge_cache, domain) -> None:
    messages, events = await run(
        ActionDeny(), tracker("deny", 0.95, "no thanks", {"focus": "advice:time_realistic_timeline"}), domain
    )
    assert messages[0]["response"] == "utter_deny" and events == []


async def test_a_vague_message_read_as_what_can_you_do_gets_a_clarifying_question(knowledge_cache, domain) -> None:
    _, events = await run(ActionCapabilities(), tracker("ask_capabilities", 0.42, "what about it", {"focus": None}), domain)
    assert events and events[0].get("name") == "action_clarify", events


async def test_a_how_question_pointing_back_is_a_follow_up_however_sure_out_of_scope_is(knowledge_cache, domain) -> None:
    slots = {"focus": "practice:engaging_a_partner"}
    for text in ("how do I put that to my chief exec", "how do i pitch it to them"):
        messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.96, text, slots), domain)
        assert messages[0]["text"].startswith("How to put \u201cEngaging an unresponsive partner\u201d"), (text, messages[0])
    # An everyday how-question mid-conversation is still declined.
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.96, "how hot will it get on friday", slots), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_distress_read_as_out_of_scope_gets_a_question_back(knowledge_cache, domain) -> None:
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.45, "the whole thing is chaos right now", {}), domain)
    assert "what is happening in your partnership?" in messages[0]["text"]


async def test_how_come_after_an_idea_is_why(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    first = knowledge.advice_by_challenge["challenge_time"][0]
    slots = {"focus": f"advice:{first.id}", "current_challenge": "challenge_time", "last_advice": [first.id]}
    messages, _ = await run(ActionFollowUp(), tracker("ask_how", 0.8, "how come", slots), domain)
    assert messages[0]["text"].startswith(f"Why \u201c{first.title}\u201d helps")


@pytest.mark.parametrize(
    "text,term",
    [
        ("quorum?", "quorum"),
        ("what would quorum mean for a group our size", "quorum"),
        ("when you say outputs, what do you mean", "outputs"),
        ("what do they mean by economies of scale", "economies of scale"),
        ("what are 'interim milestones' in english", "interim milestones"),
        ("what's community planning in NI anyway, for the new members", "community planning"),
        ("what does that mean", None),
        ("why?", None),
    ],
)
def test_the_term_a_meaning_question_asks_about(text, term) -> None:
    assert term_in(text) == term


async def test_a_challenge_picked_by_one_word_of_its_name_from_the_list(knowledge_cache, domain) -> None:
    options = [f"challenge:{c}" for c in ("challenge_competition", "challenge_authority", "challenge_culture_clash")]
    slots = {"last_options": options}
    messages, events = await run(ActionFollowUp(), tracker("choose_item", 0.6, "go on, the culture one", slots), domain)
    assert slots_of(events)["current_challenge"] == "challenge_culture_clash", messages[0]["text"][:80]


@pytest.mark.parametrize(
    "text",
    [
        "is that based on anything",
        "where can I read more about that",
        "what principle is that resting on",
        "where are you getting that from",
        "where are those from",  # read as "where are you from?", out of scope
    ],
)
async def test_is_that_based_on_anything_gives_the_sources_of_the_idea(knowledge_cache, domain, text) -> None:
    knowledge = await knowledge_cache.get()
    first = knowledge.advice_by_challenge["challenge_time"][0]
    slots = {"focus": f"advice:{first.id}", "current_challenge": "challenge_time", "last_advice": [first.id]}
    messages, _ = await run(ActionMoreAdvice(), tracker("ask_more", 0.55, text, slots), domain)
    assert first.title in messages[0]["text"] and "Another idea" not in messages[0]["text"], messages[0]["text"][:120]


async def test_a_short_pick_read_as_out_of_scope_is_still_a_pick(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    time_idea = knowledge.advice_by_challenge["challenge_time"][0].id
    authority_idea = knowledge.advice_by_challenge["challenge_authority"][0].id
    slots = {"last_options": [f"advice:{authority_idea}", f"advice:{time_idea}"]}
    messages, events = await run(ActionOutOfScope(), tracker("out_of_scope", 0.5, "the time one pls", slots), domain)
    assert slots_of(events)["focus"] == f"advice:{time_idea}", messages[0]
    # An everyday request that happens to say "first" is not a pick.
    messages, events = await run(ActionOutOfScope(), tracker("out_of_scope", 0.9, "book the first train", slots), domain)
    assert (messages[0].get("text") or "").startswith("Sorry, I can't help with that") and not slots_of(events)


async def test_a_pick_by_an_everyday_word_for_its_challenge_or_a_fourth_place(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    authority_idea = knowledge.advice_by_challenge["challenge_authority"][0].id
    meetings_idea = knowledge.advice_by_challenge["challenge_communication"][0].id
    slots = {"last_options": [f"advice:{authority_idea}", f"advice:{meetings_idea}"]}
    messages, events = await run(ActionClarify(), tracker("nlu_fallback", 0.35, "the meetings one first", slots), domain)
    assert slots_of(events)["focus"] == f"advice:{meetings_idea}", messages[0]
    listed = [f"challenge:{c}" for c in ("challenge_competition", "challenge_authority", "challenge_purpose", "challenge_time")]
    messages, events = await run(
        ActionClarify(), tracker("nlu_fallback", 0.35, "the fourth one, tell me more", {"last_options": listed}), domain
    )
    assert slots_of(events)["current_challenge"] == "challenge_time", messages[0]


async def test_an_everyday_question_using_an_options_word_is_not_a_pick(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    time_idea = knowledge.advice_by_challenge["challenge_time"][0].id
    slots = {"last_options": [f"advice:{time_idea}"]}
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.9, "whats the time now", slots), domain)
    assert messages[0]["response"] == "utter_out_of_scope"


async def test_say_the_advice_more_simply_read_as_more_gives_the_short_version(knowledge_cache, domain) -> None:
    """ "sorry - could you say the advice more simply" reads like "more advice" to the classifier:
    the shorter version of the idea in focus, not another idea."""
    knowledge = await knowledge_cache.get()
    first = knowledge.advice_by_challenge["challenge_purpose"][0]
    slots = {"focus": f"advice:{first.id}", "current_challenge": "challenge_purpose", "last_advice": [first.id]}
    text = "sorry - could you say the advice more simply"
    messages, _ = await run(ActionMoreAdvice(), tracker("ask_more", 0.63, text, slots), domain)
    assert messages[0]["text"].startswith("In short: " + first.title), messages[0]["text"][:120]


async def test_another_idea_asked_for_outright_is_the_next_idea_whatever_else_it_names(knowledge_cache, domain) -> None:
    """ "ok give me another idea, we cant exactly bid together now": the next idea on the challenge,
    not the practice answer on joint bids that "bid together" names."""
    knowledge = await knowledge_cache.get()
    first = knowledge.advice_by_challenge["challenge_competition"][0]
    slots = {"focus": f"advice:{first.id}", "current_challenge": "challenge_competition", "last_advice": [first.id], "advice_given": [first.id]}
    text = "ok give me another idea, we cant exactly bid together now its been awarded"
    messages, _ = await run(ActionMoreAdvice(), tracker("ask_more", 0.5, text, slots), domain)
    assert messages[0]["text"].startswith("Another idea on competition"), messages[0]["text"][:120]


async def test_why_after_what_partnership_working_is_gives_what_it_is_good_for(knowledge_cache, domain) -> None:
    """ "and why it is good?" right after the definition: the benefits, not a pointer to the sources."""
    messages, events = await run(ActionFollowUp(), tracker("ask_why", 0.6, "and why it is good?", {"focus": "topic:definition"}), domain)
    assert messages[0]["text"].startswith("Benefits of partnership working"), messages[0]["text"][:100]
    assert slots_of(events)["focus"] == "topic:benefits"


async def test_a_word_or_two_shared_with_another_answer_does_not_leave_the_one_in_focus(knowledge_cache) -> None:
    """ "how can I help both sides" after an idea on culture clash shares only "help" with the answer
    on getting help; a message that names another topic by its keywords still moves to it."""
    from actions.answers import resolve

    knowledge = await knowledge_cache.get()
    focus = resolve(knowledge, "advice:culture_clash_agree_values")
    assert not names_something_else(knowledge, "how can I help both sides", focus, "challenge_culture_clash")
    assert names_something_else(knowledge, "how do I get more parents involved", focus, "challenge_culture_clash")


async def test_pushback_the_classifier_could_not_place_gets_the_next_idea(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:culture_clash_agree_values", "current_challenge": "challenge_culture_clash"}
    text = "right, back to the tension in meetings. we tried a joint away day and it made it worse"
    _, events = await run(ActionClarify(), tracker("nlu_fallback", 0.3, text, slots), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}]


@pytest.mark.parametrize("text", ["great, off to my meeting", "right, must dash", "hwyl"])
async def test_leaving_in_words_the_classifier_cannot_place_is_a_goodbye(knowledge_cache, domain, text) -> None:
    _, events = await run(ActionOutOfScope(), tracker("out_of_scope", 0.6, text, {}), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_goodbye"}]
    # "off to my meeting with the council tomorrow, can you book the room": not leaving.
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.6, "off to my meeting tomorrow, can you book the room", {}), domain)
    assert messages[0].get("response") == "utter_out_of_scope" or "can't" in (messages[0].get("text") or "")


async def test_short_pushback_read_surely_as_another_challenge_gets_the_next_idea(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:culture_clash_agree_values", "current_challenge": "challenge_culture_clash"}
    text = "we've tried just explaining things more slowly"
    _, events = await run(ActionChallengeAdvice(), tracker("challenge_time", 0.9, text, slots), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}]
    # Supposing it fails is no pushback: "if that doesn't work who do I take it to, the PCN or the ICB?"
    from actions.follow_ups import follow_up_reading

    knowledge = await knowledge_cache.get()
    text = "if that doesn't work who do I take it to, the PCN or the ICB?"
    assert follow_up_reading(knowledge, tracker("challenge_authority", 0.9, text, slots)) != "ask_more"


async def test_where_the_answers_come_from_read_as_about_the_bot_gets_the_sources(knowledge_cache, domain) -> None:
    messages, _ = await run(ActionBotChallenge(), tracker("bot_challenge", 0.83, "where do your answers come from", {}), domain)
    assert "King's Fund" in messages[0]["text"] or "Sources" in messages[0]["text"], messages[0]
    # "where do you come from" is still about the bot.
    messages, _ = await run(ActionBotChallenge(), tracker("bot_challenge", 0.9, "where do you come from", {}), domain)
    assert messages[0].get("response") == "utter_bot_challenge"


async def test_where_the_bot_is_from_read_as_out_of_scope_is_answered_not_declined(knowledge_cache, domain) -> None:
    # Out of scope since the thirty-first release, as every development set's writer labelled it;
    # a decline would be rude, so it gets the "are you a bot?" answer, which says who made it.
    for text in ("where are you from?", "Which country were you made in?", "so where r u based"):
        messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.9, text, {}), domain)
        assert messages[0].get("response") == "utter_bot_challenge", text
    messages, _ = await run(ActionOutOfScope(), tracker("out_of_scope", 0.9, "where is the nearest pharmacy from here", {}), domain)
    assert messages[0].get("response") != "utter_bot_challenge"
    # ...and where it was once read as the sources (issue 14's example of advice given to an everyday request).
    messages, _ = await run(ActionKnowledgeAnswer(), tracker("ask_sources", 0.53, "where are you from?", {}), domain)
    assert messages[0].get("response") == "utter_bot_challenge"


async def test_a_pick_by_its_bit_then_a_question_on_it_is_the_pick(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    competition_idea = knowledge.advice_by_challenge["challenge_competition"][0].id
    meetings_idea = knowledge.advice_by_challenge["challenge_communication"][0].id
    slots = {"last_options": [f"advice:{competition_idea}", f"advice:{meetings_idea}"]}
    text = "just the competition bit - what do I do about that"
    messages, events = await run(ActionClarify(), tracker("nlu_fallback", 0.35, text, slots), domain)
    assert slots_of(events)["focus"] == f"advice:{competition_idea}", messages[0]


async def test_a_part_of_the_topic_just_summarised_named_as_a_bit_is_that_part(knowledge_cache, domain) -> None:
    slots = {"focus": "topic:good_practice"}
    _, events = await run(ActionClarify(), tracker("nlu_fallback", 0.3, "expand on the clarify responsibilities bit", slots), domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_more_advice"}]
    messages, _ = await run(ActionMoreAdvice(), tracker("nlu_fallback", 0.3, "expand on the clarify responsibilities bit", slots), domain)
    assert messages[0]["text"].startswith("\u201cClarify responsibilities"), messages[0]["text"][:80]


async def test_another_idea_named_by_its_title_then_how_gets_its_steps(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:purpose_one_page_statement", "current_challenge": "challenge_purpose"}
    messages, _ = await run(
        ActionFollowUp(), tracker("ask_how", 0.6, "testing every agenda item - how exactly", slots), domain
    )
    assert messages[0]["text"].startswith("How to put \u201cTest every agenda item\u201d"), messages[0]["text"][:120]


async def test_whether_what_is_typed_is_kept_asked_before_a_remark_is_the_privacy_answer(knowledge_cache, domain) -> None:
    text = "Before I start - is anything I type here kept? Hospice stuff can be sensitive."
    clarified = make_tracker("nlu_fallback", text, {}, ranking=[("ask_privacy", 0.23), ("challenge_authority", 0.16)])
    messages, _ = await run(ActionClarify(), clarified, domain)
    assert messages[0].get("response") == "utter_privacy", messages[0]
    # A problem that reads a little like privacy but says nothing of keeping is still clarified.
    vague = make_tracker("nlu_fallback", "the whole thing feels a bit sensitive", {}, ranking=[("ask_privacy", 0.2), ("challenge_authority", 0.16)])
    messages, _ = await run(ActionClarify(), vague, domain)
    assert messages[0].get("response") != "utter_privacy", messages[0]


def test_the_first_thing_to_do_is_not_a_pick_of_the_first_option() -> None:
    from actions.follow_ups import chosen_option

    options = ["advice:purpose_one_page_statement", "advice:purpose_test_agenda_items"]
    assert chosen_option("whats the first thing id do", options, []) is None
    assert chosen_option("what would step one look like", options, []) is None
    assert chosen_option("the first one", options, []) == options[0]
    # A number that counts lines or sentences is no pick: "in a sentence or two please".
    assert chosen_option("in a sentence or two please", options, []) is None
    assert chosen_option("can you put that in two lines for my boss", options, []) is None
    assert chosen_option("two", options, []) == options[1]


async def test_asked_in_a_sentence_or_two_after_a_list_shortens_the_answer_in_focus(knowledge_cache, domain) -> None:
    options = ["challenge:challenge_competition", "challenge:challenge_authority", "challenge:challenge_purpose"]
    slots = {"focus": "advice:purpose_test_agenda_items", "last_options": options}
    messages, _ = await run(ActionFollowUp(), tracker("ask_simpler", 0.97, "in a sentence or two please", slots), domain)
    assert messages[0]["text"].startswith("In short: Test every agenda item"), messages[0]["text"][:120]


async def test_a_lot_of_text_summarised_is_the_answer_in_focus_shorter_not_the_plan(knowledge_cache, domain) -> None:
    slots = {"focus": "practice:running_meetings", "advice_given": ["purpose_test_agenda_items"]}
    text = "that's a lot of text, can you summarise it"
    messages, _ = await run(ActionActionPlan(), tracker("ask_summary", 0.59, text, slots), domain)
    assert messages[0]["text"].startswith("In short:"), messages[0]["text"][:120]
    # ...while a summary of everything is still the plan.
    messages, _ = await run(ActionActionPlan(), tracker("ask_summary", 0.9, "summarise everything we discussed", slots), domain)
    assert messages[0]["text"].startswith("Your action plan"), messages[0]["text"][:120]


# A part of the answer quoted back in its own words, then a question about it (dev36-41).
PARTS = [
    (
        "challenge_communication",
        0.77,
        "a communication rhythm - meaning what in practice? a weekly email?",
        "advice:communication_short_updates",
        "How to put \u201cAgree a communication rhythm\u201d",
    ),
    (
        "nlu_fallback",
        0.35,
        "going to them rather than expecting them to come - give me a real-ish example",
        "practice:involving_community",
        "An illustrative example (not a real case) of \u201cInvolving the community",
    ),
    (
        "challenge_purpose",
        0.44,
        "One-page purpose - what would actually be on it?",
        "advice:communication_short_updates",
        "How to put \u201cWrite a one-page purpose\u201d",
    ),
]


@pytest.mark.parametrize("intent,confidence,text,focus,starts", PARTS)
async def test_a_part_of_the_answer_quoted_back_then_asked_about_is_a_follow_up_on_it(
    knowledge_cache, domain, intent, confidence, text, focus, starts
) -> None:
    slots = {"focus": focus, "last_options": ["advice:communication_short_updates", "advice:communication_agree_rhythm"]}
    messages, _ = await run(ACTIONS.get(intent, ActionChallengeAdvice)(), tracker(intent, confidence, text, slots), domain)
    assert messages[0]["text"].startswith(starts), messages[0]["text"][:200]


@pytest.mark.parametrize(
    "text",
    [
        "economies of scale - what does that mean",  # a term: its definition, not a part of the answer
        "the council - they never reply to emails and it's driving me mad",  # no question
        "weekly updates - can you book the room for thursday",  # an errand
    ],
)
async def test_a_dash_alone_is_not_a_part_quoted_back(knowledge_cache, text) -> None:
    from actions.follow_ups import part_asked_about

    knowledge = await knowledge_cache.get()
    slots = {"focus": "advice:communication_short_updates"}
    part = part_asked_about(knowledge, tracker("nlu_fallback", 0.35, text, slots))
    assert part is None, part


async def test_an_everyday_request_read_as_a_practice_question_is_still_declined(knowledge_cache, domain) -> None:
    text = "whats the weather doing in sunderland this arvo, need to know if i should walk home"
    messages, _ = await run(ActionPracticeAnswer(), tracker("ask_practice_question", 0.53, text, {}), domain)
    assert messages[0].get("response") == "utter_out_of_scope", messages[0]
    # ...but a practice question that happens to name the weather is answered.
    text = "our outdoor events partnership keeps arguing about who cancels when the weather forecast is bad"
    messages, _ = await run(ActionPracticeAnswer(), tracker("ask_practice_question", 0.85, text, {}), domain)
    assert messages[0].get("response") != "utter_out_of_scope", messages[0]


async def test_a_case_of_this_working_is_an_example_of_the_idea_in_focus_not_of_measuring(knowledge_cache, domain) -> None:
    slots = {"focus": "advice:purpose_one_page_statement", "current_challenge": "challenge_purpose"}
    text = "is there a case of this actually working"
    messages, _ = await run(ActionClarify(), tracker("nlu_fallback", 0.35, text, slots), domain)
    assert messages[0]["text"].startswith("An illustrative example (not a real case) of \u201cWrite a one-page purpose"), messages[0]["text"][:120]


async def test_who_made_you_is_answered(knowledge_cache, domain) -> None:
    # "hi, who made you?": the answer says who made the advisor, not only what it is.
    messages, _ = await run(ActionBotChallenge(), tracker("bot_challenge", 0.9, "who made you?", {}), domain)
    assert messages[0].get("response") == "utter_bot_challenge"
    answer = domain["responses"]["utter_bot_challenge"][0]["text"]
    assert "made by" in answer and "open-source" in answer, answer


def test_over_rest_a_puzzled_reply_to_an_answer_gets_it_more_simply(advisor) -> None:
    """ "meaning?" right after an answer got the definition of partnership working, "you lost me" was
    taken for distress and "huh?" was asked to clarify; each now gets the answer again in short. With
    no answer given yet, "meaning?" is still the classifier's to read."""
    for puzzled in ("meaning?", "you lost me", "huh?"):
        me = sender("puzzled")
        say(advisor.base_url, "one partner only joined for the grant", me)
        assert texts(say(advisor.base_url, puzzled, me)).startswith("In short: Ask why each partner joins"), puzzled
    assert not texts(say(advisor.base_url, "meaning?", sender("puzzled-first"))).startswith("In short")


def test_over_rest_a_terse_reply_to_an_answer_is_about_that_answer(advisor) -> None:
    """Typed alone after the first answer, these were asked to clarify, taken for a new problem, for
    "no" or for a question about the bot: now the steps, the next idea, why it helps, or the sources."""
    replies = {
        "then what?": "How to put \u201cAsk why each partner joins\u201d into practice",
        "bit vague": "How to put \u201cAsk why each partner joins\u201d into practice",
        "is that it?": "Another idea on funding",
        "we tried that": "Another idea on funding",  # read as a request for an example
        "and if they refuse?": "Another idea on funding",  # read as the competition challenge
        "not convinced": "Why \u201cAsk why each partner joins\u201d helps",  # read as "no"
        "are you sure?": "Why \u201cAsk why each partner joins\u201d helps",  # read as "are you a bot?"
        "link?": "\u201cAsk why each partner joins\u201d is Partnership Advisor's own practical guidance",
    }
    for terse, starts in replies.items():
        me = sender("terse")
        say(advisor.base_url, "one partner only joined for the grant", me)
        assert texts(say(advisor.base_url, terse, me)).startswith(starts), terse
    # With no answer given, "are you sure?" is still about the bot and "not convinced" still a no.
    assert texts(say(advisor.base_url, "are you sure?", sender("terse-first"))).startswith("I'm a bot")
    assert texts(say(advisor.base_url, "not convinced", sender("terse-first"))).startswith("No problem")


def test_over_rest_a_change_of_subject_leaves_the_last_answer(advisor) -> None:
    """ "new problem" was read as the communication challenge and "start again" was asked to clarify;
    "makes sense" and "continue" were declined as everyday requests."""
    me = sender("moves")
    say(advisor.base_url, "one partner only joined for the grant", me)
    assert texts(say(advisor.base_url, "makes sense", me)).startswith("Great. Tell me what is happening")
    assert texts(say(advisor.base_url, "continue", me)).startswith("Another idea on funding")
    for change in ("new problem", "start again"):
        assert texts(say(advisor.base_url, change, me)).startswith("Of course. What would you like to talk about now?"), change
    # ...and "how?" is no longer about the funding idea.
    assert not texts(say(advisor.base_url, "how?", me)).startswith("How to put")


@pytest.mark.parametrize(
    "text, kind",
    [
        ("when?", "timescale"),
        ("ok but how soon?", "timescale"),
        ("how much will it cost?", "cost"),
        ("who pays?", "cost"),
        ("who do I speak to first", "who_to_ask"),
        ("who's responsible for that", "who_does"),
        ("do you have a template for that", "template"),
        ("how much funding is there for community pharmacies", None),
        ("who should chair the new health and wellbeing partnership", None),
    ],
)
def test_practical_questions_are_read_only_as_the_whole_message(text: str, kind: str | None) -> None:
    assert practicality_asked(text) == kind


def test_the_timescale_line_points_to_timings_only_where_the_steps_give_them() -> None:
    timed = answers.practicality_lead("timescale", ("After three months, drop the rest.",))
    untimed = answers.practicality_lead("timescale", ("Ask each partner what they want.",))
    assert "Where timing matters, the steps say so" in timed and "Where timing" not in untimed
    assert answers.practicality_lead("who_does", ("Have the chair check the agenda.",)).startswith("The steps say who")
    assert answers.practicality_lead("who_does", ("Ask each partner what they want.",)).startswith("This isn't one role's job")


def test_over_rest_practical_questions_after_an_answer_get_its_steps_with_an_honest_line(advisor) -> None:
    """ "how much will it cost?" right after an answer was declined as an everyday request, "template?"
    got the answer on information sharing, "who's responsible" the bot's introduction and "so what?"
    the list of challenges. There is no set cost or template: each gets the steps, saying so."""
    steps = "How to put \u201cAsk why each partner joins\u201d into practice:\n1. At an early meeting"
    expected = {
        "how much will it cost?": "I can't put a cost on this",
        "template?": "I don't have a template or script for this",
        "who's responsible": "This isn't one role's job",
        "when?": "There's no set timescale for this",
        "so what?": "Why \u201cAsk why each partner joins\u201d helps",
    }
    for asked, start in expected.items():
        me = sender("practical")
        say(advisor.base_url, "one partner only joined for the grant", me)
        reply = texts(say(advisor.base_url, asked, me))
        assert reply.startswith(start), (asked, reply)
        assert (steps in reply) == (asked != "so what?"), reply
    # With no answer given yet, an everyday question about cost is still declined.
    assert texts(say(advisor.base_url, "how much will it cost?", sender("practical-first"))).startswith(
        "Sorry, I can't help with that"
    )


def test_over_rest_repeat_go_back_and_make_the_case_after_an_answer(advisor) -> None:
    """ "repeat that" and "previous answer" were declined, "go back" got schemes of delegation, "what
    was the first one again?" a new idea and "how do I convince my boss?" a decline. "repeat that"
    as a first message is still declined (an everyday request); "go back" says there is nothing to
    go back to."""
    me = sender("again")
    say(advisor.base_url, "one partner only joined for the grant", me)
    assert texts(say(advisor.base_url, "repeat that", me)).startswith("\u201cAsk why each partner joins\u201d: At the start")
    second = texts(say(advisor.base_url, "another idea", me))
    assert second.startswith("Another idea on funding") and "Ask why each partner joins" not in second
    assert texts(say(advisor.base_url, "go back", me)).startswith("\u201cAsk why each partner joins\u201d")
    me = sender("again-first")
    say(advisor.base_url, "one partner only joined for the grant", me)
    assert texts(say(advisor.base_url, "previous answer", me)).startswith("That was the first idea, so here it is again.")
    assert texts(say(advisor.base_url, "how do I convince my boss?", me)).startswith(
        "To make the case: Why \u201cAsk why each partner joins\u201d helps"
    )
    assert texts(say(advisor.base_url, "repeat that", sender("again-none"))).startswith("Sorry, I can't help with that")
    # "go back" as a first message got the advice on schemes of delegation (read as authority)
    first = texts(say(advisor.base_url, "go back", sender("back-none")))
    assert first.startswith("There's no earlier answer to go back to yet") and "delegation" not in first


def test_over_rest_add_that_to_my_plan_gives_the_action_plan(advisor) -> None:
    """ "add that to my plan" after an idea was declined and "save that" asked to clarify."""
    for asked in ("add that to my plan", "save that"):
        me = sender("plan")
        say(advisor.base_url, "one partner only joined for the grant", me)
        reply = texts(say(advisor.base_url, asked, me))
        assert reply.startswith("Your action plan from this conversation") and "Ask why each partner joins" in reply, reply


def test_over_rest_does_that_apply_in_a_nation_after_an_answer(advisor) -> None:
    """ "does that apply in scotland?" after an idea was declined and "what about wales?" got the list
    of challenges. An idea is practice, not law; a step for England only is named; after a practice
    question, that nation's own help."""
    me = sender("nation")
    say(advisor.base_url, "the pharmacists never make our meetings", me)
    reply = texts(say(advisor.base_url, "does that apply in scotland?", me))
    assert reply.startswith("\u201cFit around pharmacy opening hours\u201d is good practice rather than law, so it applies in Scotland too.")
    assert "One step is for England only: \u201cIn England, ask the Local Pharmaceutical Committee" in reply, reply
    me = sender("nation-practice")
    say(advisor.base_url, "the council and NHS want to pool budgets, how do we write the agreement", me)
    reply = texts(say(advisor.base_url, "what about northern ireland?", me))
    assert reply.startswith("Pooled budgets and Section 75 agreements in Northern Ireland:") and "In England" not in reply, reply
    assert texts(say(advisor.base_url, "does that apply in scotland?", sender("nation-first"))).startswith("Sorry, I can't help")


def test_over_rest_we_are_in_a_nation_is_heard_not_mistaken_for_a_sector(advisor) -> None:
    """ "we're in Wales" (read as telling who they are) got "I'm not sure I caught your sector or role",
    after an answer and before one; "explain like I'm five" after an answer got the same."""
    me = sender("nation-told")
    say(advisor.base_url, "the pharmacists never make our meetings", me)
    reply = texts(say(advisor.base_url, "we're in Scotland", me))
    assert reply.startswith("\u201cFit around pharmacy opening hours\u201d is good practice rather than law, so it applies in Scotland too.")
    assert "One step is for England only" in reply, reply
    first = texts(say(advisor.base_url, "we're in Wales", sender("nation-told-first")))
    assert first.startswith("Thanks. My ideas are good practice rather than law, so they work in Wales too") and "sector or role" in first
    me = sender("eli5")
    say(advisor.base_url, "one partner only joined for the grant", me)
    assert texts(say(advisor.base_url, "explain like I'm five", me)).startswith("In short: Ask why each partner joins.")


def test_over_rest_is_that_legal_after_an_answer_says_it_is_not_legal_advice(advisor) -> None:
    """ "is that legal?" after an answer was asked to clarify."""
    me = sender("lawful")
    say(advisor.base_url, "the council and NHS want to pool budgets, how do we write the agreement", me)
    reply = texts(say(advisor.base_url, "is that legal?", me))
    assert reply.startswith("I can't say whether it is lawful in your case.") and "legal or information governance team" in reply
