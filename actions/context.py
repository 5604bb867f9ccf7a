"""What a message tells us about the person (sector, role, partnership stage)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions.retrieval import content_words
from actions.vocabulary import DIMENSIONS, SECTOR_OF_ROLE, known_context

# A context word counts as being about the person only when they say so ("I'm a pharmacist",
# "as a council officer", "we're a new partnership"); in "the council won't share" the council
# is a partner.
FIRST_PERSON = re.compile(
    r"\b(i'?m|i am|i work|i lead|i chair|i run|i manage|i volunteer|i coordinate|i organi[sz]e|i help run|i oversee|i sit on|i attend|i represent|i'?ve been|i(?:'?ve)?(?: just| recently| now)? (?:moved|joined)|i now|as an?|we'?re|we are|"
    r"our (?:partnership|group) is|my role)\b",
    re.IGNORECASE,
)
# The partnership's stage is said of it as well as of "we": "to be fair it's probably winding down".
STAGE_SUBJECT = re.compile(rf"{FIRST_PERSON.pattern}|\b(?:it'?s|it is|its|it'?ll be|it will be)\b", re.IGNORECASE)
# ("I'm with a charity": right after "I'm", "with" says where they work.)
WITH_PARTNER = re.compile(r"^\s*\S.*?\b(?:with|alongside)\b", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r"[.;!?]|\b(but|and the|while|whereas)\b", re.IGNORECASE)

# How long the partnership has been going, when the person says so: "our partnership has been
# going about four years" (established), "we set it up three months ago" (forming).
NUMBER = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|a couple of|several|many)"
RUNNING_FOR = re.compile(
    r"(?:\b(?:partnership|collaborative|network|group|alliance|we|we'?ve|it|it'?s|its)\b|[\w-]+'s\b)[^.;!?]{0,60}?"
    r"\b(?:going|running|run|existed|been together|been working together|been in place|worked together)\b"
    r"(?:\s+(?:for|about|around|nearly|almost|over|more than|just|now|the last|the past))*\s+"
    rf"(?P<n>{NUMBER})\s+(?P<unit>years?|months?|weeks?)\b",
    re.IGNORECASE,
)


# "we only started meeting in January", "a new VCSE network": a partnership that is forming.
JUST_STARTED = re.compile(
    r"\b(?:only|just|recently)\s+(?:started|set (?:it |this )?up|began|formed|launched|got going)\b|\bbrand new\b|"
    r"\bnew\s+(?:\w+\s+)?(?:partnership|network|alliance|collaborative|forum|consortium)\b"
    r"(?!\s+(?:manager|lead|chair|coordinator|officer|worker|contact|member))"
    # "we're right at the start, first meeting was only last month"
    r"|\b(?:we'?re|we are)\s+(?:right|only|just)\s+at the (?:start|beginning)\b|\bat the very (?:start|beginning)\b"
    r"|\bfirst (?:ever )?meeting (?:was|is|was only) (?:only )?(?:last|this) (?:week|month)\b"
    # "we've never partnered with anyone before, so this would be a first for us"
    r"|\bnever (?:partnered|worked in partnership|been in a partnership) with anyone\b|\ba first for us\b"
    # "I'm leading it and it's only a few months old"
    rf"|\b(?:only|just|barely) (?:{NUMBER}|a) (?:weeks?|months?) old\b",
    re.IGNORECASE,
)


# "we're only three months in": forming (a year or more in: established).
MONTHS_IN = re.compile(
    rf"\b(?:we'?re|we are|only|just|about|nearly|almost)\s+(?:only\s+|just\s+|about\s+)?(?P<n>{NUMBER})\s+(?P<unit>years?|months?|weeks?)\s+in(?:to)?\b",
    re.IGNORECASE,
)
# "we're about to renew the agreement for another three years", "it's up for retender": renewing.
RENEWING = re.compile(
    r"\babout to (?:renew|re-?sign|re-?tender|recommission|re-?procure|refresh|go (?:out )?(?:through|to) (?:a |the )?re-?tender)|"
    r"\bup for (?:renewal|re-?tender\w*)\b|\bcoming up for (?:renewal|re-?tender\w*)\b|"
    r"\bdue (?:to (?:be )?(?:renew|renewed|re-?tender|re-?tendered|recommission)|for (?:renewal|re-?tender\w*))\b",
    re.IGNORECASE,
)

# "3 years", "about 18 months now": a bare answer to how long the partnership has been going.
BARE_DURATION = re.compile(
    r"^\W*(?:(?:about|around|nearly|almost|roughly|just over|over|coming up to|been|going)\s+)*"
    rf"(?P<n>{NUMBER}|a|one)\s*(?P<unit>years?|yrs?|months?)(?:\s+(?:now|in|so far|old|or so))*\W*$",
    re.IGNORECASE,
)

# "been in this group for years": established, however it is said.
FOR_YEARS = re.compile(r"\bbeen\b[^.;!?]{0,40}?\bfor (?:years|ages|donkey'?s years|a long time|decades)\b", re.IGNORECASE)


MONTHS_ESTABLISHED = 12  # "18 months in" is as established as "a year and a half"


def stage_from_duration(text: str) -> str | None:
    if RENEWING.search(text or ""):
        return "renewing"
    match = RUNNING_FOR.search(text or "") or MONTHS_IN.search(text or "") or BARE_DURATION.match(text or "")
    if not match:
        if FOR_YEARS.search(text or ""):
            return "established"
        return "forming" if JUST_STARTED.search(text or "") else None
    unit, n = match.group("unit").lower(), match.group("n")
    if unit.startswith("y") or (unit.startswith("month") and n.isdigit() and int(n) >= MONTHS_ESTABLISHED):
        return "established"
    return "forming"


# "SENCO at a high school in Motherwell", "hiya, pharmacist at a chain branch in bolton": a short
# message that opens with a role or sector says who the person is, without "I'm".
OPENS_WITH_WORDS = 10
GREETING_WORDS = re.compile(
    r"^\W*(?:(?:hi|hiya|hello|hey|morning|afternoon|evening|ok|okay|so|sorry|yes|yeah)\W+)*", re.IGNORECASE
)


# ...followed by where they are ("at a high school") or a break, not by more of a thing ("NHS app").
AFTER_OPENING = re.compile(r"\s*(?:[,.;:-]|(?:at|in|for|with|from|here)\b|$)", re.IGNORECASE)


def opens_with(text: str, entity: dict[str, Any]) -> bool:
    greeting = GREETING_WORDS.match(text)
    opening = greeting.end() if greeting else 0
    return (
        entity.get("start") == opening
        and bool(AFTER_OPENING.match(text, int(entity.get("end") or 0)))
        and len(text.split()) <= OPENS_WITH_WORDS
        and "?" not in text
        and not QUESTION_START.match(text[opening:])
    )


def context_from_message(message: dict[str, Any]) -> dict[str, str]:
    """Context values in a message that describes a problem, where the person speaks of themselves."""
    text = message.get("text") or ""
    found: dict[str, str] = {}
    implied_sector: str | None = None
    for entity in message.get("entities") or []:
        dimension, value = entity.get("entity"), entity.get("value")
        if dimension not in DIMENSIONS or known_context(dimension, value) is None or dimension in found:
            continue
        # Up to the entity's end: the first person may be the entity itself ("I manage ...").
        upto = text[: entity.get("end", entity.get("start", 0))]
        clause = CLAUSE_BREAK.split(upto)[-1] if upto else ""
        speaker = list((FIRST_PERSON if dimension != "stage" else STAGE_SUBJECT).finditer(clause or ""))
        # ...not a partner named after "with": "We're in a mental health partnership with CAMHS and a local charity".
        about_them = bool(speaker) and not (dimension == "sector" and WITH_PARTNER.search(clause[speaker[-1].end() :]))
        if about_them or opens_with(text, entity):
            found[dimension] = value
            if dimension == "role":
                said = text[entity.get("start", 0) : entity.get("end", 0)].lower().strip()
                implied_sector = SECTOR_OF_ROLE.get(said)
    if implied_sector and "sector" not in found:
        found["sector"] = implied_sector
    stage = stage_from_duration(text)
    if stage and "stage" not in found:
        found["stage"] = stage
    return found


# Beyond this many words, a message about the person that asks something wants an answer too.
CONTEXT_ONLY_WORDS = 6
QUESTION = re.compile(
    # ("should've said, we're ..." tells, it does not ask)
    r"\?|^(?:(?:and|so|but|ok|also)\s+)?(?:how|what|who|which|where|when|why|should|can|could|do|does|is|are|whats|hows|wheres|whos)\b"
    r"(?<!should(?='ve|\s+have\b))(?<!could(?='ve|\s+have\b))"
    r"|^what'",
    re.IGNORECASE | re.MULTILINE,
)


def has_a_question(text: str) -> bool:
    """Does any sentence or clause ask something? ("I've been asked to start one, where do I even start")"""
    sentences = "\n".join(part.strip() for part in re.split(r"(?<=[.!?,;])\s+", text or ""))
    return bool(QUESTION.search(sentences))


def asks_a_question(text: str) -> bool:
    """A message about the person that also asks something ("... who should I be talking to?")."""
    return len(content_words(text or "")) > CONTEXT_ONLY_WORDS and has_a_question(text)


# Words that say something is wrong: "I'm a pharmacist, I can't join the 2pm calls" states a problem
# beside the context; "I chair a new VCSE network, we started in January" does not.
TROUBLE = re.compile(
    r"\b(?:can'?t|cannot|couldn'?t|won'?t|wouldn'?t|don'?t|doesn'?t|didn'?t|isn'?t|aren'?t|wasn'?t|never|nobody|no one|"
    r"nothing(?! (?:\w+ )?yet\b)|problems?|issues?|struggl\w*|difficult\w*|hard to|worr(?:y|ied|ying)|concern(?:ed|s)?|block\w*|overrul\w*|"
    r"ignor\w*|stall\w*|stuck|frustrat\w*|argu\w*|row(?:s|ing)?|conflict\w*|clash\w*|lost|los(?:e|ing)|swallow\w*|drift\w*|"
    r"fail\w*|wrong|mess\w*|tensions?|unclear|confus\w*|muddl\w*|falling|fallen|too (?:many|much|little|few)|"
    r"no (?:time|money|funding|budget|capacity|reply|response|way|idea)|stops?|stopping|prevents?|left out|overcommit\w*|overwhelm\w*|set up to fail|impossible|unable|not working|no longer|sick of|fed up|pointless|waste of time|"
    # the trouble told through how it feels or what it causes: "it's causing friction every week"
    r"friction|frosty|at odds|nightmare|chao(?:s|tic)|duplicat\w*|poach\w*|undercut\w*|rival\w*|slow(?:ly|s|ing)?|delay\w*|"
    r"holds? (?:\w+ )?up|holding (?:\w+ )?up|still waiting|talking past|losing patience|lobbying|trust is shot|"
    r"out of habit|feel used|behind (?:our|my) backs?|tak(?:es|ing) (?:forever|ages)|"
    # doubt about the partnership itself: "I'm not sure the partnership still does what it was set up to do"
    r"not sure (?:the|our|this|that) (?:partnership|group|board|network|forum)|still (?:needed|worth it|does what))\b",
    re.IGNORECASE,
)
# "actually, scratch that, I moved to the community trust": the person correcting what they told us.
CORRECTION = re.compile(
    r"^\W*(?:actually|sorry|correction|scratch that|no[,.!]|wait|oops|my mistake|i meant|to be clear)\b", re.IGNORECASE
)


def states_trouble(text: str) -> bool:
    return bool(TROUBLE.search(text or ""))


def only_about_them(message: dict[str, Any]) -> bool:
    """A message that tells us about the person and neither asks anything nor says what is wrong."""
    text = message.get("text") or ""
    return bool(context_from_message(message)) and not asks_a_question(text) and not states_trouble(text) and "?" not in text


# An aside this short mid-conversation that only tells who the person is or the partnership's stage
# ("btw we're only three months in", "we're a tiny charity by the way, 3 staff, 20 volunteers") is
# context, whatever it reads like.
ASIDE_WORDS = 10


def context_aside(tracker: Tracker) -> bool:
    message = tracker.latest_message
    return (
        bool(tracker.get_slot("focus") or tracker.get_slot("current_challenge"))
        and only_about_them(message)
        and len(content_words(message.get("text") or "")) <= ASIDE_WORDS
    )


# The words that say a correction is coming ("sorry, wrong -", "no wait,"), not that something is wrong.
CORRECTION_LEAD = re.compile(
    r"^\W*(?:(?:actually|sorry|correction|scratch that|no|wait|oops|my mistake|my bad|wrong|that'?s wrong|i meant|to be clear)\W+)+",
    re.IGNORECASE,
)


def corrects_context(message: dict[str, Any]) -> bool:
    """ "Actually, I'm at the council now", "sorry, wrong - it's been going 2 years": a correction of
    who they are or of the partnership's stage, not a new problem."""
    text = message.get("text") or ""
    if not CORRECTION.search(text):
        return False
    rest = CORRECTION_LEAD.sub("", text)
    return bool(context_from_message(message)) and not asks_a_question(rest) and not states_trouble(rest) and "?" not in text


# "it's all a bit of a mess tbh", "honestly it's all gone wrong": distress that names no problem
# yet. Every word of substance is one of these, and one of them says something is wrong.
VAGUE_WORDS = frozenset(
    "mess messy shambles nightmare disaster chaos chaotic wrong gone going falling fallen apart bad terrible awful "
    "horrible struggling stuck lost hopeless broken complicated difficult hard know start begin tbh honestly honest frank everything "
    "nothing anything really bit quite sure anymore help totally completely even works working clue idea stuff things partnership partnerships "
    "whole thing moment right now pear shaped "
    # venting about the job rather than the partnership: "this job will be the death of me", "ugh what a week"
    "feel feeling head brick wall banging end rope tether job swear wil will death days some wonder bother sorry week "
    "think last went badly meeting people deserve better much families emotional ugh sigh cry crying going exhausted "
    "knackered drained overwhelmed stressed fed rotten flat fire weeks mum dad today pretty those tired sick weary worn".split()
)
DISTRESS_WORDS = frozenset(
    "mess messy shambles nightmare disaster chaos chaotic wrong apart bad terrible awful horrible struggling stuck "
    "lost hopeless broken complicated difficult hard pear banging brick rope tether death bother emotional ugh sigh cry "
    "crying exhausted knackered drained overwhelmed stressed fed badly rotten flat tired weary worn".split()
)


# "not having a good week with our partnership", "it's all getting a bit much", "feel like packing it
# all in": no distress word, but the same thing said.
BAD_SPELL = re.compile(
    r"\bnot (?:having )?(?:a )?(?:good|great) (?:week|day|time|month)\b|\bgetting (?:a bit |too |all too )?much\b"
    r"|\bgoing sideways\b|\bpack(?:ing)? it (?:all )?in\b|\bhad enough\b|\bwits'? end\b|\blong (?:week|day|month)\b"
    r"|\bdoing (?:my|me|our) (?:head|nut) in\b|\bdriving me (?:mad|crazy|up the wall|round the bend)\b"
    r"|\b(?:a bit|all) (?:too )?much\b|\bin (?:a bit of )?a state\b|\b(?:everything|it)(?:'s| is) on fire\b",
    re.IGNORECASE,
)
BAD_SPELL_WORDS = frozenset(
    "good great having day month time getting much sideways feels packing pack enough wits long "
    "doing nut driving mad crazy wall bend state everythings".split()
)


def vague_distress(text: str) -> bool:
    said = set(content_words(text or ""))
    return bool(said & DISTRESS_WORDS or BAD_SPELL.search(text or "")) and said <= VAGUE_WORDS | BAD_SPELL_WORDS


# "who should lead it", "can a pharmacist join": a question, not who they are.
# ("and what's in it for the council" asks, whatever it names)
QUESTION_START = re.compile(
    r"^\W*(?:(?:and|so|but|ok|okay)\W+)?(?:who|whos|what|whats|how|hows|why|when|where|which|should|can|could|do|does|is|are|will)\b",
    re.IGNORECASE,
)
# A reply this short that names a sector or role ("practice manager, GP surgery"), once we have
# asked for it, is the answer, unless it says something is wrong ("council won't reply").
ANSWER_WORDS = 5
ANSWER_AFTER_QUESTION_WORDS = 10


# Asked once, under the first idea, when knowing the sector would change the next ones.
SECTOR_QUESTION = "So I can fit my next ideas to you: which sector do you work in? (Or tell me your role.)"


def last_said(tracker: Tracker) -> str:
    """The bot's last message before the latest user message ("" if none)."""
    latest_user_seen = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if latest_user_seen:
                return ""
            latest_user_seen = True
        elif event.get("event") == "bot" and latest_user_seen:
            return event.get("text") or ""
    return ""


def just_asked_for_sector(tracker: Tracker) -> bool:
    return last_said(tracker) == SECTOR_QUESTION


def sector_or_role_named(tracker: Tracker, unasked: bool = False) -> dict[str, str]:
    """The sector or role a short reply names ("NHS", "the council", "pharmacist") once we have
    asked for it, or with `unasked` when it is not a question ("small charity"), or in a few words
    about themselves ("I run the carers centre btw"); {} otherwise."""
    text = tracker.latest_message.get("text") or ""
    # (In passing: once the conversation is under way, or when the classifier took it to be about
    # partnership work; a bare "NHS" to start with, read as out of scope, is still declined.)
    answered_before = sum(e.get("event") == "user" for e in tracker.events) > 1
    introduced = (FIRST_PERSON.search(text) and names_only_who_they_are(tracker.latest_message, SAYING_WHO_THEY_ARE)) or (
        (answered_before or unasked) and said_in_passing(tracker.latest_message)
    )
    # Right after "which sector do you work in?" an answer may ramble a little: "NHS Highland, so
    # health I suppose", "independent chemist, been on this street 20 yrs".
    most_words = ANSWER_AFTER_QUESTION_WORDS if just_asked_for_sector(tracker) else ANSWER_WORDS
    if not introduced:
        if len(text.split()) > most_words or states_trouble(text) or asks_a_question(text) or QUESTION_START.match(text):
            return {}
        if not (tracker.get_slot("context_asked") or (unasked and "?" not in text)):
            return {}
    named = [
        e
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") in ("sector", "role") and known_context(e["entity"], e.get("value")) is not None
    ]
    found = {e["entity"]: e["value"] for e in named}
    if "sector" not in found:  # "midwife": health, as "I'm a midwife" would say
        roles = [text[e["start"] : e["end"]].lower().strip() for e in named if e["entity"] == "role" and "start" in e]
        implied = next((SECTOR_OF_ROLE[r] for r in roles if r in SECTOR_OF_ROLE), None)
        if implied:
            found["sector"] = implied
    return found


# "I run the carers centre btw", "I'm based in a PCN if that helps": the words around a sector or
# role when someone says who they are and nothing else.
SAYING_WHO_THEY_ARE = frozenset(
    "run running work working manage managing lead leading chair chairing based btw fyi just actually now sorry "
    "also local small tiny big large little own part volunteer member staff helps help should said mention mentioned forgot".split()
)


# "pharmacy obviously lol", "Church, we run it out of the hall", "Just a resident, not one of the
# professionals": a sector or role with a shrug or a word about the organisation, nothing else.
HEDGING = SAYING_WHO_THEY_ARE | frozenset(
    "obviously lol haha guess suppose really mostly mainly basically though sort kind technically side both "
    "committee volunteers run hall professionals professional yeah well honestly team service services mate "
    "okay ok sins afraid apparently unfortunately currently moment".split()
)
PASSING_WORDS = 8


def said_in_passing(message: dict[str, Any]) -> bool:
    text = message.get("text") or ""
    return len(text.split()) <= PASSING_WORDS and not states_trouble(text) and names_only_who_they_are(message, HEDGING)


def names_only_who_they_are(message: dict[str, Any], around: frozenset[str] = frozenset()) -> bool:
    """ "pharmacy", "GP practice manager": nothing but a sector or role (and words `around` it),
    whatever intent it was read as ("pharmacy" alone reads like the pharmacy case study)."""
    text = message.get("text") or ""
    named = [e for e in message.get("entities") or [] if e.get("entity") in ("sector", "role") and "start" in e]
    rest = text
    for entity in named:
        rest = rest.replace(text[entity["start"] : entity["end"]], " ")
    return bool(named) and "?" not in text and not QUESTION_START.match(text) and set(content_words(rest)) <= around


def answer_to_sector_question(tracker: Tracker, unasked: bool = False) -> list[EventType]:
    """ "small charity", "NHS, PCN" in answer to the sector question, whatever the classifier made
    of it: the context is taken and acknowledged; [] when the message is not such an answer. With
    `unasked`, also when we have not asked (for a message the classifier took to be about
    partnership work, never for one it took to be out of scope: "NHS app")."""
    named = sector_or_role_named(tracker, unasked)
    return [SlotSet(d, v) for d, v in named.items()] + [FollowupAction("action_acknowledge_context")] if named else []
