"""Thanks and approval that close a turn ("brill", "lovely, that gives me something to work with"):
answered with thanks whatever the classifier read them as, never as a new problem."""

from __future__ import annotations

import re

from actions.context import QUESTION, states_trouble

# "brill", "nice one", "lovely stuff": approval on its own, which the classifier may read as out of
# scope (one word, no "thanks"); thanked, never declined.
APPROVAL = re.compile(
    r"^\W*(?:(?:ha|haha|lol|ah|oh|ok|okay|that'?s|thats|that is|how|very|really|so|dead)\W+)*"
    r"(?:brill|brilliant|ace|fab|fabulous|lovely|smashing|superb|cracking|champion|great|perfect|excellent|awesome|"
    r"nice|cool|grand|magic|spot on|top|wicked|legend|class|wonderful|super|belting|bostin|mint|sweet|fair enough|"
    r"you'?ve been (?:so |very |really )?(?:kind|helpful|a star|a gem))"
    r"(?:\W+(?:one|stuff|job|work|thanks|thank you|ta|cheers|mate|that|then|god bless|bless you|x+))*\W*$",
    re.IGNORECASE,
)

# "Ta, that's really helped", "grand, that's me sorted", "catch yourself on, that's actually decent
# advice. ta": thanks in a short message that neither asks anything nor says what is wrong.
THANKS_WORDS = re.compile(
    r"\b(?:ta|thanks|thank you|cheers|thx|helped|helpful|sorted|decent advice|good advice|useful|"
    # "ok, that was more use than i thought it would be"
    r"(?:more|of|some|real) use|better than i (?:thought|expected)|diolch|that'?ll do (?:me|us)|grateful|(?:very|so|really) kind|"
    # thanks in the first language of people whose second is English: "muchas gracias, is very clear now"
    r"gracias|merci|danke|grazie|obrigad[oa])\b",
    re.IGNORECASE,
)
GRATEFUL_WORDS = 10
# ...or this long when it says what the person will do next: "ok I'll try the GP we know from the
# food bank board. cheers" ("recipe for traybakes for 40 for our volunteers thank you" asks).
PLAN = re.compile(r"^\W*(?:(?:ok|okay|right|great|grand)\W+)?(?:i'?ll|i will|will do|(?:i'?m )?(?:off|away) to)\b", re.IGNORECASE)
PLAN_WORDS = 16
# "we've been patient for five years already, thanks": pushback with thanks on the end.
NOT_YET_SORTED = re.compile(r"\b(?:already|still)\b", re.IGNORECASE)
ASKS_FOR_SOMETHING = re.compile(r"\b(?:can|could|would|will)\s+(?:you|u|ya)\b", re.IGNORECASE)
MORE_TO_SAY = re.compile(r"^(?:and|but|also|plus|what about|how about)\b", re.IGNORECASE)
# "is very clear now" after "muchas gracias" says how the answer was, it does not ask.
SAYS_HOW_IT_WAS = re.compile(
    r"^(?:is|it'?s|its)\s+(?:very|so|really|much|all|now|clear|great|good|helpful|perfect)\b", re.IGNORECASE
)

# Approval, then a remark on the advice or on what the person will do with it: "sound, that helps
# loads", "Grand, away to write it now", "nice one, off to do the dosette boxes now".
APPROVING_OPENER = re.compile(
    r"^\W*(?:(?:ok|okay|oh|ah|right)\W+)?"
    r"(?:lovely|grand(?: job)?|sound|brill(?:iant)?|great|nice one|bless you|god bless|champion|perfect|smashing|cracking|"
    r"fab|ace|super|superb|excellent|wonderful|magic|spot on|belting|that'?s (?:very |so |really )?kind(?: of you)?)"
    r"\s*[,.!-]+\s*(?P<remark>(?:that|this|i'?ll|i will|i'?m (?:off|away|going)|off|away|will do|gives?|helps?|plenty|"
    r"makes sense|cheers|thanks|thank you|ta|you'?ve)\b.*)$",
    re.IGNORECASE,
)
REMARK_WORDS = 12


def asks_or_adds(text: str) -> bool:
    """A question, a request to the advisor, a problem or a "but/and ..." anywhere in the message."""
    parts = [part.strip() for part in re.split(r"[.,;!]+", text)]
    return (
        "?" in text
        # "thanks, how do I start", "ok thanks, and the funding"
        or any((QUESTION.match(part) and not SAYS_HOW_IT_WAS.match(part)) or MORE_TO_SAY.match(part) for part in parts)
        or states_trouble(text)
        or bool(NOT_YET_SORTED.search(text))
        or bool(ASKS_FOR_SOMETHING.search(text))  # "ta. now can you write our christmas newsletter for me"
    )


def grateful(text: str) -> bool:
    words = len(text.split())
    short_enough = words <= GRATEFUL_WORDS or (words <= PLAN_WORDS and bool(PLAN.match(text)))
    return bool(THANKS_WORDS.search(text)) and short_enough and not asks_or_adds(text)


def approving_remark(text: str) -> bool:
    opened = APPROVING_OPENER.match(text)
    return opened is not None and len(opened["remark"].split()) <= REMARK_WORDS and not asks_or_adds(text)


def thanks_only(text: str) -> bool:
    """The message only thanks or approves: nothing asked, nothing wrong, nothing more to add."""
    return bool(APPROVAL.match(text)) or grateful(text) or approving_remark(text)
