"""Follow-ups on what was just said ("how?", "example?", "why?", "the second one", "what do you
mean by openness?", "say that more simply"), practice questions, and in-domain questions no
intent covers, answered by retrieval over the whole store."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import answers
from actions.advice import RankedAdvice, cite, rank_advice
from actions.answers import Item, key_of, resolve
from actions.common import advice_started, advise, challenge_buttons, intent_of, knowledge_or_apology, next_advice, person_context
from actions.glossary import answer_term, asked_entries, entry_named
from actions.retrieval import ANSWER_THRESHOLD, content_words, retriever_for
from actions.store.knowledge import AdviceView, Knowledge, PassageView, PracticeView
from actions.vocabulary import CHALLENGES, PRINCIPLE_TOPICS

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
# "what do you mean by X", "what does X mean", "what's a X", "meaning of X", "define X"
TERM = re.compile(
    r"mean(?:t)? by\s+(?P<a>.+)|what (?:does|do|is|are|'s|s)\s+(?P<b>(?!you\b).+?)\s+(?:actually |really |even )?(?:mean|stand for)|"
    r"meaning of\s+(?P<c>.+)|define\s+(?P<d>.+)|"
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
    if number is None:
        match = ORDINAL.search(text or "")
        if match:
            word, digit, alone = match.groups()
            number = ORDINALS[word.lower()] if word else int(digit or alone)
    if number is None:
        return None
    if number == -1:
        return options[-1]
    return options[number - 1] if 1 <= number <= len(options) else None


def named_option(knowledge: Knowledge, text: str, options: list[str]) -> str | None:
    """The option whose title the message names ("the one about the decision log")."""
    said = set(content_words(text))
    best, best_overlap = None, 0
    for key in options:
        item = resolve(knowledge, key)
        title = set(content_words(item.title)) if item else set()
        if key.startswith("challenge:") and key.partition(":")[2] in knowledge.passages:
            title = set(content_words(knowledge.passages[key.partition(":")[2]].title))
        if isinstance(item, AdviceView):  # "the time one": the challenge an advice item is about
            title |= (
                set(content_words(knowledge.passages[item.challenge_id].title))
                if item.challenge_id in knowledge.passages
                else set()
            )
        overlap = len(title & said)
        if title and overlap > best_overlap and overlap >= min(2, len(title)):
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
            text=answers.advice_answer(knowledge, item.challenge_id, ranked, first), buttons=answers.advice_buttons(True)
        )
        given = list(tracker.get_slot("advice_given") or [])
        return focus_events(item) + [SlotSet("advice_given", given + [item.id] if item.id not in given else given)]
    if isinstance(item, PracticeView):
        dispatcher.utter_message(text=answers.practice_answer(item), buttons=answers.practice_buttons())
        return focus_events(item)
    dispatcher.utter_message(text=answers.topic_summary(item), buttons=[answers.MORE_BUTTON, answers.OTHER_PROBLEM_BUTTON])
    return focus_events(item)


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


# Short follow-ups the classifier cannot place ("exmple pls", "simplr", "tldr?", "e.g.?"): read by
# their spelling, and only when something is in focus.
SHORT_FOLLOW_UPS = (
    (re.compile(r"\bex[a-z]{0,3}m?p[a-z]*\b|\be\.?g\b|\binstance\b"), "ask_example"),
    (re.compile(r"\bsimp[a-z]*|\bplain\b|\btl;?dr\b|\bshort[a-z]*\b|\bsumm?ar"), "ask_simpler"),
    (
        re.compile(r"^\W*(?:ok\w*|so|and|right)?\W*(?:how\b|what (?:are )?(?:the )?(?:actual |practical )?steps\b)|\bsteps?\b"),
        "ask_how",
    ),
    (re.compile(r"^\W*(?:ok\w*|so|and|but)?\W*why\b"), "ask_why"),
    (re.compile(r"\b(?:what else|another|other (?:ideas?|suggestions?|options?)|different (?:idea|suggestion))\b"), "ask_more"),
)
SHORT_WORDS = 8


# "why does giving it time matter if we can't show them anything": a question that starts with
# why or how, right after an answer, is about that answer even when it is longer.
LEADING_FOLLOW_UP = re.compile(r"^\W*(?:ok\w*|so|and|but|right)?\W*(how|why)\b")
LEADING_WORDS = 16


def short_follow_up(text: str) -> str | None:
    cleaned = (text or "").lower().strip()
    leading = LEADING_FOLLOW_UP.match(cleaned)
    if leading and len(cleaned.split()) <= LEADING_WORDS:
        return f"ask_{leading.group(1)}"
    if len(cleaned.split()) > SHORT_WORDS:
        return None
    return next((intent for pattern, intent in SHORT_FOLLOW_UPS if pattern.search(cleaned)), None)


# "and how do we go about setting one up", "how do we find out what ours says": a how-question
# that points back with a pronoun is about the answer just given, whatever else it matches.
POINTS_BACK = re.compile(r"\b(?:it|that|this|one|ones|ours|theirs|them|those)\b")


def about_the_last_answer(text: str) -> bool:
    cleaned = (text or "").lower().strip()
    leading = LEADING_FOLLOW_UP.match(cleaned)
    return bool(leading and leading.group(1) == "how" and len(cleaned.split()) <= LEADING_WORDS and POINTS_BACK.search(cleaned))


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
    r"\s+(?:actually|really|exactly|anyway|for|do|does|mean|there|here|then|in practice|in this context)\b.*$", re.IGNORECASE
)


def term_in(text: str) -> str | None:
    match = TERM.search(text or "")
    if not match:
        return None
    term = next(g for g in match.groups() if g).split(",")[0]
    term = re.sub(r"^(?:an?|the)\s+", "", TERM_TAIL.sub("", term.strip()), flags=re.IGNORECASE)
    return term.strip(" ?!.\"'\u201c\u201d") or None


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
        text = tracker.latest_message.get("text") or ""
        options = [o for o in (tracker.get_slot("last_options") or []) if isinstance(o, str)]
        key = chosen_option(text, options, tracker.latest_message.get("entities") or []) or named_option(knowledge, text, options)
        if key and key.startswith("challenge:") and key.partition(":")[2] in CHALLENGES:  # "the time one" after the list
            return advise(dispatcher, tracker, knowledge, key.partition(":")[2])
        item = resolve(knowledge, key or tracker.get_slot("focus"))

        if intent == "ask_meaning":
            term = term_in(text)
            # A partnership term with a glossary entry ("what's an ICB?") gets its definition first.
            entries = asked_entries(knowledge, text) or ([entry] if term and (entry := entry_named(knowledge, term)) else [])
            if entries:
                return answer_term(dispatcher, knowledge, entries)
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

        # A follow-up that names something else ("how do I write a terms of reference?") is about that.
        if key is None and intent != "choose_item" and len(content_words(text)) >= 2:
            found = retrieve(knowledge, text)
            if (
                found
                and (item is None or key_of(found[0][0]) != key_of(item))
                and not (item and set(content_words(item.title)) <= set(content_words(text)))
            ):
                item = found[0][0]
                if intent == "ask_how" or not isinstance(item, (AdviceView, PracticeView)):
                    return show(dispatcher, knowledge, tracker, item)

        challenge = tracker.get_slot("current_challenge")
        if item is None and intent != "choose_item" and challenge in CHALLENGES:
            # A follow-up instead of an answer to "which sector?": go on with the best general item.
            ranked = next_advice(knowledge, tracker, challenge)
            if ranked:
                item = ranked[0].item
                given = [i for i in tracker.get_slot("advice_given") or [] if isinstance(i, str)]
                return (
                    self.follow_up(dispatcher, item, intent) + focus_events(item) + [SlotSet("advice_given", given + [item.id])]
                )
        if item is None:
            dispatcher.utter_message(
                text="Happy to. What would you like help with? Describe what is happening in your partnership, or pick one of the common challenges.",
                buttons=challenge_buttons(knowledge)[:4] + [{"title": "All the challenges", "payload": "/ask_challenges"}],
            )
            return []
        if intent == "choose_item":
            return show(dispatcher, knowledge, tracker, item) + ([SlotSet("last_options", options)] if options else [])
        related = (
            related_advice(knowledge, tracker, item)
            if isinstance(item, PracticeView) and intent == "ask_example" and not item.example
            else None
        )
        return self.follow_up(dispatcher, item, intent, related) + focus_events(item)

    @staticmethod
    def follow_up(
        dispatcher: CollectingDispatcher, item: Item, intent: str | None, related: AdviceView | None = None
    ) -> list[EventType]:
        if intent == "ask_example":
            text = answers.example_reply(item) or (answers.example_reply(related) if related else None)
            if text is None:
                text = "I don't have a worked example for this one, so here are the steps instead.\n" + answers.how_reply(item)
            dispatcher.utter_message(text=text, buttons=answers.follow_up_buttons(item, "example"))
        elif intent == "ask_why":
            dispatcher.utter_message(text=answers.why_reply(item), buttons=answers.follow_up_buttons(item, "why"))
        elif intent == "ask_simpler":
            dispatcher.utter_message(text=answers.simpler_reply(item), buttons=answers.follow_up_buttons(item, "simpler"))
        else:
            dispatcher.utter_message(text=answers.how_reply(item), buttons=answers.follow_up_buttons(item, "how"))
        return []


class ActionPracticeAnswer(Action):
    """A question about doing partnership work (terms of reference, information sharing, where to get
    help...): the best match in the store, or a short choice, or a clarifying question; never a decline."""

    def name(self) -> str:
        return "action_practice_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        knowledge = await knowledge_or_apology(dispatcher)
        if knowledge is None:
            return []
        # The classifier already says this is about partnership work: the best practice question
        # answers it even on a weak match, else the best of everything in the store.
        text = tracker.latest_message.get("text") or ""
        found = retrieve(knowledge, text, kinds=("practice",), threshold=PRACTICE_THRESHOLD) or retrieve(knowledge, text)
        focus = resolve(knowledge, tracker.get_slot("focus"))
        if focus is not None and ((found and key_of(found[0][0]) == key_of(focus)) or about_the_last_answer(text)):
            # Asking again about the answer just given ("and how do we go about setting one up?")
            # wants the next level down, not the same answer twice.
            return ActionFollowUp.follow_up(dispatcher, focus, "ask_how") + focus_events(focus)
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


# Offered when a practice question matches nothing well: where most people start.
STARTERS = ("practice:start_partnership", "practice:terms_of_reference", "practice:getting_help")
