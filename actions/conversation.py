"""Conversation actions: clarifying when unsure, the action plan, goodbye, and feedback."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from actions.actions import answer_two, named_topics, practice_asked
from actions.advice import action_plan_reply, sources_reply
from actions.answers import key_of, resolve
from actions.common import (
    EVERYDAY_SUBJECT,
    RECORDER,
    advise,
    advise_and_ask,
    ask_what_is_wrong,
    context_events,
    decline_errand,
    intent_of,
    knowledge_or_apology,
    where_the_bot_is_from,
)
from actions.context import (
    CONTEXT_ONLY_WORDS,
    answer_to_sector_question,
    context_aside,
    context_from_message,
    has_a_question,
    last_said,
    only_about_them,
    states_trouble,
    vague_distress,
)
from actions.follow_ups import (
    CHALLENGE_WORDS,
    CLARIFYING_QUESTION,
    DOUBT,
    FALLBACK_THRESHOLD,
    FOLLOW_UP_INTENTS,
    IN_BRIEF,
    LEADING_FOLLOW_UP,
    PUSHBACK,
    WHERE_FROM,
    ActionFollowUp,
    answer_by_retrieval,
    answer_follow_up,
    answer_part,
    chosen_option,
    fits_focus,
    focus_events,
    follow_up_on,
    follow_up_reading,
    how_after_topic,
    named_option,
    offered_action,
    options_offered,
    pending_challenge,
    plain_follow_up_answered,
    practice_named_plainly,
    principle_named,
    retrieve,
    short_follow_up,
    show,
    unanswered_problem,
    untxt,
    where_it_is_from,
)
from actions.glossary import (
    ABOUT_ITS_DETAILS,
    answer_term,
    asked_entries,
    asked_names,
    asks_who_inside,
    role_asked_for,
    term_asked_about,
    terms_asked_otherwise,
)
from actions.health_check import resumes_paused_check
from actions.moves import NEW_TOPIC
from actions.retrieval import ANSWER_THRESHOLD, content_words, retriever_built, retriever_for
from actions.store.knowledge import AdviceView, GlossaryView, Knowledge, KnowledgeUnavailable, PracticeView, TopicView
from actions.store.records import conversation_key
from actions.thanks import APPROVAL, approving_remark, grateful
from actions.understanding import clarification_options, leaning_challenge, ranking, two_challenges
from actions.vocabulary import CHALLENGES, DIMENSIONS, KNOWLEDGE_TOPICS, TOPIC_BUTTON_TITLES, known_context

# The classifier's readings that say what a message is about (not small talk or a follow-up form).
ABOUT_SOMETHING = frozenset(TOPIC_BUTTON_TITLES) | {"ask_practice_question", "ask_meaning", "inform", "out_of_scope"}
# An "out of scope" reading less than this ahead of an in-domain one is a close call.
CLOSE_CALL = 0.1
# Fewer words of substance than this ("what about it") is not enough to look anything up.
MIN_CONTENT_WORDS = 2

EXAMPLES_REPLY = (
    "Sorry, I still don't understand, and I'd rather not guess. I'm best at problems in partnerships between "
    "organisations and at explaining partnership working. You could try:\n"
    '\u2022 "one partner only joined for the grant"\n'
    '\u2022 "the people at our meetings can\'t sign anything off"\n'
    '\u2022 "we have far too many meetings"\n'
    '\u2022 "what are the key principles of partnership working?"\n'
    '\u2022 "check our partnership" for a health check'
)


def names_practice(knowledge: Knowledge, text: str, bonus_counts: bool = False) -> bool:
    """Does the message name a practice topic (by its keywords) that the store matches well even
    without the keyword's bonus (with `bonus_counts`, with it)? Used to overrule the classifier's
    "out of scope", so the keyword alone is not enough: "when does the match kick off" uses a
    keyword of starting a partnership and nothing else of it."""
    retriever = retriever_for(knowledge)
    named = {d.key for d in retriever.named(text)}
    least = ANSWER_THRESHOLD + (0.0 if bonus_counts else retriever.keyword_bonus)
    return any(d.key in named and score >= least for d, score in retriever.search(text, k=3))


# A practice question the store matches this well, asked as a question, is no everyday request even
# when the classifier guesses "out of scope" ("how far ahead shud papers go out": out of scope 0.3,
# the practice question on running meetings 0.32).
PLAIN_PRACTICE_MATCH = 0.3


def asks_practice_plainly(knowledge: Knowledge, text: str) -> bool:
    if not has_a_question(text) or EVERYDAY_SUBJECT.search(text):  # "what's the weather doing for our community safety walk?"
        return False
    retriever = retriever_for(knowledge)
    best = retriever.search(text, k=1)
    if not best or best[0][0].kind != "practice":
        return False
    # Without a keyword's bonus: "what time does the match kick off tonight" has only "kick off".
    named = best[0][0].key in {d.key for d in retriever.named(text)}
    return best[0][1] - (retriever.keyword_bonus if named else 0.0) >= PLAIN_PRACTICE_MATCH


def vague_trouble(knowledge: Knowledge, text: str, best: tuple[Any, float]) -> bool:
    """ "honestly I don't even know where to start, it's all gone wrong": something is wrong, but the
    best match is a practice question the message does not name and matches only weakly (here on
    "start"); a question back beats that guess. (A weak advice match is kept: the problem words
    were found in an item about a problem.)"""
    item, score = best
    if not isinstance(item, PracticeView) or score >= ANSWER_THRESHOLD or not states_trouble(text):
        return False
    return f"practice:{item.id}" not in {d.key for d in retriever_for(knowledge).named(text)}


async def names_a_practice(text: str) -> bool:
    """Does the message name a practice topic by one of its keywords? (False if the store is down.)"""
    try:
        knowledge = await common.KNOWLEDGE.get()  # looked up here, so tests can swap the cache
    except KnowledgeUnavailable:
        return False
    if not retriever_built(knowledge):  # built once, off the event loop (as knowledge_or_apology does)
        await asyncio.to_thread(retriever_for, knowledge)
    return bool(retriever_for(knowledge).named(text))


async def matched_well(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Does the store answer the latest message at the answer threshold?"""
    knowledge = await knowledge_or_apology(dispatcher)
    text = tracker.latest_message.get("text") or ""
    return knowledge is not None and bool(retrieve(knowledge, text, threshold=ANSWER_THRESHOLD))


def previous_user_intent(tracker: Tracker) -> str | None:
    """The intent of the person's message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name") if len(users) > 1 else None


class ActionClarify(Action):
    """An unclear message: offer the two most likely topics, or admit a second miss honestly.
    A message that is unclear only because it describes two challenges gets both answered."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answered = await plain_follow_up_answered(dispatcher, tracker)  # "when?", "save that" after an answer
        if answered is not None:
            return answered
        pair = two_challenges(tracker.latest_message)
        if pair:
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []
            # "two of our partners had a massive row at the board ... now they're not speaking":
            # a practice topic named plainly beats two challenges guessed from its clauses.
            practice = practice_asked(knowledge, tracker.latest_message)
            text = tracker.latest_message.get("text") or ""
            if practice is not None and f"practice:{practice.id}" in named_topics(knowledge, text):
                return show(dispatcher, knowledge, tracker, practice)
            return answer_two(dispatcher, tracker, knowledge, pair)
        # "what's the HWB for": a partnership term the classifier could not place; "brill": thanks.
        answered = await term_or_thanks(dispatcher, tracker)
        if answered is not None:
            return answered
        answered = question_after_greeting(tracker)  # "hi, who made you?"
        if answered is not None:
            return answered
        picked = await option_picked(dispatcher, tracker)  # "the fourth one, tell me more" after the list
        if picked is not None:
            return picked
        text = tracker.latest_message.get("text") or ""
        if PICKING.search(text) and await part_of_topic_named(tracker):
            return [FollowupAction("action_more_advice")]  # "expand on the clarify responsibilities bit"
        if ABOUT_THE_BOT.search(text) and "ask_capabilities" in [name for name, _ in ranking(tracker.latest_message)[:2]]:
            return [FollowupAction("action_capabilities")]  # "what do you actually do"
        if ABOUT_KEEPING.search(text) and "ask_privacy" in [name for name, _ in ranking(tracker.latest_message)[:2]]:
            # "Before I start - is anything I type here kept? Hospice stuff can be sensitive."
            dispatcher.utter_message(response="utter_privacy")
            return []
        sector_told = answer_to_sector_question(tracker, unasked=True)  # "housing association", after "which sector?"
        if sector_told:
            return sector_told
        answered = await sources_asked_for(dispatcher, tracker)  # "who says so?"
        if answered is not None:
            return answered
        if pushes_back(tracker):
            # "right, back to the tension in meetings. we tried a joint away day and it made it worse"
            return [FollowupAction("action_more_advice")]
        answered = await part_quoted_back(dispatcher, tracker)  # "the learning summary bit - who actually reads those?"
        if answered is not None:
            return answered
        # A follow-up in words the classifier cannot place ("exmple pls", "tldr?", "what first?",
        # "and if that doesn't work?") about the item in focus or the challenge just recognised.
        if short_follow_up(tracker.latest_message.get("text") or ""):
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []
            follow_up = follow_up_reading(knowledge, tracker)
            if follow_up is not None:
                return answer_follow_up(dispatcher, tracker, knowledge, follow_up)
            # "put that in plain english for me" after "Did you mean one of these?"
            unanswered = unanswered_problem(knowledge, tracker)
            form = short_follow_up(untxt(tracker.latest_message.get("text") or ""))
            if unanswered is not None and form in FOLLOW_UP_INTENTS and form != "ask_more":
                return follow_up_on(dispatcher, tracker, unanswered, form)
        errand = decline_errand(dispatcher, tracker)  # "can you post that on our facebook page"
        if errand is not None:
            return errand
        if vague_distress(tracker.latest_message.get("text") or ""):
            # "our partnership is a mess and i honestly don't know where to begin": a question back,
            # not the answer on starting a partnership.
            knowledge = await knowledge_or_apology(dispatcher)
            return ask_what_is_wrong(dispatcher, knowledge) if knowledge is not None else []
        if context_aside(tracker):  # "should say we're about to renew the agreement, if that changes anything"
            return context_events(tracker) + [FollowupAction("action_acknowledge_context")]
        leaning = leaning_challenge(tracker.latest_message)
        if leaning is not None:
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []
            # ...unless it names a practice topic plainly ("what's the right way to come out of it"):
            # retrieval below answers that better than the challenge.
            if not retriever_for(knowledge).named(tracker.latest_message.get("text") or ""):
                return advise_and_ask(dispatcher, tracker, knowledge, leaning)
        # "hiya, I manage a small charity": the person telling us about themselves in words the
        # classifier could not place.
        # A longer one that neither asks nor says what is wrong ("hi I chair a new VCSE network in our
        # borough, we only started meeting in january") is about them too, unless the store matches
        # it well (a problem told without any word of trouble).
        about_them = context_from_message(tracker.latest_message)
        if about_them and (
            len(content_words(tracker.latest_message.get("text") or "")) <= CONTEXT_ONLY_WORDS
            or (only_about_them(tracker.latest_message) and not await matched_well(dispatcher, tracker))
        ):
            return [SlotSet(d, v) for d, v in about_them.items()] + [FollowupAction("action_acknowledge_context")]
        # About partnership work but no intent fits: answer from the store when something fits well.
        # Not when the classifier's best guess is "out of scope": retrieval must not turn an
        # everyday request into advice.
        # (Of the readings that say what the message is about: "out of scope" at 0.08 behind a
        # practice question at 0.38 is not the best guess.)
        readings = [(name, confidence) for name, confidence in ranking(tracker.latest_message) if name in ABOUT_SOMETHING]
        guess = readings[0][0] if readings else None
        # ...and only just ahead of an in-domain reading, it does not decide alone.
        close_call = len(readings) > 1 and readings[0][1] - readings[1][1] < CLOSE_CALL
        text = tracker.latest_message.get("text") or ""
        # A guess of "out of scope" is overruled when the message names a practice topic plainly
        # ("involving people with lived experience", "is an MoU enforceable") and the store matches it
        # well, or only just wins and the message names one ("can we share info on repeat ASB victims
        # with the housing provider": out of scope 0.45, a practice question 0.41).
        # ("and what if i just want us out of it now": one word of substance, but a practice keyword)
        if len(content_words(text)) >= MIN_CONTENT_WORDS or (guess != "out_of_scope" and await names_a_practice(text)):
            store = await knowledge_or_apology(dispatcher)
            if store is None:
                return []
            named = close_call and bool(retriever_for(store).named(text))
            # Mid-conversation, with "out of scope" itself unsure, the keyword counts towards the match
            # ("also my counterpart leaves next month and she's the only one who understands our plan").
            lenient = bool(readings) and bool(tracker.get_slot("focus")) and readings[0][1] < UNSURE_OUT_OF_SCOPE
            if guess == "out_of_scope" and not named and not names_practice(store, text, bonus_counts=lenient):
                store = store if asks_practice_plainly(store, text) else None
        else:
            store = None
        if store is not None:
            found = retrieve(store, text, threshold=FALLBACK_THRESHOLD)
            if found and vague_trouble(store, text, found[0]):
                found = []
            answered = answer_by_retrieval(dispatcher, tracker, store, text, found)
            if answered is not None:
                return answered
        if previous_user_intent(tracker) in ("nlu_fallback", "something_else"):
            dispatcher.utter_message(text=EXAMPLES_REPLY, buttons=[{"title": "Common challenges", "payload": "/ask_challenges"}])
            return []
        options = clarification_options(tracker.latest_message)
        if not options:
            dispatcher.utter_message(response="utter_clarify")
            return []
        buttons = [{"title": TOPIC_BUTTON_TITLES[o], "payload": f"/{o}"} for o in options]
        buttons.append({"title": "Something else", "payload": "/something_else"})
        dispatcher.utter_message(text=CLARIFYING_QUESTION, buttons=buttons)
        return []


async def term_or_thanks(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """A partnership term defined, or approval on its own ("brill", "nice one") thanked; None if the
    message is neither (the classifier often reads both as out of scope or cannot place them)."""
    defined = await define_term(dispatcher, tracker)
    if defined is not None:
        return defined
    text = tracker.latest_message.get("text") or ""
    # "I'll take that to the next forum, cheers": unclear only between thanks and goodbye.
    top = ranking(tracker.latest_message)[:2]
    if len(top) == 2 and {name for name, _ in top} == {"thank", "goodbye"} and top[0][1] + top[1][1] >= SIGNING_OFF:
        if top[0][0] == "goodbye":
            return [FollowupAction("action_goodbye")]
        dispatcher.utter_message(response="utter_thank")
        return []
    if APPROVAL.match(text) or grateful(text):
        dispatcher.utter_message(response="utter_thank")
        return []
    if SIGNING_OFF_WORDS.match(text):
        return [FollowupAction("action_goodbye")]
    if approving_remark(text):  # "sound, that helps loads" (but "great, off to my meeting" says goodbye)
        dispatcher.utter_message(response="utter_thank")
        return []
    return None


async def part_quoted_back(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The follow-up on a part of the answer in focus quoted back, then asked about; None if the
    message is not that (or nothing is in focus)."""
    if not tracker.get_slot("focus"):
        return None
    knowledge = await knowledge_or_apology(dispatcher)
    return answer_part(dispatcher, tracker, knowledge) if knowledge is not None else []


async def sources_asked_for(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Where the answer just given comes from, when the message asks that ("who says so?", "cite it
    for me properly"), whatever the classifier read; None otherwise."""
    if not (tracker.get_slot("focus") and WHERE_FROM.match(tracker.latest_message.get("text") or "")):
        return None
    knowledge = await knowledge_or_apology(dispatcher)
    return where_it_is_from(dispatcher, tracker, knowledge) if knowledge is not None else []


async def term_in_question(tracker: Tracker) -> GlossaryView | None:
    """The glossary entry a short question read as out of scope asks about, if any (None also when
    the store is unreachable: the decline is then the better reply)."""
    text = tracker.latest_message.get("text") or ""
    try:
        knowledge = await common.KNOWLEDGE.get()
    except KnowledgeUnavailable:
        return None
    return term_asked_about(knowledge, text)


SIGNING_OFF = 0.6  # thanks and goodbye together hold at least this much of the classifier's belief

# Two readings that do not compete, between them this sure, are one answer: a greeting before a
# question to the advisor ("hi, who made you?": bot_challenge 0.51, greet 0.47) is the question.
READINGS_AGREE = 0.8
AFTER_A_GREETING = {"bot_challenge": "action_bot_challenge", "ask_capabilities": "action_capabilities"}


def question_after_greeting(tracker: Tracker) -> list[EventType] | None:
    top = ranking(tracker.latest_message)[:2]
    if len(top) < 2 or top[0][1] + top[1][1] < READINGS_AGREE:
        return None
    names = {name for name, _ in top}
    text = tracker.latest_message.get("text") or ""
    if "greet" in names and GREETING.match(text) and (names - {"greet"}) & AFTER_A_GREETING.keys():
        return [FollowupAction(AFTER_A_GREETING[(names - {"greet"}).pop()])]
    return None


# "great, off to my meeting", "right, must dash": leaving, in words the classifier may read as anything.
SIGNING_OFF_WORDS = re.compile(
    r"^\W*(?:(?:great|grand|right|ok|okay|thanks|cheers|brill|lovely|anyway|diolch)\W+)*"
    r"(?:(?:i'?m |i am )?off (?:to|into) (?:my|a|the|our) (?:next )?(?:meeting|clinic|shift|board|call)"
    r"|(?:i'?ve |i )?(?:got|have|need) to (?:go|run|dash)(?: now)?|must dash|gotta (?:go|run)"
    # goodbyes in the UK's other languages and dialects
    r"|hwyl(?: fawr)?|ta-?ra(?: then)?|cheerio|sl[aá]n(?: go f[oó]ill)?|nos da)\W*$",
    re.IGNORECASE,
)


async def define_term(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The glossary definition when the message asks what a glossary term is; None otherwise
    (also when the store is unreachable: the caller's usual reply is better than an apology)."""
    text = tracker.latest_message.get("text") or ""
    if ABOUT_ITS_DETAILS.search(text):  # "what's the PCN's phone number": an errand, not the term
        return None
    inside = bool(tracker.get_slot("focus")) and asks_who_inside(text)
    if not inside and not asked_names(text) and not terms_asked_otherwise(text):  # most messages: no need to read the store
        return None
    try:
        knowledge = await common.KNOWLEDGE.get()  # looked up here, so tests can swap the cache
    except KnowledgeUnavailable:
        return None
    entries = asked_entries(knowledge, text) or role_asked_for(knowledge, tracker)
    return answer_term(dispatcher, knowledge, entries, tracker) if entries else None


# A how/why question in the partnership's voice ("we", "us", "our"); other forms of a follow-up
# ("what should I write in the email?") count whoever speaks.
OUR_WORK = re.compile(r"\b(?:we|us|our|ours)\b", re.IGNORECASE)
# ...taken for a follow-up only when the classifier is unsure it is out of scope: "how do we get
# back on track" reads 0.44, "how do we book a meeting room" 0.93 (an everyday request, declined).
UNSURE_OUT_OF_SCOPE = 0.7
SURE_OUT_OF_SCOPE = 0.9
# ...or however sure, when it points back at what was just said: "how do I explain that to my
# director", "how do i get it back on track", "how do I fix the emails one" (not "how hot will it get").
REFERS_BACK = re.compile(
    r"\b(?:that|this|these|those|her|him|them)\b|\bthe \w+ one\b"
    r"|\b(?:get|do|fix|explain|sell|put|raise|start|pitch|say|word|frame|handle|tackle|approach|run|make|bring|steer|turn|sort|change|push)\s+it\b"
    # "what can I do about it from my side"
    r"|\babout it\b|\bfrom (?:my|our) (?:side|end)\b",
    re.IGNORECASE,
)
# A message that opens with a greeting ("hiya. i volunteer at the food bank in merthyr") is someone
# introducing themselves, however sure the classifier is that it is out of scope.
GREETING = re.compile(r"^\W*(?:hi+|hiya|hello|hey|morning|good (?:morning|afternoon|evening))\b", re.IGNORECASE)
CLOSE_OUT_OF_SCOPE = 0.5
# ...or when it asks what to say, write or prepare ("spell the steps out for me", "what do I say at
# the next meeting", "how could I design the next round differently"): words of doing the work,
# which an everyday request ("how do we book a meeting room") does not use.
ASKS_WHAT_TO_DO = re.compile(
    r"\b(?:say|ask|tell|raise|write|word|phrase|design|prepare|steps?|approach|handle|tackle|put in)\b", re.IGNORECASE
)


# The person talking to the bot about the bot ("what can you do", "what should I ask you"), once
# fillers that only ask an opinion ("do you think", "you reckon") are set aside.
# ("what would you do" after advice asks for the advisor's advice, not about the advisor).
# ...or about what it keeps of what they type.
ABOUT_KEEPING = re.compile(r"\b(?:kept|keep|stored?|saved?|recorded|delete[ds]?|privacy|private|confidential)\b", re.IGNORECASE)
ABOUT_THE_BOT = re.compile(
    r"\b(?:can|could|will) (?:you|u)\b|\b(?:are|were) (?:you|u)\b|\bwhat (?:do|does) (?:you|u|this|it) (?:actually |really |even )?do\b"
    r"|\b(?:you|u) (?:offer|know|cover)\b|\bask (?:you|u)\b|\byourself\b|\bthis (?:bot|tool|thing|chat\w*|service)\b"
    r"|\bwhat is this\b",
    re.IGNORECASE,
)


# Words a question about what the advisor can do uses ("what can you do", "what is this for",
# "help", "what should I ask"); a message with none of them is not one.
CAPABILITY_WORDS = re.compile(
    r"\b(?:you|u|ya|this|bot|help|do|does|can|offer|ask|for|able|capable|options|menu|features|use|start)\b", re.IGNORECASE
)


class ActionCapabilities(Action):
    """What the advisor can do, unless the message is a follow-up on the answer just given that the
    classifier read as a question about the bot: "what should I ask them", "what made it work do
    you think" ("what should I ask" is also how people ask what to ask the bot)."""

    def name(self) -> str:
        return "action_capabilities"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        form = short_follow_up(text)
        if not text.startswith("/") and not ABOUT_THE_BOT.search(text):  # not the button
            try:
                knowledge = await common.KNOWLEDGE.get()
            except KnowledgeUnavailable:
                knowledge = None  # what the advisor can do is still worth saying
            if knowledge is not None and form:
                focus = resolve(knowledge, tracker.get_slot("focus"))
                if fits_focus(knowledge, focus, form, text) and (focus is not None or pending_challenge(knowledge, tracker)):
                    return answer_follow_up(dispatcher, tracker, knowledge, form)
            # "who can give us help in our town with this things?": a practice topic named plainly.
            practice = practice_named_plainly(knowledge, text) if knowledge is not None else None
            if knowledge is not None and practice is not None:
                return show(dispatcher, knowledge, tracker, practice)
        if not text.startswith("/") and not CAPABILITY_WORDS.search(text):
            # "what about it": vague, not a question about the advisor.
            return [FollowupAction("action_clarify")]
        dispatcher.utter_message(response="utter_capabilities")
        return []


def pushes_back(tracker: Tracker) -> bool:
    """Is the message pushback on the idea just given ("that won't work here", "we already tried
    that"), with an idea or a challenge to go on from?"""
    return bool(PUSHBACK.search(tracker.latest_message.get("text") or "")) and bool(
        tracker.get_slot("focus") or tracker.get_slot("current_challenge") in CHALLENGES
    )


class ActionAffirm(Action):
    """ "Yes" on its own gets a prompt to go on; a yes that tells us about them ("yes we end on 31
    march", "yes, we're a charity") is context, acknowledged as such."""

    def name(self) -> str:
        return "action_affirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        # After "yes" the person speaks of their own partnership: every context word counts.
        about_them = {
            str(e.get("entity")): known
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") in DIMENSIONS and (known := known_context(str(e.get("entity")), e.get("value"))) is not None
        }
        if about_them:
            return [SlotSet(d, v) for d, v in about_them.items()] + [FollowupAction("action_acknowledge_context")]
        form = short_follow_up(tracker.latest_message.get("text") or "") if tracker.get_slot("focus") else None
        if form == "ask_more":
            return [FollowupAction("action_more_advice")]
        if form is not None:  # "ok and after that?" after an answer reads like "ok"
            knowledge = await knowledge_or_apology(dispatcher)
            return answer_follow_up(dispatcher, tracker, knowledge, form) if knowledge is not None else []
        dispatcher.utter_message(response="utter_affirm")
        return []


class ActionDeny(Action):
    """ "No" on its own, unless it is pushback on the idea just given ("members won't accept 'give
    it time', that's not going to fly"): then the next idea."""

    def name(self) -> str:
        return "action_deny"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        form = short_follow_up(tracker.latest_message.get("text") or "") if tracker.get_slot("focus") else None
        if pushes_back(tracker) or form == "ask_more":
            return [FollowupAction("action_more_advice")]  # ...or "something else?" after an answer
        if form == "ask_why":  # "not convinced" after an answer: why the idea helps
            knowledge = await knowledge_or_apology(dispatcher)
            return answer_follow_up(dispatcher, tracker, knowledge, form) if knowledge is not None else []
        if len(content_words(tracker.latest_message.get("text") or "")) >= TELLS_MORE_THAN_NO:
            # "emailed the clinical director four times. nothing. not even a no thanks": a problem
            # told, not a "no"; answered as any message the classifier could not place.
            return [FollowupAction("action_clarify")]
        dispatcher.utter_message(response="utter_deny")
        return []


# Words of substance in a message that says more than "no" ("no thanks, not today" says no more).
TELLS_MORE_THAN_NO = 4


class ActionSomethingElse(Action):
    """ "Something else" after a clarifying question: asked to say it another way. Typed after an
    answer ("something else?"), it wants another idea. A change of subject ("new problem", "start
    again") clears the answer in focus and asks what to talk about now."""

    def name(self) -> str:
        return "action_something_else"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if NEW_TOPIC.match(text):
            # "new problem", "start again": follow-ups after this are not about the last answer.
            dispatcher.utter_message(response="utter_new_topic")
            return [SlotSet("focus", None), SlotSet("current_challenge", None), SlotSet("last_options", None)]
        if tracker.get_slot("focus") and short_follow_up(text) == "ask_more" and CLARIFYING_QUESTION not in last_said(tracker):
            return [FollowupAction("action_more_advice")]
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []


# "where do your answers come from": the sources, though "where do you come from" is about the bot.
ANSWERS_FROM = re.compile(
    r"\bwhere (?:do|does|did) (?:your|the|these|those|all (?:your|the|these)) (?:answers?|advice|information|info|ideas|suggestions|replies) (?:come|comes|came) from\b"
    r"|\bwhat (?:are|is) (?:your|the|these) (?:answers?|advice|information|info|replies) (?:based on|taken from|drawn from)\b",
    re.IGNORECASE,
)
# "are you a real person?", "is this a bot": about the bot, whatever else the message names.
ASKS_WHAT_THE_BOT_IS = re.compile(r"\b(?:you|u|ya|yourself|bot|robot|ai|human|real person|this thing|machine)\b", re.IGNORECASE)


class ActionBotChallenge(Action):
    """ "Are you a bot?" answered, unless the message asks who a partnership body is ("who are
    NCVO" reads like "who are you" to the classifier)."""

    def name(self) -> str:
        return "action_bot_challenge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        defined = await define_term(dispatcher, tracker)
        if defined is not None:
            return defined
        text = tracker.latest_message.get("text") or ""
        answered = await sources_asked_for(dispatcher, tracker)  # "where are you getting this from?"
        if answered is not None:
            return answered
        answered = await plain_follow_up_answered(dispatcher, tracker)  # "who's responsible?" after an answer
        if answered is not None:
            return answered
        if tracker.get_slot("focus") and DOUBT.match(text.lower()):
            knowledge = await knowledge_or_apology(dispatcher)  # "are you sure?" after an answer: not about the bot
            return answer_follow_up(dispatcher, tracker, knowledge, "ask_why") if knowledge is not None else []
        if ANSWERS_FROM.search(text):
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is not None:
                dispatcher.utter_message(text=sources_reply(knowledge))
            return []
        if not ASKS_WHAT_THE_BOT_IS.search(text):
            # "who could I talk to locally about this" reads like "can I talk to a person?"
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []
            answered = answer_part(dispatcher, tracker, knowledge)  # "the idea of one rep for several groups - who decides"
            if answered is not None:
                return answered
            practice = practice_named_plainly(knowledge, text)
            if practice is not None:
                return show(dispatcher, knowledge, tracker, practice)
        dispatcher.utter_message(response="utter_bot_challenge")
        return []


# A pick from the options just offered is a few words ("the time one", "number 2 please").
PICK_WORDS = 6
# ...and says it picks: "the time one", not "whats the time now".
PICKING = re.compile(r"\b(?:one|first|second|third|fourth|fifth|last|number|option|more on|bit|part|expand on)\b", re.IGNORECASE)
PICK_WORDING = frozenset(
    "one first second third fourth fifth 1st 2nd 3rd 4th 5th last number option item please pls go lets let tell more start begin "
    "bit part expand just".split()
)
# "just the competition bit - what do I do about that": a pick, then a follow-up on it.
PICK_THEN_ASK = re.compile(r"\s+-\s+|,\s*")


async def part_of_topic_named(tracker: Tracker) -> bool:
    """Does the message name a part of the topic just summarised ("expand on the clarify
    responsibilities bit" after the general principles)?"""
    try:
        knowledge = await common.KNOWLEDGE.get()
    except KnowledgeUnavailable:
        return False
    focus = resolve(knowledge, tracker.get_slot("focus"))
    return (
        isinstance(focus, TopicView) and principle_named(knowledge, focus, tracker.latest_message.get("text") or "") is not None
    )


async def option_picked(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The answer to a short pick from the options just offered, or None if it picks none."""
    text = tracker.latest_message.get("text") or ""
    first, *after = PICK_THEN_ASK.split(text, maxsplit=1)
    if after and short_follow_up(after[0]):
        text = first  # "just the competition bit - what do I do about that": the pick, answered
    options = options_offered(tracker)
    if not options or len(text.split()) > PICK_WORDS or not PICKING.search(text):
        return None
    knowledge = await knowledge_or_apology(dispatcher)
    if knowledge is None:
        return []
    key = chosen_option(text, options, tracker.latest_message.get("entities") or []) or named_option(knowledge, text, options)
    if key is None:
        return None
    challenge = key.partition(":")[2] if key.startswith("challenge:") else None
    item = resolve(knowledge, key)
    titles = [knowledge.passages[challenge].title if challenge in knowledge.passages else ""]
    if item is not None:
        titles += [item.title] + (
            [knowledge.passages[item.challenge_id].title]
            if isinstance(item, AdviceView) and item.challenge_id in knowledge.passages
            else []
        )
    # ...or by an everyday word for its challenge: "the meetings one first", "the grants one".
    titles += CHALLENGE_WORDS.get(challenge or getattr(item, "challenge_id", None) or "", set())
    # Nothing else said: "book the first train" is not a pick.
    if set(content_words(text)) - PICK_WORDING - {w for t in titles for w in content_words(t)}:
        return None
    if challenge in CHALLENGES:
        return advise(dispatcher, tracker, knowledge, str(challenge))
    if offered_action(key):  # "the second one" when the second button was the health check
        return [FollowupAction(str(offered_action(key)))]
    return show(dispatcher, knowledge, tracker, item) if item is not None else None


class ActionOutOfScope(Action):
    """Out of scope is declined (utter_out_of_scope), except a question about a partnership term
    ("what is the CVS anyway?"), which the classifier often reads as out of scope."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if resumes_paused_check(tracker):  # "carry on" after the health check was paused for a question
            return [FollowupAction("action_health_check_intro")]
        answered = where_the_bot_is_from(dispatcher, tracker)
        if answered is not None:
            return answered
        answered = await term_or_thanks(dispatcher, tracker)
        if answered is not None:
            return answered
        answered = await sources_asked_for(dispatcher, tracker)  # "cite it for me properly"
        if answered is not None:
            return answered
        answered = await plain_follow_up_answered(dispatcher, tracker)  # "how much will it cost?" after an answer
        if answered is not None:
            return answered
        errand = decline_errand(dispatcher, tracker)
        if errand is not None:
            return errand
        answered = await part_quoted_back(dispatcher, tracker)  # "the colleague route - what if there's no colleague I know?"
        if answered is not None:
            return answered
        term = await term_in_question(tracker)  # "can you explain PSB for a new colleague"
        if term is not None:
            knowledge = await knowledge_or_apology(dispatcher)
            return answer_term(dispatcher, knowledge, [term], tracker) if knowledge is not None else []
        if pushes_back(tracker):
            # "bit idealistic for a team with 40% vacancies tbh": the idea just given does not fit.
            return [FollowupAction("action_more_advice")]
        if vague_distress(tracker.latest_message.get("text") or ""):  # "the whole thing is a shambles"
            knowledge = await knowledge_or_apology(dispatcher)
            return ask_what_is_wrong(dispatcher, knowledge) if knowledge is not None else []
        answered = answer_to_sector_question(tracker)  # "NHS" typed in answer to "which sector do you work in?"
        if answered:
            return answered
        confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
        text = tracker.latest_message.get("text") or ""
        greeted = bool(GREETING.match(text))
        if (confidence < UNSURE_OUT_OF_SCOPE or greeted) and only_about_them(tracker.latest_message):
            # "I chair a wee befriending charity in Belfast", "SENCO at a high school in Motherwell":
            # who the person is, which the classifier is not sure is out of scope; after a greeting
            # ("hiya. i volunteer at the food bank in merthyr") an introduction however sure it is.
            return context_events(tracker) + [FollowupAction("action_acknowledge_context")]
        picked = await option_picked(dispatcher, tracker)  # "the time one" after the two-problem answer
        if picked is not None:
            return picked
        # "how do we get back on track?" right after an answer is about that answer, even when the
        # classifier reads it as out of scope; "how do I bake bread" or "what's the time" is not.
        follow_up = short_follow_up(text)
        if follow_up == "ask_more" and confidence < UNSURE_OUT_OF_SCOPE and tracker.get_slot("focus"):
            return [FollowupAction("action_more_advice")]  # "anothr" right after an idea
        points_back = bool(REFERS_BACK.search(text) or ASKS_WHAT_TO_DO.search(text))
        if follow_up in ("ask_how", "ask_why", "ask_simpler") and points_back and confidence < SURE_OUT_OF_SCOPE:
            # "what would I say to get 10 mins with her" after "Did you mean one of these?": about the
            # problem that message told.
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []  # the apology is the answer, not a decline after it
            unanswered = unanswered_problem(knowledge, tracker)
            if unanswered is not None:
                return follow_up_on(dispatcher, tracker, unanswered, follow_up)
        if (
            # ("what did another school do" after an idea: its example)
            follow_up in ("ask_how", "ask_why", "ask_simpler", "ask_example")
            and (
                OUR_WORK.search(text)
                or REFERS_BACK.search(text)
                or ASKS_WHAT_TO_DO.search(text)
                or not LEADING_FOLLOW_UP.match(text.lower())
            )
            and (
                confidence < UNSURE_OUT_OF_SCOPE
                or REFERS_BACK.search(text)
                or ASKS_WHAT_TO_DO.search(text)
                # "is there a version I could give in two minutes at a watch handover": asked in brief
                or (follow_up == "ask_simpler" and IN_BRIEF.search(text.lower()) and confidence < SURE_OUT_OF_SCOPE)
            )
            and tracker.get_slot("focus")
        ):
            knowledge = await knowledge_or_apology(dispatcher)
            item = resolve(knowledge, tracker.get_slot("focus")) if knowledge else None
            answered = how_after_topic(dispatcher, tracker, knowledge, item, follow_up, text) if knowledge else None
            if answered is not None:
                return answered
            if item is not None and not (follow_up == "ask_example" and isinstance(item, TopicView)):
                return ActionFollowUp.follow_up(dispatcher, item, follow_up, asked=text) + focus_events(item)
        challenge = tracker.get_slot("current_challenge")
        if follow_up == "ask_how" and confidence < SURE_OUT_OF_SCOPE and tracker.get_slot("focus") and challenge in CHALLENGES:
            # "how do i get proper named contacts set up" after an idea on communication: the idea on
            # that challenge it asks about, with its steps.
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []
            found = retrieve(knowledge, text, kinds=("advice",), threshold=FALLBACK_THRESHOLD)
            if found and isinstance(found[0][0], AdviceView) and found[0][0].challenge_id == challenge:
                return follow_up_on(dispatcher, tracker, found[0][0], "ask_how")
        # Mid-conversation one word can carry the topic: "what should the agenda look like".
        least_words = 1 if tracker.get_slot("focus") else MIN_CONTENT_WORDS
        # Mid-conversation a plainer match may overrule a surer "out of scope": "thing is she won't
        # even return my calls" (0.78) after the answer on engaging a partner.
        unsure = confidence < (SURE_OUT_OF_SCOPE if tracker.get_slot("focus") else UNSURE_OUT_OF_SCOPE)
        if unsure and len(content_words(text)) >= least_words:
            # "how do you get a brand new partnership off the ground?": an unsure "out of scope" for
            # a message that names a practice topic the store matches well.
            knowledge = await knowledge_or_apology(dispatcher)
            # Mid-conversation, or with "out of scope" itself unsure, the keyword may count towards the
            # match: "is a RACI overkill for something this size" after the answer on roles.
            lenient = (bool(tracker.get_slot("focus")) and confidence < UNSURE_OUT_OF_SCOPE) or confidence < CLOSE_OUT_OF_SCOPE
            if knowledge is not None and names_practice(knowledge, text, bonus_counts=lenient):
                found = retrieve(knowledge, text, kinds=("practice",))
                if found and key_of(found[0][0]) == tracker.get_slot("focus"):
                    # "how much notice is normal" right after the answer on leaving: the next level
                    # down, not the same answer twice.
                    return ActionFollowUp.follow_up(dispatcher, found[0][0], "ask_how") + focus_events(found[0][0])
                if found:
                    return show(dispatcher, knowledge, tracker, found[0][0])
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


TOO_LONG = re.compile(
    r"\btl;?\s?dr\b|\btoo long\b|\bsimpl|\bshorter\b|\bin a nutshell\b|\bplain english\b"
    # "that's a lot of text, can you summarise it": the answer just given, shorter
    r"|\ba lot (?:of text|to read|of words)\b|\bsummari[sz]e (?:it|that|this)\b",
    re.IGNORECASE,
)
WHOLE_CONVERSATION = re.compile(
    r"\bplan\b|\beverything\b|\ball\b|\bconversation\b|\bso far\b|\bwe (?:discussed|covered)", re.IGNORECASE
)


class ActionActionPlan(Action):
    """'Give me an action plan': the advice from this conversation, grouped by challenge."""

    def name(self) -> str:
        return "action_action_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        errand = decline_errand(dispatcher, tracker)  # "can you email a summary of this to my deputy"
        if errand is not None:
            return errand
        given = tracker.get_slot("advice_given") or []
        text = tracker.latest_message.get("text") or ""
        form = "ask_simpler" if TOO_LONG.search(text) else short_follow_up(text)
        if tracker.get_slot("focus") and form in ("ask_simpler", "ask_how") and not WHOLE_CONVERSATION.search(text):
            # "tl;dr" right after an answer wants that answer shorter, "can you break that into
            # steps" its steps: not a plan of everything.
            knowledge = await knowledge_or_apology(dispatcher)
            item = resolve(knowledge, tracker.get_slot("focus")) if knowledge else None
            if item is not None:
                return ActionFollowUp.follow_up(dispatcher, item, form, asked=text) + focus_events(item)
        if not tracker.get_slot("focus") and form in ("ask_simpler", "ask_how") and not WHOLE_CONVERSATION.search(text):
            # "tl;dr?" after "Did you mean one of these?": about the problem that message told.
            knowledge = await knowledge_or_apology(dispatcher)
            unanswered = unanswered_problem(knowledge, tracker) if knowledge else None
            if unanswered is not None:
                return follow_up_on(dispatcher, tracker, unanswered, form)
        if not given:
            dispatcher.utter_message(
                text="We haven't gone through any advice yet, so there's nothing to put in a plan. "
                "Describe what is getting in the way in your partnership, or take the health check.",
                buttons=[{"title": "Check our partnership", "payload": "/start_health_check"}],
            )
            return []
        knowledge = await knowledge_or_apology(dispatcher)
        if knowledge is None:
            return []
        dispatcher.utter_message(text=action_plan_reply(knowledge, given))
        return [SlotSet("plan_offered", True)]


UNSURE_GOODBYE = 0.6


class ActionGoodbye(Action):
    """Goodbye; first offering an action plan once if advice was given."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
        if confidence < UNSURE_GOODBYE and short_follow_up(tracker.latest_message.get("text") or ""):
            # "have you seen that actually play out anywhere" reads a little like a goodbye.
            knowledge = await knowledge_or_apology(dispatcher)
            follow_up = follow_up_reading(knowledge, tracker) if knowledge is not None else None
            if knowledge is not None and follow_up is not None:
                return answer_follow_up(dispatcher, tracker, knowledge, follow_up)
        if tracker.get_slot("advice_given") and not tracker.get_slot("plan_offered"):
            dispatcher.utter_message(
                text="Before you go: would you like an action plan of the advice from our conversation?",
                buttons=[
                    {"title": "Yes, my action plan", "payload": "/ask_summary"},
                    {"title": "No thanks, goodbye", "payload": "/goodbye"},
                ],
            )
            return [SlotSet("plan_offered", True)]
        dispatcher.utter_message(response="utter_goodbye")
        return []


NOT_HELPFUL_WITHOUT_ADVICE = (
    "Sorry that didn't help. Tell me what is getting in the way in your partnership, or ask your question "
    "another way, and I'll try again."
)


class ActionRecordFeedback(Action):
    """'This helped' / 'Not helpful': stored at once against the advice just given."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if not text.startswith("/") and short_follow_up(text) is not None and tracker.get_slot("focus"):
            # "and if that doesn't work?" is a question about the answer just given, not a verdict on it.
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is None:
                return []
            return answer_follow_up(dispatcher, tracker, knowledge, str(short_follow_up(text)))
        advice_ids = tracker.get_slot("last_advice") or []
        if not advice_ids:
            if text.startswith("/"):
                dispatcher.utter_message(text="Thanks. Feedback is about a piece of advice, and I haven't given you any yet.")
            elif intent_of(tracker) == "feedback_not_helpful":  # "wrong answer" to a definition: no "You're welcome"
                dispatcher.utter_message(text=NOT_HELPFUL_WITHOUT_ADVICE)
            else:  # "jazakallah, that's helpful" after a practice answer or a definition: thanks
                dispatcher.utter_message(response="utter_thank")
            return [SlotSet("feedback_comment", NO_COMMENT_NEEDED), ActiveLoop("feedback_form")]  # the form then ends at once
        await RECORDER.save(
            "feedback",
            {
                "conversation_key": conversation_key(tracker.sender_id),
                "challenge_id": tracker.get_slot("current_challenge"),
                "helpful": intent_of(tracker) == "feedback_helpful",
                "advice_ids": advice_ids,
            },
        )
        # Start the comment form here: activated by the rule instead, Rasa would fill its slot
        # from this very message (the "/feedback_..." payload) and never ask for the comment.
        helpful = intent_of(tracker) == "feedback_helpful"
        return [
            SlotSet("last_advice", None),
            SlotSet("feedback_was_helpful", helpful),
            SlotSet("feedback_comment", None),
            ActiveLoop("feedback_form"),
        ]


# A reply to "anything to add?" that is really a new question is answered, not stored.
QUESTION_ACTIONS = {
    **{c: "action_challenge_advice" for c in CHALLENGES},
    **{i: "action_knowledge_answer" for i in KNOWLEDGE_TOPICS},
    "ask_more": "action_more_advice",
    "ask_summary": "action_action_plan",
    "ask_practice_question": "action_practice_answer",
    **{i: "action_follow_up" for i in ("ask_how", "ask_example", "ask_why", "ask_simpler", "ask_meaning", "choose_item")},
}
QUESTION_CONFIDENCE = 0.8
NO_COMMENT_NEEDED = "n/a"


class ActionRecordFeedbackComment(Action):
    """The end of the feedback comment form: store the comment, or answer the question it really was."""

    def name(self) -> str:
        return "action_record_feedback_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        comment = (tracker.get_slot("feedback_comment") or "").strip()
        events: list[EventType] = [SlotSet("feedback_comment", None)]
        intent = tracker.latest_message.get("intent") or {}
        if intent.get("name") in QUESTION_ACTIONS and intent.get("confidence", 0) >= QUESTION_CONFIDENCE:
            return events + [FollowupAction(QUESTION_ACTIONS[intent["name"]])]
        if comment == NO_COMMENT_NEEDED:
            return events
        if comment in ("", "-"):
            dispatcher.utter_message(text="No problem. What else can I help with?")
            return events
        await RECORDER.save("feedback_comment", {"conversation_key": conversation_key(tracker.sender_id), "comment": comment})
        dispatcher.utter_message(text="Thank you, your comment is noted and will help improve the advice.")
        return events
