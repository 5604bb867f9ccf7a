"""What the actions share: the knowledge snapshot, the recorder, and giving advice."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ITEMS_PER_ANSWER, RankedAdvice, challenge_reply, rank_advice
from actions.context import context_from_message
from actions.replies import UNAVAILABLE_REPLY  # also said by the Rasa server's guard
from actions.store.knowledge import Knowledge, KnowledgeCache, KnowledgeUnavailable
from actions.store.records import Recorder
from actions.vocabulary import DIMENSIONS

logger = logging.getLogger(__name__)

# One of each per action server process; both connect on first use, not at import.
KNOWLEDGE = KnowledgeCache()
RECORDER = Recorder()


MORE_BUTTON = {"title": "More advice on this", "payload": "/ask_more"}
OTHER_CHALLENGE_BUTTON = {"title": "Another challenge", "payload": "/ask_challenges"}
PRINCIPLES_BUTTON = {"title": "The key principles", "payload": "/ask_key_principles"}
FEEDBACK_BUTTONS = [
    {"title": "This helped", "payload": "/feedback_helpful"},
    {"title": "Not helpful", "payload": "/feedback_not_helpful"},
]


def intent_of(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def person_context(tracker: Tracker) -> dict[str, str | None]:
    """What the conversation knows about the person, including what this message just said."""
    context = {dimension: tracker.get_slot(dimension) for dimension in DIMENSIONS}
    context.update(context_from_message(tracker.latest_message))
    return context


def context_events(tracker: Tracker) -> list[EventType]:
    """SlotSet events for context the latest message revealed that the slots do not hold yet."""
    return [
        SlotSet(dimension, value)
        for dimension, value in context_from_message(tracker.latest_message).items()
        if tracker.get_slot(dimension) != value
    ]


async def knowledge_or_apology(dispatcher: CollectingDispatcher) -> Knowledge | None:
    try:
        return await KNOWLEDGE.get()
    except KnowledgeUnavailable as error:
        logger.error("Knowledge store unavailable: %s", error)
        dispatcher.utter_message(text=UNAVAILABLE_REPLY)
        return None


def challenge_buttons(knowledge: Knowledge) -> list[dict[str, str]]:
    return [{"title": p.title, "payload": f"/{p.id}"} for p in knowledge.topics["challenges"].passages]


def next_advice(knowledge: Knowledge, tracker: Tracker, challenge: str) -> list[RankedAdvice]:
    """The person's best-fitting advice on `challenge` they have not been given yet."""
    given = tracker.get_slot("advice_given") or []
    return rank_advice(knowledge.advice_by_challenge.get(challenge, ()), person_context(tracker), exclude=given)


def advice_started(knowledge: Knowledge, tracker: Tracker, challenge: str) -> bool:
    """Has this conversation already had advice on `challenge`?"""
    ids = {item.id for item in knowledge.advice_by_challenge.get(challenge, ())}
    return bool(ids & set(tracker.get_slot("advice_given") or []))


def advise(dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge, challenge: str) -> list[EventType]:
    """Send the next best advice on `challenge` and remember what was given."""
    first = not advice_started(knowledge, tracker, challenge)
    ranked = next_advice(knowledge, tracker, challenge)
    chosen = ranked[:ITEMS_PER_ANSWER]
    events = context_events(tracker) + [SlotSet("current_challenge", challenge)]
    if not chosen:
        title = knowledge.passages[challenge].title.lower()
        dispatcher.utter_message(
            text=f"That's all the advice I have on {title}; you've seen every item. "
            "I can tell you about another challenge, the principles behind good partnerships, "
            "or put what we discussed into an action plan.",
            buttons=[OTHER_CHALLENGE_BUTTON, PRINCIPLES_BUTTON, {"title": "My action plan", "payload": "/ask_summary"}],
        )
        return events
    buttons = ([MORE_BUTTON] if len(ranked) > len(chosen) else []) + [OTHER_CHALLENGE_BUTTON] + FEEDBACK_BUTTONS
    dispatcher.utter_message(text=challenge_reply(knowledge, challenge, chosen, first), buttons=buttons)
    given = list(tracker.get_slot("advice_given") or [])
    return events + [
        SlotSet("advice_given", given + [r.item.id for r in chosen]),
        SlotSet("last_advice", [r.item.id for r in chosen]),
    ]

