"""The partnership health check: a Rasa form asking how pressing each documented challenge is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import brief_advice, cite
from actions.common import RECORDER, ask_what_is_wrong, intent_of, knowledge_or_apology, next_advice, person_context
from actions.context import vague_distress
from actions.follow_ups import chosen_option, offered_action, options_offered
from actions.settings import PROJECT_ROOT
from actions.store.records import conversation_key
from actions.vocabulary import CHALLENGES, SCORE_WORDS, SKIP_WORDS

SLOTS = {f"hc_{c[len('challenge_') :]}": c for c in CHALLENGES}  # hc_competition -> challenge_competition
SKIPPED = "skipped"
STORED = {"1", "2", "3", "4", "5", SKIPPED}  # what a health-check slot holds once answered
# How each question names its challenge (the start of its utter_ask_hc_* text in domain.yml).
QUESTION_NAMES = {
    "hc_competition": "Competition",
    "hc_authority": "Authority",
    "hc_purpose": "Purpose",
    "hc_communication": "Communication",
    "hc_funding": "Funding",
    "hc_culture_clash": "Culture clash",
    "hc_time": "Time",
}
PRESSING = 3  # scores of 3 or more are worth working on
PAUSED_FOR_A_QUESTION = (
    "I've paused the health check to answer that. Your answers so far are kept: say \u201ccontinue the health check\u201d "
    "to pick up where you left off."
)
REASK = (
    "Please answer with a number from 1 (not a problem) to 5 (a serious problem), or say \u201cskip\u201d or \u201cstop\u201d."
)


# The check starts only when a message asks for it. "I lead our partnership with the health board
# on hospital discharge" and "the partnership wi the health centre" read like a request for a check
# to the classifier (partnership, health); they say who someone is or begin a story.
ASKS_FOR_A_CHECK = re.compile(
    r"\bcheck|assess|audit|diagnos|apprais|evaluat|\breview|\bscor|\brat(?:e|ing)\b|\bquiz|questionnaire|"
    r"\bsurvey|\bmot\b|health\s*check|\bhealthy|\bhow\s+(?:are|is)\s+\w+(?:\s+\w+)?\s+(?:doing|going|getting on)|"
    r"\bhow\s+(?:well|strong|good)\b|temperature|\bshape\b|stock\s*take|benchmark|\bweak|struggl|measures? up|\btest|\bquestions\b|going wrong|"
    r"\bx-?ray|\bscan\b|\bself[- ]",
    re.IGNORECASE,
)
# Picking a paused check up again: "carry on", "resume", "back to the questions".
RESUMES = re.compile(r"\bcontinue|\bresume|carry on|\bgo on\b|\bback to\b|pick (?:it )?up|where we (?:left|were)", re.IGNORECASE)
# Intents that are an answer to a question of the check, or handled inside it.
ANSWERS = {"give_score", "affirm", "deny", "nlu_fallback", "stop_health_check", "start_health_check", "delete_my_data"}
# Below this the classifier's reading is too unsure to leave the check for.
INTERRUPT_CONFIDENCE = 0.5
INTERRUPT_WORDS = 3
RESUME_WORDS = 6  # "ok let's carry on then": longer messages say something else too


def asks_for_the_check(text: str, resuming: bool) -> bool:
    """Whether a message read as start_health_check really asks for it (a button payload always does)."""
    text = (text or "").strip()
    return text.startswith("/") or bool(ASKS_FOR_A_CHECK.search(text)) or (resuming and bool(RESUMES.search(text)))


def resumes_paused_check(tracker: Tracker) -> bool:
    """ "carry on", "resume" after the check was paused: the classifier has no way to know a check is
    waiting, and often reads these as out of scope."""
    text = (tracker.latest_message.get("text") or "").strip()
    paused = tracker.active_loop.get("name") != "health_check_form" and any(tracker.get_slot(s) is not None for s in SLOTS)
    return paused and len(text.split()) <= RESUME_WORDS and bool(RESUMES.search(text))


def first_action_of_rules(rules_dir: Path = PROJECT_ROOT / "data" / "rules") -> dict[str, str]:
    """intent -> the action its unconditional rule runs first, read from data/rules (the one place
    that maps intents to answers), so a paused check hands the message to the same answer."""
    found: dict[str, str] = {}
    for path in sorted(rules_dir.glob("*.yml")):
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules", []):
            steps = rule.get("steps") or []
            if rule.get("condition") or len(steps) < 2 or "intent" not in steps[0] or "action" not in steps[1]:
                continue
            found.setdefault(steps[0]["intent"], steps[1]["action"])
    return found


ANSWER_OF_INTENT = first_action_of_rules()


# Said in passing during the check: answered in a word, then the question again.
COURTESIES = {"thank": "You're welcome.", "greet": "Hello!"}


def interrupts(tracker: Tracker, slot: str) -> bool:
    """A message in the middle of the check that is clearly not an answer to its question: a
    question, a problem, thanks, who they are. Its own challenge described while that challenge is
    being scored is an answer in words, so it is asked again instead."""
    message = tracker.latest_message
    intent = intent_of(tracker)
    confidence = float((message.get("intent") or {}).get("confidence") or 0.0)
    if intent in ANSWERS or intent in COURTESIES or intent == SLOTS.get(slot) or intent not in ANSWER_OF_INTENT:
        return False
    text = (message.get("text") or "").strip()
    # A word or two ("purple", "meh") is more likely a muddled answer than a new question.
    said_enough = len(text.split()) >= INTERRUPT_WORDS or text.endswith("?")
    return said_enough and confidence >= INTERRUPT_CONFIDENCE


def parse_score(text: str) -> int | str | None:
    """1-5 from "4", "four", "quite a lot", a 1-5 button; "skipped" for skip; None otherwise."""
    cleaned = re.sub(r"[^a-z0-9/' -]", " ", (text or "").lower()).strip()
    if not cleaned:
        return None
    digits = re.fullmatch(r"([1-5])(?:\s*(?:/|out of)\s*5)?(?:\s.*)?", cleaned)
    if digits:
        return int(digits.group(1))
    if any(re.search(rf"\b{re.escape(w)}\b", cleaned) for w in SKIP_WORDS):
        return SKIPPED
    # Longest phrase first, so "not a problem" wins over "a problem".
    for phrase in sorted(SCORE_WORDS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(phrase)}\b", cleaned):
            return SCORE_WORDS[phrase]
    return None


class ValidateHealthCheckForm(FormValidationAction):
    """Turns each typed or clicked answer into a score ("4", "four", "quite a lot"), or re-asks clearly."""

    def name(self) -> str:
        return "validate_health_check_form"

    @staticmethod
    def score_slot(slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        # When the form is activated again ("continue the health check"), Rasa validates every
        # slot already filled (FormAction.activate), passing the value stored earlier, not what
        # the person typed: "skipped" is not a skip word, so the skip was refused, erased and
        # the question asked again. A stored value stays as it is.
        if str(value) in STORED:
            return {slot: str(value)}
        score = parse_score(str(value))
        courtesy = COURTESIES.get(intent_of(tracker) or "")
        if score is None and courtesy:
            # "thanks" after a question is politeness, not a score to complain about: the question again.
            dispatcher.utter_message(text=courtesy)
            return {slot: None}
        if score is None and interrupts(tracker, slot):
            # Pause, so the message gets its own answer (action_health_check_result hands it on)
            # instead of "Sorry, I didn't catch a score in 'is there a regional body I should ...'".
            dispatcher.utter_message(
                text=PAUSED_FOR_A_QUESTION, buttons=[{"title": "Continue the health check", "payload": "/start_health_check"}]
            )
            return {slot: None, "requested_slot": None}
        if score is None:
            dispatcher.utter_message(text=f"Sorry, I didn't catch a score in \u201c{str(value)[:80]}\u201d. {REASK}")
            return {slot: None}
        return {slot: str(score)}


# rasa-sdk looks up one validate_<slot> method per slot; all seven score the same way.
for _slot in SLOTS:
    setattr(
        ValidateHealthCheckForm,
        f"validate_{_slot}",
        lambda self, value, dispatcher, tracker, domain, _slot=_slot: self.score_slot(_slot, value, dispatcher, tracker),
    )


class ActionHealthCheckIntro(Action):
    """Says what the health check is, or where it resumes."""

    def name(self) -> str:
        return "action_health_check_intro"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if vague_distress(text):
            # "not having a good week with our partnership" is not asking for a check-up: ask what is wrong.
            knowledge = await knowledge_or_apology(dispatcher)
            if knowledge is not None:
                ask_what_is_wrong(dispatcher, knowledge)
            return [FollowupAction("action_listen")]
        answered = [s for s in SLOTS if tracker.get_slot(s) not in (None, SKIPPED)]
        skipped = [s for s in SLOTS if tracker.get_slot(s) == SKIPPED]
        # "probably the second one" typed after "Did you mean ...?" offered the check as the second button
        picked = offered_action(chosen_option(text, options_offered(tracker), [])) == self.name()
        if not picked and not asks_for_the_check(text, resuming=bool(answered or skipped)):
            # Who they are ("I lead our partnership with the health board") is taken as that; anything
            # else gets "Did you mean ...?", where the check is one of the choices.
            told = any(e.get("entity") in ("sector", "role", "stage") for e in tracker.latest_message.get("entities") or [])
            return [FollowupAction("action_acknowledge_context" if told else "action_clarify")]
        if answered or skipped:
            progress = f"{len(answered)} of {len(SLOTS)} questions answered"
            if skipped:
                progress += f", {len(skipped)} skipped ({', '.join(QUESTION_NAMES[s] for s in skipped)})"
            dispatcher.utter_message(text=f"Let's carry on with the health check: {progress}.")
            if intent_of(tracker) != "start_health_check":
                # Handed on from another action ("carry on" read as out of scope): no rule starts the form.
                return [FollowupAction("health_check_form")]
        else:
            dispatcher.utter_message(
                text=f"Let's check your partnership: {len(SLOTS)} quick questions, one for each common challenge. "
                "Score each from 1 (not a problem) to 5 (a serious problem). Say \u201cskip\u201d to pass on one, "
                "or \u201cstop\u201d to pause and come back later."
            )
            if picked:  # handed on from the pick: no rule starts the form
                return [FollowupAction("health_check_form")]
        return []


WEB_CHAT_CHANNEL = "socketio"


def score_chart(scores: dict[str, int | None], knowledge: Any) -> dict[str, Any]:
    """The scores as data for the web chat's chart (the text result stays as it is everywhere).

    Rasa 3.6's Socket.IO output sends a `custom` message as `sio.emit(event, **custom)`, so the
    page receives what is under "data": {"health_check": {"scores": [{"title", "score"}, ...]}},
    one row per challenge in the questions' order, None for a skipped one."""
    rows = [{"title": knowledge.passages[c].title, "score": scores.get(c)} for c in CHALLENGES]
    return {"data": {"health_check": {"scores": rows}}}


class ActionHealthCheckResult(Action):
    """The check is complete: the most pressing challenges with tailored advice, the strengths, stored."""

    def name(self) -> str:
        return "action_health_check_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if any(tracker.get_slot(slot) is None for slot in SLOTS):
            # Paused part way for a question (ValidateHealthCheckForm): answer it as it would be
            # answered outside the check; the answers so far are kept for "continue the health check".
            return [FollowupAction(ANSWER_OF_INTENT.get(intent_of(tracker) or "", "action_listen"))]
        scores: dict[str, int | None] = {}
        for slot, challenge in SLOTS.items():
            value = tracker.get_slot(slot)
            scores[challenge] = int(value) if value is not None and str(value).isdigit() else None
        context = person_context(tracker)
        await RECORDER.save(
            "health_check",
            {"conversation_key": conversation_key(tracker.sender_id), "scores": scores, **context},
        )
        reset = [SlotSet(slot, None) for slot in SLOTS]
        knowledge = await knowledge_or_apology(dispatcher)
        if knowledge is None:
            return reset
        if tracker.get_latest_input_channel() == WEB_CHAT_CHANNEL:
            dispatcher.utter_message(json_message=score_chart(scores, knowledge))
        answered = {c: s for c, s in scores.items() if s is not None}
        pressing = sorted((c for c, s in answered.items() if s >= PRESSING), key=lambda c: (-answered[c], CHALLENGES.index(c)))[
            :3
        ]
        strengths = [c for c, s in answered.items() if s <= 2]
        lines = ["Thanks, that's the health check done. Your results are saved."]
        given = list(tracker.get_slot("advice_given") or [])
        if pressing:
            lines += ["", "Most pressing for your partnership:"]
            for challenge in pressing:
                passage = knowledge.passages[challenge]
                lines.append(f"\u2022 {passage.title} ({answered[challenge]}/5): {passage.text} ({cite(passage)})")
                best = [r for r in next_advice(knowledge, tracker, challenge) if r.item.id not in given][:1]
                for ranked in best:
                    lines.append(f"  Try: {brief_advice(ranked)}")
                    given.append(ranked.item.id)
        elif answered:
            lines += ["", "None of the challenges scored 3 or more: your partnership sounds in good health."]
        if strengths:
            lines += ["", "Strengths (scored 1 or 2): " + ", ".join(knowledge.passages[c].title for c in strengths) + "."]
        skipped = [c for c, s in scores.items() if s is None]
        if skipped:
            lines.append("Skipped: " + ", ".join(knowledge.passages[c].title for c in skipped) + ".")
        buttons = [{"title": f"More on {knowledge.passages[c].title.lower()}", "payload": f"/{c}"} for c in pressing[:2]]
        buttons.append({"title": "My action plan", "payload": "/ask_summary"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return reset + [SlotSet("advice_given", given), SlotSet("current_challenge", pressing[0] if pressing else None)]


class ActionScoreOutsideCheck(Action):
    """A score given outside the health check ("4", "not great") offers the check; distress read as
    a score ("ugh honestly it's all a bit much today") gets asked what is going on instead."""

    def name(self) -> str:
        return "action_score_outside_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if vague_distress(tracker.latest_message.get("text") or ""):
            knowledge = await knowledge_or_apology(dispatcher)
            return ask_what_is_wrong(dispatcher, knowledge) if knowledge is not None else []
        dispatcher.utter_message(response="utter_score_outside_check")
        return []
