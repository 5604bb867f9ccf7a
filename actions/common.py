"""What the actions share: the knowledge snapshot, the recorder, and giving advice."""

from __future__ import annotations

import asyncio
import logging
import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import answers
from actions.advice import ITEMS_PER_ANSWER, RankedAdvice, rank_advice
from actions.context import SECTOR_QUESTION, context_from_message
from actions.replies import UNAVAILABLE_REPLY  # also said by the Rasa server's guard
from actions.store.knowledge import Knowledge, KnowledgeCache, KnowledgeUnavailable
from actions.store.records import Recorder
from actions.vocabulary import DIMENSIONS, SECTOR_BUTTONS, known_context

logger = logging.getLogger(__name__)

# One of each per action server process; both connect on first use, not at import.
KNOWLEDGE = KnowledgeCache()
RECORDER = Recorder()


MORE_BUTTON = {"title": "More advice on this", "payload": "/ask_more"}
OTHER_CHALLENGE_BUTTON = {"title": "Another challenge", "payload": "/ask_challenges"}
PRINCIPLES_BUTTON = {"title": "The key principles", "payload": "/ask_key_principles"}
FEEDBACK_BUTTONS = answers.FEEDBACK_BUTTONS


def intent_of(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def person_context(tracker: Tracker) -> dict[str, str | None]:
    """What the conversation knows about the person, including what this message just said."""
    context = {dimension: known_context(dimension, tracker.get_slot(dimension)) for dimension in DIMENSIONS}
    context.update(context_from_message(tracker.latest_message))
    return context


def context_events(tracker: Tracker) -> list[EventType]:
    """SlotSet events for context the latest message revealed that the slots do not hold yet."""
    return [
        SlotSet(dimension, value)
        for dimension, value in context_from_message(tracker.latest_message).items()
        if known_context(dimension, tracker.get_slot(dimension)) != value
    ]


async def knowledge_or_apology(dispatcher: CollectingDispatcher) -> Knowledge | None:
    try:
        knowledge = await KNOWLEDGE.get()
    except KnowledgeUnavailable as error:
        logger.error("Knowledge store unavailable: %s", error)
        dispatcher.utter_message(text=UNAVAILABLE_REPLY)
        return None
    from actions.retrieval import retriever_built, retriever_for

    # Built once per content version (up to a second): in a worker thread, not on the event loop
    # that answers every conversation.
    if not retriever_built(knowledge):
        await asyncio.to_thread(retriever_for, knowledge)
    return knowledge


def ask_for_sector(dispatcher: CollectingDispatcher) -> None:
    """The sector question (actions/context.py), with a button for each common sector."""
    dispatcher.utter_message(
        text=SECTOR_QUESTION, buttons=[{"title": t, "payload": f'/inform{{"sector": "{v}"}}'} for t, v in SECTOR_BUTTONS]
    )


def challenge_buttons(knowledge: Knowledge) -> list[dict[str, str]]:
    return [{"title": p.title, "payload": f"/{p.id}"} for p in knowledge.topics["challenges"].passages]


WHAT_IS_WRONG = (
    "That sounds difficult. I'm not quite sure yet what is going wrong: what is happening in your partnership? "
    "Tell me in a sentence or two, or pick the closest of the common challenges."
)


def ask_what_is_wrong(dispatcher: CollectingDispatcher, knowledge: Knowledge) -> list[EventType]:
    """The reply to distress that names no problem yet ("it's all a bit of a mess"): a question back
    and the common challenges, not a guess at one of them."""
    dispatcher.utter_message(text=WHAT_IS_WRONG, buttons=challenge_buttons(knowledge))
    return []


def problem_fit(knowledge: Knowledge, text: str) -> dict[str, float]:
    """How well each advice item matches the problem as the person described it (by item id);
    nothing for a button payload or a message too short to tell."""
    from actions.retrieval import content_words, retriever_for

    if text.startswith("/") or len(content_words(text)) < 3:
        return {}
    return {
        document.key.partition(":")[2]: score
        for document, score in retriever_for(knowledge).search(text, k=1000)
        if document.kind == "advice"
    }


def next_advice(knowledge: Knowledge, tracker: Tracker, challenge: str, described: str = "") -> list[RankedAdvice]:
    """The advice on `challenge` the person has not been given yet, best first: fit to the problem
    they `described`, then their context."""
    given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str)]
    fit = problem_fit(knowledge, described) if described else None
    return rank_advice(knowledge.advice_by_challenge.get(challenge, ()), person_context(tracker), exclude=given, fit=fit)


def advice_started(knowledge: Knowledge, tracker: Tracker, challenge: str) -> bool:
    """Has this conversation already had advice on `challenge`?"""
    ids = {item.id for item in knowledge.advice_by_challenge.get(challenge, ())}
    return bool(ids & set(tracker.get_slot("advice_given") or []))


def advise(
    dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge, challenge: str, described: str = ""
) -> list[EventType]:
    """Send the next best advice item on `challenge` and remember what was given."""
    first = not advice_started(knowledge, tracker, challenge)
    ranked = next_advice(knowledge, tracker, challenge, described)
    events = context_events(tracker) + [SlotSet("current_challenge", challenge)]
    if not ranked:
        title = knowledge.passages[challenge].title.lower()
        dispatcher.utter_message(
            text=f"That's all the advice I have on {title}; you've seen every item. "
            "I can tell you about another challenge, the principles behind good partnerships, "
            "or put what we discussed into an action plan.",
            buttons=[OTHER_CHALLENGE_BUTTON, PRINCIPLES_BUTTON, {"title": "My action plan", "payload": "/ask_summary"}],
        )
        return events
    chosen = ranked[0]
    dispatcher.utter_message(
        text=answers.advice_answer(knowledge, challenge, chosen, first), buttons=answers.advice_buttons(len(ranked) > 1)
    )
    given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str)]
    return events + [
        SlotSet("advice_given", given + [chosen.item.id]),
        SlotSet("last_advice", [chosen.item.id]),
        SlotSet("focus", f"advice:{chosen.item.id}"),
    ]


def tailoring_would_change(knowledge: Knowledge, tracker: Tracker, challenge: str) -> bool:
    """Would knowing the person's sector change which advice comes first?"""
    items = knowledge.advice_by_challenge.get(challenge, ())
    given = tracker.get_slot("advice_given") or []
    general = [r.item.id for r in rank_advice(items, {}, given)[:ITEMS_PER_ANSWER]]
    return any(
        [r.item.id for r in rank_advice(items, {"sector": sector}, given)[:ITEMS_PER_ANSWER]] != general
        for sector in DIMENSIONS["sector"]
    )


def advise_and_ask(dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge, challenge: str) -> list[EventType]:
    """Advice on a challenge just described: the best-fitting idea, then, once per conversation and
    only when their sector would change the next ideas, the question that lets us pick them."""
    events = advise(dispatcher, tracker, knowledge, challenge, described=tracker.latest_message.get("text") or "")
    context_unknown = not any(person_context(tracker).values())
    if context_unknown and not tracker.get_slot("context_asked") and tailoring_would_change(knowledge, tracker, challenge):
        ask_for_sector(dispatcher)
        events.append(SlotSet("context_asked", True))
    return events


# Asking the advisor to do something for them ("can you send the ToR over to the Trust for me",
# "email a summary of this to my deputy", "book me a slot with the council's finance director"):
# an everyday errand, however much partnership it names. ("send me an example" is a follow-up.)
ERRAND = re.compile(
    r"^\W*(?:(?:ok|okay|grand|great|cheers|thanks|right|also|and|so|lol|btw|while i'?m here|whilst i'?m here|quick one)\W+)*"
    r"(?:(?:can|could|would|will)\s+(?:you|u|ya)\s+(?:please\s+|pls\s+|just\s+)?(?:invite|arrange|set\s+up\s+a\s+(?:call|meeting)|"
    r"sort\s+out\s+a\s+(?:call|meeting)|ring|phone|call|give\s+(?:\w+\s+){1,4}a\s+(?:call|ring|bell))\b|"
    # "would you be able to email that summary to the co-chair", "any chance you could forward it"
    r"(?:(?:(?:can|could|would|will)\s+(?:you|u|ya)(?:\s+be\s+able\s+to)?|are\s+(?:you|u)\s+able\s+to|any\s+chance\s+(?:you|u)\s+(?:could|can))\s+|please\s+|pls\s+)?"
    r"(?:please\s+|pls\s+|just\s+)?"
    r"(?:e-?mail|forward|text|book|schedule|print|post|look\s+up|google|remind(?!\s+me\s+(?:what|which|how|why|who|where|when|of|about)\b)|order|transfer|pay|move\s+(?:£|\d|some|the)\s*\w*\s*(?:pounds|quid|money|£)?|send(?!\s+(?:me|us)\b))\b"
    # ...not the noun: "email this morning from one of the big multiples saying ...", "text from the Trust"
    r"(?!\s+(?:this|last|yesterday)\s+(?:morning|afternoon|evening|week|night)\b|\s+(?:from|came|arrived|yesterday|today)\b))",
    re.IGNORECASE,
)
ERRAND_REPLY = (
    "Sorry, I can't help with that: I can't send, book or arrange anything for you. I advise on working in "
    "partnership between organisations: describe a problem in your partnership, or ask about its benefits and principles."
)


# Everyday subjects no practice question is about: "whats the weather doing in sunderland this arvo,
# need to know if i should walk home" reads a little like a practice question to the classifier.
EVERYDAY_SUBJECT = re.compile(
    r"\b(?:weather|forecast|train times?|bus times?|recipes?|taxi|flights?|horoscope|playlist|songs?|"
    r"football scores?|lottery numbers)\b",
    re.IGNORECASE,
)


# "where are you from?", "which country were you made in?": out of scope (the development sets'
# writers put them with everyday requests), but a decline would be rude, and the sources answer
# (what "where are you from?" was once read as) is issue 14's example of advice given to an
# everyday request: the answer to "are you a bot?" says what it is and who made it.
ASKS_WHERE_THE_BOT_IS_FROM = re.compile(
    r"^\W*(?:so|and|ok)?\W*(?:where(?:abouts)?|(?:which|what) (?:country|city|town|part of the world))"
    r" (?:are|r|were|do|did|is) (?:you|u|ya|this bot) (?:\w+ )?(?:from|based|made|built|born|live|located|in|come from)\W*$",
    re.IGNORECASE,
)


def where_the_bot_is_from(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The "are you a bot?" answer to a question about where the bot is from, or None."""
    if not ASKS_WHERE_THE_BOT_IS_FROM.match(tracker.latest_message.get("text") or ""):
        return None
    dispatcher.utter_message(response="utter_bot_challenge")
    return []


def decline_errand(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The polite decline of an errand, or None if the message asks for none."""
    if not ERRAND.search(tracker.latest_message.get("text") or ""):
        return None
    dispatcher.utter_message(text=ERRAND_REPLY, buttons=[{"title": "What can you do?", "payload": "/ask_capabilities"}])
    return []
