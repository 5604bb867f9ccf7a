"""Follow-ups on what was just said ("how?", "example?", "why?", "the second one", "what do you
mean by openness?", "say that more simply"), practice questions, and in-domain questions no
intent covers, answered by retrieval over the whole store."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import answers
from actions.advice import RankedAdvice, cite, rank_advice
from actions.answers import Item, key_of, resolve
from actions.common import (
    ERRAND,
    EVERYDAY_SUBJECT,
    WHAT_IS_WRONG,
    advice_started,
    advise,
    ask_what_is_wrong,
    challenge_buttons,
    context_events,
    decline_errand,
    intent_of,
    knowledge_or_apology,
    next_advice,
    person_context,
)
from actions.context import (
    answer_to_sector_question,
    context_aside,
    corrects_context,
    last_said,
    only_about_them,
    vague_distress,
)
from actions.glossary import answer_term, asked_entries, entry_named, mentioned_entries, role_asked_for
from actions.retrieval import ANSWER_THRESHOLD, content_words, retriever_for, words
from actions.store.knowledge import AdviceView, Knowledge, PassageView, PracticeView, TopicView
from actions.understanding import clarification_options
from actions.vocabulary import CHALLENGES, CHAT_SPELLINGS, KNOWLEDGE_TOPICS, PRINCIPLE_TOPICS

ORDINALS = {
    "first": 1,
    "1st": 1,
    "one": 1,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "fifth": 5,
    "5th": 5,
    "five": 5,
    "last": -1,
    "latter": -1,
    "former": 1,
}
ORDINAL = re.compile(
    r"\b(" + "|".join(ORDINALS) + r")\b|(?:number|no\.?|option|item|#)\s*([1-5])\b|^\s*([1-5])\s*$", re.IGNORECASE
)
# A number that counts something else: "in a sentence or two", "put that in two lines for my boss".
NOT_A_PICK = re.compile(
    r"\b(?:one|two|three|four|five|[1-5])\s+(?:lines?|sentences?|words?|minutes?|mins?|paragraphs?|bullets?|(?:bullet )?points?|pages?|slides?|tweets?)\b"
    r"|\b(?:one|two|three)\s+or\s+(?:two|three|four)\b|\bor\s+(?:two|three)\b",
    re.IGNORECASE,
)
FIRST_STEP = re.compile(r"\b(?:first|1st) (?:thing|step|move)s?\b|\bstep (?:one|1)\b", re.IGNORECASE)
# "what do you mean by X", "what does X mean", "what's a X", "meaning of X", "define X"
TERM = re.compile(
    r"mean(?:t)? by\s+(?P<a>.+)|what (?:does|do|is|are|'s|s)\s+(?P<b>(?!you\b).+?)\s+(?:actually |really |even )?(?:mean|stand for)|"
    r"meaning of\s+(?P<c>.+)|define\s+(?P<d>.+)|what means\s+(?P<g>.+?)(?:\?|$)|"
    r"what (?:does|do) (?:an?\s+|the\s+)?(?P<f>(?!you\b)[\w-][\w -]*?)\s+(?:actually |really )?do\b|"
    r"^(?:so |ok |and |but )?what(?:'s| is| are|s)\s+(?:an?\s+|the\s+)?(?P<e>.+)",
    re.IGNORECASE,
)
# A second answer scoring this close to the best is offered beside it.
CHOICE_RATIO = 0.9
# Enough for a practice question the classifier recognised (ask_practice_question) to get its best
# match: the classifier is the domain gate there; ANSWER_THRESHOLD guards messages it could not place.
PRACTICE_THRESHOLD = 0.06
# For a message the classifier could not place but whose best guess is not "out of scope": it is
# probably about partnership work, so a weaker match still answers it better than "Did you mean?".
FALLBACK_THRESHOLD = 0.12
NOT_A_PARTNERSHIP_TERM = (
    "Sorry, I can't help with that: I only explain words used in partnership working (like \u201cscheme of delegation\u201d "
    "or \u201copenness\u201d), not general definitions."
)


def chosen_option(text: str, options: list[str], entities: list[dict[str, Any]]) -> str | None:
    """The option picked by a button ({"option": "2"}) or a word ("the second one", "number 3")."""
    if not options:
        return None
    picked = next((str(e.get("value")) for e in entities if e.get("entity") == "option"), None)
    number: int | None = int(picked) if picked and picked.isdigit() else None
    if number is None and FIRST_STEP.search(text or ""):
        return None  # "what's the first thing I'd do": the steps of what was just said, not option one
    if number is None:
        match = ORDINAL.search(NOT_A_PICK.sub(" ", text or ""))
        if match:
            word, digit, alone = match.groups()
            if (
                word
                and word.lower() == "one"
                and re.search(r"\b(?:the|that) (?!(?:" + "|".join(ORDINALS) + r")\b)\w+ one\b", text, re.I)
            ):
                return None  # "the culture one" names its option by a word (named_option)
            number = ORDINALS[word.lower()] if word else int(digit or alone)
    if number is None:
        return None
    if number == -1:
        return options[-1]
    return options[number - 1] if 1 <= number <= len(options) else None


# Everyday words that name a challenge's option ("start with the decision making bit", "the
# charities fighting"), beside the words of its title.
CHALLENGE_WORDS = {
    "challenge_competition": {"rivals", "rivalry", "fighting", "competing", "undercutting"},
    "challenge_authority": {"decision", "decisions", "decide", "sign", "signing"},
    "challenge_purpose": {"aims", "drift", "drifting"},
    "challenge_communication": {"meetings", "meeting", "emails", "updates"},
    "challenge_funding": {"money", "grant", "grants", "cash", "funding"},
    "challenge_culture_clash": {"styles", "jargon"},
    "challenge_time": {"slow", "results"},
}
# "let's start with the decision making bit, what do I do", "go back to the first idea you gave me":
# one of the options just offered, picked to go on with.
START_WITH = re.compile(
    r"^\W*(?:(?:ok\w*|so|right|and|can we|could we)\W+)*(?:let'?s\s+|lets\s+)?(?:start|begin|go)\s+(?:back\s+to|with)\b",
    re.IGNORECASE,
)


def option_to_start_with(knowledge: Knowledge, tracker: Tracker) -> Item | None:
    """The option just offered that a message picks to go on with ("start with the first problem")."""
    text = tracker.latest_message.get("text") or ""
    options = [o for o in (tracker.get_slot("last_options") or []) if isinstance(o, str)]
    if not options or not START_WITH.match(text):
        return None
    key = chosen_option(text, options, tracker.latest_message.get("entities") or []) or named_option(knowledge, text, options)
    return resolve(knowledge, key) if key else None


# What the "Did you mean ...?" buttons that are neither a challenge nor a knowledge topic do (as the
# rules in data/rules/ do for their intents), so that typing "the second one" does what tapping it does.
OFFERED_ACTIONS = {
    "start_health_check": "action_health_check_intro",
    "ask_capabilities": "action_capabilities",
    "ask_summary": "action_action_plan",
    "delete_my_data": "utter_ask_delete_my_data",
}


def option_key(intent: str) -> str:
    """How a "Did you mean ...?" button is kept among the options a typed pick can name."""
    if intent in CHALLENGES:
        return f"challenge:{intent}"
    return f"topic:{KNOWLEDGE_TOPICS[intent]}" if intent in KNOWLEDGE_TOPICS else f"intent:{intent}"


def offered_action(key: str | None) -> str | None:
    return OFFERED_ACTIONS.get(key.partition(":")[2]) if key and key.startswith("intent:") else None


NUMBER_WORDS = {"one", "two", "three", "four", "five"}
CLARIFYING_QUESTION = "I'm not quite sure what you mean. Did you mean one of these?"


def options_offered(tracker: Tracker) -> list[str]:
    """What a pick ("probably the second one") can name: the "Did you mean ...?" buttons when that was
    the advisor's last message and the pick names a place (typed rather than tapped), else the last
    list of options shown. ("any example of a slow one" after it asks for an example, not for a button.)"""
    users = [e for e in tracker.events if e.get("event") == "user"]
    place = ORDINAL.search(NOT_A_PICK.sub(" ", tracker.latest_message.get("text") or ""))
    by_place = place is not None and (place.group(1) or "").lower() not in NUMBER_WORDS  # "the second one", not "a slow one"
    if last_said(tracker) == CLARIFYING_QUESTION and len(users) > 1 and by_place:
        return [option_key(o) for o in clarification_options(users[-2].get("parse_data") or {})]
    if last_said(tracker) == WHAT_IS_WRONG and by_place:  # "the second one" under the challenges' buttons
        return [option_key(c) for c in CHALLENGES]
    return [o for o in (tracker.get_slot("last_options") or []) if isinstance(o, str)]


def named_option(knowledge: Knowledge, text: str, options: list[str]) -> str | None:
    """The option whose title the message names ("the one about the decision log"), or whose
    challenge it names by a word ("the time one", "the culture one")."""
    said = set(content_words(text))
    best, best_overlap = None, 0
    for key in options:
        item = resolve(knowledge, key)
        title = set(content_words(item.title)) if item else set()
        challenge = key.partition(":")[2] if key.startswith("challenge:") else getattr(item, "challenge_id", None)
        challenge_title = set(content_words(knowledge.passages[challenge].title)) if challenge in knowledge.passages else set()
        challenge_title |= CHALLENGE_WORDS.get(challenge or "", set())
        if key.startswith("challenge:"):
            title = set()
        by_challenge = challenge_title & said - GENERIC_WORDS  # not "organisations" in "Competition between organisations"
        overlap = len(title & said) + len(by_challenge)
        named = (title and len(title & said) >= min(2, len(title))) or bool(by_challenge)
        if named and overlap > best_overlap:
            best, best_overlap = key, overlap
    return best


def focus_events(item: Item, options: list[str] | None = None) -> list[EventType]:
    events: list[EventType] = [SlotSet("focus", key_of(item))]
    if isinstance(item, AdviceView):
        events += [SlotSet("last_advice", [item.id]), SlotSet("current_challenge", item.challenge_id)]
    if options is not None:
        events.append(SlotSet("last_options", options))
    return events


def as_item(knowledge: Knowledge, document_key: str) -> Item | None:
    """A retrieval hit as something to talk about: a passage stands for its topic."""
    kind, _, item_id = document_key.partition(":")
    if kind == "passage":
        passage = knowledge.passages.get(item_id)
        return knowledge.topics.get(passage.topic_id) if passage else None
    return resolve(knowledge, document_key)


def retrieve(
    knowledge: Knowledge, text: str, kinds: tuple[str, ...] = (), threshold: float = ANSWER_THRESHOLD
) -> list[tuple[Item, float]]:
    """Things in the store that answer `text` (only of `kinds`, if given), best first, at or above
    `threshold`, one per item."""
    found: list[tuple[Item, float]] = []
    for document, score in retriever_for(knowledge).search(text, k=60 if kinds else 6):
        if kinds and document.kind not in kinds:
            continue
        item = as_item(knowledge, document.key)
        if score >= threshold and item is not None and all(key_of(item) != key_of(i) for i, _ in found):
            found.append((item, score))
    return found[:3]


def show(dispatcher: CollectingDispatcher, knowledge: Knowledge, tracker: Tracker, item: Item) -> list[EventType]:
    """Answer with one item as a first answer: advice as advice, a practice question, a topic summary."""
    if isinstance(item, AdviceView):
        ranked = next(
            (r for r in rank_advice([item], person_context(tracker)) if r.item.id == item.id), RankedAdvice(item, 0, ())
        )
        first = not advice_started(knowledge, tracker, item.challenge_id)
        dispatcher.utter_message(
            text=answers.advice_answer(knowledge, item.challenge_id, ranked, first), buttons=answers.answer_buttons(item)
        )
        given = list(tracker.get_slot("advice_given") or [])
        return focus_events(item) + [SlotSet("advice_given", given + [item.id] if item.id not in given else given)]
    if isinstance(item, PracticeView):
        dispatcher.utter_message(text=answers.practice_answer(item), buttons=answers.answer_buttons(item))
        return focus_events(item)
    dispatcher.utter_message(text=answers.topic_summary(item), buttons=answers.answer_buttons(item))
    return focus_events(item)


# A problem told in a message nothing answered (the advisor asked "Did you mean one of these?" or
# only noted who the person is) is still what a bare follow-up is about: "how?", "example pls".
# Only a message with this many words of substance tells one ("bit lost tbh" does not)...
UNANSWERED_WORDS = 4
# ...among the last few before the follow-up ("... shut up shop" / "community pharmacy" / "how?").
UNANSWERED_LOOK_BACK = 3
DECLINED = "Sorry, I can't help with that"


def unanswered_problem(knowledge: Knowledge, tracker: Tracker) -> Item | None:
    """While nothing is in focus, the advice item or practice question that best fits the latest
    earlier message that told a problem, unless the advisor declined it; None if there is none."""
    if tracker.get_slot("focus"):
        return None
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    # (each earlier message, with where the next one starts)
    for before, after in reversed(list(zip(users, users[1:], strict=False))[-UNANSWERED_LOOK_BACK:]):
        message = events[before]
        text = untxt(message.get("text") or "")
        if text.startswith("/") or len(content_words(text)) < UNANSWERED_WORDS:
            continue
        if any(e.get("event") == "bot" and (e.get("text") or "").startswith(DECLINED) for e in events[before:after]):
            return None
        found = retrieve(knowledge, text, kinds=("advice", "practice"), threshold=FALLBACK_THRESHOLD)
        if found:
            return found[0][0]
        # Nothing in the store fits it well: the classifier's best guess, as offered under "Did you mean".
        options = clarification_options(message.get("parse_data") or {})
        if options and options[0] in CHALLENGES:
            ranked = next_advice(knowledge, tracker, options[0], described=text)
            return ranked[0].item if ranked else None
        return None
    return None


def practice_named_plainly(knowledge: Knowledge, text: str) -> PracticeView | None:
    """The practice topic a message names by its keywords and best fits, if any."""
    found = retrieve(knowledge, text, kinds=("practice",), threshold=PRACTICE_THRESHOLD)
    practice = found[0][0] if found else None
    if isinstance(practice, PracticeView) and f"practice:{practice.id}" in {d.key for d in retriever_for(knowledge).named(text)}:
        return practice
    return None


def follow_up_on(dispatcher: CollectingDispatcher, tracker: Tracker, item: Item, intent: str) -> list[EventType]:
    """A follow-up answered about an item not yet in focus, which it then is (an advice item also
    counts as given, so "another idea" moves on from it)."""
    asked = tracker.latest_message.get("text") or ""
    events = ActionFollowUp.follow_up(dispatcher, item, intent, asked=asked) + focus_events(item)
    if isinstance(item, AdviceView):
        given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str)]
        events.append(SlotSet("advice_given", given + [item.id]))
    return events


def answer_by_retrieval(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    knowledge: Knowledge,
    text: str,
    found: list[tuple[Item, float]] | None = None,
) -> list[EventType] | None:
    """The best match in the store for an in-domain question, offering the second best too when it
    fits almost as well; None if nothing fits."""
    found = retrieve(knowledge, text) if found is None else found
    if not found:
        return None
    events = show(dispatcher, knowledge, tracker, found[0][0])
    if len(found) > 1 and found[1][1] >= CHOICE_RATIO * found[0][1]:
        second = found[1][0]
        dispatcher.utter_message(
            text=f"If your question was more about \u201c{second.title}\u201d, I can answer that instead.",
            buttons=[{"title": second.title, "payload": '/choose_item{"option": "2"}'}],
        )
        events.append(SlotSet("last_options", [key_of(found[0][0]), key_of(second)]))
    return events


def related_advice(knowledge: Knowledge, tracker: Tracker, practice: PracticeView) -> AdviceView | None:
    """The advice item closest to a practice question that the person has not been given yet."""
    given = set(tracker.get_slot("advice_given") or [])
    for item, _ in retrieve(knowledge, f"{practice.title}. {practice.answer}", kinds=("advice",), threshold=0.0):
        if isinstance(item, AdviceView) and item.id not in given:
            return item
    return None


def another_idea(
    dispatcher: CollectingDispatcher, knowledge: Knowledge, tracker: Tracker, practice: PracticeView
) -> list[EventType]:
    """ "Another idea" after a practice answer: the closest advice item not given yet."""
    item = related_advice(knowledge, tracker, practice)
    if item is None:
        dispatcher.utter_message(text=answers.how_reply(practice), buttons=answers.follow_up_buttons(practice, "how"))
        return []
    ranked = next(r for r in rank_advice([item], person_context(tracker)))
    dispatcher.utter_message(
        text=answers.advice_answer(knowledge, item.challenge_id, ranked, first=False), buttons=answers.advice_buttons(True)
    )
    given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str)]
    return focus_events(item) + [SlotSet("advice_given", given + [item.id])]


# The guidance's own example, the community pharmacy partnership in Northern Ireland.
# "is there a case of this actually working": an example of what was just said, whatever practice
# topic its words also name ("actually working" is a keyword of measuring success).
CASE_OF_THIS = re.compile(r"\b(?:case|example)s? (?:of|where) (?:this|it|that)\b", re.IGNORECASE)
PRACTICE_WORDS = re.compile(r"\bin (?:practice|reality|real terms)\b|\bpractically\b", re.IGNORECASE)
ASKS_FOR_A_CASE = re.compile(r"\bexamples?\b|\bcase\b|\binstance\b|\bstor(?:y|ies)\b", re.IGNORECASE)
NAMES_THE_CASE_STUDY = re.compile(
    r"bcpp|case stud|pharmacy partnership|northern ireland|belfast|\bNI\b|examples? of pharmac(?:y|ies)", re.IGNORECASE
)


# Doubt as the whole message ("not convinced", "really?", "are you sure?") right after an answer:
# why the idea helps.
DOUBT = re.compile(
    r"^\W*(?:(?:hmm+|um+|sorry|but|honestly)\W+)*(?:(?:i'?m |im )?not (?:really |totally |entirely )?convinced|really|are (?:you|u) sure)\W*$"
)
# Practical questions asked alone right after an answer ("when?", "how long will it take?",
# "cost?", "who do I talk to?", "template?"): the steps, led by a line that there is no set
# timescale, cost or template (answers.practicality_lead). They were asked to clarify, declined,
# or answered with an unrelated practice question.
_BEFORE_PRACTICALITY = (
    r"^\W*(?:(?:ok\w*|so|and|but|right|hmm+|sorry|realistically|roughly|um+|erm+|thanks|cheers|great|lovely)\W+)*"
)
_AFTER_PRACTICALITY = (
    r"(?:\s+(?:roughly|realistically|then|though|pls|please|exactly|really|typically|usually|for (?:it|that|this)))*\W*$"
)
_POINTER = r"(?:it|that|this|all (?:that|this))"
PRACTICALITIES = {
    "timescale": re.compile(
        _BEFORE_PRACTICALITY
        + r"(?:(?:by |from )?when|how (?:long|soon|quickly|fast)(?: (?:will|would|does|should|might|could|can|is) "
        + _POINTER
        + r"(?: (?:take|be done|happen))?)?|(?:what(?:'s| is| are) (?:the |a )?)?(?:time ?scales?|time ?frames?|time ?lines?|deadlines?)"
        r"|how much time(?: (?:will|would|does|should) " + _POINTER + r" take)?"
        r"|when (?:should|would|do|can|could|shall) (?:we|i) (?:do|start|begin) " + _POINTER + r")" + _AFTER_PRACTICALITY
    ),
    "cost": re.compile(
        _BEFORE_PRACTICALITY
        + r"(?:costs?|budget|price|(?:is "
        + _POINTER
        + r" )?expensive|how much(?: (?:will|would|does|might|could) "
        + _POINTER
        + r" cost)?"
        r"|what(?:'s| is| would| will| does)? (?:the |it |that |this )?cost(?: (?:us|me))?|who pays(?: for " + _POINTER + r")?"
        r"|what about (?:the )?(?:cost|money|budget))" + _AFTER_PRACTICALITY
    ),
    "who_to_ask": re.compile(
        _BEFORE_PRACTICALITY
        + r"who (?:do|should|would|can|could) (?:i|we) (?:talk|speak|go|turn|ask|contact|approach|write)(?: to)?(?: first| about "
        + _POINTER
        + r")?"
        + _AFTER_PRACTICALITY
    ),
    "who_does": re.compile(
        _BEFORE_PRACTICALITY
        + r"(?:who (?:should|would|will|does|can) (?:do|lead|run|own|chair|organise|start)(?: "
        + _POINTER
        + r"| on "
        + _POINTER
        + r")?|who(?:'s| is) (?:responsible|in charge|accountable)(?: for "
        + _POINTER
        + r")?|whose (?:job|role|responsibility) is "
        + _POINTER
        + r"|who leads(?: on "
        + _POINTER
        + r")?)"
        + _AFTER_PRACTICALITY
    ),
    "template": re.compile(
        _BEFORE_PRACTICALITY
        + r"(?:(?:is there|have you got|got|do you have|you got|any) )?(?:an? |any )?(?:templates?|pro ?formas?|scripts?|wording|form of words)(?: (?:for|of) "
        + _POINTER
        + r")?"
        + _AFTER_PRACTICALITY
    ),
}


def practicality_asked(text: str) -> str | None:
    """timescale, cost, who_to_ask, who_does or template, when the whole message asks only that; else None."""
    cleaned = normalised(text)
    if len(cleaned.split()) > SHORT_WORDS:
        return None
    return next((kind for kind, pattern in PRACTICALITIES.items() if pattern.match(cleaned)), None)


# Short follow-ups the classifier cannot place ("exmple pls", "simplr", "tldr?", "e.g.?"): read by
# their spelling, and only when something is in focus.
SHORT_FOLLOW_UPS = tuple((pattern, "ask_how") for pattern in PRACTICALITIES.values()) + (
    (re.compile(r"\bex(?!pla)[a-z]{0,3}m?p[a-z]*\b|\bexa?m(?:le|el)s?\b|\be\.?g\b|\binstance\b|\blike what\b"), "ask_example"),
    (
        re.compile(
            r"\bsimp[a-z]*|\bmore easy\b|\bplain(?:er)?\b|\btl;?dr\b|\btoo long\b|\bshort[a-z]*\b|\bsumm?ar|\blike i'?m (?:five|5)\b|\beli5\b"
            # "less jargon pls" as the whole message ("too much jargon in our meetings" is the communication challenge)
            r"|^\W*(?:ok\w*|so|and|but)?\W*(?:less|no|without|cut the|drop the)\s+jargon(?:\s+(?:pls|please|thanks|ta))?\W*$"
            # "meaning?", "huh?", "you lost me", "i don't follow" as the whole message: say it again, plainer
            r"|^\W*(?:(?:ok\w*|so|and|but|sorry|um+|erm+)\W+)*(?:meaning|huh|eh|pardon|come again|not following|(?:you(?:'ve| have)? )?lost me"
            r"|i (?:do ?n[o']?t|dont) (?:follow|get it|understand))(?:\s+(?:there|sorry|pls|please))?\W*$"
            r"|^\W*(?:sorry|pardon)\W+what\W*$"
        ),
        "ask_simpler",
    ),
    (
        # ("ok and practically?", "in practice?")
        re.compile(
            r"^\W*(?:ok\w*|so|and|right)?\W*(?:how\b(?!\s+(?:long|many|much|often|soon|big|far|come)\b)|what (?:are )?(?:the )?(?:actual |practical )?steps\b)|\bsteps?\b"
            r"|^\W*(?:(?:ok\w*|so|and|but|right)\W+)*(?:practically|in practice)\W*$"
            # "then what?", "got a checklist?", "bit vague", "any tips?" as the whole message: the steps
            r"|^\W*(?:(?:ok\w*|so|and|but|right|hmm+)\W+)*(?:then what|what then|and then|(?:and )?after that|(?:(?:got|have you got|is there) )?(?:a |any )?checklist"
            r"|(?:(?:that'?s|it'?s|bit|a bit|too|very|all a bit|quite) )*vague|(?:be |a bit |bit )?more specific(?: please| pls)?|specifics|(?:any )?tips)\W*$"
        ),
        "ask_how",
    ),
    # ("how come", "what made that one work")
    (
        re.compile(
            r"^\W*(?:ok\w*|so|and|but)?\W*(?:why\b|how come\b)"
            r"|\bwhat made (?:it|that|this|them|that one|this one|the difference) (?:work|succeed|so good|a success|go well)\b"
            # "reason?", "whats the reasoning" as the whole message
            r"|^\W*(?:ok\w*|so|and|but)?\W*(?:(?:what'?s|what is)\s+)?(?:the\s+)?reason(?:ing)?\W*$"
            # "so what?", "is it worth it?", "does that even work?" as the whole message
            r"|^\W*(?:(?:ok\w*|and|but|hmm+|well)\W+)*(?:so(?: what)?|is (?:it|that|this) (?:really |even )?worth (?:it|the (?:effort|time|bother|hassle))"
            r"|(?:does|will|would|did) (?:it|that|this) (?:even |really |actually )?work|what(?:'s| is) the point(?: of (?:it|that|this))?)\W*$"
            r"|" + DOUBT.pattern
        ),
        "ask_why",
    ),
    (
        # "and if that doesn't work?": what to try next.
        re.compile(
            r"\b(?:what else|another|other (?:ideas?|suggestions?|options?|tips?)|different (?:idea|suggestion|angle|approach|tack)|plan b|alternatives?)\b"
            r"|^\W*(?:ok\w*|so|and|right)?\W*something different\b|^\W*(?:(?:ok\w*|so|and|can you|could you)\W+)*go deeper(?:\s+(?:pls|please))?\W*$"
            r"|^\W*(?:ok\w*|so|and|right|got)?\W*(?:any|some)thing else\b(?!.*\b(?:ask|question|topic|subject)\b)"
            r"|\bif (?:that|this|it|they|she|he)(?: still| just| really)? (?:does ?n[o']?t|do ?n[o']?t|did ?n[o']?t|wo ?n[o']?t|fails?)\b"
            r"|^\W*(?:(?:ok\w*|so|and|please)\W+)*(?:continue|carry on|keep going|go on)(?:\s+(?:please|pls|then))?\W*$"
            # "and if they say no?", "what if they refuse": plan B
            r"|\bif (?:they|she|he|the \w+)(?: still| just)? (?:says? no|refuse[sd]?|decline[sd]?|push(?:es)? back|ignore (?:it|us|me|that))\b"
            # as the whole message: "is that it?", "doesn't apply to us", "sounds like a lot of work"
            r"|^\W*(?:(?:ok\w*|so|and|but|hmm+|well|sorry)\W+)*(?:is (?:that|this) (?:it|all)|(?:(?:that|this|it)(?:'s| is)? )?(?:does ?n[o']?t apply"
            r"(?: (?:to|for) (?:us|me|our \w+))?|not (?:relevant|realistic) (?:to|for) (?:us|me)|not for us)"
            r"|(?:(?:that|it) )?sounds like (?:a lot of|too much|loads of|lots of) (?:work|effort|hassle)|no time for (?:that|this|it))\W*$"
        ),
        "ask_more",
    ),
)
SHORT_WORDS = 8


# "why does giving it time matter if we can't show them anything": a question that starts with
# why or how, right after an answer, is about that answer even when it is longer.
# ("how long does it take to show results" is a question of its own, not "how do I do that".)
LEADING_FOLLOW_UP = re.compile(
    r"^\W*(?:(?:ok\w*|so|and|but|right|fair enough|yeah|yes|sure|fine|hmm+|i see|really|honestly|seriously|sorry)\W+)*"
    r"(how|why)\b(?!\s+(?:long|many|much|often|soon|big|far|come)\b)"
)
LEADING_WORDS = 16
_OPENER = (
    # ("sorry - could you say the advice more simply": an apology opens a follow-up too)
    r"^\W*(?:(?:ok\w*|so|and|but|right|then|great|thanks|thank you|cheers|yes|yeah|no worries|fair enough|got it|sorry|"
    r"makes sense|sure|fine|concretely|practically|realistically)\W+)*"
)
# "what would that look like in practice / week to week": the steps, not a story (unless it asks for
# one). "... in real life" and "... on the ground" stay examples: the practitioner sets ask for one.
IN_PRACTICE = re.compile(
    _OPENER + r"what (?:would|does|dose|might|could|will) (?:that|it|this) (?:actually )?look like "
    r"(?:in practice|day to day|day-to-day|week to week|from my end)\b(?!.*\bexamples?\b)"
    # "what would step one look like in reality": the steps, however it is asked
    r"|" + _OPENER + r"what (?:would|does|might|could|will) (?:step (?:one|1)|the first step) (?:actually )?look like\b"
    # "ok but what does that mean for us on Monday"
    r"|" + _OPENER + r"what (?:does|would|will) (?:that|it|this) mean for (?:us|me|my team|our \w+)\b"
)
# "ok give me another idea, we cant exactly bid together now": an explicit request for the next
# idea, whatever the rest of the message names.
ASKS_ANOTHER_IDEA = re.compile(
    _OPENER
    # "any other ideas for getting them back round the table", "give me a different angle on the original problem"
    + r"(?:(?:give|gimme) (?:me|us) |got |have you got |have you |any )?(?:an?other|a different|one more|(?<=any )other) (?:idea|suggestion|option|tip|angle|approach)s?\b"
    + r"|"
    + _OPENER
    + r"(?:is there |any |got )?(?:an?other|a different|(?<=any )other) way (?:of looking at|to look at|to see|to think about) (?:it|this|that)\b"
)
# Other ways a question about the answer just given starts, checked before how/why ("how do other
# areas do it" asks for an example): "what would that look like", "any example wording for...",
# "what should actually go in it", "what first?", "something practical I can do this week".
LEADING_FORMS = (
    (IN_PRACTICE, "ask_how"),
    (
        re.compile(
            _OPENER
            + r"(?:(?:any|an|some|got any|have you got (?:any|an)|give (?:me|us) (?:an?|some)|can you give (?:me|us) (?:an?|some))"
            r"\s+(?:\w+\s+)?examples?\b|what (?:would|does|might|could) (?:that|it|this|one) (?:actually )?look like"
            r"|how (?:do|did|have|would) other (?:areas|places|people|partnerships|organisations|orgs|councils|teams|charities|groups)\b"
            # "have you seen that work anywhere, even a made-up case"
            r"|have you (?:ever )?seen (?:that|this|it) (?:actually )?(?:work|done|working|in action|play out|happen)\b"
            r"|\b(?:made[- ]up|real[- ]life|real) (?:case|example)\b"
            r"|(?:(?:show|tell) (?:me|us) )?how (?:that|it|this)(?:'s| has| is)? (?:looked|worked|gone|played out) (?:in|at|for) (?:another|other|a different)\b"
            # "what would the purpose statement actually say"
            r"|what (?:would|does|might|could|should) (?:the|that|this|a|an|my|our|such an?) (?:\w+ ){0,3}(?:actually )?(?:say|read|contain|look like)\b)"
        ),
        "ask_example",
    ),
    # ...and anywhere in the message: "got a concrete case of it working", "is there a case of this
    # actually working", "what did another school do", "can you show me how that's played out somewhere".
    (
        re.compile(
            r"\b(?:concrete|actual|real|real[- ]life|made[- ]up|realistic) (?:case|example)\b"
            r"|\b(?:case|example) (?:of|where) (?:this|it|that) (?:has )?(?:actually |really )?(?:work|working|worked)\b"
            # "is there an example where this sort of thing worked out"
            r"|\b(?:an? |any )?(?:example|case) where (?:this|that|it|something like (?:this|that)|this sort of thing|that sort of thing)\b"
            r"|\bwhat did (?:an?other|other|a different|the other) \w+(?: \w+)? do\b"
            r"|\bhow (?:that|it|this)(?:'s| has)? (?:worked|played out|gone) (?:somewhere|anywhere|elsewhere)\b"
        ),
        "ask_example",
    ),
    # ...and the steps asked for at the end: "testing every agenda item - how exactly", "how long
    # should this one page thing be and what actually goes on it"
    (
        re.compile(
            r"\bhow exactly\W*$|\bwhat (?:actually |really )?goes (?:in|on) (?:it|that|this|one)\b"
            # "'realistic pace' - what does that mean in practice", "what would a decent handover note have in it"
            r"|\bwhat (?:does|would|will) (?:that|it|this) (?:actually |really )?mean in (?:practice|reality)\b"
            r"|\bwhat (?:would|should|does) (?:a|an|the|that|this|my|our) (?:\w+ ){0,3}(?:have|need|include) in (?:it|them)\b"
        ),
        "ask_how",
    ),
    # "sorry - could you say the advice more simply": the shorter version, however it is opened.
    (
        re.compile(
            _OPENER + r"(?:(?:could|can|would) (?:you|u) (?:please )?)?(?:please )?(?:say|put|explain|write|word|give|make) "
            r"(?:that|it|this|the (?:advice|answer|last (?:bit|one|answer))|that advice) (?:again )?"
            r"(?:more simply|(?:in )?simpler(?: terms| words| language)?|in plain (?:english|language|words)|in (?:fewer|less) words)\b"
        ),
        "ask_simpler",
    ),
    # "which of those matters most": the heart of it, in short.
    (
        re.compile(
            _OPENER
            + r"which (?:of (?:those|these|them|the \w+) |one )?(?:matters?|counts?|is (?:the )?most important)(?: the)? most\b|which (?:of (?:those|these|them) |one )?is (?:the )?most important\b"
        ),
        "ask_simpler",
    ),
    # "ok give me another idea, we cant exactly bid together now": the next idea, whatever follows.
    (ASKS_ANOTHER_IDEA, "ask_more"),
    # "what made it work do you think": why the example or advice works.
    (
        re.compile(
            _OPENER + r"what (?:made|makes) (?:it|that|this|them|the \w+) (?:work|succeed|a success|successful)\b"
            # "whats the main principle behind that"
            r"|what(?:'s|s| is) the (?:\w+ )?(?:principle|thinking|reasoning|logic|rationale|idea) (?:behind|underneath|under) (?:that|this|it)\b"
            # "what's the reason that works", "is that really so bad, we still do the work"
            r"|what(?:'s|s| is) the reason (?:that|this|it)\b|(?:is|does|would|will) (?:that|this|it) really\b"
            # "tell me why this matters beyond...", "is there a principle behind cutting it down"
            r"|(?:tell|explain to|remind) (?:me|us) why\b"
            # "what's the point of delegating, honestly, beyond speed"
            r"|what(?:'s|s| is) the (?:point|purpose) of (?:\w+ing|it|that|this)\b"
            r"|is there (?:a|any) (?:\w+ )?(?:principle|reasoning|logic|rationale|thinking) (?:behind|for|under)\b"
            # "and the reasoning behind it? I'll have to justify this", "won't naming it make it worse? why do it"
            r"|\bthe (?:\w+ )?(?:thinking|reasoning|logic|rationale) (?:behind|for) (?:that|this|it)\b|\bwhy (?:bother|do (?:it|that|this))\b"
        ),
        "ask_why",
    ),
    (
        re.compile(
            _OPENER + r"(?:what (?:should|do|would|can|could|must|shall) (?:i|we) (?:actually |even |then |be |first )?"
            r"(?:do|doing|put|include|ask|asking|say|write|writing|cover|start|try|show|bring|tell|offer|propose|suggest|send|use|report|tackle|"
            r"prioriti[sz]e|focus on|fix|sort|address)\b"
            # "go on then, what would you do", "which of those would you do first", "where would you start"
            r"|^\W*go on\b(?: then)?\W+\w|what (?:would|should|do) (?:you|u) (?:do|suggest|recommend|start with|try|look at|focus on|tackle|say to|put|prioriti[sz]e|change)\b"
            r"|which (?:of (?:those|these|them) |one )?(?:would|should|do) (?:you|u|i|we) (?:do|start|pick|try|go for)\b"
            # "what would you cut first, practically", "what's the first thing i'd do", "testing every agenda item - how exactly"
            r"|what (?:would|should|do) (?:you|u|i|we) \w+ first\b|what(?:'s|s| is) the first thing (?:i'?d|i would|we'?d|to)\b"
            # "walk me through it in order", "what's the one thing I could do at the next meeting"
            r"|walk (?:me|us) through (?:it|that|this|the steps)\b"
            r"|what(?:'s|s| is) the (?:one|simplest|easiest|smallest|quickest) thing (?:i|we) (?:can|could|should|might) do\b"
            r"|where (?:would|do) (?:you|u) (?:even )?start\b"
            r"|spell (?:the steps|it|that|them) out\b|spell out the steps\b"
            r"|which (?:questions?|steps?|things?) (?:would|should|do) (?:you|u|i|we)\b"
            # in second-language English: "what I can do first?", "what I should write in the email?"
            r"|what (?:i|we) (?:can|should|could|must|need to) (?:do|write|say|ask|put|try)\b"
            # "what sort of things should I be asking them"
            r"|what (?:sort|kind)s? of (?:things?|questions?|stuff) (?:should|do|would|can|could|must) (?:i|we) (?:be )?(?:ask|asking|say|saying|put|include|bring|cover)\b"
            # "what should it say" after the answer on an MoU
            r"|what (?:should|would|does|do|must) (?:it|that|this|they|one) (?:say|include|cover|contain)\b"
            r"|what (?:should|would|do you|goes|needs to) (?:actually )?go(?:es)? in\b|what (?:first|next|now)\b"
            r"|what(?:'s|s| is) the (?:first|next) (?:thing|step)|where (?:do|should|would|can) (?:i|we) (?:even )?start\b"
            # "ok so who do I need to get round the table first", "who should I actually tell first?"
            r"|who (?:do|should|would|must) (?:i|we) (?:actually |need to |have to )?(?:tell|get|invite|talk to|speak to|involve|ask|contact|approach|bring)\b.*\bfirst\b"
            r"|(?:give (?:me|us) |any |anything |something )(?:\w+ )?practical\b"
            # "whats a simple way to stop this happening again"
            r"|what(?:'s|s| is) (?:a|the) (?:simple|simplest|quick|quickest|easy|easiest|good|best|practical) way to \w+ (?:this|that|it)\b)"
        ),
        "ask_how",
    ),
)


# "that won't work here", "we already asked them to move it, no joy", "our chief exec won't go for
# that": the idea just given does not fit, so the next one is wanted.
PUSHBACK = re.compile(
    r"\b(?:that|this|it|which)(?: one| idea)?(?:'s| is|'ll| will)? (?:won'?t|wont|will not|wouldn'?t|would not|isn'?t going to|is not going to|"
    r"not going to|doesn'?t|does not|didn'?t|did not|never) (?:work|fly|happen|wash|help|land|change anything)\b"
    r"|\b(?:we|i)(?:'ve| have)? (?:already|tried|done that|did that)\b|\btried (?:that|this|it)\b|\balready (?:tried|done|did|asked|got)\b"
    r"|^\W*(?:(?:ok|yeah|but|well)\W+)*tried \w+ing\b"
    r"|\b(?:didn'?t|did not|doesn'?t|does not|won'?t|wont) (?:change|fix|solve) (?:anything|much|a thing)\b"
    r"|\bwon'?t (?:go for|accept|agree to|buy|wear|let us (?:drop|change|stop|cut|try))\b|\bno joy\b|\b(?:bit|too|very) idealistic\b|\bnot realistic\b"
    # "we did a joint away day last winter and it fell apart", "we've phoned, we've emailed... still nothing"
    r"|\b(?:it|that|this|which) (?:fell apart|fell flat|failed|went nowhere|fizzled out|collapsed|flopped)\b|\bstill nothing\b"
    r"|\bnot an option\b|\bthat'?s done\b|\bnot going to fly\b|\bnone of (?:those|these|them|that) (?:fit|fits|work|works|apply|applies|help)\b",
    re.IGNORECASE,
)


IN_BRIEF = re.compile(
    r"\bbriefly\b|\bnutshell\b|\b(?:in|into) (?:one|two|three|a|a couple of|a few) (?:line|lines|sentence|sentences)\b"
    r"|\b(?:squash|boil|cut) (?:that|this|it) down\b|\bsquash (?:that|this|it) into\b"
    # "is there a version I could give in two minutes at a watch handover"
    r"|\bversion (?:\w+ ){0,4}(?:in|within) (?:one|two|three|five|a|a couple of|a few|\d+) (?:minutes?|mins?)\b|\bshort(?:er)? version\b"
    # "ok, the two minute version for my director"
    r"|\b(?:one|two|three|five|\d+)[- ]min(?:ute)? version\b|\b(?:quick|potted|headline|lift|elevator) version\b"
)


# "sorry for shouting lol. what would u suggest first", "ok no worries. so what could I show them":
# the question is the last sentence when the ones before it only acknowledge or apologise.
LAST_SENTENCE = re.compile(r"(?<=[.!?])\s+")
PLEASANTRIES = frozenset(
    "ok okay no worries sorry for shouting lol haha thanks thank you cheers great right fine sure got it makes sense "
    "fair enough cool brill ah oh hmm yes yeah yep i see understood interesting good nice point that helps".split()
)


def short_follow_up(text: str) -> str | None:
    form = follow_up_form(text)
    sentences = LAST_SENTENCE.split((text or "").strip())
    if form is not None or len(sentences) < 2:
        return form
    before = re.findall(r"[a-z]+", " ".join(sentences[:-1]).lower())
    return follow_up_form(sentences[-1]) if set(before) <= PLEASANTRIES else None


# Chat spellings ("wat would u do first"), and some only the follow-up reader needs ("shud we"): the
# classifier's lemma view reads CHAT_SPELLINGS alone, the table its model was measured with.
TXT_SPEAK = {
    **CHAT_SPELLINGS,
    "shud": "should",
    "cud": "could",
    "wud": "would",
    "hw": "how",
    "anothr": "another",
    "anotha": "another",
    "whys": "why does",  # "whys it take so long"
    "hows": "how does",
}


def untxt(text: str) -> str:
    return " ".join(TXT_SPEAK.get(w.lower(), w) for w in (text or "").split())


def normalised(text: str) -> str:
    """Chat spellings spelt out, lower case, a typographic apostrophe made plain: what the patterns read."""
    return untxt(text).lower().strip().replace("\u2019", "'")


# "back to the meetings, what do I actually say to the people chairing them": a follow-up on the
# first problem, after a detour; read without the words that go back to it.
BACK_TO = re.compile(r"^\W*(?:(?:ok|okay|right|so|anyway)\W+)*back to (?:the |my |our )?[\w' ]{1,30}?,\s*")


# "what could I, as a patient, actually do about it?": the aside is not part of the question.
ASIDE = re.compile(r",\s*as (?:an?|the) [\w' -]{1,30},\s*")


def follow_up_form(text: str) -> str | None:
    cleaned = ASIDE.sub(" ", BACK_TO.sub("", normalised(text)))
    count = len(cleaned.split())
    if count <= LEADING_WORDS and PUSHBACK.search(cleaned):
        return "ask_more"
    if count <= LEADING_WORDS and IN_BRIEF.search(cleaned):
        return "ask_simpler"  # "what can I tell the governors in two lines"
    if count <= LEADING_WORDS:
        form = next((intent for pattern, intent in LEADING_FORMS if pattern.search(cleaned)), None)
        if form:
            return form
        leading = LEADING_FOLLOW_UP.match(cleaned)
        if leading:
            return f"ask_{leading.group(1)}"
    elif HOW_TO_DO_THAT.match(cleaned):
        # "ok but how do i raise that without putting the council's back up, theyre our biggest
        # funder": how to do what was just said, however long the rest.
        return "ask_how"
    if count > SHORT_WORDS:
        return None
    return next((intent for pattern, intent in SHORT_FOLLOW_UPS if pattern.search(cleaned)), None)


# "and how do we go about setting one up", "how do we find out what ours says": a how-question
# that points back with a pronoun is about the answer just given, whatever else it matches.
POINTS_BACK = re.compile(r"\b(?:it|that|this|one|ones|ours|theirs|them|those)\b")


# "and how do we go about setting one up": pointing back at the answer itself.
POINTS_TO_IT = re.compile(r"\b(?:it|that|this|one)\b")
# "how do I do that without treading on the housing association's toes": how to do what was just
# said, whatever else the rest of the message happens to match in the store.
_HOW_TO_DO_THAT = (
    r"^\W*(?:(?:ok\w*|so|and|but|right)\W+)*how\s+(?:do|would|can|could|should)\s+(?:i|we|you)\s+"
    r"(?:do|say|raise|put|suggest|start|try|sell|pitch|bring|explain|frame|word|introduce|handle|approach|tackle|steer|turn)\s+(?:that|this|it)\b"
)
HOW_TO_DO_THAT = re.compile(_HOW_TO_DO_THAT)
DOES_THAT = re.compile(
    _HOW_TO_DO_THAT
    # "so how would I set things up so it doesn't happen next time": about the problem just answered
    + r"|.*\bso (?:it|this|that) (?:doesn'?t|does not|won'?t|will not|never) happens? (?:again|next time)\b"
)
# "and why's that a problem if the meetings are fine", "why does it take so long though": a why
# about what was just said, however much else the message goes on to say.
WHY_ABOUT_IT = re.compile(
    r"^\W*(?:(?:ok\w*|so|and|but|right|fair enough|yeah|really)\W+)*why(?:['\u2019]?s|\s+is|\s+does|\s+would|\s+do|\s+did|\s+should)?"
    r"\s+(?:that|this|it)\b",
    re.IGNORECASE,
)


def about_the_last_answer(text: str) -> bool:
    cleaned = (text or "").lower().strip()
    leading = LEADING_FOLLOW_UP.match(cleaned)
    return bool(leading and leading.group(1) == "how" and len(cleaned.split()) <= LEADING_WORDS and POINTS_BACK.search(cleaned))


# Asking where the answer just given comes from, in words the classifier may not place.
WHERE_FROM = re.compile(
    r"^\W*(?:(?:and|but|ok|so)\W+)?(?:who says(?: so)?|says who|sources?|evidence|(?:any |got a |got any |is there a |are there any |useful |good )?(?:links?|references?|citations?|resources?|further reading)|where(?:'s|s| is| does| did| are| do) (?:that|this|it|those|these|they) (?:come )?from"
    r"|what(?:'s|s| is) (?:that|this|it) based on|(?:is|was) (?:that|this|it) based on (?:anything|something|evidence|research)"
    r"|based on what|where (?:can|could|do) (?:i|we) read (?:more|up)(?: on| about)?(?: (?:that|this|it))?"
    r"|what (?:principle|principles|evidence) (?:is|are) (?:that|this|it) (?:resting|based|built) on"
    r"|where (?:are|r) (?:you|u) getting (?:this|that|it|all this|all that|(?:the|that) [\w' -]{1,30}? (?:bit|part|stuff|point)) from"
    # "who said the bit about organisational boundaries"
    r"|who (?:said|says|wrote) (?:that|this|it|the (?:bit|part|line|quote|point)(?: about [\w' -]+)?)"
    # "cite it for me properly", "can you reference that please"
    r"|(?:(?:can|could|would) (?:you|u) )?(?:cite|reference) (?:it|that|this|them)(?: for (?:me|us))?(?: properly| please| pls)*"
    # "is that written up anywhere"
    r"|(?:is|was) (?:that|this|it) (?:written|published) (?:up |down )?(?:anywhere|somewhere))\W*$",
    re.IGNORECASE,
)


def where_it_is_from(dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge) -> list[EventType] | None:
    """The sources of the item in focus ("who says so?", "is that based on anything"), or None."""
    item = resolve(knowledge, tracker.get_slot("focus"))
    if item is None:
        return None
    dispatcher.utter_message(text=answers.item_sources_reply(knowledge, item), buttons=answers.follow_up_buttons(item, "sources"))
    return []


# Typed alone right after an answer, with words the classifier reads as something else:
# "repeat that" / "say that again": the answer again; "go back", "previous answer", "what was the
# first one again?": the idea given before it (or the first); "how do I convince my boss?": why it
# helps, as the case to make. "repeat that" as a first message is still declined; "go back" says
# there is nothing to go back to.
_BEFORE_MOVE = r"^\W*(?:(?:ok\w*|sorry|so|please|pls|can you|could you|would you|can we|could we|let'?s)\W+)*"
_AFTER_MOVE = r"(?:\s+(?:please|pls|again|then))*\W*$"
SAY_AGAIN = re.compile(
    _BEFORE_MOVE + r"(?:repeat(?: (?:that|it|this|the (?:last )?(?:answer|idea)))?|say (?:that|it|this) again"
    r"|(?:show|give|tell) me (?:that|it|this) again|one more time|again|what was that)" + _AFTER_MOVE
)
GO_BACK = re.compile(
    _BEFORE_MOVE
    + r"(?:(?:go |going |take me )?back(?: to (?:the )?(?P<to>last|previous|earlier|other|first) (?:one|answer|idea|suggestion))?"
    r"|(?:the )?previous (?:answer|one|idea|suggestion)|the (?:one|idea|answer|suggestion) before(?: that)?"
    r"|what was the (?P<was>first|previous|last|other|earlier) (?:one|idea|answer|suggestion))" + _AFTER_MOVE
)
MAKE_THE_CASE = re.compile(
    _BEFORE_MOVE + r"(?:how (?:do|can|would|should|could) (?:i|we) )?(?:convince|persuade|win over|get (?:buy-in|sign-off) from"
    r"|sell (?:it|this|that|the idea) to|make the case to|justify (?:it|this|that) to) (?:(?:my|our|the) (?:line )?(?:boss|manager|director"
    r"|chief exec\w*|ceo|board|trustees|team|colleagues|chair|members|councillors|governors|partners|leadership|management|committee"
    r"|senior (?:team|leaders|managers|leadership))|them|people|everyone)" + _AFTER_MOVE
)


# "does that apply in Scotland?", "what about Wales?" right after an answer (declined, or read as a
# list of challenges): the idea is practice, not law; a step that is for England only is named.
NATION_ASKED = re.compile(
    r"^\W*(?:(?:ok\w*|and|but|so|sorry)\W+)*(?:(?:does|would|will|is|do) (?:that|this|it|any of (?:that|this)|(?:that|this|it) all|those|these)"
    r" (?:still )?(?:apply|work|hold|count|the same|different|any different)(?: (?:in|for))?|what about|how about|is it (?:the same|different) (?:in|for)"
    r"|(?:the )?same (?:in|for)|and (?:in|for))"
    r" (?P<nation>scotland|wales|northern ireland|ni|england)(?: too| as well| though| then)?\W*$"
)
# "we're in Wales", "I'm based in Scotland" told alone right after an answer: answered as "does that
# apply in Wales?" (there is no nation to tailor to, and it is not a sector or role).
NATION_TOLD = re.compile(
    r"^\W*(?:(?:ok\w*|and|but|so|oh|btw|fyi|sorry|also)\W+)*(?:we(?:'re| are)|i(?:'m| am)|this is|it's|its|all)"
    r"(?: (?:based|working|all|up|over|out))? in (?P<nation>scotland|wales|northern ireland|ni|england)"
    r"(?: (?:btw|by the way|fyi|actually|if that matters|if that helps|not england))?\W*$"
)
NATION_NAMES = {"ni": "Northern Ireland"}


def nation_name(match: re.Match[str]) -> str:
    return NATION_NAMES.get(match.group("nation"), match.group("nation").title())


def nation_told(text: str) -> str | None:
    """The nation in "we're in Wales" told alone, or None."""
    match = NATION_TOLD.match(normalised(text))
    return nation_name(match) if match else None


# "is that legal?", "are we allowed to do that?" right after an answer: the advisor gives general
# guidance, not legal advice (as it says of itself), and says who can answer.
LAWFUL_ASKED = re.compile(
    r"^\W*(?:(?:ok\w*|and|but|so|sorry|hmm+|wait)\W+)*(?:is (?:that|this|it) (?:legal|lawful|allowed|permitted|even legal|even allowed)"
    r"|are we (?:even )?(?:allowed|permitted) to(?: do (?:that|this|it))?|can we (?:legally|lawfully) do (?:that|this|it)"
    r"|(?:what does|what's) the law say|(?:any )?legal (?:issues|problems|implications|risks?))(?: here| though)?\W*$"
)


def earlier_answer(knowledge: Knowledge, tracker: Tracker, first: bool) -> Item | None:
    """The idea given before the one in focus (or the first one given), if any."""
    given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str)]
    focus = tracker.get_slot("focus") or ""
    here = (
        given.index(focus.partition(":")[2]) if focus.startswith("advice:") and focus.partition(":")[2] in given else len(given)
    )
    wanted = given[0] if first and given and here != 0 else given[here - 1] if here > 0 else None
    return resolve(knowledge, f"advice:{wanted}") if wanted else None


async def plain_follow_up_answered(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """A plain follow-up typed alone right after an answer, whatever the classifier read (a decline,
    a question about the bot, a practice question, more advice): "how much will it cost?",
    "template?", "repeat that", "go back", "how do I convince my boss?", "does that apply in Scotland?", "is that legal?". None when it is not one."""
    text = tracker.latest_message.get("text") or ""
    if text.startswith("/"):
        return None
    cleaned = normalised(text)
    if not tracker.get_slot("focus"):
        if GO_BACK.match(cleaned):
            dispatcher.utter_message(text=answers.NOTHING_TO_GO_BACK_TO, buttons=answers.START_BUTTONS)
            return []
        return None
    if LAWFUL_ASKED.match(cleaned):
        dispatcher.utter_message(text=answers.NOT_LEGAL_ADVICE, buttons=[answers.MORE_BUTTON, answers.OTHER_PROBLEM_BUTTON])
        return []
    practicality = practicality_asked(text)
    nation = NATION_ASKED.match(cleaned) or NATION_TOLD.match(cleaned)
    moves = (SAY_AGAIN.match(cleaned), GO_BACK.match(cleaned), MAKE_THE_CASE.match(cleaned))
    if practicality is None and nation is None and not any(moves):
        return None
    knowledge = await knowledge_or_apology(dispatcher)
    if knowledge is None:
        return []
    item = resolve(knowledge, tracker.get_slot("focus"))
    if item is None:
        return None
    if nation is not None and not isinstance(item, TopicView):
        dispatcher.utter_message(
            text=answers.nation_reply(item, nation_name(nation)), buttons=answers.follow_up_buttons(item, "how")
        )
        return focus_events(item)
    again, back, case = moves
    if back and not (again or case or practicality) and options_offered(tracker):
        return None  # "back to the first one" after a list picks from the list
    if practicality is not None:
        return ActionFollowUp.follow_up(dispatcher, item, "ask_how", asked=text) + focus_events(item)
    if case:
        dispatcher.utter_message(
            text="To make the case: " + answers.why_reply(item), buttons=answers.follow_up_buttons(item, "why")
        )
        return focus_events(item)
    earlier = earlier_answer(knowledge, tracker, first="first" in (back.group("to"), back.group("was"))) if back else None
    note = "" if again or earlier else "That was the first idea, so here it is again. "
    shown = earlier or item
    dispatcher.utter_message(text=note + answers.again_reply(shown), buttons=answers.answer_buttons(shown))
    return focus_events(shown)


# --- Is a message a follow-up on what was just said? ---------------------------------------------

FOLLOW_UP_INTENTS = ("ask_how", "ask_example", "ask_why", "ask_simpler", "ask_more")
# Above this, the classifier's reading of a follow-up-shaped message as something else (a
# challenge, a topic, a practice question) stands unless the message is about the item in focus.
OTHER_INTENT_STRONG = 0.8
# ...and then at least this share of the message's words must be the focused item's own.
OWN_WORDS_SHARE = 0.5
# A how/why question read as a challenge, with this many words of its own outside the focused
# item, describes a problem of its own.
PROBLEM_WORDS = 3
# Words too common in this domain to show that a message is about the item in focus.
# A "how" after a topic with this many words of its own says what the person wants to do.
HOW_SAYS_WHAT = 3
GENERIC_WORDS = frozenset(
    "partnership partnerships partner partners work working people organisation organisations get got "
    "want need keep make good best way ways team teams much right without just still even important "
    "though first next tackle".split()
)


def stem(word: str) -> str:
    """Crude, but enough to match "engaged" with "engagement" or "decision" with "decisions"."""
    return word[:5]


def item_words(knowledge: Knowledge, item: Item | None, challenge: str | None = None) -> set[str]:
    """The stems of what the item in focus (or the challenge just recognised) talks about."""
    parts: list[str] = []
    if isinstance(item, AdviceView):
        parts += [item.title, item.text, *item.how, item.example, item.why]
        challenge = challenge or item.challenge_id
    elif isinstance(item, PracticeView):
        parts += [item.title, *item.questions, item.answer, *item.steps, item.example]
    elif item is not None:
        parts += [text for p in item.passages for text in (p.title, p.text)]
    if challenge in knowledge.passages:
        parts.append(knowledge.passages[challenge].text)
        if item is None:
            parts += [" ".join((a.title, a.text)) for a in knowledge.advice_by_challenge.get(challenge, ())]
    return {stem(w) for w in content_words(" ".join(parts)) if w not in GENERIC_WORDS}


def pending_challenge(knowledge: Knowledge, tracker: Tracker) -> str | None:
    """The challenge recognised but not yet advised on (no item in focus): a follow-up then is
    about that challenge."""
    challenge = tracker.get_slot("current_challenge")
    if tracker.get_slot("focus") or challenge not in CHALLENGES or advice_started(knowledge, tracker, challenge):
        return None
    return challenge


def challenge_in_play(knowledge: Knowledge, tracker: Tracker, focus: Item | None) -> str | None:
    """The challenge a follow-up may be about as a whole: one recognised but not yet advised on,
    or the one whose first idea is in focus ("how do we keep people engaged without money" right
    after the first idea on funding asks about funding, not only about that idea)."""
    if focus is None:
        return pending_challenge(knowledge, tracker)
    if isinstance(focus, AdviceView):
        on_it = {a.id for a in knowledge.advice_by_challenge.get(focus.challenge_id, ())}
        if [i for i in tracker.get_slot("advice_given") or [] if i in on_it] == [focus.id]:
            return focus.challenge_id
    return None


def fits_focus(knowledge: Knowledge, focus: Item | None, form: str, text: str) -> bool:
    """Can the item in focus answer a follow-up of this form? A topic (the key principles, the case
    study) has no steps or example of its own: only a shorter version, more of it, or why a part
    of it that the message names matters ("what made it work" after the case study)."""
    return (
        not isinstance(focus, TopicView)
        or form in ("ask_simpler", "ask_more")
        or (form == "ask_why" and principle_named(knowledge, focus, text) is not None)
    )


def follow_up_reading(knowledge: Knowledge, tracker: Tracker) -> str | None:
    """The follow-up intent a message has when it is a question about what was just said, though the
    classifier read it as something else; None if it is not one (or nothing was just said).

    It must have a follow-up's form (starts with how/why, "what would that look like", "any
    example", "what first?", "tl;dr"...) and name no new problem: the classifier is unsure of its
    other reading, or the message talks about the item in focus ("how would you structure the
    agenda" after advice on running meetings). Everyday requests are left to the out-of-scope
    action, which keeps its own stricter rule."""
    text = untxt(tracker.latest_message.get("text") or "")
    part = part_asked_about(knowledge, tracker) if not text.startswith("/") else None
    if part is not None:
        return part[1]
    form = short_follow_up(text)
    if form is None or text.startswith("/"):
        return None
    focus = resolve(knowledge, tracker.get_slot("focus"))
    challenge = challenge_in_play(knowledge, tracker, focus)
    if focus is None and challenge is None:
        return None
    if form == "ask_more" and focus is None:
        return form
    if not fits_focus(knowledge, focus, form, text):
        return None  # a topic has no steps or example of its own: the classifier's reading is better
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if name == "out_of_scope":
        return None
    if name in FOLLOW_UP_INTENTS:
        return form  # action_follow_up also answers one that names something else about that
    if isinstance(focus, TopicView) and form == "ask_why":
        return form  # names a part of the topic just shown (checked above): "why is trust such a big deal"
    said = {stem(w) for w in content_words(text) if w not in GENERIC_WORDS}
    if not said:
        return form  # "what should we do before we go": no words of its own to be about anything else
    if form == "ask_more" and PUSHBACK.search(text.lower()) and len(said) <= PUSHBACK_WORDS and not SUPPOSING.search(text):
        # "we've tried just explaining things more slowly": the idea did not work, however sure a
        # challenge reads ("if that doesn't work who do I take it to" supposes, and asks on).
        return form
    # Mostly in the focused item's own words ("and why does trust matter so much" after the key
    # principles), not a question of its own that shares a word or two with it.
    own_words = len(said & item_words(knowledge, focus, challenge)) >= OWN_WORDS_SHARE * len(said) > 0
    if isinstance(focus, AdviceView) and focus.challenge_id == name:
        return form  # "why does trust take so much time?" right after advice on time
    if form == "ask_why" and WHY_ABOUT_IT.match(text):
        return form  # "and why's that a problem if the meetings are fine"
    if name in CHALLENGES and LEADING_FOLLOW_UP.match(text.lower()) and len(said) >= PROBLEM_WORDS and not own_words:
        return None  # "how do I get the council to make decisions at the meeting": a new problem
    if name == "nlu_fallback" or confidence < OTHER_INTENT_STRONG:
        return form  # answer_follow_up answers it about something else it names, if it names one
    if said and names_something_else(knowledge, text, focus, challenge):
        return None
    return form if own_words else None


# Pushback this short is about the idea just given, not a new problem ("we tried X and it made it worse").
PUSHBACK_WORDS = 5
SUPPOSING = re.compile(r"\b(?:if|when|in case)\b", re.IGNORECASE)
# The item in focus scoring under this share of the best match is not what a message is about.
FOCUS_SCORE_RATIO = 0.6
# ...and a best match under this, unless the message names it by a keyword, is no better reason to leave it.
SWITCH_THRESHOLD = 0.26


def names_something_else(knowledge: Knowledge, text: str, focus: Item | None, challenge: str | None = None) -> bool:
    """Does the message name something in the store that fits it clearly better than the item in
    focus ("how do we write a terms of reference?" after the answer on starting a partnership)?"""
    if isinstance(focus, TopicView) and principle_named(knowledge, focus, text):
        return False  # "why is openness so important" after the key principles (not indexed: titles only)
    retriever = retriever_for(knowledge)
    hits = retriever.search(text, k=60)
    if not hits or hits[0][1] < ANSWER_THRESHOLD:
        return False
    if hits[0][1] < SWITCH_THRESHOLD and hits[0][0].key not in {d.key for d in retriever.named(text)}:
        return False  # "how can I help both sides": a word or two in common is not another question
    if isinstance(focus, TopicView):
        mine = {f"passage:{p.id}" for p in focus.passages}
    else:
        mine = {key_of(focus)} if focus is not None else set()
        if challenge:
            mine |= {f"advice:{a.id}" for a in knowledge.advice_by_challenge.get(challenge, ())} | {f"passage:{challenge}"}
    if hits[0][0].key in mine:
        return False
    own = max((score for document, score in hits if document.key in mine), default=0.0)
    return own < FOCUS_SCORE_RATIO * hits[0][1]


def principle_named(knowledge: Knowledge, topic: TopicView, text: str) -> PassageView | None:
    """The part of a topic a message names ("why does trust matter" -> "Trust and honesty")."""
    said = {stem(w) for w in content_words(text) if w not in GENERIC_WORDS}
    for passage in topic.passages:
        if passage.id.endswith("_intro"):
            continue
        if said & {stem(w) for w in content_words(passage.title)}:
            return passage
    return None


def passage_why(knowledge: Knowledge, topic: TopicView, passage: PassageView) -> str:
    """Why one principle (or benefit, or good practice) matters: the guidance's own words where it
    speaks to it, and the advice that rests on it."""
    lines = [
        f"Why \u201c{passage.title}\u201d matters: it is one of the {topic.title.lower().removeprefix('the ')} ({cite(passage)})."
    ]
    if passage.text.strip() != passage.title.strip():
        lines.append(f"The guidance says: \u201c{passage.text}\u201d")
    else:
        # A principle named only by its title: where the guidance explains it ("it takes time to
        # establish trust").
        key = next(iter(content_words(passage.title)), "")
        pattern = term_pattern(key) if len(key) >= 3 else None
        used = next(
            (
                p
                for p in knowledge.passages.values()
                if pattern is not None
                and pattern.search(p.text)
                and p.text.strip() != p.title.strip()
                and p.topic_id != "references"
                and "key principles" not in p.text.lower()  # one that only lists the principles says nothing more
            ),
            None,
        )
        if used is not None:
            lines.append(f"Where the guidance speaks to it: \u201c{used.text}\u201d ({cite(used)})")
    items = [a for items in knowledge.advice_by_challenge.values() for a in items if passage in a.principles][:3]
    if items and len(lines) == 1:
        lines.append(f"For example, behind \u201c{items[0].title}\u201d: {items[0].why}")  # the guidance says no more
    if items:
        lines.append("Advice that rests on it:")
        lines += [f"{n}. {a.title}" for n, a in enumerate(items, start=1)]
    return "\n".join(lines)


def how_after_topic(
    dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge, focus: Item | None, intent: str, text: str
) -> list[EventType] | None:
    """ "ok so how would we start something similar with the women's centre" after the case study:
    a topic has no steps of its own; the practice answer or idea that fits what they want to do."""
    said = [w for w in content_words(text) if w not in GENERIC_WORDS]
    if not isinstance(focus, TopicView) or intent != "ask_how" or not said:
        return None
    # (A few words of its own must match well: "how can residents like me have a real say".)
    threshold = FALLBACK_THRESHOLD if len(said) >= HOW_SAYS_WHAT else ANSWER_THRESHOLD
    found = retrieve(knowledge, text, kinds=("practice", "advice"), threshold=threshold)
    return show(dispatcher, knowledge, tracker, found[0][0]) if found else None


def practice_named_instead(knowledge: Knowledge, text: str, focus: Item | None) -> Item | None:
    """The practice question a message names by its keywords, other than the one in focus, when it
    is also the best practice match ("how do I raise it with them without making things worse" names
    which body to raise it with, but asks how to handle a disagreement)."""
    retriever = retriever_for(knowledge)
    named = {d.key for d in retriever.named(text) if d.kind == "practice" and (focus is None or d.key != key_of(focus))}
    if not named:
        return None
    best = next(d for d, _ in retriever.search(text, k=len(retriever.documents)) if d.kind == "practice")
    return resolve(knowledge, best.key) if best.key in named else None


# "how do we do it without falling out with the district": what follows "without" says how, not what
# about; "how do we close it properly" names ending a partnership, "how do we get it back on track"
# nothing but the answer just given.
MANNER = re.compile(r"[\s,]+without\b.*$", re.IGNORECASE | re.DOTALL)


def without_manner(text: str) -> str:
    return MANNER.sub("", text or "")


def points_back(knowledge: Knowledge, text: str, focus: Item | None) -> bool:
    """Does a follow-up point back at the answer just given ("how would you go about getting it back
    on track", "how do I handle the board on that") without naming another practice topic plainly?
    ("how do we wind it down" after the answer on purpose: "it" is the partnership, and winding one
    down is a practice topic of its own.)"""
    if not POINTS_TO_IT.search((text or "").lower()):
        return False
    return not any(focus is None or d.key != key_of(focus) for d in retriever_for(knowledge).named(text))


# A message names an idea by its title when it uses this share of the title's words (two at least).
TITLE_SHARE = 0.67
TITLE_WORDS = 2


def idea_named_by_title(knowledge: Knowledge, text: str) -> AdviceView | None:
    """The idea whose title a message uses ("testing every agenda item - how exactly"), if one; not
    when it names a practice topic by a keyword ("could we bid together instead? how would that work")."""
    if retriever_for(knowledge).named(text):
        return None
    said = {stem(w) for w in content_words(text)}
    best, best_share = None, 0.0
    for ideas in knowledge.advice_by_challenge.values():
        for idea in ideas:
            title = {stem(w) for w in content_words(idea.title)}
            shared = len(title & said)
            if shared >= TITLE_WORDS and shared >= TITLE_SHARE * len(title) and shared / len(title) > best_share:
                best, best_share = idea, shared / len(title)
    return best


# "a communication rhythm - meaning what in practice?", "the learning summary bit - who actually reads
# those?", "going to them rather than expecting them to come - give me a real-ish example": a part of
# what was just said, quoted back in the answer's own words, then a question about it.
PART_THEN_ASK = re.compile(r"^\W*(?P<part>[^?:;]{6,80}?)\s*(?:\s[-\u2013\u2014]\s|:\s|\?\s+)(?P<ask>\S.*)$")
PART_WORDS = 2  # the part names at least this many content words...
PART_SHARE = 0.75  # ...and this share of them are the item's own words
PART_MAX_WORDS = 10
ASK_MAX_WORDS = 24
ASKS = re.compile(
    r"\?|^\W*(?:(?:ok|so|and|but|fine|right)\W+)*(?:how|what|why|who|when|where|which|is|are|does|do|can|could|would|should|any|give|tell|meaning|example)\b",
    re.IGNORECASE,
)


def part_asked_about(knowledge: Knowledge, tracker: Tracker) -> tuple[Item, str] | None:
    """The item a message quotes a part of before asking about it, and the follow-up it asks for
    (the steps unless it asks for something else); None if it does not read that way."""
    focus = resolve(knowledge, tracker.get_slot("focus"))
    if focus is None or isinstance(focus, TopicView):
        return None
    text = untxt(tracker.latest_message.get("text") or "").replace("\u2019", "'")
    match = PART_THEN_ASK.match(text)
    if not match or len(match.group("part").split()) > PART_MAX_WORDS or len(match.group("ask").split()) > ASK_MAX_WORDS:
        return None
    part, ask = match.group("part"), match.group("ask")
    if not ASKS.search(ask) or ERRAND.search(ask) or asked_entries(knowledge, text):
        return None  # not a question, or a term asked about ("economies of scale - what does it mean")
    said = {stem(w) for w in content_words(part) if w not in GENERIC_WORDS}
    if len(said) < PART_WORDS:
        return None
    named = {d.key for d in retriever_for(knowledge).named(part)}
    options = [resolve(knowledge, o) for o in tracker.get_slot("last_options") or [] if isinstance(o, str)]
    challenge = focus.challenge_id if isinstance(focus, AdviceView) else None
    candidates = [focus, *options, *knowledge.advice_by_challenge.get(challenge or "", ())]
    best, best_share = None, 0.0
    for item in candidates:
        if item is None or isinstance(item, TopicView):
            continue
        share = len(said & item_words(knowledge, item)) / len(said)
        if share > best_share:
            best, best_share = item, share
    if best_share < PART_SHARE:
        # ...or an idea on another challenge, named by the words of its title ("one-page purpose - what
        # would actually be on it?" after ideas on communication)
        for idea in (i for ideas in knowledge.advice_by_challenge.values() for i in ideas):
            share = len(said & {stem(w) for w in content_words(idea.title)}) / len(said)
            if share > best_share:
                best, best_share = idea, share
    if best is None or best_share < PART_SHARE or (named and key_of(best) not in named):
        return None
    return best, short_follow_up(ask) or "ask_how"


def answer_part(dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge) -> list[EventType] | None:
    """The follow-up on a part of the answer quoted back (part_asked_about), if the message is one."""
    part = part_asked_about(knowledge, tracker)
    if part is None:
        return None
    if part[1] == "ask_more":
        return [FollowupAction("action_more_advice")]
    return follow_up_on(dispatcher, tracker, part[0], part[1])


def answer_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, knowledge: Knowledge, intent: str) -> list[EventType]:
    """Answer a message `follow_up_reading` read as a follow-up: about the item in focus, or
    about the best item on the challenge just recognised."""
    if intent == "ask_more":
        return [FollowupAction("action_more_advice")]
    text = untxt(tracker.latest_message.get("text") or "")
    focus = resolve(knowledge, tracker.get_slot("focus"))
    challenge = challenge_in_play(knowledge, tracker, focus)
    answered = answer_part(dispatcher, tracker, knowledge)  # "a communication rhythm - meaning what in practice?"
    if answered is not None:
        return answered
    titled = idea_named_by_title(knowledge, text)
    if titled is not None and intent in FOLLOW_UP_INTENTS:
        return follow_up_on(dispatcher, tracker, titled, intent)  # "testing every agenda item - how exactly"
    said = [w for w in content_words(text) if w not in GENERIC_WORDS]
    if (
        said
        and not points_back(knowledge, text, focus)
        and not CASE_OF_THIS.search(text)
        and names_something_else(knowledge, text, focus, challenge)
    ):
        # "why might they be ignoring us?" fits the answer on unresponsive partners better than the
        # item in focus: the follow-up is about that ("what should I ask before we say yes?": joining).
        found = retrieve(knowledge, text)
        if found:
            item = found[0][0]
            if intent == "ask_how" or not isinstance(item, (AdviceView, PracticeView)):
                return show(dispatcher, knowledge, tracker, item)
            return ActionFollowUp.follow_up(dispatcher, item, intent) + focus_events(item)
    if isinstance(focus, TopicView) and intent == "ask_why":
        passage = principle_named(knowledge, focus, text)
        if passage is not None:
            items = [a for items in knowledge.advice_by_challenge.values() for a in items if passage in a.principles][:3]
            dispatcher.utter_message(
                text=passage_why(knowledge, focus, passage),
                buttons=[{"title": a.title, "payload": f'/choose_item{{"option": "{n}"}}'} for n, a in enumerate(items, start=1)]
                or [answers.MORE_BUTTON, answers.OTHER_PROBLEM_BUTTON],
            )
            return [SlotSet("last_options", [key_of(a) for a in items])] if items else []
    answered = how_after_topic(dispatcher, tracker, knowledge, focus, intent, text)
    if answered is not None:
        return answered
    earlier = advice_given_on(knowledge, tracker, intent_of(tracker)) if intent == "ask_why" else None
    if earlier is not None and not (isinstance(focus, AdviceView) and focus.challenge_id == earlier.challenge_id):
        # "why does it take so long though" after ideas on time and culture, the culture one last: about time.
        return ActionFollowUp.follow_up(dispatcher, earlier, intent, asked=text) + focus_events(earlier)
    if focus is not None:
        return ActionFollowUp.follow_up(dispatcher, focus, intent, asked=text) + focus_events(focus)
    ranked = next_advice(knowledge, tracker, challenge, described=text) if challenge else []
    if not ranked:
        return [FollowupAction("action_more_advice")]
    return follow_up_on(dispatcher, tracker, ranked[0].item, intent)


def advice_given_on(knowledge: Knowledge, tracker: Tracker, challenge: str | None) -> AdviceView | None:
    """The advice item last given in this conversation on `challenge`, if any."""
    if challenge not in CHALLENGES:
        return None
    on_it = {a.id: a for a in knowledge.advice_by_challenge.get(str(challenge), ())}
    given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str) and i in on_it]
    return on_it[given[-1]] if given else None


def principle_meaning(knowledge: Knowledge, term: str) -> tuple[str, list[AdviceView]] | None:
    """A principle the term names ("openness"), with the advice items that rest on it."""
    wanted = set(content_words(term))
    if not wanted:
        return None
    for topic_id in PRINCIPLE_TOPICS:
        for passage in knowledge.topics[topic_id].passages:
            if passage.id.endswith("_intro"):
                continue
            title = set(content_words(passage.title))
            if title and (title <= wanted or wanted <= title):
                items = [a for items in knowledge.advice_by_challenge.values() for a in items if passage in a.principles][:3]
                topic_title = knowledge.topics[topic_id].title.lower()
                source = f"{topic_title.removeprefix('the ')} ({cite(passage)})"
                lines = [f"\u201c{passage.title}\u201d is one of the {source}."]
                if passage.text.strip() != passage.title.strip():
                    lines.append(f"The guidance says: \u201c{passage.text}\u201d")
                if items:
                    lines.append("In practice it looks like:")
                    lines += [f"{n}. {a.title}" for n, a in enumerate(items, start=1)]
                return "\n".join(lines), items
    return None


def term_pattern(term: str) -> re.Pattern[str]:
    """The term as a whole word or phrase, singular or plural ("statutory requirement(s)")."""
    return re.compile(r"\b" + re.escape(term.strip()) + r"s?\b", re.IGNORECASE)


def passage_using(knowledge: Knowledge, term: str) -> PassageView | None:
    """A guidance passage (not a heading) that uses the term, e.g. "mistrust" in Communication."""
    if len(term) < 3:
        return None
    pattern = term_pattern(term)
    return next(
        (
            p
            for p in knowledge.passages.values()
            if p.text.strip() != p.title.strip() and pattern.search(p.text) and p.topic_id != "references"
        ),
        None,
    )


def uses_term(knowledge: Knowledge, term: str) -> bool:
    """Does anything in the practice library or the advice use the term ("ISA", "LPC", "legacy")?"""
    if len(term) < 2:
        return False
    pattern = term_pattern(term)
    texts = [
        " ".join((p.title, p.answer, *p.steps, *p.questions, *(s.text for s in p.signposts))) for p in knowledge.practice.values()
    ]
    texts += [" ".join((a.title, a.text, *a.how, a.why)) for items in knowledge.advice_by_challenge.values() for a in items]
    return any(pattern.search(text) for text in texts)


# A "term" longer than this many words is a question in its own right ("what's actually expected of me").
TERM_WORDS = 4
# What people put after the term: "what's an LPC actually do", "the CVS anyway", "mistrust there".
TERM_TAIL = re.compile(
    r"\s+(?:actually|really|exactly|anyway|for|do|does|mean|there|here|then|in practice|in this context"
    r"|in (?:plain |simple )?english|in (?:ni|northern ireland|scotland|wales|england))\b.*$",
    re.IGNORECASE,
)


POINTERS = frozenset("it that this they them those these one".split())


# Read before TERM: "what do they mean by economies of scale" is about "economies of scale", not "they";
# "when you say outcomes, what do you mean exactly"; "what would quorum mean for a group like that";
# "quorum?" on its own.
TERM_NAMED = re.compile(
    r"mean(?:t)? by\s+(?P<a>.+)|when (?:you|they|it) says?\s+(?P<b>[^,?]+)"
    r"|what (?:would|might|could|will) (?P<c>(?!you\b|that\b|this\b|it\b)[\w-][\w -]*?) mean\b"
    r"|^\W*(?P<d>(?!(?:why|how|what|who|when|where|which|really|seriously|yes|no|ok|okay|sorry|eh|huh|pardon|example|sources?)\b)"
    r"[a-z][\w-]*(?:\s+[\w-]+)?)\s*\?+\s*$",
    re.IGNORECASE,
)


def term_in(text: str) -> str | None:
    match = TERM_NAMED.search(text or "") or TERM.search(text or "")
    if not match:
        return None
    term = next(g for g in match.groups() if g).split(",")[0]
    term = re.sub(r"^(?:an?|the)\s+", "", TERM_TAIL.sub("", term.strip()), flags=re.IGNORECASE)
    term = term.strip(" ?!.\"'\u201c\u201d")
    # "what does that mean": a pronoun points back; it is not a term to look up.
    return None if term.lower() in POINTERS else term or None


# "DPIA in one line?" is this short at most.
SHORT_TERM_REQUEST = 3


class ActionFollowUp(Action):
    """A follow-up on the item in focus (or the one picked by number or title)."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        knowledge = await knowledge_or_apology(dispatcher)
        if knowledge is None:
            return []
        intent = intent_of(tracker)
        if intent == "ask_case_study":  # "example?" right after advice (see ActionKnowledgeAnswer)
            intent = "ask_example"
        errand = decline_errand(dispatcher, tracker)  # "could you email all that to my chair please"
        if errand is not None:
            return errand
        again = await plain_follow_up_answered(dispatcher, tracker)  # "what was the first one again?"
        if again is not None:
            return again
        text = untxt(tracker.latest_message.get("text") or "")  # "wat would u do first"
        if (
            intent != "ask_more"
            and tracker.get_slot("focus")
            and len(text.split()) <= PUSHBACK_WORDS
            and short_follow_up(text) == "ask_more"
        ):
            return [FollowupAction("action_more_advice")]  # "we tried that" reads like "an example?"
        if vague_distress(text) and short_follow_up(text) is None:
            return ask_what_is_wrong(dispatcher, knowledge)  # "honestly some days I wonder why I bother"
        if intent == "ask_how" and short_follow_up(text) == "ask_why":
            intent = "ask_why"  # "how come?" reads like "how?" to the classifier
        elif intent == "ask_why" and short_follow_up(text) == "ask_how" and "why" not in words(text):
            intent = "ask_how"  # "how would that even work round shift patterns" can read like "why?"
        if intent == "ask_simpler" and short_follow_up(text) == "ask_how" and PRACTICE_WORDS.search(text):
            intent = "ask_how"  # "'realistic pace' - what does that mean in practice" reads like "say it simpler"
        if intent == "ask_example" and (
            IN_PRACTICE.search(text.lower()) or (short_follow_up(text) == "ask_how" and not ASKS_FOR_A_CASE.search(text))
        ):
            # "what does that look like week to week", "what would actually go in it" read like "an example?"
            intent = "ask_how"
        options = options_offered(tracker)
        started = option_to_start_with(knowledge, tracker)
        if started is not None:  # "start with the charities fighting, how do I deal with that"
            return follow_up_on(dispatcher, tracker, started, "ask_how")
        key = chosen_option(text, options, tracker.latest_message.get("entities") or []) or named_option(knowledge, text, options)
        if key and key.startswith("challenge:") and key.partition(":")[2] in CHALLENGES:  # "the time one" after the list
            return advise(dispatcher, tracker, knowledge, key.partition(":")[2])
        if offered_action(key):  # "the second one" after "Did you mean ...?" offered the health check
            return [FollowupAction(str(offered_action(key)))]
        item = resolve(knowledge, key or tracker.get_slot("focus"))

        entries = asked_entries(knowledge, text) if intent != "choose_item" else []
        if entries:  # "what's the CDHN" read as a request for an example
            return answer_term(dispatcher, knowledge, entries, tracker)
        answered = answer_part(dispatcher, tracker, knowledge) if key is None and intent != "choose_item" else None
        if answered is not None:
            return answered  # "the learning summary bit - who reads those?"
        titled = idea_named_by_title(knowledge, text) if key is None and intent in FOLLOW_UP_INTENTS else None
        if titled is not None and intent != "ask_more":
            return follow_up_on(dispatcher, tracker, titled, str(intent))  # "testing every agenda item - how exactly"
        if intent == "ask_example" and key is None and NAMES_THE_CASE_STUDY.search(text):
            # "is there a good example of partnership working from NI": the guidance's own example.
            return show(dispatcher, knowledge, tracker, knowledge.topics["case_study"])
        if intent == "ask_simpler" and len(content_words(text)) <= SHORT_TERM_REQUEST:
            # "DPIA in one line?": the short version of a term, not of the answer in focus.
            named = [e for e in mentioned_entries(knowledge, text) if not (item and e.term.lower() in item.title.lower())]
            if len(named) == 1 and named[0].term.isupper():
                return answer_term(dispatcher, knowledge, named, tracker)
        if intent == "ask_meaning":
            term = term_in(text)
            # A partnership term with a glossary entry ("what's an ICB?") gets its definition first.
            entries = [entry] if term and (entry := entry_named(knowledge, term)) else []
            if not entries:
                # "sorry if this is a daft question but what's a DPIA?": asked in words the term
                # patterns do not read, about the one term it names.
                mentioned = mentioned_entries(knowledge, text)
                entries = mentioned if len(mentioned) == 1 else []
            if entries:
                return answer_term(dispatcher, knowledge, entries, tracker)
            if term:
                meaning = principle_meaning(knowledge, term)
                if meaning:
                    reply, items = meaning
                    dispatcher.utter_message(
                        text=reply,
                        buttons=[answers.HOW_BUTTON, answers.OTHER_PROBLEM_BUTTON]
                        if not items
                        else [
                            {"title": a.title, "payload": f'/choose_item{{"option": "{n}"}}'}
                            for n, a in enumerate(items, start=1)
                        ],
                    )
                    return [SlotSet("last_options", [key_of(a) for a in items])] if items else []
                passage = passage_using(knowledge, term)
                if passage is not None:
                    # An aside: the item in focus stays in focus, so "another idea" still continues it.
                    dispatcher.utter_message(
                        text=f"\u201c{term}\u201d comes up in the guidance on {passage.title}: \u201c{passage.text}\u201d ({cite(passage)})",
                        buttons=([answers.ANOTHER_BUTTON] if item is not None else []) + [answers.OTHER_PROBLEM_BUTTON],
                    )
                    return []
                found = (
                    retrieve(knowledge, term, threshold=PRACTICE_THRESHOLD)
                    if uses_term(knowledge, term)
                    else retrieve(knowledge, term + " " + text)
                )
                if found and isinstance(found[0][0], PracticeView) and len(term.split()) > TERM_WORDS:
                    # "what's actually expected of me as a member": a question, not a term.
                    return show(dispatcher, knowledge, tracker, found[0][0])
                if found and isinstance(found[0][0], PracticeView):
                    practice = found[0][0]
                    dispatcher.utter_message(
                        text=f"\u201c{term}\u201d comes up in {answers.practice_answer(practice)}",
                        buttons=answers.practice_buttons(),
                    )
                    return focus_events(practice)
                if found:
                    return show(dispatcher, knowledge, tracker, found[0][0])
                if not (item and set(content_words(term)) & set(content_words(item.title))):
                    dispatcher.utter_message(text=NOT_A_PARTNERSHIP_TERM)
                    return []
            intent = "ask_simpler"  # "what do you mean?" about the item in focus

        # "how do we find out whether it's been worth it" after the answer on agreements: a how-question
        # that names another practice topic plainly is about that topic.
        if key is None and intent == "ask_how" and item is not None:
            topic = practice_named_instead(knowledge, text, item)
            if topic is not None:
                return show(dispatcher, knowledge, tracker, topic)
        # A follow-up that names something else ("how do I write a terms of reference?") is about that.
        if (
            key is None
            and intent != "choose_item"
            and len(set(content_words(text)) - GENERIC_WORDS) >= 2
            and not (item is not None and DOES_THAT.match(text.lower()))
            and not (item is not None and points_back(knowledge, text, item))
            and not (item is not None and CASE_OF_THIS.search(text))
        ):
            found = retrieve(knowledge, text)
            if (
                found
                and (item is None or key_of(found[0][0]) != key_of(item))
                and not (item and set(content_words(item.title)) <= set(content_words(text)))
                # "how would you structure the agenda" after the answer on meetings is still about it
                and (item is None or names_something_else(knowledge, text, item))
            ):
                item = found[0][0]
                if isinstance(item, AdviceView) and intent == "ask_how" and not tracker.get_slot("focus"):
                    # "how would I test each item then" with nothing in focus yet: the steps of the idea it names.
                    return follow_up_on(dispatcher, tracker, item, intent)
                if intent == "ask_how" or not isinstance(item, (AdviceView, PracticeView)):
                    return show(dispatcher, knowledge, tracker, item)

        challenge = tracker.get_slot("current_challenge")
        if item is None and intent != "choose_item" and challenge in CHALLENGES:
            # Nothing in focus but a challenge recognised: the follow-up is about its best next idea.
            ranked = next_advice(knowledge, tracker, challenge)
            if ranked:
                return follow_up_on(dispatcher, tracker, ranked[0].item, str(intent))
        if item is None and intent != "choose_item":
            # "how?" after "Did you mean one of these?": about the problem the message before told.
            item = unanswered_problem(knowledge, tracker)
            if item is not None and intent in FOLLOW_UP_INTENTS:
                return follow_up_on(dispatcher, tracker, item, intent)
        if item is None:
            dispatcher.utter_message(
                text="Happy to. What would you like help with? Describe what is happening in your partnership, or pick one of the common challenges.",
                buttons=challenge_buttons(knowledge)[:4] + [{"title": "All the challenges", "payload": "/ask_challenges"}],
            )
            return []
        if intent == "choose_item":
            return show(dispatcher, knowledge, tracker, item) + ([SlotSet("last_options", options)] if options else [])
        answered = how_after_topic(dispatcher, tracker, knowledge, item, str(intent), text)
        if answered is not None:
            return answered
        if intent == "ask_why" and isinstance(item, TopicView) and item.id == "definition" and "benefits" in knowledge.topics:
            # "and why it is good?" after what partnership working is: what it is good for.
            return show(dispatcher, knowledge, tracker, knowledge.topics["benefits"])
        related = (
            related_advice(knowledge, tracker, item)
            if isinstance(item, PracticeView) and intent == "ask_example" and not item.example
            else None
        )
        return self.follow_up(dispatcher, item, intent, related, asked=text) + focus_events(item)

    @staticmethod
    def follow_up(
        dispatcher: CollectingDispatcher, item: Item, intent: str | None, related: AdviceView | None = None, asked: str = ""
    ) -> list[EventType]:
        """The reply; `asked` is the message, for "when?", "who do I talk to?" and the like."""
        practicality = practicality_asked(asked) if intent not in ("ask_example", "ask_why", "ask_simpler") else None
        if intent == "ask_example":
            text = answers.example_reply(item) or (answers.example_reply(related) if related else None)
            if text is None:
                text = "I don't have a worked example for this one, so here are the steps instead.\n" + answers.how_reply(item)
            dispatcher.utter_message(text=text, buttons=answers.follow_up_buttons(item, "example"))
        elif intent == "ask_why":
            dispatcher.utter_message(text=answers.why_reply(item), buttons=answers.follow_up_buttons(item, "why"))
        elif intent == "ask_simpler":
            dispatcher.utter_message(text=answers.simpler_reply(item), buttons=answers.follow_up_buttons(item, "simpler"))
        elif practicality == "who_to_ask" and isinstance(item, PracticeView) and item.signposts:
            dispatcher.utter_message(text=answers.signposts_reply(item), buttons=answers.follow_up_buttons(item, "how"))
        else:
            dispatcher.utter_message(text=answers.how_reply(item, practicality), buttons=answers.follow_up_buttons(item, "how"))
        return []


class ActionPracticeAnswer(Action):
    """A question about doing partnership work (terms of reference, information sharing, where to get
    help...): the best match in the store, or a short choice, or a clarifying question; never a decline."""

    def name(self) -> str:
        return "action_practice_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if corrects_context(tracker.latest_message):
            # "sorry, actually I've just moved across to the ICB" names a body the store explains.
            return context_events(tracker) + [FollowupAction("action_acknowledge_context")]
        sector_told = answer_to_sector_question(tracker, unasked=True)  # "small charity", after "which sector?"
        if sector_told:
            return sector_told
        if context_aside(tracker):  # "we're a community group btw, three staff and a lot of volunteers", after an answer
            return context_events(tracker) + [FollowupAction("action_acknowledge_context")]
        practical = await plain_follow_up_answered(dispatcher, tracker)  # "template?" after terms of reference
        if practical is not None:
            return practical
        knowledge = await knowledge_or_apology(dispatcher)
        if knowledge is None:
            return []
        if only_about_them(tracker.latest_message) and not retrieve(
            knowledge, tracker.latest_message.get("text") or "", kinds=("practice",), threshold=ANSWER_THRESHOLD
        ):
            # "hi I chair a new VCSE network, we only started in january" asks nothing yet and
            # matches no practice question well.
            return context_events(tracker) + [FollowupAction("action_acknowledge_context")]
        # The classifier already says this is about partnership work: the best practice question
        # answers it even on a weak match, else the best of everything in the store.
        text = tracker.latest_message.get("text") or ""
        confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
        if EVERYDAY_SUBJECT.search(text) and confidence < SURE_PRACTICE and not retriever_for(knowledge).named(text):
            dispatcher.utter_message(response="utter_out_of_scope")  # "whats the weather doing this arvo, should i walk home"
            return []
        errand = decline_errand(dispatcher, tracker)  # "can you email the ICB chair for me and ask for a meeting"
        if errand is not None:
            return errand
        started = option_to_start_with(knowledge, tracker)
        if started is not None:  # "lets start with the decision making bit, what do i do"
            return follow_up_on(dispatcher, tracker, started, "ask_how")
        role = role_asked_for(knowledge, tracker)  # "who in our org should I ask about a specific case"
        if role:
            return answer_term(dispatcher, knowledge, role, tracker)
        entries = asked_entries(knowledge, text)
        if entries:  # "what's an ICB and do we have to work with them", "and a PCN"
            return answer_term(dispatcher, knowledge, entries, tracker)
        found = retrieve(knowledge, text, kinds=("practice",), threshold=PRACTICE_THRESHOLD) or retrieve(knowledge, text)
        focus = resolve(knowledge, tracker.get_slot("focus"))
        follow_up = follow_up_reading(knowledge, tracker)
        if follow_up is not None:
            # "how do other areas handle the risk share" after the answer on pooled budgets.
            return answer_follow_up(dispatcher, tracker, knowledge, follow_up)
        points_back_at_it = about_the_last_answer(text) and practice_named_instead(knowledge, without_manner(text), focus) is None
        if focus is not None and ((found and key_of(found[0][0]) == key_of(focus)) or points_back_at_it):
            # Asking again about the answer just given ("and how do we go about setting one up?")
            # wants the next level down, not the same answer twice.
            return ActionFollowUp.follow_up(dispatcher, focus, "ask_how", asked=text) + focus_events(focus)
        events = answer_by_retrieval(dispatcher, tracker, knowledge, text, found)
        if events is not None:
            return events
        dispatcher.utter_message(
            text="I'm not sure which part of partnership work that is about. Could you say a little more, for example what you are trying to set up or agree?",
            buttons=[
                {"title": item.title, "payload": f'/choose_item{{"option": "{n}"}}'}
                for n, item in enumerate([i for i in (resolve(knowledge, key) for key in STARTERS) if i is not None], start=1)
            ],
        )
        return [SlotSet("last_options", list(STARTERS))]


# A practice question read this surely is one, whatever everyday word it uses.
SURE_PRACTICE = 0.8
# Offered when a practice question matches nothing well: where most people start.
STARTERS = ("practice:start_partnership", "practice:terms_of_reference", "practice:getting_help")
