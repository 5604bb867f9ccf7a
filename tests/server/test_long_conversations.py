"""Long conversations with and without the Rasa server's flat-turn seams (server/seams/,
issue 17): the same predictions, the same replies and the same stored events, turn after turn.

One Rasa agent runs in this process on the trained model, with the real action server and a
SQLite tracker store; each conversation is first held with Rasa's own code, then with the seams
installed (windowed dialogue states, applied events counted on, the action server sent the
latest user turns, the tracker store keeping the trackers it saved), and both are compared."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import numpy
import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered

from server import launch
from tools.bench import long_conversation
from tests.servers import Processes, free_port, server_env

TURNS = 120


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory):
    from actions.store.loader import load

    workdir = tmp_path_factory.mktemp("long")
    env = server_env("", workdir)
    load(url=env["KNOWLEDGE_DB_URL"])
    processes = Processes(workdir)
    port = processes.start_actions("actions", env, port=free_port())
    try:
        processes.wait("actions", "/health")
        yield f"http://127.0.0.1:{port}/webhook", env, workdir
    finally:
        processes.stop_all()


def seams() -> dict:
    """The patched classes' attributes, to put Rasa's own back afterwards."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    names = {
        SQLTrackerStore: ("_retrieve", "_additional_events", "save"),
        TrackerFeaturizer: ("_create_states",),
        DialogueStateTracker: ("applied_events", "copy"),
        RemoteAction: ("_action_call_format",),
    }
    return {(cls, name): cls.__dict__.get(name) for cls, attrs in names.items() for name in attrs}


def restore(saved: dict) -> None:
    for (cls, name), original in saved.items():
        if original is None:
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            setattr(cls, name, original)


def check_states_against_rasas(saved: dict) -> dict:
    """Wrap the windowed states so every prediction also computes Rasa's own states and applied
    events (with Rasa's code) and records any difference in the window."""
    from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
    from rasa.shared.core.trackers import DialogueStateTracker

    from server.seams.long_conversations import STATES_WINDOW

    windowed, counted = TrackerFeaturizer._create_states, DialogueStateTracker.applied_events
    rasas_states = saved[(TrackerFeaturizer, "_create_states")].__func__
    rasas_applied = saved[(DialogueStateTracker, "applied_events")]
    compared: dict = {"predictions": 0, "differences": []}

    def create_states(tracker, domain, *args, **kwargs):
        got, ours_applied = windowed(tracker, domain, *args, **kwargs), counted(tracker)
        DialogueStateTracker.applied_events = rasas_applied
        try:
            want, their_applied = rasas_states(tracker, domain, *args, **kwargs), rasas_applied(tracker)
        finally:
            DialogueStateTracker.applied_events = counted
        compared["predictions"] += 1
        if got != want[-STATES_WINDOW:] or [id(e) for e in ours_applied] != [id(e) for e in their_applied]:
            compared["differences"].append((len(tracker.events), got[-2:], want[-2:]))
        return got

    create_states.kept = windowed.kept
    TrackerFeaturizer._create_states = staticmethod(create_states)
    return compared


def tracker_state(tracker) -> dict:
    """Everything a tracker holds, comparable: its events (by identity), slots and other attributes."""
    state = {name: value for name, value in vars(tracker).items() if name not in ("events", "slots", "_applied_so_far")}
    state["events"] = [id(e) for e in tracker.events]
    state["slots"] = {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()}
    state["applied"] = [id(e) for e in tracker.applied_events()]
    return state


def check_copies_against_rasas(saved: dict) -> dict:
    """Wrap the quick tracker copy so each copy is compared with Rasa's own (replayed) copy."""
    from rasa.shared.core.trackers import DialogueStateTracker

    quick, rasas = DialogueStateTracker.copy, saved[(DialogueStateTracker, "copy")]
    compared: dict = {"copies": 0, "differences": []}

    def copy(self):
        got, want = quick(self), rasas(self)
        compared["copies"] += 1
        if tracker_state(got) != tracker_state(want):
            compared["differences"].append((tracker_state(got), tracker_state(want)))
        return got

    DialogueStateTracker.copy = copy
    return compared


def converse(agent, sender: str, turns: int) -> list:
    """Each turn's replies and the actions (with the policy that predicted them) it ran."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    random.seed(17)
    numpy.random.seed(17)  # Rasa picks among a response's variations at random
    transcript = []

    async def run() -> None:
        for turn in long_conversation(turns):
            output = CollectingOutputChannel()
            await agent.handle_message(UserMessage(turn.message, output, sender))
            transcript.append([m.get("text") for m in output.messages])

    asyncio.run(run())
    tracker = asyncio.run(agent.tracker_store.retrieve_full_tracker(sender))
    actions = [(e.action_name, e.policy) for e in tracker.events if isinstance(e, ActionExecuted)]
    bots = [e.text for e in tracker.events if isinstance(e, BotUttered)]
    return [transcript, actions, bots]


def test_long_conversations_get_the_same_predictions_and_replies_with_the_seams(action_server) -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    from server.seams import long_conversations, tracker_store

    action_url, env, workdir = action_server
    model = launch.train()
    saved = seams()
    try:
        endpoint = EndpointConfig(action_url, token=env["ACTION_SERVER_TOKEN"])
        agent = Agent.load(str(model), action_endpoint=endpoint)
        agent.tracker_store = SQLTrackerStore(agent.domain, host=f"sqlite:///{workdir / 'tracker.db'}")
        agent.processor.tracker_store = agent.tracker_store
        rasas = converse(agent, "rasa-own", TURNS)
        tracker_store.install_fast_sql_tracker_store()
        long_conversations.install_windowed_dialogue_states()
        long_conversations.install_incremental_applied_events()
        long_conversations.install_recent_events_to_actions()
        long_conversations.install_quick_tracker_copy()
        compared = check_states_against_rasas(saved)
        copies = check_copies_against_rasas(saved)
        flat = converse(agent, "flat", TURNS)
        assert "flat" in tracker_store.kept_trackers(agent.tracker_store)  # the kept tracker was in use
        from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer

        assert any(key[0] == "flat" for key in TrackerFeaturizer._create_states.kept)  # and the windowed states
    finally:
        restore(saved)
    assert len(rasas[0]) == TURNS and all(rasas[0])  # every turn answered
    assert sum("Rests on:" in "\n".join(filter(None, r)) for r in rasas[0]) > TURNS / 4  # advice given throughout
    assert flat[0] == rasas[0]  # the same replies, turn by turn
    assert flat[1] == rasas[1]  # the same actions, predicted by the same policies
    assert flat[2] == rasas[2]
    assert len(rasas[1]) > 2 * long_conversations.STATES_WINDOW  # long enough for the window to matter
    assert copies["copies"] > TURNS and not copies["differences"], copies["differences"][:3]
    assert compared["predictions"] > 2 * TURNS and not compared["differences"], compared["differences"][:3]


def test_the_window_holds_every_rule_and_the_memoization_history() -> None:
    """STATES_WINDOW must exceed the longest rule of the trained model (a rule is matched against
    that many of the latest states, plus one that would say the conversation starts there) and
    MemoizationPolicy's max_history."""
    from rasa.core.agent import Agent
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy

    from server.seams.long_conversations import STATES_WINDOW

    agent = Agent.load(str(launch.train()))
    policies = [node.uses for node in agent.processor.model_metadata.predict_schema.nodes.values()]
    assert RulePolicy in policies and MemoizationPolicy in policies
    graph = agent.processor.graph_runner
    lengths, histories = [], []
    for name, node in agent.processor.model_metadata.predict_schema.nodes.items():
        if node.uses in (RulePolicy, MemoizationPolicy):
            policy = graph._instantiated_nodes[name]._component if hasattr(graph, "_instantiated_nodes") else None
            if policy is None:
                continue
            for lookup in (policy.lookup.get("rules", {}), policy.lookup.get("rules_for_loop_unhappy_path", {})) if node.uses is RulePolicy else (policy.lookup,):
                lengths += [len(policy._rule_key_to_state(key)) if node.uses is RulePolicy else 0 for key in lookup]
            histories.append(policy.config.get("max_history") or 0)
    assert lengths, "no rules found in the model"
    assert max(lengths) + 1 < STATES_WINDOW
    assert max(histories) < STATES_WINDOW
