"""A short message that rates the last answer ("wrong answer", "brilliant answer", "the advice was
useless", "irrelevant") is feedback, whatever the classifier leaned to: "wrong answer" and "no use"
were read as a plain no ("No problem."), "irrelevant" as an everyday request (declined), "top
answer" as thanks, so the rating was never recorded. Only whole short messages that are a rating
match: "any good advice on funding?" is a question, and "not what I asked" answers "Did you mean
...?" as often as it rates an answer, so both are left to the classifier.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from components.plain_requests import PlainRequestReader

HELPFUL, NOT_HELPFUL = "feedback_helpful", "feedback_not_helpful"
MAX_WORDS = 8
OPENING = r"^(?:(?:well|wow|ok|okay|oh|honestly|tbh|hmm|erm|um|that's|thats|that is|that was|this is|what an?|such an?|an?|the|your|ur|that|this)[\s,]+)*"
INTENSIFIER = r"(?:(?:really|very|so|pretty|truly|super|genuinely|quite|a bit|bit|totally|completely|utterly|bloody|well)\s+)*"
GOOD = r"(?:great|brilliant|brill|top|good|excellent|perfect|cracking|ace|lovely|superb|fab|fabulous|fantastic|smashing|spot[- ]on|helpful|useful|handy|clear|solid|sound|amazing|awesome|nice|gr8|decent)"
BAD = r"(?:wrong|rubbish|useless|bad|poor|vague|generic|pants|irrelevant|unhelpful|terrible|awful|pointless|naff|weak|woolly|wooly|confusing|incorrect|off[- ]topic)"
ANSWER = r"(?:answer|advice|reply|response|suggestions?|tips?|info|information)"
CLOSING = r"(?:[\s,.!]+(?:thanks|thank you|thx|ta|cheers|mate|tbh|honestly|there|though|tho|again))*[\s.!👍👎🙌🙏😊🙂]*$"
RATED_ANSWER = re.compile(OPENING + INTENSIFIER + rf"(?P<rating>{GOOD}|{BAD})\s+{ANSWER}{CLOSING}", re.IGNORECASE)  # "top answer"
ANSWER_RATED = re.compile(  # "the advice was useless"
    rf"^(?:the|that|this|your|ur)\s+{ANSWER}\s+(?:was|is|'s|were|are|seems|sounds)\s+{INTENSIFIER}(?P<rating>{GOOD}|{BAD}){CLOSING}",
    re.IGNORECASE,
)
NO_USE = re.compile(  # "no use", "doesn't answer my question", "irrelevant"
    r"^(?:(?:that's|thats|that is|that was|this is|it's|its|well|sorry|honestly|tbh|but)[\s,]+)*"
    r"(?:no use|not (?:very |really |at all )?(?:helpful|useful|relevant)|(?:doesn'?t|does not|didn'?t|did not) "
    r"(?:answer|help|address) (?:my|the) (?:q|question|problem)|irrelevant|off the point|beside the point|missing the point)"
    + CLOSING,
    re.IGNORECASE,
)


def rating_of(text: str) -> str | None:
    """feedback_helpful, feedback_not_helpful, or None when the message is not just a rating."""
    text = (text or "").strip()
    if len(text.split()) > MAX_WORDS or text.endswith("?"):
        return None
    for pattern in (RATED_ANSWER, ANSWER_RATED):
        found = pattern.search(text)
        if found:
            return NOT_HELPFUL if re.fullmatch(BAD, found.group("rating"), re.IGNORECASE) else HELPFUL
    return NOT_HELPFUL if NO_USE.search(text) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FeedbackRatingReader(PlainRequestReader):
    """Sets feedback_helpful or feedback_not_helpful first, with the top confidence, on a short rating of the answer."""

    def reading(self, text: str) -> str | None:
        return rating_of(text)
