""" "Delete my data": once the person has confirmed, delete everything linked to this conversation.

The action deletes the knowledge-store rows (feedback, health-check results, found by the
conversation's keyed hash) and says what it deleted; its message carries a signal on which the
Rasa server deletes the conversation itself from the tracker store once the turn is over
(it cannot be done from here: Rasa saves the whole tracker again after this action returns).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import RECORDER
from actions.replies import CONVERSATION_DELETED, DELETE_ACTION, PRIVACY_SIGNAL
from actions.store.records import Deleted, conversation_key

NOT_DELETED_REPLY = (
    "Sorry, I couldn't delete your data just now because my database can't be reached, so nothing "
    'has been deleted yet. Please try "delete my data" again in a few minutes.'
)


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def deleted_reply(deleted: Deleted) -> str:
    """What was deleted, in words a person can check."""
    stored = []
    if deleted.feedback:
        stored.append(plural(deleted.feedback, "feedback answer", "feedback answers"))
    if deleted.health_checks:
        stored.append(plural(deleted.health_checks, "health check result", "health check results"))
    what = "this conversation" + (f", {' and '.join(stored)}" if stored else " (there was no feedback or health check to delete)")
    return f"Done: I've deleted {what}. Nothing from it is kept. If you write again, it starts a new conversation."


class ActionDeleteMyData(Action):
    """The person confirmed "delete my data"."""

    def name(self) -> str:
        return DELETE_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        deleted = await RECORDER.forget(conversation_key(tracker.sender_id))
        if deleted is None:  # nothing deleted; without the signal the conversation is kept too
            dispatcher.utter_message(text=NOT_DELETED_REPLY)
            return []
        dispatcher.utter_message(text=deleted_reply(deleted), **{PRIVACY_SIGNAL: CONVERSATION_DELETED})
        return []
