"""The glossary and practice examples, through the real actions on a real loaded store: a term
question gets its definition wherever the classifier sent it (ask_meaning, out_of_scope,
nlu_fallback), anything else out of scope is still declined, and "an example" after a practice
answer shows that practice question's own illustrative example."""

from __future__ import annotations

import pytest
import yaml

from actions.actions import ActionAcknowledgeContext, ActionChallengeAdvice, ActionKnowledgeAnswer
from actions.conversation import ActionBotChallenge, ActionClarify, ActionOutOfScope
from actions.follow_ups import ActionFollowUp, ActionPracticeAnswer
from actions.glossary import asked_entries, asked_names, terms_asked_otherwise
from tests.conftest import CONTENT_DIR, make_tracker, slots_of
from tests.conftest import run_action as run

PRACTICE = {p["id"]: p for p in yaml.safe_load((CONTENT_DIR / "practice.yml").read_text(encoding="utf-8"))["practice"]}

TERM_QUESTIONS = [
    ("what's the HWB for", "HWB (Health and Wellbeing Board): In England", "the_local_system"),
    ("what is the CVS anyway, my manager just said to invite them", "CVS (Council for Voluntary Service): ", "getting_help"),
    ("what does PCN stand for", "PCN (Primary Care Network): In England", "the_local_system"),
    ("what is a section 75", "Section 75: In England, Section 75 of the National Health Service Act 2006", "pooled_budgets"),
    ("what's an integration joint board", "IJB (Integration Joint Board): In Scotland", "the_local_system"),
    ("whats a DPIA?", "DPIA (Data Protection Impact Assessment): ", "information_sharing"),
    ("what even is a PCN, honestly", "PCN (Primary Care Network): In England", "the_local_system"),
    ("what is community planning meant to be anyway, up here", "community planning: In Northern Ireland", "the_local_system"),
    ("the LPC keep nagging us to get involved. who are they anyway?", "LPC (Local Pharmaceutical Committee)", "getting_help"),
    ("what's the HSCP's role in this, is it the NHS or the council?", "HSCP (Health and Social Care Partnership)", "the_local_system"),
    ("also what actually is the HSCP vs the NHS board, I get them muddled", "HSCP (Health and Social Care Partnership)", "the_local_system"),
    ("whats an HSC trust formally, for my report", "HSC Trust: In Northern Ireland", "the_local_system"),
]


@pytest.mark.parametrize("intent", ["out_of_scope", "ask_meaning", "nlu_fallback"])
@pytest.mark.parametrize("text,starts,related", TERM_QUESTIONS)
async def test_a_term_question_gets_the_definition_and_the_related_answer(
    knowledge_cache, domain, intent, text, starts, related
) -> None:
    action = {"out_of_scope": ActionOutOfScope, "ask_meaning": ActionFollowUp, "nlu_fallback": ActionClarify}[intent]()
    messages, events = await run(action, make_tracker(intent, text), domain)
    assert len(messages) == 1 and messages[0]["text"].startswith(starts), messages
    assert [b["title"] for b in messages[0]["buttons"]] == [PRACTICE[related]["title"]]
    assert slots_of(events)["last_options"] == [f"practice:{related}"]
    # The button picks the related practice answer, like any other choice.
    picked, _ = await run(
        ActionFollowUp(),
        make_tracker("choose_item", "", {"last_options": [f"practice:{related}"]}, entities=[{"entity": "option", "value": "1"}]),
        domain,
    )
    assert picked[0]["text"].startswith(PRACTICE[related]["title"] + ":")


# Questions about a body by its abbreviation, in forms the term questions do not cover (issue 13).
ABBREVIATION_QUESTIONS = [
    ("and what's the IJB's role in all that", "IJB (Integration Joint Board): In Scotland"),
    ("what's a PSB and how's it different from us", "PSB (Public Services Board): In Wales"),
    ("is the HSCB still a thing?", "HSCB (Health and Social Care Board): The Health and Social Care Board was"),
    ("whats the caldicott thing everyone goes on about", "Caldicott Principles"),
    ("is the HSCB still going?", "HSCB (Health and Social Care Board): The Health and Social Care Board was"),
    ("what is the PHA responsible for", "PHA (Public Health Agency): In Northern Ireland"),
    ("also what's the ISA thing IG keep asking for", "ISA (information sharing agreement): "),
    ("s75?", "Section 75: In England"),
    ("and the HWB? it was on an agenda i got sent", "HWB (Health and Wellbeing Board): In England"),
    ("and NCVO, is that different", "NCVO: "),
    ("where does the better care fund come into it", "Better Care Fund: In England"),
    ("everyone keeps saying ICB this ICB that, what actually is it", "ICB (Integrated Care Board): "),
    ("whats an HSC Trust responsible for exactly", "HSC Trust: In Northern Ireland"),
    ("whats an ICS vs an ICB, everyone uses them like theyre the same thing", "ICS (Integrated Care System): "),
    ("and CDHN is what exactly", "CDHN (Community Development and Health Network): "),
    ("what's Caldicott got to do with it", "Caldicott Principles: "),
    ("is that the same thing as the BCF or different?", "Better Care Fund: "),
    ("HWB", "HWB (Health and Wellbeing Board): "),
    # a qualifier after the term, or the term named first and then asked about with "that"
    ("what's an RPB in plain English, so we're on the same page", "RPB (Regional Partnership Board): "),
    ("what's the HWB legally", "HWB (Health and Wellbeing Board): "),
    ("the minutes keep mentioning the IJB, what does that mean", "IJB (Integration Joint Board): "),
    ("and how is that diffrent from the HWB", "HWB (Health and Wellbeing Board): "),
    ("my new boss keeps mentioning the RPB like I should know what it is", "RPB (Regional Partnership Board): "),
    ("remind me how an outcome differs from an output", "outcome: "),
    ("whats the difference between an output and an outcome anyway", "output: "),
    ("what is a PCN supposed to be for then, if not this", "PCN (Primary Care Network): "),
    # the term first, then a comma or dash and the ask; a term "you mentioned"; a body that "happened"
    ("determinants - in normal language please", "determinants of health: "),
    ("economies of scale - spell that out for a room with no finance people in it", "economies of scale: "),
    ("Caldicott, does that apply to us as a council or just the NHS", "Caldicott Principles: "),
    ("the PHA are on the member list, what's their role", "PHA (Public Health Agency): "),
    ("the Caldicott thing you mentioned, is that only England", "Caldicott Principles: "),
    ("for my newer colleagues, what exactly happened to the HSCB", "HSCB (Health and Social Care Board): "),
    ("someone mentioned the RPB, does that matter to a group our size", "RPB (Regional Partnership Board): "),
    ("also quick one - output versus outcome, what's the difference", "output: "),
    ("and where does the community planning partnership sit next to that", "community planning: "),
    ("when you say determinants, what would that cover for a rural area like Moray?", "determinants of health: "),
    ("does Caldicott apply in Scotland or is that an English thing", "Caldicott Principles: "),
    ("the HSCB is gone now though isn't it? where did its work end up", "HSCB (Health and Social Care Board): "),
    ("somebody at the district suggested we draw up a RACI, what on earth is that", "RACI chart: "),
    ("and the caldicott thing they keep quoting at me", "Caldicott Principles: "),
    ("my inspector keeps saying take it to the CSP - which is what exactly", "CSP (Community Safety Partnership): "),
    ("What, precisely, is a Community Planning Partnership?", "community planning: "),
]


# Wherever the classifier sends a term question, the definition answers it.
@pytest.mark.parametrize(
    "action,intent,text,starts",
    [
        (
            ActionPracticeAnswer,
            "ask_practice_question",
            "what's an ICB and do we have to work with them",
            "ICB (Integrated Care Board): ",
        ),
        (ActionFollowUp, "ask_example", "what's the CDHN", "CDHN (Community Development and Health Network): "),
        (ActionKnowledgeAnswer, "ask_definition", "and a PCN", "PCN (Primary Care Network): "),
        (ActionFollowUp, "ask_meaning", "people keep writing CVS in emails, what does that mean", "CVS"),
        (ActionFollowUp, "ask_meaning", "what do they mean by determinents", "determinants of health: "),
        (ActionFollowUp, "ask_meaning", "what are 'interim milestones' in english", "interim milestones: "),
        (ActionOutOfScope, "out_of_scope", "how would you define determinants for a lay reader?", "determinants of health: "),
        # A word the advice itself uses ("statutory partners"), asked tersely (nlu_dev10): it was declined.
        (ActionOutOfScope, "out_of_scope", "define statutory", "statutory: Statutory means set by law"),
        (ActionFollowUp, "ask_meaning", "what's a statutory partner", "statutory: "),
        # Chat spelling read as someone saying they work in health (nlu_dev10): it was thanked for the context.
        (ActionAcknowledgeContext, "inform", "wots a PCN", "PCN (Primary Care Network): "),
    ],
)
async def test_a_term_question_is_defined_whichever_action_gets_it(knowledge_cache, domain, action, intent, text, starts) -> None:
    messages, _ = await run(action(), make_tracker(intent, text, {"focus": "practice:getting_help"}), domain)
    assert messages[0]["text"].startswith(starts), messages[0]["text"][:120]


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "challenge_culture_clash"])
@pytest.mark.parametrize("text,starts", ABBREVIATION_QUESTIONS)
async def test_a_question_about_a_body_by_its_abbreviation_gets_its_definition(
    knowledge_cache, domain, intent, text, starts
) -> None:
    action = {"out_of_scope": ActionOutOfScope, "nlu_fallback": ActionClarify, "challenge_culture_clash": ActionChallengeAdvice}[
        intent
    ]()
    messages, _ = await run(action, make_tracker(intent, text), domain)
    assert messages[0]["text"].startswith(starts), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "text",
    [
        "what's the ICB going to do about it",
        "is the ICB ever going to make decisions? they keep deferring",
        "what's the outcome of the meeting",
    ],
)
def test_a_question_about_what_a_body_is_doing_is_not_a_term_question(text) -> None:
    assert terms_asked_otherwise(text) == []


async def test_two_terms_asked_together_get_both_definitions(knowledge_cache, domain) -> None:
    messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", "who is NAVCA / NCVO"), domain)
    assert messages[0]["text"].split("\n")[0].startswith("NAVCA: ") and messages[0]["text"].split("\n")[1].startswith("NCVO: ")


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather",
        "what does serendipity mean",
        "what is a cash ISA",
        "book me a table for two",
        "who is the prime minister",
    ],
)
async def test_anything_else_out_of_scope_is_declined_as_before(knowledge_cache, domain, text) -> None:
    messages, events = await run(ActionOutOfScope(), make_tracker("out_of_scope", text), domain)
    assert len(messages) == 1 and events == []
    # (an errand gets the decline that says the advisor cannot book or send anything)
    assert messages[0]["response"] == "utter_out_of_scope" or messages[0]["text"].startswith("Sorry, I can't help with that")


async def test_a_principle_is_still_explained_as_a_principle(knowledge_cache, domain) -> None:
    """Words that are not glossary terms keep the principle / passage answers."""
    messages, _ = await run(ActionFollowUp(), make_tracker("ask_meaning", "what do you mean by openness?"), domain)
    assert "\u201cOpenness\u201d is one of the" in messages[0]["text"], messages


def test_term_questions_are_read_whole() -> None:
    assert asked_names("what do you mean by ToR?") == ["ToR"]
    assert asked_names("what is the meaning of DPIA") == ["DPIA"]
    assert asked_names("what counts as an outcome") == ["outcome"]
    assert asked_names("what does the ICB actually do") == ["ICB"]
    assert asked_names("can you book the room for the HWB meeting") == []


@pytest.mark.parametrize("practice_id", ["terms_of_reference", "pooled_budgets", "running_meetings"])
async def test_an_example_after_a_practice_answer_is_its_own_illustrative_example(knowledge_cache, domain, practice_id) -> None:
    tracker = make_tracker("ask_example", "give me an example", {"focus": f"practice:{practice_id}"})
    messages, events = await run(ActionFollowUp(), tracker, domain)
    title, example = PRACTICE[practice_id]["title"], PRACTICE[practice_id]["example"]
    assert messages[0]["text"] == f"An illustrative example (not a real case) of \u201c{title}\u201d:\n{example}"
    assert slots_of(events)["focus"] == f"practice:{practice_id}"


async def test_a_how_question_about_our_work_right_after_an_answer_is_a_follow_up(knowledge_cache, domain) -> None:
    knowledge = await knowledge_cache.get()
    item = knowledge.advice_by_challenge["challenge_purpose"][0]
    slots = {"focus": f"advice:{item.id}", "current_challenge": "challenge_purpose"}
    unsure = [("out_of_scope", 0.44), ("ask_how", 0.3)]
    messages, _ = await run(
        ActionOutOfScope(),
        make_tracker("out_of_scope", "so how do we actually put that right", slots=slots, ranking=unsure),
        domain,
    )
    assert messages[0].get("response") != "utter_out_of_scope" and messages[0]["text"]
    # Everyday requests are still declined mid-conversation, and so is a how-question in our
    # voice the classifier is sure is out of scope.
    for text, ranking in (
        ("how do I make pancakes", unsure),
        ("what's the time in tokyo", unsure),
        ("how's it going", unsure),
        ("how do we book a meeting room", [("out_of_scope", 0.93)]),
    ):
        messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text, slots=slots, ranking=ranking), domain)
        assert [m["response"] for m in messages] == ["utter_out_of_scope"], text


async def test_a_long_what_question_is_answered_not_quoted_as_a_term(knowledge_cache, domain) -> None:
    messages, events = await run(
        ActionFollowUp(), make_tracker("ask_meaning", "what's the usual way to end a partnership well"), domain
    )
    assert messages[0]["text"].startswith("Ending a partnership well:"), messages[0]["text"]  # not "“usual way ...” comes up in"
    assert any(str(e.get("value", "")).startswith("practice:") for e in events if e.get("name") == "focus")


async def test_who_are_a_body_read_as_are_you_a_bot_is_defined(knowledge_cache, domain) -> None:
    messages, _ = await run(ActionBotChallenge(), make_tracker("bot_challenge", "who are NCVO"), domain)
    assert messages[0]["text"].startswith("NCVO: "), messages[0]
    messages, _ = await run(ActionBotChallenge(), make_tracker("bot_challenge", "are you a real person?"), domain)
    assert messages[0]["response"] == "utter_bot_challenge"


async def test_a_definition_brings_its_related_answer_into_focus_when_nothing_is(knowledge_cache, domain) -> None:
    text = "what's a scheme of delegation"
    _, events = await run(ActionPracticeAnswer(), make_tracker("ask_practice_question", text), domain)
    assert slots_of(events)["focus"] == "practice:scheme_of_delegation"
    # With something in focus, the definition is an aside.
    _, events = await run(
        ActionPracticeAnswer(), make_tracker("ask_practice_question", text, {"focus": "practice:getting_help"}), domain
    )
    assert "focus" not in slots_of(events)


@pytest.mark.parametrize(
    "text,starts",
    [
        ("for the new members, what exactly is a PSB", "PSB ("),
        ("I need a one-liner on what an RPB actually is for new members", "RPB ("),
    ],
)
async def test_a_term_asked_inside_a_sentence_is_defined(text, starts, knowledge_cache, domain) -> None:
    messages, _ = await run(ActionClarify(), make_tracker("nlu_fallback", text=text), domain)
    assert messages[0]["text"].startswith(starts), messages[0]


def test_asking_whether_a_body_would_help_is_not_asking_what_it_is() -> None:
    assert not terms_asked_otherwise("who could back me up locally with this, is that what the LPC is for?")


@pytest.mark.parametrize(
    "intent,text,focus,starts",
    [
        ("ask_meaning", "sorry if this is a daft question but what's a DPIA?", "practice:information_sharing", "DPIA ("),
        ("ask_meaning", "and what counts as quorate? that word's in there", "practice:terms_of_reference", "quorum:"),
        ("ask_meaning", "consortium agreement - is that binding, what does it actually mean", "practice:joint_bids", "consortium agreement:"),
        ("ask_simpler", "DPIA in one line?", "practice:information_sharing", "DPIA ("),
    ],
)
async def test_a_term_the_answer_used_is_defined_not_the_answer_shortened(
    intent, text, focus, starts, knowledge_cache, domain
) -> None:
    # The term is in the answer in focus; the person asks what it means, not for "In short: ..."
    messages, _ = await run(ActionFollowUp(), make_tracker(intent, text, {"focus": focus}), domain)
    assert messages[0]["text"].startswith(starts), messages[0]["text"][:120]


async def test_say_that_more_simply_still_shortens_the_answer_in_focus(knowledge_cache, domain) -> None:
    messages, _ = await run(ActionFollowUp(), make_tracker("ask_simpler", "in one line?", {"focus": "practice:information_sharing"}), domain)
    assert messages[0]["text"].startswith("In short:"), messages[0]["text"][:120]


@pytest.mark.parametrize(
    "action,intent,text",
    [
        (ActionPracticeAnswer, "ask_practice_question", "who in our org should I ask about a specific case"),
        (ActionClarify, "nlu_fallback", "is there someone in my own organisation I should run all this past?"),
        (ActionOutOfScope, "out_of_scope", "who would I speak to internally about all this"),
        (ActionPracticeAnswer, "ask_practice_question", "who do I check with"),
    ],
)
async def test_who_to_ask_in_their_own_organisation_is_the_role_the_answer_named(action, intent, text, knowledge_cache, domain) -> None:
    # The answer on information sharing says "ask your organisation's data protection officer".
    messages, _ = await run(action(), make_tracker(intent, text, {"focus": "practice:information_sharing"}), domain)
    assert messages[0]["text"].startswith("DPO ("), messages[0]["text"][:120]
    # With nothing in focus the question is not read that way.
    messages, _ = await run(action(), make_tracker(intent, text, {}), domain)
    assert not (messages[0].get("text") or "").startswith("DPO ("), messages[0]


# Read as out of scope, a short question about a named term in other words (issue 13): defined;
# a practical errand about the same body is still declined.
@pytest.mark.parametrize(
    "text,starts",
    [
        ("can you explain PSB for a new colleague who's just joined from England", "PSB (Public Services Board)"),
        ("how do I explain PCN to my team in a sentence", "PCN (Primary Care Network)"),
        ("what part does the PHA play in something like this?", "PHA (Public Health Agency)"),
    ],
)
async def test_an_out_of_scope_question_about_a_named_term_is_defined(text, starts, knowledge_cache, domain) -> None:
    messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text), domain)
    assert messages[0]["text"].startswith(starts), messages[0]


@pytest.mark.parametrize(
    "text",
    ["what's the PCN's phone number", "can you explain how to book a room at the ICB", "what does the weather mean for the CVS fun run"],
)
async def test_an_errand_about_a_named_body_is_still_declined(text, knowledge_cache, domain) -> None:
    messages, _ = await run(ActionOutOfScope(), make_tracker("out_of_scope", text), domain)
    assert messages[0].get("response") == "utter_out_of_scope", messages[0]


def test_whether_a_term_fits_is_not_asking_what_it_is() -> None:
    assert not terms_asked_otherwise("is a RACI overkill for something this size")
    assert terms_asked_otherwise("whats a RACI") == ["RACI"]


def test_a_word_of_the_answer_asked_about_is_a_term() -> None:
    assert terms_asked_otherwise("what are the determinants it refers to")[0] == "determinants"
    assert not terms_asked_otherwise("what are the priorities we agreed")


def test_a_difference_asked_before_more_is_said_and_a_meaning_asked_in_second_language_english() -> None:
    assert asked_names("And what is the difference between an outcome and an output? Our councils mix them up.") == [
        "outcome and output",
        "outcome",
        "output",
    ]
    assert asked_names("What means HSC Trust exactly? I know I work there but how to explain to new volunteers") == ["HSC Trust"]


def test_an_equivalent_asked_for_names_the_term() -> None:
    assert terms_asked_otherwise("we're in scotland so is there something like the CVS thing you mentioned")[0] == "CVS"


async def test_a_term_asked_about_in_a_nation_is_the_term(knowledge_cache) -> None:
    knowledge = await knowledge_cache.get()
    entries = asked_entries(knowledge, "what's community planning in NI anyway, for the new members")
    assert [e.term for e in entries] == ["community planning"]


async def test_a_term_asked_about_then_a_remark_on_it_is_a_term_question(knowledge_cache) -> None:
    knowledge = await knowledge_cache.get()
    assert [e.term for e in asked_entries(knowledge, "the HSCB? I thought that closed")] == ["HSCB"]
    assert [e.term for e in asked_entries(knowledge, "economies of scale? in english please, they're farmers")] == ["economies of scale"]
    # A word that is no partnership term, asked back before a remark, is not a term question.
    assert asked_entries(knowledge, "really? I thought that closed") == []


def test_a_term_asked_about_in_more_everyday_words_is_read_whole() -> None:
    assert asked_names("tell me about CDHN") == ["CDHN"]
    assert asked_names("what's the HWB meant to be doing in all this anyway") == ["HWB"]
    assert asked_names("what are economies of scale in that context") == ["economies of scale"]
    assert asked_names("what's community planning though") == ["community planning"]
    assert asked_names("economies of scale, meaning?") == ["economies of scale"]
    assert asked_names("what are interim milestones when they're at home") == ["interim milestones"]
    assert asked_names("what counts as an outcome and what's just an output here")[1:] == ["outcome", "output"]
    # A difference asked in a sentence's first clause, a remark after the comma.
    assert asked_names("what's the difference between an output and an outcome, the ICB keeps banging on about it")[1:] == [
        "output",
        "outcome",
    ]


async def test_a_term_named_then_asked_about_is_defined(knowledge_cache) -> None:
    knowledge = await knowledge_cache.get()
    entries = asked_entries(knowledge, "we sit under a Community Planning Partnership, what is that exactly")
    assert [e.term for e in entries] == ["community planning"]
    # ...and what it means where they are: "here", "in practice", "in plain words", "when ..."
    for text in (
        "economies of scale is doing a lot of work in that list. what does it actually mean here",
        "economies of scale, for an organisation with three staff? what does that mean in practice",
        "the efficiency point - economies of scale, what does that really mean when it's three small charities",
    ):
        assert [e.term for e in asked_entries(knowledge, text)] == ["economies of scale"], text
    # A question about what an idea means in practice names no term: the follow-up answers it.
    assert asked_entries(knowledge, "we keep a decision log, what does that mean in practice") == []


async def test_a_term_before_a_dash_or_a_second_question_or_said_to_be_gone_is_defined(knowledge_cache) -> None:
    knowledge = await knowledge_cache.get()
    for text, term in [
        ("s115 - what is it and can we use it", "Section 115"),
        ("community plan - is that a council thing or a trust thing? never sure", "community planning"),
        ("i thought the HSCB doesn't exist any more?", "HSCB"),
        ("everyone keeps telling me to 'get in with the PCN'. what even is a PCN and why would a tiny charity care", "PCN"),
    ]:
        assert [e.term for e in asked_entries(knowledge, text)] == [term], text
    assert asked_entries(knowledge, "the council - can you book a room") == []
