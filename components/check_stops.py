"""A short message that plainly asks to stop the health check ("abort health check", "exit check",
"get me out of this quiz") is `stop_health_check`, whatever the classifier leaned to: the words
"health check" drew such messages to start_health_check, so the person asking to leave was given
the next question instead. Long messages are left to the classifier: "we had to cancel the survey
of residents because..." is a problem, not a request.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from components.plain_requests import PlainRequestReader

STOP = "stop_health_check"
MAX_WORDS = 10
# A stopping verb, then (with only little words between) the check. Not after a negation or a
# question word ("don't stop the check", "how do I end the check early?"). No match on any training
# or development sentence of another intent, nor on any practitioner message, when written.
STOP_REQUEST = re.compile(
    r"^(?!.*\b(?:don'?t|do not|not|never|won'?t|how|why|when)\b).*?"
    r"\b(?:stop|end|abort|exit|quit|cancel|pause|leave|halt|terminate|abandon|ditch|scrap|bin|drop|"
    r"pack in|bail on|get (?:me )?out of|done with|enough of)\b"
    r"(?:\s+(?:the|this|my|our|that|these|with|of|doing|taking|filling in))*\s+"
    r"(?:partnership\s+)?(?:health\s*-?\s*check|check|quiz|questionnaire|assessment|survey)\b",
    re.IGNORECASE,
)


def asks_to_stop_the_check(text: str) -> bool:
    text = text or ""
    return len(text.split()) <= MAX_WORDS and bool(STOP_REQUEST.search(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CheckStopReader(PlainRequestReader):
    """Sets `stop_health_check` first, with the top confidence, on a short plain request to stop the check."""

    intent = STOP
    asks = staticmethod(asks_to_stop_the_check)
