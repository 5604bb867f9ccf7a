"""Long conversations: a turn's cost flat however long the conversation.

The policies get the latest dialogue states, counted on from the last prediction; applied events
are counted on likewise; a tracker is copied from its state, not by replaying its events; the
action server is sent the latest user turns only.
"""

from __future__ import annotations

import json
from typing import Any

from server.seams import wrap_once

# Dialogue states kept per conversation for prediction (see install_windowed_dialogue_states): more
# than the longest rule of this bot (tests/server/test_conversations.py checks the trained model) and
# MemoizationPolicy's max_history (5).
STATES_WINDOW = 40


KEPT_CONVERSATIONS = 512


class _StatesSoFar:
    """The dialogue states of one conversation up to some applied event, and where the count stopped."""

    __slots__ = ("prior", "applied", "first", "last", "states", "hidden", "last_ml_action")

    def __init__(self, prior: Any) -> None:
        self.prior = prior  # the tracker after the first `applied` applied events (generate_all_prior_trackers's)
        self.applied = 0
        self.first: tuple | None = None  # (type, timestamp) of the first and latest applied events counted
        self.last: tuple | None = None
        self.states: Any = None  # the last STATES_WINDOW states
        self.hidden = False  # Domain.states_for_tracker_history's turn_was_hidden
        self.last_ml_action: Any = None  # and its last_ml_action_sub_state


def _event_mark(event: Any) -> tuple:
    return (type(event), event.timestamp)


def install_windowed_dialogue_states() -> None:
    """Policies featurise only the conversation's latest dialogue states, counted once.

    Rasa turned the whole conversation into states again for every prediction. States are now
    counted on from where the last prediction stopped and only the last STATES_WINDOW go to the
    policies: no prediction changes (MemoizationPolicy looks at max_history states, RulePolicy at
    as many as a rule has). The count restarts when the applied events are not the ones counted
    before plus new ones (a new session, a restart, a rewind); training trackers are as before."""
    from collections import OrderedDict

    from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
    from rasa.shared.core.constants import PREVIOUS_ACTION
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    def wrap(original: Any) -> Any:
        kept: OrderedDict[tuple, _StatesSoFar] = OrderedDict()

        def state_of(
            domain: Any,
            tr: Any,
            hide_rule_turn: bool,
            so_far: _StatesSoFar,
            omit_unset_slots: bool,
            ignore_rule_only_turns: bool,
            rule_only_data: Any,
            previous: Any,
        ) -> tuple[Any, bool, Any]:
            """One step of Domain.states_for_tracker_history: (the state or None when hidden, hidden, last ML action)."""
            hidden, last_ml_action = so_far.hidden, so_far.last_ml_action
            if ignore_rule_only_turns:
                if not hidden:
                    last_ml_action = domain._get_prev_action_sub_state(tr)
                if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                    hidden = hide_rule_turn
                if hidden:
                    return None, hidden, last_ml_action
            state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
            if ignore_rule_only_turns:
                domain._remove_rule_only_features(state, rule_only_data)
                if previous is not None:
                    domain._substitute_rule_only_user_input(state, previous)
                if last_ml_action:
                    state[PREVIOUS_ACTION] = last_ml_action
            return domain._clean_state(state), hidden, last_ml_action

        def _create_states(
            tracker: Any,
            domain: Any,
            omit_unset_slots: bool = False,
            ignore_rule_only_turns: bool = False,
            rule_only_data: Any = None,
        ) -> list:
            if type(tracker) is not DialogueStateTracker or tracker.is_rule_tracker:
                return original(tracker, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            import collections

            applied = tracker.applied_events()
            key = (
                tracker.sender_id,
                id(domain),
                omit_unset_slots,
                ignore_rule_only_turns,
                json.dumps(rule_only_data, sort_keys=True, default=str),
            )
            so_far = kept.pop(key, None)
            if (
                so_far is None
                or len(applied) < so_far.applied
                or (
                    so_far.applied
                    and (_event_mark(applied[0]) != so_far.first or _event_mark(applied[so_far.applied - 1]) != so_far.last)
                )
            ):
                so_far = _StatesSoFar(tracker.init_copy())
                so_far.prior.events = collections.deque(maxlen=STATES_WINDOW)  # states are built from its attributes
                so_far.states = collections.deque(maxlen=STATES_WINDOW)
            for event in applied[so_far.applied :]:
                if isinstance(event, ActionExecuted):
                    previous = so_far.states[-1] if so_far.states else None
                    state, so_far.hidden, so_far.last_ml_action = state_of(
                        domain,
                        so_far.prior,
                        event.hide_rule_turn,
                        so_far,
                        omit_unset_slots,
                        ignore_rule_only_turns,
                        rule_only_data,
                        previous,
                    )
                    if state is not None:
                        so_far.states.append(state)
                so_far.prior.update(event)
            if applied:
                so_far.applied, so_far.first, so_far.last = len(applied), _event_mark(applied[0]), _event_mark(applied[-1])
            kept[key] = so_far
            while len(kept) > KEPT_CONVERSATIONS:
                kept.popitem(last=False)
            # the state of the tracker as it stands (not kept: more events follow), as Rasa's last step
            previous = so_far.states[-1] if so_far.states else None
            state, _, _ = state_of(
                domain, so_far.prior, False, so_far, omit_unset_slots, ignore_rule_only_turns, rule_only_data, previous
            )
            # the featurisers change states in place (a user's text or intent dropped): copies of the kept ones
            states = [{name: dict(sub) if isinstance(sub, dict) else sub for name, sub in s.items()} for s in so_far.states]
            if state is not None:
                states.append(state)
                del states[: max(len(states) - STATES_WINDOW, 0)]
            return states

        _create_states.kept = kept  # type: ignore[attr-defined]
        return _create_states

    wrap_once(TrackerFeaturizer, "_create_states", wrap)


def install_incremental_applied_events() -> None:
    """A tracker's applied events counted on from where they were last counted.

    DialogueStateTracker.applied_events walks every event, several times per prediction. The walk
    goes on from the last count when only events were added and none names a new loop (a new loop
    name can change how earlier events count: then all are counted again, as Rasa does)."""
    import itertools

    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    def wrap(original: Any) -> Any:
        def walk(self: DialogueStateTracker, events: Any, loop_names: Any, applied: list) -> list:
            for event in events:  # Rasa's own loop (rasa/shared/core/trackers.py)
                if isinstance(event, (Restarted, SessionStarted)):
                    applied = []
                elif isinstance(event, ActionReverted):
                    self._undo_till_previous(ActionExecuted, applied)
                elif isinstance(event, UserUtteranceReverted):
                    self._undo_till_previous(UserUttered, applied)
                    self._undo_till_previous(ActionExecuted, applied)
                elif (
                    isinstance(event, ActionExecuted)
                    and event.action_name in loop_names
                    and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
                ):
                    self._undo_till_previous_loop_execution(event.action_name, applied)
                else:
                    applied.append(event)
            return applied

        def applied_events(self: DialogueStateTracker) -> list:
            events = self.events
            count = len(events)
            counted = self.__dict__.get("_applied_so_far")
            if (
                counted is not None
                and counted[0] is events
                and counted[1] <= count
                and count
                and (counted[1] == 0 or events[counted[1] - 1] is counted[2])
            ):
                new = list(itertools.islice(events, counted[1], None))
                names = {e.name for e in new if isinstance(e, ActiveLoop) and e.name}
                if names <= counted[3]:
                    applied = walk(self, new, counted[3], counted[4])
                    self.__dict__["_applied_so_far"] = (events, count, events[-1], counted[3], applied)
                    return list(applied)
            loop_names = [e.name for e in events if isinstance(e, ActiveLoop) and e.name]
            applied = walk(self, events, loop_names, [])
            if count:
                self.__dict__["_applied_so_far"] = (events, count, events[-1], set(loop_names), applied)
            return list(applied)

        return applied_events

    wrap_once(DialogueStateTracker, "applied_events", wrap)


def install_quick_tracker_copy() -> None:
    """DialogueStateTracker.copy from the tracker's state instead of replaying every event (idempotent).

    Before each action Rasa copies the conversation's tracker (rasa/core/processor.py, so that a
    rejected action leaves it untouched) by replaying all its events onto a new one: work that
    grows with the conversation, for every action of every turn. The copy is now made from the
    state those events left: the same events, copies of the slots, the active loop and the latest
    action, the same latest message and bot utterance, and no model or assistant id (Rasa's copy
    has none either). Trackers of other classes are copied as before."""
    import copy as copying

    from rasa.shared.core.trackers import DialogueStateTracker

    def wrap(original: Any) -> Any:
        def copy(self: DialogueStateTracker) -> DialogueStateTracker:
            if type(self) is not DialogueStateTracker:
                return original(self)
            new = self.init_copy()
            fresh = set(vars(new))
            for name, value in vars(self).items():
                if name in ("events", "slots", "model_id", "assistant_id", "sender_source", "_applied_so_far", "_read_by"):
                    continue
                if name not in fresh and not name.startswith("_"):
                    return original(self)  # an attribute this copy does not know: Rasa's own
                new.__dict__[name] = value
            new.events.extend(self.events)
            new.slots = {name: copying.copy(slot) for name, slot in self.slots.items()}
            new.active_loop = copying.copy(self.active_loop)
            new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
            counted = self.__dict__.get("_applied_so_far")
            if counted is not None and counted[0] is self.events and counted[1] == len(new.events):
                new.__dict__["_applied_so_far"] = (new.events, counted[1], counted[2], set(counted[3]), list(counted[4]))
            return new

        return copy

    wrap_once(DialogueStateTracker, "copy", wrap)


# The user turns of the conversation the action server is sent (install_recent_events_to_actions).
USER_TURNS_TO_ACTIONS = 5


def recent_events(events: Any, user_turns: int = USER_TURNS_TO_ACTIONS) -> list:
    """The events from the `user_turns`-th last user message on (all events if there are fewer)."""
    from rasa.shared.core.events import UserUttered

    events = list(events) if not isinstance(events, list) else events
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == user_turns:
                return events[index:]
    return events


def install_recent_events_to_actions() -> None:
    """Send the action server the conversation's latest user turns, not all its events (idempotent).

    Rasa serialises every event of the session into each action call, and the action server reads
    them all back: work that grows with the conversation on both servers. The actions read the
    slots, the latest message and the active loop (sent as before, whole) and, from the events,
    only the person's previous message (actions/conversation.py) and the slots set since the
    last message (rasa_sdk's form validation): the last USER_TURNS_TO_ACTIONS user turns hold
    both. Everything else in the call is as Rasa builds it."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    def wrap(original: Any) -> Any:
        def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
            state = tracker.current_state(EventVerbosity.NONE)
            state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
            call = {
                "next_action": self._name,
                "sender_id": tracker.sender_id,
                "tracker": state,
                "version": __import__("rasa").__version__,
            }
            if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
                call["domain"] = domain.as_dict()
            return call

        return _action_call_format

    wrap_once(RemoteAction, "_action_call_format", wrap)
