"""Chat-sized answers about one thing in focus (an advice item, a practice question, a topic),
and the follow-ups on it: how, an example, why, more simply, where it comes from.

Pure functions over the knowledge snapshot; the actions decide what is in focus. A focus is
written "advice:<id>", "practice:<id>" or "topic:<id>", the same keys retrieval uses.
"""

from __future__ import annotations

import re

from actions.advice import RankedAdvice, cite
from actions.store.knowledge import AdviceView, Knowledge, PracticeView, TopicView
from actions.vocabulary import NATIONS

Item = AdviceView | PracticeView | TopicView

HOW_BUTTON = {"title": "How do I do that?", "payload": "/ask_how"}
EXAMPLE_BUTTON = {"title": "An example", "payload": "/ask_example"}
WHY_BUTTON = {"title": "Why it helps", "payload": "/ask_why"}
ANOTHER_BUTTON = {"title": "Another idea", "payload": "/ask_more"}
# {"option": "this"}: the sources of the answer the button is under, not the list of every source.
SOURCES_BUTTON = {"title": "Sources", "payload": '/ask_sources{"option": "this"}'}
HELP_BUTTON = {"title": "Where to get help", "payload": '/ask_sources{"option": "this"}'}
OTHER_PROBLEM_BUTTON = {"title": "A different problem", "payload": "/ask_challenges"}
MORE_BUTTON = {"title": "Tell me more", "payload": "/ask_more"}
FEEDBACK_BUTTONS = [
    {"title": "This helped", "payload": "/feedback_helpful"},
    {"title": "Not helpful", "payload": "/feedback_not_helpful"},
]
LEGAL_NOTE = (
    "This is general guidance, not legal advice: check the detail with your organisation's legal or information governance team."
)


def key_of(item: Item) -> str:
    kind = "advice" if isinstance(item, AdviceView) else "practice" if isinstance(item, PracticeView) else "topic"
    return f"{kind}:{item.id}"


def resolve(knowledge: Knowledge, key: object) -> Item | None:
    """The item a focus key names, or None (a key from older content, or not a key at all)."""
    if not isinstance(key, str) or ":" not in key:
        return None
    kind, _, item_id = key.partition(":")
    if kind == "advice":
        return knowledge.advice(item_id)
    if kind == "practice":
        return knowledge.practice.get(item_id)
    if kind == "topic":
        return knowledge.topics.get(item_id)
    return None


def principles_line(item: AdviceView | PracticeView) -> str:
    """ "Rests on: Openness (Context to Partnership Working)." in a few words."""
    return "Rests on: " + "; ".join(f"{p.title} ({cite(p)})" for p in item.principles) + "."


# --- advice -----------------------------------------------------------------------------------


def advice_answer(knowledge: Knowledge, challenge_id: str, ranked: RankedAdvice, first: bool) -> str:
    """One advice item: on the first answer to a challenge, what was recognised in the guidance's
    words; then the item, why it suits the person (only where a tag matched) and its principles."""
    challenge = knowledge.passages[challenge_id]
    suits = f" (suits {' and '.join(ranked.matched)})" if ranked.matched else ""
    item = ranked.item
    lines = []
    if first:
        lines.append(
            f"That sounds like the \u201c{challenge.title}\u201d challenge: \u201c{challenge.text}\u201d ({cite(challenge)})."
        )
        lines.append("")
        lines.append(f"Try this: \u201c{item.title}\u201d{suits}. {item.text}")
    else:
        lines.append(f"Another idea on {challenge.title.lower()}: \u201c{item.title}\u201d{suits}. {item.text}")
    lines.append(principles_line(item))
    return "\n".join(lines)


# "go back" or "previous answer" before any answer: there is nothing to go back to (the classifier
# reads "go back" as authority, "going back to the board").
NOTHING_TO_GO_BACK_TO = (
    "There's no earlier answer to go back to yet. Tell me what is getting in the way in your partnership "
    "and I'll suggest some practical steps."
)
START_BUTTONS = [
    {"title": "Common challenges", "payload": "/ask_challenges"},
    {"title": "What can you do?", "payload": "/ask_capabilities"},
]


# "is that legal?" after an answer: whether something is lawful in a case is not the advisor's to say.
NOT_LEGAL_ADVICE = "I can't say whether it is lawful in your case. " + LEGAL_NOTE


def nation_noted(nation: str) -> str:
    """ "we're in Wales" before any answer."""
    return (
        f"Thanks. My ideas are good practice rather than law, so they work in {nation} too; a step that is "
        "for one UK nation only says so. What is getting in the way in your partnership? (Your sector or "
        "role helps me tailor the advice too.)"
    )


def nation_reply(item: AdviceView | PracticeView, nation: str) -> str:
    """Does the answer hold in one UK nation: advice is practice, not law, except a step that says
    it is for England; a practice question's help is listed by nation."""
    if isinstance(item, PracticeView):
        return signposts_reply(item, nation)
    english = [step for step in item.how if step.startswith("In England")]
    lines = [f"\u201c{item.title}\u201d is good practice rather than law, so it applies in {nation} too."]
    if english and nation != "England":
        lines.append(f"One step is for England only: \u201c{english[0]}\u201d Check locally what applies in {nation}.")
    return "\n".join(lines)


def again_reply(item: Item) -> str:
    """An answer shown again ("repeat that", "go back"), without the "Another idea" lead-in."""
    if isinstance(item, AdviceView):
        return f"\u201c{item.title}\u201d: {item.text}\n{principles_line(item)}"
    if isinstance(item, PracticeView):
        return practice_answer(item)
    return topic_summary(item)


def answer_buttons(item: Item) -> list[dict[str, str]]:
    """The buttons under an answer shown on its own: advice, a practice question or a topic."""
    if isinstance(item, AdviceView):
        return advice_buttons(True)
    return practice_buttons() if isinstance(item, PracticeView) else [MORE_BUTTON, OTHER_PROBLEM_BUTTON]


def advice_buttons(has_more: bool) -> list[dict[str, str]]:
    # Five at most: Rasa's Slack channel drops every button of a message with more than five.
    return (
        [HOW_BUTTON, EXAMPLE_BUTTON] + ([ANOTHER_BUTTON] if has_more else [WHY_BUTTON]) + [SOURCES_BUTTON, OTHER_PROBLEM_BUTTON]
    )


# --- practice questions ------------------------------------------------------------------------


def practice_answer(practice: PracticeView) -> str:
    lines = [f"{practice.title}: {practice.answer}"]
    if practice.legal:
        lines += ["", LEGAL_NOTE]
    return "\n".join(lines)


def practice_buttons() -> list[dict[str, str]]:
    return [HOW_BUTTON, HELP_BUTTON, WHY_BUTTON, OTHER_PROBLEM_BUTTON]


def signposts_reply(practice: PracticeView, nation: str | None = None) -> str:
    """Where to get help on a practice question, by nation where the bodies differ; asked about one
    nation ("what about Wales?"), that nation's own help where it has any."""
    everywhere = frozenset(NATIONS)
    key = next((k for k, name in NATIONS.items() if name == nation), None)
    own = [s for s in practice.signposts if key in s.nations and s.nations != everywhere] if key else []
    if own:
        lines = [f"{practice.title} in {nation}:"] + [f"\u2022 {signpost.text}" for signpost in own]
    else:
        lines = [f"Where to get help with {practice.title[:1].lower() + practice.title[1:]}:"]
        for signpost in practice.signposts:
            where = (
                ""
                if signpost.nations >= everywhere
                else " and ".join(NATIONS[n] for n in NATIONS if n in signpost.nations) + ": "
            )
            if signpost.text.startswith("In ") and where and signpost.text[3:].startswith(where[:-2]):
                where = ""  # the signpost already says where ("In England, ...")
            lines.append(f"\u2022 {where}{signpost.text}")
        if not practice.signposts:
            lines.append("\u2022 Your own organisation first: your manager, and the partnership's chair or coordinator.")
    lines += ["", "General guidance written for Partnership Advisor. " + principles_line(practice)]
    return "\n".join(lines)


# --- follow-ups on the item in focus ------------------------------------------------------------


# "when?", "cost?", "who do I talk to?", "template?" right after an answer: there is no set
# timescale, cost or template, so the steps come with a line that says so (and points to the
# timings or roles the steps do name).
TIMED_STEP = re.compile(
    r"\b(?:days?|weeks?|months?|years?|quarter(?:ly)?|annual(?:ly)?|monthly|weekly|deadlines?)\b", re.IGNORECASE
)
NAMED_ROLE = re.compile(
    r"\b(?:chairs?|coordinators?|named person|trustees?|managers?|officers?|directors?|board)\b", re.IGNORECASE
)


def practicality_lead(practicality: str, steps: tuple[str, ...]) -> str:
    """The line before the steps that answers "when?", "cost?", "who?" or "template?" honestly."""
    if practicality == "timescale":
        timed = any(TIMED_STEP.search(step) for step in steps)
        return "There's no set timescale for this: it depends on your partners and how often you meet." + (
            " Where timing matters, the steps say so." if timed else ""
        )
    if practicality == "cost":
        return "I can't put a cost on this: it depends on your partners and what they already have."
    if practicality == "who_to_ask":
        return "Start inside the partnership: your manager, and the partnership's chair or coordinator."
    if practicality == "who_does":
        if any(NAMED_ROLE.search(step) for step in steps):
            return "The steps say who does what; agree anything they leave open between your partners."
        return "This isn't one role's job: agree between your partners who takes each step on."
    return "I don't have a template or script for this, but the steps below work as a checklist."


def how_reply(item: Item, practicality: str | None = None) -> str:
    steps = item.how if isinstance(item, AdviceView) else item.steps if isinstance(item, PracticeView) else ()
    if not steps:
        return f"\u201c{item.title}\u201d is about understanding rather than steps; ask me about a problem in your partnership and I'll suggest what to do."
    lines = [practicality_lead(practicality, tuple(steps))] if practicality else []
    lines.append(f"How to put \u201c{item.title}\u201d into practice:")
    lines += [f"{n}. {step}" for n, step in enumerate(steps, start=1)]
    return "\n".join(lines)


def example_reply(item: Item) -> str | None:
    if isinstance(item, (AdviceView, PracticeView)) and item.example:
        return f"An illustrative example (not a real case) of \u201c{item.title}\u201d:\n{item.example}"
    return None


def why_reply(item: Item) -> str:
    if isinstance(item, AdviceView):
        return f"Why \u201c{item.title}\u201d helps: {item.why}\n{principles_line(item)}"
    if isinstance(item, PracticeView):
        return f"Why it matters: {first_sentence(item.answer)}\n{principles_line(item)}"
    return (
        f"\u201c{item.title}\u201d comes from the guidance documents; ask \u201cwhere does this come from?\u201d for the sources."
    )


def simpler_reply(item: Item) -> str:
    if isinstance(item, AdviceView):
        return f"In short: {item.title}. {first_sentence(item.text)}"
    if isinstance(item, PracticeView):
        return f"In short: {first_sentence(item.answer)}"
    return f"In short: {topic_summary_line(item)}"


def first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].strip()
    return sentence if sentence.endswith((".", "?", "!")) else sentence + "."


def item_sources_reply(knowledge: Knowledge, item: Item) -> str:
    """Where the item in focus comes from, then a pointer to every source."""
    if isinstance(item, PracticeView):
        return signposts_reply(item)
    if isinstance(item, AdviceView):
        challenge = knowledge.passages[item.challenge_id]
        lines = [
            f"\u201c{item.title}\u201d is Partnership Advisor's own practical guidance, built on these principles from the guidance documents:",
            *[f"\u2022 {p.title}: {cite(p)}" for p in item.principles],
            f"\u2022 The challenge itself ({challenge.title}): {cite(challenge)}",
        ]
        return "\n".join(lines)
    origins = dict.fromkeys(cite(p) for p in item.passages)
    return f"\u201c{item.title}\u201d comes from: " + "; ".join(origins) + "."


# --- knowledge topics: a summary first, the passages on "tell me more" ----------------------------


def topic_summary_line(topic: TopicView) -> str:
    intro = next((p for p in topic.passages if p.id.endswith("_intro")), None)
    return (intro or topic.passages[0]).text


def topic_summary(topic: TopicView) -> str:
    """A topic in a few lines: its introduction (or first passage) and the names of its parts."""
    intro = next((p for p in topic.passages if p.id.endswith("_intro")), None)
    if intro is not None:
        lines = [f"{topic.title}: {intro.text}"]
        named = [p for p in topic.passages if p is not intro]
    else:
        first, named = topic.passages[0], list(topic.passages[1:])
        lines = [f"{topic.title}: \u201c{first.text}\u201d ({cite(first)})"]
        if named:
            lines.append("Also:")
    lines += [f"\u2022 {p.title}" for p in named]
    return "\n".join(lines)


def follow_up_buttons(item: Item, shown: str) -> list[dict[str, str]]:
    """What to offer after a follow-up: the other follow-ups, then feedback on advice."""
    if isinstance(item, AdviceView):
        offers = {"how": HOW_BUTTON, "example": EXAMPLE_BUTTON, "why": WHY_BUTTON}
        rest = [button for name, button in offers.items() if name != shown][:2]
        return rest + [ANOTHER_BUTTON] + FEEDBACK_BUTTONS
    if isinstance(item, PracticeView):
        return [b for b in (HOW_BUTTON, HELP_BUTTON, WHY_BUTTON) if not (shown == "how" and b is HOW_BUTTON)] + [
            OTHER_PROBLEM_BUTTON
        ]
    return [MORE_BUTTON, OTHER_PROBLEM_BUTTON]
