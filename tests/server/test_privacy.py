"""Privacy (issue 9): "delete my data", the retention purge and logs without message text;
(issue 15) logs without text or sender ids under failing inputs, tracebacks included, and deleted
and purged text gone from the SQLite files, write-ahead log included.

The end-to-end tests fill a real SQL tracker store with real conversations over the REST
channel, on SQLite (the shared `advisor`) and on PostgreSQL (a Rasa server and action server
of this module, both stores in one schema), then check what a person or an auditor would:
the conversation's rows are gone, other conversations untouched, the figures kept, no raw
sender id or deleted comment left anywhere, and the numbers printed by `make purge` right.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, func, select, text

from actions import settings
from actions.privacy import NOT_DELETED_REPLY, ActionDeleteMyData
from actions.replies import CONVERSATION_DELETED, DELETE_ACTION, PRIVACY_SIGNAL
from actions.store import purge as purge_module
from actions.store.conversations import stored_tallies, tally, user_turns
from actions.store.db import make_engine, make_session_factory
from actions.store.loader import load
from actions.store.models import Base, Feedback, FeedbackItem, HealthCheckResult, HealthCheckScore, PurgePending
from actions.store.records import Recorder, conversation_key
from server import launch
from server.seams.privacy import REDACTED, delete_conversation, deletion_confirmed, install_log_redaction
from tests.conftest import CONTENT_DIR, ROOT, RunningAdvisor, free_port, make_tracker, run_action
from tests.servers import Processes, postgres_schema, redis_address, rest_id, say, sender, server_env, texts

ASK = "This deletes this conversation and your feedback and health-check answers. Delete them?"
PRIVACY_HASH_KEY = "privacy-test-key"  # the PostgreSQL stack's; the SQLite stack uses the checkout's var/privacy.key
COMMENT = "too generic for a small pharmacy"
# A whole conversation: context, advice, feedback with a comment, a health check (one feedback
# row with a comment and one health-check result are stored).
FULL = [
    "hi",
    "I'm a community pharmacist",
    "one partner only joined for the grant",
    "/feedback_not_helpful",
    COMMENT,
    "check our partnership",
    "3", "4", "2", "5", "1", "2", "3",
    "thanks",
]
# A short one: advice without context (the sector question left unanswered: "Another idea"),
# "this helped" without a comment (one feedback row).
SHORT = ["we have far too many meetings and people have stopped coming", "/ask_more", "/feedback_helpful", "/deny"]


# --- Units: the delete action, the Rasa server's seam, log redaction, settings -------------------


def rows_of(url: str, key: str) -> dict[str, int]:
    """The knowledge-store rows linked to one conversation key, by table."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        feedback_ids = select(Feedback.id).where(Feedback.conversation_key == key).scalar_subquery()
        result_ids = select(HealthCheckResult.id).where(HealthCheckResult.conversation_key == key).scalar_subquery()
        counts = {
            "feedback": session.scalar(select(func.count()).select_from(Feedback).where(Feedback.conversation_key == key)),
            "feedback_items": session.scalar(select(func.count()).select_from(FeedbackItem).where(FeedbackItem.feedback_id.in_(feedback_ids))),
            "health_check_results": session.scalar(select(func.count()).select_from(HealthCheckResult).where(HealthCheckResult.conversation_key == key)),
            "health_check_scores": session.scalar(select(func.count()).select_from(HealthCheckScore).where(HealthCheckScore.result_id.in_(result_ids))),
        }
    engine.dispose()
    return counts


async def test_confirmed_delete_removes_this_conversations_rows_only(store_url: str, tmp_path: Path, domain, monkeypatch) -> None:
    recorder = Recorder(url=store_url, spool=tmp_path / "spool.jsonl")
    monkeypatch.setattr("actions.privacy.RECORDER", recorder)
    mine, other = conversation_key("forget-me"), conversation_key("someone-else")
    for key in (mine, mine, other):
        assert await recorder.save("feedback", {"conversation_key": key, "challenge_id": "challenge_time", "helpful": True, "advice_ids": ["a", "b"]})
    assert await recorder.save("feedback_comment", {"conversation_key": mine, "comment": "our chair never reads the papers"})
    for key in (mine, other):
        assert await recorder.save("health_check", {"conversation_key": key, "scores": {"challenge_time": 4, "challenge_purpose": 2}})
    assert rows_of(store_url, mine) == {"feedback": 2, "feedback_items": 4, "health_check_results": 1, "health_check_scores": 2}

    messages, events = await run_action(ActionDeleteMyData(), make_tracker("affirm", sender="forget-me"), domain)

    assert [m["text"] for m in messages] == [
        "Done: I've deleted this conversation, 2 feedback answers and 1 health check result. "
        "Nothing from it is kept. If you write again, it starts a new conversation."
    ]
    assert messages[0][PRIVACY_SIGNAL] == CONVERSATION_DELETED and events == []
    assert rows_of(store_url, mine) == {"feedback": 0, "feedback_items": 0, "health_check_results": 0, "health_check_scores": 0}
    assert rows_of(store_url, other) == {"feedback": 1, "feedback_items": 2, "health_check_results": 1, "health_check_scores": 2}


async def test_delete_also_drops_records_waiting_for_the_database(sqlite_url: str, tmp_path: Path, domain, monkeypatch) -> None:
    spool = tmp_path / "spool.jsonl"
    down = Recorder(url="postgresql://nobody@127.0.0.1:9/none", spool=spool)  # port 9: nothing listens
    assert not await down.save("feedback", {"conversation_key": conversation_key("waiting"), "helpful": False, "advice_ids": ["a"]})
    assert not await down.save("feedback", {"conversation_key": conversation_key("another"), "helpful": True, "advice_ids": ["b"]})
    monkeypatch.setattr("actions.privacy.RECORDER", Recorder(url=sqlite_url, spool=spool))  # the database is back
    messages, _ = await run_action(ActionDeleteMyData(), make_tracker("affirm", sender="waiting"), domain)
    assert "1 feedback answer" in messages[0]["text"]
    assert [json.loads(line)["conversation_key"] for line in spool.read_text().splitlines()] == [conversation_key("another")]


async def test_delete_with_the_database_down_deletes_nothing_and_says_so(tmp_path: Path, domain, monkeypatch) -> None:
    monkeypatch.setattr("actions.privacy.RECORDER", Recorder(url="postgresql://nobody@127.0.0.1:9/none", spool=tmp_path / "s.jsonl"))
    messages, _ = await run_action(ActionDeleteMyData(), make_tracker("affirm", sender="unlucky"), domain)
    assert [m["text"] for m in messages] == [NOT_DELETED_REPLY]
    assert PRIVACY_SIGNAL not in messages[0]  # so the Rasa server keeps the conversation too


async def test_an_unclear_request_to_delete_is_offered_as_a_choice(knowledge_cache, domain) -> None:
    """A request the model is unsure of ends in "Did you mean ...?"; deleting is one of the choices.
    (The clarifying action first looks the message up in the knowledge store: the real content,
    not whatever the checkout's var/knowledge.db holds.)"""
    from actions.conversation import ActionClarify

    unsure = make_tracker("nlu_fallback", text="can you delete what I wrote earlier",
                          ranking=[("nlu_fallback", 0.7), ("delete_my_data", 0.55), ("ask_sources", 0.2)])
    messages, _ = await run_action(ActionClarify(), unsure, domain)
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [
        ("Delete my data", "/delete_my_data"), ("Where the advice comes from", "/ask_sources"), ("Something else", "/something_else")]


def rasa_tracker(sender_id: str, *, signal_from: str | None = DELETE_ACTION, then_user: bool = False) -> Any:
    """A Rasa tracker of one turn: a message, an action (saying something with the signal or not)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [
        ActionExecuted("action_listen"),
        UserUttered("yes", {"name": "affirm", "confidence": 0.99}),
        ActionExecuted(signal_from or "utter_affirm"),
        BotUttered("Done", metadata={PRIVACY_SIGNAL: CONVERSATION_DELETED} if signal_from else {}),
        ActionExecuted("action_listen"),
    ]
    if then_user:
        events.append(UserUttered("hello again", {"name": "greet", "confidence": 0.99}))
    return DialogueStateTracker.from_events(sender_id, events)


def test_only_the_delete_actions_signal_in_this_turn_deletes() -> None:
    assert deletion_confirmed(rasa_tracker("a"))
    assert not deletion_confirmed(rasa_tracker("a", signal_from=None))
    assert not deletion_confirmed(rasa_tracker("a", signal_from="action_challenge_advice"))  # someone else's message
    assert not deletion_confirmed(rasa_tracker("a", then_user=True))  # an earlier turn's


async def test_seam_deletes_every_stored_event_from_sql_in_memory_and_redis_stores(tmp_path: Path) -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore
    from rasa.shared.core.domain import Domain

    domain = Domain.from_path(ROOT / "domain.yml")
    sql = SQLTrackerStore(domain, db=str(tmp_path / "tracker.db"))
    stores = {"sql": FailSafeTrackerStore(sql), "in-memory": FailSafeTrackerStore(InMemoryTrackerStore(domain))}
    try:
        host, port = redis_address()
        stores["redis"] = RedisTrackerStore(domain, host=host, port=port, key_prefix="privacytest")
    except pytest.skip.Exception:
        pass
    leaving, staying = sender("leaving"), sender("staying")
    for kind, store in stores.items():
        for who in (leaving, staying):
            await store.save(rasa_tracker(who))
        assert await store.retrieve(leaving) is not None, kind
        deleted = delete_conversation(store, leaving)
        assert await store.retrieve(leaving) is None, kind
        assert await store.retrieve_full_tracker(leaving) is None, kind
        assert len((await store.retrieve(staying)).events) == 5, kind
        if kind == "sql":
            assert deleted == 5
        delete_conversation(store, staying)
    with sql.session_scope() as session:
        assert session.query(sql.SQLEvent.sender_id).distinct().all() == []


def test_rasa_log_events_at_info_and_above_carry_no_message_text(monkeypatch, caplog) -> None:
    """Rasa logs the text of a REST message that failed (`rest.message.received.failure`) at
    error level; with the Rasa server's redaction the text is not in the line."""
    import structlog

    import rasa.utils.log_utils as log_utils

    saved = structlog.get_config()
    monkeypatch.setattr(log_utils, "_anonymizer", log_utils._anonymizer)  # restored after the test
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    log_utils.configure_structlog(logging.DEBUG)  # the same chain as at INFO, Rasa's default; debug lines too
    try:
        logger = structlog.get_logger()
        logger.error("rest.message.received.failure", text="our chair keeps cancelling 5731")
        logger.info("processor.actions.log", rasa_events=[{"event": "user", "text": "our chair keeps cancelling 5731"}], action_name="x")
        logger.debug("nlu.parse", text="debug shows it 5731")  # debug logging is switched on by hand, for diagnosis
    finally:
        structlog.configure(**saved)
    lines = [record.getMessage() for record in caplog.records if "5731" in record.getMessage() or REDACTED in record.getMessage()]
    assert len(lines) == 3 and REDACTED in lines[0] and REDACTED in lines[1] and '"action_name": "x"' in lines[1], lines
    assert "our chair" not in "\n".join(lines[:2]) and "debug shows it" in lines[2]


def test_retention_is_one_setting_of_whole_days(monkeypatch) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    assert settings.retention_days() == 30
    monkeypatch.setenv("RETENTION_DAYS", "90")
    assert settings.retention_days() == 90
    for bad in ("0", "-3", "thirty", "1.5"):
        monkeypatch.setenv("RETENTION_DAYS", bad)
        with pytest.raises(ValueError, match="RETENTION_DAYS"):
            settings.retention_days()
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    assert settings.tracker_store_url() == launch.defaults()["TRACKER_STORE_URL"]  # the purge reads what Rasa writes


# --- Real conversations in a real tracker store, on SQLite and PostgreSQL ------------------------


@dataclass
class Stack:
    """A Rasa server and action server with their stores, as the purge command sees them."""

    kind: str
    retention_days: int  # the servers' and the purge's RETENTION_DAYS
    base_url: str
    tracker_url: str
    knowledge_url: str
    env: dict[str, str]
    logs: list[Path]
    senders: dict[str, list[str]] = field(default_factory=dict)  # group -> REST senders

    def key(self, sender_id: str) -> str:
        """The conversation key the action server stored for a REST sender (with the stack's hash
        key): of the id Rasa stores the conversation under, "rest:<sender>"."""
        import hashlib
        import hmac

        secret = self.env.get("PRIVACY_HASH_KEY") or settings.privacy_hash_key().decode()
        return hmac.new(secret.encode(), rest_id(sender_id).encode(), hashlib.sha256).hexdigest()

    def tracker(self) -> Any:
        return create_engine(self.tracker_url, future=True)

    def events_per_sender(self) -> Counter:
        """Stored events per conversation, by the stored id (REST senders as rest_id(sender))."""
        engine = self.tracker()
        with engine.connect() as connection:
            counts = Counter(dict(connection.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()))
        engine.dispose()
        return counts

    def user_texts(self, sender_id: str) -> list[str]:
        engine = self.tracker()
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"), {"s": rest_id(sender_id)}
            ).scalars()
            texts_ = [json.loads(data)["text"] for data in rows]
        engine.dispose()
        return texts_

    def figures(self) -> Counter:
        """The insight report's question figures: live conversations plus the purged ones' tallies."""
        tracker, knowledge = self.tracker(), make_engine(self.knowledge_url)
        with tracker.connect() as connection:
            live = tally(user_turns(connection))
        with make_session_factory(knowledge)() as session:
            kept = stored_tallies(session)
        tracker.dispose()
        knowledge.dispose()
        return live + kept

    def run_purge(self, *arguments: str) -> str:
        """`make purge` (the module it runs), with this stack's settings; its printed report."""
        done = subprocess.run(
            [sys.executable, "-m", "actions.store.purge", *arguments], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


def converse(base_url: str, who: str, script: list[str]) -> None:
    for message in script:
        assert texts(say(base_url, message, who)).strip(), f"{who}: no reply to {message!r}"


def fill(stack: Stack) -> Stack:
    """Real conversations over REST, six at once: three to age, two recent, one to forget."""
    plan = {"old": [FULL, FULL, SHORT], "recent": [FULL, SHORT], "forget": [FULL]}
    jobs = []
    for group, scripts in plan.items():
        stack.senders[group] = [sender(f"{stack.kind}-{group}") for _ in scripts]
        jobs += list(zip(stack.senders[group], scripts))
    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(lambda job: converse(stack.base_url, *job), jobs))
    return stack


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if request.param == "sqlite":
        advisor: RunningAdvisor = request.getfixturevalue("advisor")
        env = advisor.env
        yield fill(Stack("sqlite", int(env.get("RETENTION_DAYS") or 30), advisor.base_url, env["TRACKER_STORE_URL"], advisor.knowledge_url, env,
                         [advisor.workdir / "rasa.log", advisor.workdir / "actions.log"]))
        return
    workdir = tmp_path_factory.mktemp("privacy_pg")
    with postgres_schema("privacy") as url:
        load(CONTENT_DIR, url)
        processes = Processes(workdir)
        action_port = free_port()
        env = server_env(f"http://127.0.0.1:{action_port}/webhook", workdir, TRACKER_STORE_URL=url, KNOWLEDGE_DB_URL=url,
                         PRIVACY_HASH_KEY=PRIVACY_HASH_KEY, RETENTION_DAYS="30")
        try:
            processes.start_actions("actions", env, port=action_port)
            processes.start_rasa("rasa", env)
            processes.wait("actions", "/health")
            processes.wait("rasa")
            yield fill(Stack("postgres", 30, processes.url("rasa"), url, url, env, [processes.log("rasa"), processes.log("actions")]))
        finally:
            processes.stop_all()


def test_forget_me_over_rest_deletes_the_conversation_and_its_rows_only(stack: Stack) -> None:
    me = stack.senders["forget"][0]
    others = {s: n for s, n in stack.events_per_sender().items() if s != rest_id(me)}
    assert stack.events_per_sender()[rest_id(me)] > 30 and rows_of(stack.knowledge_url, stack.key(me)) == {
        "feedback": 1, "feedback_items": 1, "health_check_results": 1, "health_check_scores": 7}

    # Asked first, with two buttons; "No, keep it" keeps everything.
    [question] = say(stack.base_url, "delete my data", me)
    assert question["text"] == ASK
    assert [(b["title"], b["payload"]) for b in question["buttons"]] == [("Yes, delete my data", "/affirm"), ("No, keep it", "/deny")]
    [kept] = say(stack.base_url, "/deny", me)
    assert kept["text"].startswith("Nothing has been deleted.") and f"kept for {stack.retention_days} days" in kept["text"]
    assert rows_of(stack.knowledge_url, stack.key(me))["feedback"] == 1 and COMMENT in stack.user_texts(me)

    # Asked again and confirmed: the reply says what went, and it is gone.
    assert texts(say(stack.base_url, "please delete this conversation", me)) == ASK
    replies = say(stack.base_url, "/affirm", me)
    assert texts(replies) == (
        "Done: I've deleted this conversation, 1 feedback answer and 1 health check result. "
        "Nothing from it is kept. If you write again, it starts a new conversation."
    )
    assert stack.events_per_sender()[rest_id(me)] == 0  # no event of this conversation in the tracker store
    assert rows_of(stack.knowledge_url, stack.key(me)) == {"feedback": 0, "feedback_items": 0, "health_check_results": 0, "health_check_scores": 0}
    after = stack.events_per_sender()
    assert {s: after[s] for s in others} == others  # every other conversation untouched

    # The next message starts afresh: the pharmacist context is forgotten, so the first idea is a
    # general one and the sector is asked again under it.
    replies = say(stack.base_url, "one partner only joined for the grant", me)
    assert len(replies) == 2 and "Try this: " in replies[0]["text"] and "(suits" not in replies[0]["text"]
    assert "which sector do you work in?" in replies[1]["text"]
    assert stack.user_texts(me) == ["one partner only joined for the grant"]
    # The stale "Yes, delete my data" button clicked again is only an ordinary polite "yes".
    assert texts(say(stack.base_url, "/affirm", me)).startswith("Great.")
    assert stack.user_texts(me) == ["one partner only joined for the grant", "/affirm"]


def age(stack: Stack, senders: list[str], days: int) -> None:
    """Backdate conversations, and what their action server stored, by `days` (SQL on both stores)."""
    seconds = days * 86400
    engine = stack.tracker()
    with engine.begin() as connection:
        for who in senders:
            connection.execute(text("UPDATE events SET timestamp = timestamp - :s WHERE sender_id = :w"), {"s": seconds, "w": rest_id(who)})
    engine.dispose()
    knowledge = make_engine(stack.knowledge_url)
    with make_session_factory(knowledge)() as session:
        for model in (Feedback, HealthCheckResult):
            for row in session.scalars(select(model).where(model.conversation_key.in_([stack.key(s) for s in senders]))):
                row.created_at = row.created_at - timedelta(days=days)
        session.commit()
    knowledge.dispose()


def knowledge_snapshot(stack: Stack) -> dict[str, Any]:
    """What the insight report reads from the knowledge store, and every value stored there."""
    engine = make_engine(stack.knowledge_url)
    with make_session_factory(engine)() as session:
        snapshot = {
            "helpful votes per advice item": Counter(
                (advice, helpful) for advice, helpful in session.execute(select(FeedbackItem.advice_id, Feedback.helpful).join(Feedback))
            ),
            "scores": Counter(session.execute(select(HealthCheckScore.challenge_id, HealthCheckScore.score)).all()),
            "health checks": session.scalar(select(func.count()).select_from(HealthCheckResult)),
            "every value": "\n".join(
                repr(tuple(row)) for table in Base.metadata.sorted_tables for row in session.execute(table.select())
            ),
        }
    engine.dispose()
    return snapshot


def numbers(report: str) -> dict[str, int]:
    found = {}
    for name, pattern in {
        "conversations": r"(\d+) conversation\(s\) (?:were|would be) deleted \((\d+) events\)",
        "feedback": r"(\d+) feedback row\(s\) (?:were|would be) anonymised \((\d+) comment",
        "health checks": r"(\d+) health-check result\(s\) (?:were|would be) anonymised",
        "questions": r"(\d+) question\(s\) (?:were|would be) added to question_tallies",
    }.items():
        match = re.search(pattern, report)
        assert match, f"{name} missing from:\n{report}"
        found[name] = int(match.group(1))
        if name == "conversations":
            found["events"] = int(match.group(2))
        if name == "feedback":
            found["comments"] = int(match.group(2))
    return found


def test_purge_deletes_old_conversations_keeps_the_figures_and_removes_nothing_twice(stack: Stack) -> None:
    old, recent = stack.senders["old"], stack.senders["recent"]
    age(stack, old, days=stack.retention_days + 10)  # beyond the retention
    before = stack.events_per_sender()
    figures_before, store_before = stack.figures(), knowledge_snapshot(stack)
    engine = stack.tracker()
    with engine.connect() as connection:
        purged_questions = tally(user_turns(connection, [rest_id(s) for s in old]))
    engine.dispose()
    assert all(before[rest_id(s)] > 0 for s in old + recent) and sum(purged_questions.values()) == 2 * len(FULL) + len(SHORT)

    dry = stack.run_purge("--dry-run")
    assert "dry run: nothing changed" in dry and stack.events_per_sender() == before
    report = stack.run_purge()
    print(f"\n[{stack.kind}] purge of a store filled by real conversations:\n{report}")

    # The old conversations are gone from the tracker store; the recent ones untouched.
    after = stack.events_per_sender()
    assert all(after[rest_id(s)] == 0 for s in old)
    assert {s: after[s] for s in after} == {s: n for s, n in before.items() if s not in {rest_id(o) for o in old}}
    # What it printed is what happened.
    assert numbers(report) == {
        "conversations": 3, "events": sum(before[rest_id(s)] for s in old),
        "feedback": 3, "comments": 2, "health checks": 2, "questions": sum(purged_questions.values()),
    }
    assert numbers(dry) == numbers(report)

    # The figures the insight report shows are unchanged: the purged questions are in question_tallies.
    assert stack.figures() == figures_before
    knowledge = make_engine(stack.knowledge_url)
    with make_session_factory(knowledge)() as session:
        assert stored_tallies(session) == purged_questions  # no tallies before: these are exactly the purged questions
        assert session.scalar(select(func.count()).select_from(PurgePending)) == 0
    knowledge.dispose()
    store_after = knowledge_snapshot(stack)
    for figure in ("helpful votes per advice item", "scores", "health checks"):
        assert store_after[figure] == store_before[figure], figure
    # Nothing links a stored row to an old conversation any more; the recent ones keep their key.
    for who in old:
        assert rows_of(stack.knowledge_url, stack.key(who))["feedback"] == 0
        assert stack.key(who) not in store_after["every value"]
    assert rows_of(stack.knowledge_url, stack.key(recent[0]))["feedback"] == 1
    # No raw conversation id anywhere in the knowledge store; the old comments are gone, a recent one stays.
    assert not [s for s in old + recent if s in store_after["every value"]]
    assert store_after["every value"].count(COMMENT) == store_before["every value"].count(COMMENT) - 2 >= 1

    # Run again: nothing more to remove, nothing counted twice.
    again = numbers(stack.run_purge())
    assert again == {"conversations": 0, "events": 0, "feedback": 0, "comments": 0, "health checks": 0, "questions": 0}
    assert stack.figures() == figures_before and stack.events_per_sender() == after


def test_logs_at_the_default_level_hold_no_message_text(stack: Stack) -> None:
    """A distinctive message and feedback comment through the running servers; then grep their logs."""
    me = sender(f"{stack.kind}-logs")
    for message in ("Marmalade quetzal 7741: our partners never reply to emails", "/feedback_helpful",
                    "zanzibar umbrella 5512 was the real problem", "/greet_quetzal_7741", "delete my data", "/deny"):
        say(stack.base_url, message, me)
    assert "Marmalade quetzal 7741: our partners never reply to emails" in stack.user_texts(me)  # it was read and stored
    for log in stack.logs:
        content = log.read_text(errors="replace")
        assert content.strip(), f"{log.name} is empty: nothing to check"
        leaked = [line for line in content.splitlines() if re.search(r"(?i)marmalade|quetzal|zanzibar|umbrella 5512", line)]
        assert not leaked, f"{log.name}: {leaked[:3]}"


# --- The purge interrupted between its two stores ------------------------------------------------


async def test_a_purge_interrupted_between_the_stores_does_not_count_twice(tmp_path: Path, monkeypatch) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker_url, knowledge_url = f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'knowledge.db'}"
    store = SQLTrackerStore(Domain.from_path(ROOT / "domain.yml"), db=str(tmp_path / "tracker.db"))
    long_ago = (datetime.now(timezone.utc) - timedelta(days=45)).timestamp()
    for who, intents in {"old-1": ["greet", "challenge_time"], "old-2": ["challenge_funding"], "new": ["greet"]}.items():
        events = [SlotSet("sector", "pharmacy")]
        for intent in intents:
            events += [UserUttered(f"about {intent}", {"name": intent, "confidence": 0.9}), ActionExecuted("utter_x")]
        if who.startswith("old"):
            for event in events:
                event.timestamp = long_ago
        await store.save(DialogueStateTracker.from_events(who, events))

    def tracker_store_fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracker store went away")

    with monkeypatch.context() as patch:
        patch.setattr(purge_module, "delete_idle_conversations", tracker_store_fails)  # the tracker store's delete
        with pytest.raises(RuntimeError):
            purge_module.purge(tracker_url, knowledge_url, retention_days=30)
    engine = make_engine(knowledge_url)
    with make_session_factory(engine)() as session:
        assert sum(stored_tallies(session).values()) == 3  # counted, and noted as counted
        assert session.scalar(select(func.count()).select_from(PurgePending)) == 2

    report = purge_module.purge(tracker_url, knowledge_url, retention_days=30)
    assert (report.conversations, report.questions_tallied, report.resumed) == (2, 0, 2)
    with make_session_factory(engine)() as session:
        tallies = stored_tallies(session)
        assert sum(tallies.values()) == 3 and {intent for (_, intent, _, _) in tallies} == {"greet", "challenge_time", "challenge_funding"}
        assert {sector for (_, _, sector, _) in tallies} == {"pharmacy"}
        assert session.scalar(select(func.count()).select_from(PurgePending)) == 0
    engine.dispose()
    assert await store.retrieve("old-1") is None and await store.retrieve("new") is not None


# --- Logs under failing inputs (issue 15, finding 5) ----------------------------------------------

# Inputs that made a turn fail with a 13 KB ERROR trace listing its local variables (text and
# sender id among them), and no reply. Now: a polite reply, or a 400 that says what is wrong.
FAILING_INPUTS = {
    "lone surrogate": "\ud800 okapi 6022 lone",
    "number": 60226022,
    "list": ["okapi 6022 list"],
    "object": {"okapi": "6022 object"},
}


async def test_failing_inputs_leave_no_message_text_or_sender_id_in_the_logs(advisor: RunningAdvisor) -> None:
    from tests.servers import post
    from tests.channels.test_web import ChatClient

    me = sender("numbat-logs")
    for kind, message in FAILING_INPUTS.items():
        status, _, reply = post(advisor.webhook, {"sender": me, "message": message})
        if isinstance(message, str):
            assert status == 200 and texts(reply).strip(), (kind, status, reply)  # a polite reply
        else:
            assert status == 400 and reply["error"] == "Bad request: 'message' must be a string.", (kind, status, reply)

    async def over_the_web_chat() -> list[str]:
        chat = await ChatClient().connect(advisor)
        try:
            await chat.session()
            answers = []
            for message in FAILING_INPUTS.values():
                await chat.sio.emit("user_uttered", {"message": message})
                answers.append((await chat.reply())["text"])
            return answers
        finally:
            await chat.close()

    assert all(answer.strip() for answer in await over_the_web_chat())
    await asyncio.sleep(0.5)
    for log in ("rasa.log", "actions.log"):
        lines = (advisor.workdir / log).read_text(errors="replace").splitlines()
        leaked = [line[:300] for line in lines if re.search(r"numbat-logs|okapi|6022", line)]
        assert not leaked, f"{log}: {leaked[:3]}"
        assert not [line for line in lines if '"locals"' in line], f"{log}: a trace with local variables"


def test_traces_and_warnings_at_info_and_above_carry_no_text_or_sender_id(monkeypatch, caplog) -> None:
    """Rasa's structlog traces listed every frame's locals; a circuit-breaker warning and a lock
    timeout name the sender id in their message. Each is logged with the turn's values noted."""
    import contextvars

    import structlog

    import rasa.utils.log_utils as log_utils
    from rasa.core.lock_store import LockError
    from server.seams.privacy import install_log_scrubbing, note_turn_values

    saved = structlog.get_config()
    monkeypatch.setattr(log_utils, "_anonymizer", log_utils._anonymizer)
    monkeypatch.setattr(logging.Formatter, "format", logging.Formatter.format)  # both restored after the test
    install_log_redaction()
    install_log_scrubbing()
    caplog.set_level(logging.DEBUG)
    log_utils.configure_structlog(logging.INFO)

    def failing_turn(text: str, sender_id: str) -> None:
        raise ValueError("the pipeline failed")

    def a_turn() -> list[str]:
        note_turn_values("quoll-7731", "rest:quoll-7731", "our chair keeps cancelling 7731")
        logger = structlog.get_logger()
        try:
            failing_turn("our chair keeps cancelling 7731", "rest:quoll-7731")
        except ValueError:
            logger.exception("rest.message.received.failure", text="our chair keeps cancelling 7731")
        plain = logging.getLogger("rasa.core.processor")
        plain.warning("Circuit breaker tripped. Stopped predicting more actions for sender 'rest:quoll-7731'.")
        try:
            raise LockError("Could not acquire lock for conversation_id 'rest:quoll-7731'.")
        except LockError:
            plain.exception("A REST message could not be answered.")
        plain.debug("Debug logging, switched on by hand, still shows rest:quoll-7731")
        formatter = logging.Formatter("%(levelname)s %(message)s")
        return [formatter.format(record) for record in caplog.records]

    try:
        lines = contextvars.copy_context().run(a_turn)  # the turn's values stay in its own context
    finally:
        structlog.configure(**saved)
    logged = "\n".join(lines[:-1])
    assert "Traceback" in logged and "ValueError: the pipeline failed" in logged and "LockError" in logged
    assert "quoll" not in logged and "our chair" not in logged and '"locals"' not in logged, logged
    assert "rest:quoll-7731" in lines[-1]  # debug lines are left alone


# --- Deleted text is gone from the database files (issue 15, finding 6) ---------------------------


def sqlite_files(url: str) -> list[Path]:
    """A SQLite database's files: the database, its -wal and -shm, any -journal."""
    database = Path(url.split("sqlite:///", 1)[1])
    return sorted(p for p in database.parent.iterdir() if p.name.startswith(database.name))


def files_holding(marker: str, *urls: str) -> list[str]:
    return [p.name for url in urls for p in sqlite_files(url) if marker.encode() in p.read_bytes()]


def converse_with_a_comment(advisor: RunningAdvisor, who: str, marker: str) -> None:
    """Advice, "not helpful" with a comment (stored in both stores), and a message of the marker."""
    for message in ("one partner only joined for the grant", "/ask_more", "/feedback_not_helpful",
                    f"it missed the {marker} problem entirely", f"and what about {marker} in our board?"):
        assert texts(say(advisor.base_url, message, who)).strip()


def test_deleted_text_is_gone_from_the_database_files_after_delete_my_data(advisor: RunningAdvisor) -> None:
    me, marker = sender("erase"), f"pangolin{uuid.uuid4().hex[:8]}"
    converse_with_a_comment(advisor, me, marker)
    stores = (advisor.env["TRACKER_STORE_URL"], advisor.knowledge_url)
    assert set(files_holding(marker, *stores)) >= {"knowledge.db"} and any(n.startswith("tracker.db") for n in files_holding(marker, *stores))

    say(advisor.base_url, "delete my data", me)
    assert texts(say(advisor.base_url, "/affirm", me)).startswith("Done: I've deleted this conversation, 1 feedback answer")
    assert files_holding(marker, *stores) == [], "the deleted comment is still readable on disk"


def test_purged_text_is_gone_from_the_database_files(advisor: RunningAdvisor) -> None:
    me, marker = sender("purge-erase"), f"aardwolf{uuid.uuid4().hex[:8]}"
    converse_with_a_comment(advisor, me, marker)
    stack = Stack("sqlite", 30, advisor.base_url, advisor.env["TRACKER_STORE_URL"], advisor.knowledge_url,
                  {**advisor.env, "RETENTION_DAYS": "30"}, [])
    age(stack, [me], days=40)
    stores = (stack.tracker_url, stack.knowledge_url)
    assert any(n.startswith("tracker.db") for n in files_holding(marker, *stores))

    report = stack.run_purge()
    assert numbers(report)["conversations"] >= 1 and stack.events_per_sender()[rest_id(me)] == 0
    assert files_holding(marker, *stores) == [], "purged text is still readable on disk"
