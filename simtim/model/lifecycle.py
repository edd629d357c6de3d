"""The SDK instance lifecycle: states, the transition table, and what each state refuses.

Rules of this module (h11 ``_state.py`` style):

- An instance is always in exactly one ``InstanceState``; only ``Instance.move`` changes it,
  through ``next_state``, and only along an edge of ``TRANSITIONS``. Any other move is a bug
  in the model and raises ``LifecycleError`` (never an ``IMError``: a user cannot cause it).
- ``state_error`` (over the ``REFUSALS`` table) is the one place that turns a state into the
  error a call gets there (INST-1, INST-3, INST-5, CONV-1), so the codes cannot drift between
  call sites: a caller decides only *whether* the state refuses (``Sessions.require_online``
  for calls that need a login; ``state is DESTROYED`` for the few that work in every other
  state).
- "Expired" is also decided on read (CLOCK-1): an online instance whose UserSig ran out
  answers as ``EXPIRED`` before the sweep moves it (``Sessions.effective_state``, which needs
  the app's clock, so it is not decided here).
"""

from __future__ import annotations

from enum import StrEnum

from simtim.errors import Code, IMError


class InstanceState(StrEnum):
    NEW = "new"  # created or logged out (INST-1)
    ONLINE = "online"  # logged in (INST-2)
    KICKED = "kicked"  # displaced by another login or an admin kick (INST-3, INST-4, INST-6)
    EXPIRED = "expired"  # its UserSig ran out while online (INST-5)
    DESTROYED = "destroyed"  # TIM.destroy(): every later call is 6013 (INST-1)


class Transition(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    KICK = "kick"
    EXPIRE = "expire"
    DESTROY = "destroy"


NEW, ONLINE, KICKED, EXPIRED, DESTROYED = (
    InstanceState.NEW,
    InstanceState.ONLINE,
    InstanceState.KICKED,
    InstanceState.EXPIRED,
    InstanceState.DESTROYED,
)

#: (state, transition) -> next state. A missing pair is an illegal move.
TRANSITIONS: dict[tuple[InstanceState, Transition], InstanceState] = {
    # INST-2/INST-3/INST-5: any live or displaced instance may log in again
    (NEW, Transition.LOGIN): ONLINE,
    (KICKED, Transition.LOGIN): ONLINE,
    (EXPIRED, Transition.LOGIN): ONLINE,
    # INST-1: logout from any non-destroyed state lands in NEW (a no-op from NEW)
    (NEW, Transition.LOGOUT): NEW,
    (ONLINE, Transition.LOGOUT): NEW,
    (KICKED, Transition.LOGOUT): NEW,
    (EXPIRED, Transition.LOGOUT): NEW,
    # INST-3/INST-4/INST-6 and INST-5: only an online instance is displaced or expires
    (ONLINE, Transition.KICK): KICKED,
    (ONLINE, Transition.EXPIRE): EXPIRED,
    # INST-1: destroy logs out first, then the instance is gone for good
    (NEW, Transition.DESTROY): DESTROYED,
    (ONLINE, Transition.DESTROY): DESTROYED,
    (KICKED, Transition.DESTROY): DESTROYED,
    (EXPIRED, Transition.DESTROY): DESTROYED,
}

#: What a call that needs a logged-in instance gets in each other state.
REFUSALS: dict[InstanceState, tuple[Code, str]] = {
    DESTROYED: (Code.SDK_NOT_INITIALIZED, "INST-1"),
    NEW: (Code.NOT_LOGGED_IN, "INST-1"),
    KICKED: (Code.KICKED_BY_OTHER, "INST-3"),
    EXPIRED: (Code.USERSIG_EXPIRED_KICKED, "INST-5"),
}


class LifecycleError(RuntimeError):
    """A transition the table does not allow: a bug in the model, not a user error."""


def next_state(state: InstanceState, move: Transition) -> InstanceState:
    try:
        return TRANSITIONS[(state, move)]
    except KeyError:
        raise LifecycleError(f"instance cannot {move.value} while {state.value}") from None


def state_error(state: InstanceState, *, conversation_api: bool = False) -> IMError:
    """The one place a state becomes the error a call gets there (REFUSALS, plus CONV-1:
    conversation APIs before login answer 6004, not 6014)."""
    if state is NEW and conversation_api:
        return IMError(Code.CONVERSATION_INVALID, "log in first", rule="CONV-1")
    try:
        code, rule = REFUSALS[state]
    except KeyError:
        raise LifecycleError(f"a call is never refused while {state.value}") from None
    return IMError(code, rule=rule)


__all__ = [
    "DESTROYED",
    "EXPIRED",
    "KICKED",
    "NEW",
    "ONLINE",
    "REFUSALS",
    "TRANSITIONS",
    "InstanceState",
    "LifecycleError",
    "Transition",
    "next_state",
    "state_error",
]
