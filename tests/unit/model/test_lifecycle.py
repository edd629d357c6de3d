"""The instance lifecycle table (simtim.model.lifecycle): the moves no user call can reach.

The behaviour a user sees (6013 after destroy, 6208 after a kick ...) is tested through the SDK
in test_sessions.py; here the table itself: the edges that must not exist, and that each
refusing state maps to exactly one code.
"""

from __future__ import annotations

import pytest

from simtim.errors import Code
from simtim.model.entities import Instance
from simtim.model.lifecycle import (
    DESTROYED,
    EXPIRED,
    KICKED,
    NEW,
    ONLINE,
    TRANSITIONS,
    InstanceState,
    LifecycleError,
    Transition,
    next_state,
    state_error,
)


def test_inst_1_destroyed_is_final() -> None:
    for move in Transition:
        with pytest.raises(LifecycleError):
            next_state(DESTROYED, move)


@pytest.mark.parametrize("state", [NEW, ONLINE, KICKED, EXPIRED])
def test_inst_1_every_other_state_logs_out_to_new_and_can_be_destroyed(state: InstanceState) -> None:
    assert next_state(state, Transition.LOGOUT) is NEW
    assert next_state(state, Transition.DESTROY) is DESTROYED


def test_only_an_online_instance_is_kicked_expires_or_cannot_log_in() -> None:
    assert {state for (state, move) in TRANSITIONS if move in (Transition.KICK, Transition.EXPIRE)} == {
        ONLINE
    }
    assert {state for (state, move) in TRANSITIONS if move is Transition.LOGIN} == {NEW, KICKED, EXPIRED}


def test_an_illegal_move_leaves_the_instance_as_it_was() -> None:
    inst = Instance(1, 1400000000, "web")
    with pytest.raises(LifecycleError, match="cannot kick while new"):
        inst.move(Transition.KICK)
    assert inst.state is NEW
    inst.move(Transition.LOGIN)
    inst.move(Transition.KICK)
    assert inst.state is KICKED


@pytest.mark.parametrize(
    ("state", "code", "rule"),
    [
        (DESTROYED, Code.SDK_NOT_INITIALIZED, "INST-1"),
        (NEW, Code.NOT_LOGGED_IN, "INST-1"),
        (KICKED, Code.KICKED_BY_OTHER, "INST-3"),
        (EXPIRED, Code.USERSIG_EXPIRED_KICKED, "INST-5"),
    ],
)
def test_each_refusing_state_has_one_code(state: InstanceState, code: int, rule: str) -> None:
    error = state_error(state)
    assert (error.code, error.rule) == (code, rule)


def test_conv_1_conversation_apis_before_login_are_6004_in_that_state_only() -> None:
    assert state_error(NEW, conversation_api=True).code == Code.CONVERSATION_INVALID
    assert state_error(KICKED, conversation_api=True).code == Code.KICKED_BY_OTHER
    assert state_error(DESTROYED, conversation_api=True).code == Code.SDK_NOT_INITIALIZED


def test_an_online_instance_has_no_refusal() -> None:
    with pytest.raises(LifecycleError):
        state_error(ONLINE)
