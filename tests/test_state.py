"""Connection states and the transition table."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from okx_trio import TRANSITIONS as PUBLIC_TRANSITIONS
from okx_trio._state import TRANSITIONS, ConnectionState, StateChange, is_allowed

S = ConnectionState

EXPECTED = {
    S.DISCONNECTED: {S.CONNECTING},
    S.CONNECTING: {S.CONNECTED, S.RECONNECTING, S.FAILED, S.DISCONNECTED},
    S.CONNECTED: {S.RECONNECTING, S.FAILED, S.DISCONNECTED},
    S.RECONNECTING: {S.CONNECTING, S.FAILED, S.DISCONNECTED},
    S.FAILED: {S.CONNECTING, S.DISCONNECTED},
}


def test_state_values() -> None:
    assert [(s.name, s.value) for s in S] == [
        ("DISCONNECTED", "disconnected"),
        ("CONNECTING", "connecting"),
        ("CONNECTED", "connected"),
        ("RECONNECTING", "reconnecting"),
        ("FAILED", "failed"),
    ]


def test_transition_table_contents() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED
    assert all(isinstance(v, frozenset) for v in TRANSITIONS.values())
    assert PUBLIC_TRANSITIONS is TRANSITIONS


def test_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(S)


def test_no_self_transitions() -> None:
    for state, targets in TRANSITIONS.items():
        assert state not in targets


def test_connected_only_from_connecting() -> None:
    assert [s for s in S if S.CONNECTED in TRANSITIONS[s]] == [S.CONNECTING]


def test_every_state_can_reach_disconnected() -> None:
    # The client can always be closed: DISCONNECTED is reachable from anywhere in one step,
    # except from itself.
    for state in S:
        if state is not S.DISCONNECTED:
            assert is_allowed(state, S.DISCONNECTED)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(S, S)))
def test_is_allowed_matches_the_table(old: ConnectionState, new: ConnectionState) -> None:
    assert is_allowed(old, new) == (new in EXPECTED[old])


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[S.FAILED] = frozenset()  # type: ignore[index]


def test_state_change_fields() -> None:
    change = StateChange(S.RECONNECTING, "connection lost", retry_count=3)
    assert (change.state, change.message, change.retry_count) == (
        S.RECONNECTING,
        "connection lost",
        3,
    )
    assert StateChange(S.CONNECTED, "ok").retry_count == 0
    assert [f.name for f in dataclasses.fields(StateChange)] == [
        "state",
        "message",
        "retry_count",
        "connection",
        "delay",
        "endpoint",
    ]
    assert StateChange(S.FAILED, "x", 1) == StateChange(S.FAILED, "x", 1)
    assert StateChange(S.FAILED, "x", 1) != StateChange(S.FAILED, "x", 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.retry_count = 4  # type: ignore[misc]
