"""The model and a target driven side by side through a conformance ``Cell``, compared after every step.

A Hypothesis ``RuleBasedStateMachine`` (the shape of Hypothesis'
``test_database_agreement``): every operation runs on the cell's shadow model
(the oracle) and on the target with model IDs translated through the cell's
bijection; the cell compares codes, data and every pushed event.  After each
step the invariant asserts that the cell recorded no mismatch, and prints them
all if it did; Hypothesis then shrinks and prints the reproducing steps.

Bundles hold what later steps refer to: accounts, groups (the model's group
IDs) and messages (the model's message views).  Operations: C2C and group
sends (with an occasional client ``random`` to hit MSG-6, and bursts long
enough to page past 15), paging with or without a cursor, read, revoke (by
anyone or by the sender), delete, conversation list and profile,
create/join/quit/dismiss group, mute (mostly by the creator), member list,
extra logins (second instances, kicks) and clock steps through
``cell.advance``.

Targets: a fresh ``InProcDriver`` per example (default run, the loaded
settings profile from ``tests/conftest.py``) and a real ``simtim serve`` with a
fake clock and an admin key (bounded: 5 examples x 15 steps), one app per
example so examples stay independent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from simtim.conformance.cell import Cell, StepResult, probe
from simtim.driver.base import Driver
from simtim.driver.http import HttpDriver
from simtim.driver.inproc import InProcDriver
from tests.integration.server_process import ADMIN_KEY, CLOCK_START, ServerProcess

FIRST_USERS = ("a", "b", "c")
LATER_USERS = ("d", "e")
GROUP_TYPES = ("Private", "Public", "ChatRoom", "AVChatRoom")
#: clock steps around the revoke window (120 s), the C2C/group dedup windows (120/300 s) and a day
ADVANCES = (1, 30, 119, 121, 299, 301, 3600, 86400)

_cells = itertools.count(1)

texts = st.text(alphabet="abcxyz ", min_size=1, max_size=6)
#: mostly the primary instance, sometimes the account's second one (when it has one)
instances = st.sampled_from(["", "", "", "/2"])
client_randoms = st.one_of(st.none(), st.none(), st.sampled_from([7, 8]))
MEMBER_INDEX = st.integers(min_value=0, max_value=9)
#: page sizes: default, small, and above the cap of 15 (PAGE-1)
page_counts = st.one_of(st.none(), st.integers(min_value=1, max_value=20), st.just(20))


class ConformanceMachine(RuleBasedStateMachine):
    """Model vs target through one cell; subclasses say what the target is."""

    event_deadline: ClassVar[float] = 0.5
    settle: ClassVar[float] = 0.0

    accounts = Bundle("accounts")
    groups = Bundle("groups")
    messages = Bundle("messages")

    def __init__(self) -> None:
        super().__init__()
        number = next(_cells)
        self.target = self.make_target(number)
        self.cell = Cell(
            self.target,
            probe(self.target),
            prefix=f"h{number}x",
            sdkappid=1_700_000_000 + number,
            event_deadline=self.event_deadline,
            settle=self.settle,
            seed=number,
        )
        assert self.cell.own_app and self.cell.info.fake_clock, (
            "the target needs an admin API and a fake clock"
        )
        self.users: set[str] = set()
        self.owners: dict[str, str] = {}  # model group ID -> the account that created it
        self.custom_groups = 0

    def make_target(self, number: int) -> Driver:
        raise NotImplementedError

    def teardown(self) -> None:
        self.cell.close()
        self.target.close()

    # --- helpers --------------------------------------------------------------------------------
    def actor(self, user: str, instance: str) -> str:
        second = user + "/2"
        return second if instance and second in self.cell.sessions else user

    def do(self, user: str, instance: str, method: str, args: dict[str, Any], rule_id: str) -> StepResult:
        actor = self.actor(user, instance)
        return self.cell.do(actor, method, args, rule=rule_id, step=f"({actor})")

    def conversation(self, peer: str | None, group: str | None) -> str:
        return f"C2C{self.cell.user(peer)}" if peer is not None else f"GROUP{group}"

    def sender_of(self, message: Any) -> str:
        return str(message["from"]).removeprefix(self.cell.prefix)

    def members(self, group: str) -> list[str]:
        """The group's current members in the oracle's state (to aim operations, never to check them)."""
        found = self.cell.model.service.world.apps[self.cell.sdkappid].groups.get(group)
        return [user.removeprefix(self.cell.prefix) for user in found.members] if found is not None else []

    def pick(self, group: str, index: int | None, default: str, *, skip: str = "") -> str:
        """The ``index``-th member of ``group`` other than ``skip`` (``default`` when None or none)."""
        members = [m for m in self.members(group) if m != skip]
        return members[index % len(members)] if index is not None and members else default

    @staticmethod
    def message_of(result: StepResult) -> Any:
        return result.expected.data["message"] if result.expected.ok else multiple()

    # --- accounts and instances ---------------------------------------------------------------
    @initialize(target=accounts)
    def start(self) -> Any:
        for name in FIRST_USERS:
            self.cell.import_account(name, nick=name.upper())
            self.cell.login(name)
            self.users.add(name)
        return multiple(*FIRST_USERS)

    @rule(target=accounts, name=st.sampled_from(LATER_USERS), imported=st.booleans())
    def add_account(self, name: str, imported: bool) -> Any:
        """AUTH-5: an account exists once imported or once it logged in."""
        if name in self.users:
            return multiple()
        if imported:
            self.cell.import_account(name)
        self.cell.login(name, rule="AUTH-5", step=f"({name})")
        self.users.add(name)
        return name

    @rule(user=accounts, second=st.booleans(), platform=st.sampled_from(["web", "android", "ios"]))
    def login_again(self, user: str, second: bool, platform: str) -> None:
        """A new instance for the account: a second web login kicks the earliest one (INST-3/4)."""
        actor = user + ("/2" if second else "")
        self.cell.login(actor, platform, rule="INST-3", step=f"({actor} on {platform})")

    # --- messages -------------------------------------------------------------------------------
    @rule(
        target=messages, sender=accounts, to=accounts, text=texts, instance=instances, random=client_randoms
    )
    def send_c2c(self, sender: str, to: str, text: str, instance: str, random: int | None) -> Any:
        message: dict[str, Any] = {
            "to": self.cell.user(to),
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": text},
        }
        if random is not None:
            message["random"] = random
        return self.message_of(self.do(sender, instance, "sendMessage", {"message": message}, "MSG-5"))

    @rule(target=messages, sender=accounts, to=accounts, count=st.sampled_from([2, 5, 16, 20]))
    def send_burst(self, sender: str, to: str, count: int) -> Any:
        """Enough history in one conversation for paging past 15 (PAGE-1)."""
        sent = []
        for index in range(count):
            message = {
                "to": self.cell.user(to),
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": f"burst {index}"},
            }
            result = self.do(sender, "", "sendMessage", {"message": message}, "MSG-5")
            if result.expected.ok:
                sent.append(result.expected.data["message"])
        return multiple(*sent)

    @rule(
        target=messages,
        sender=accounts,
        group=groups,
        member=st.one_of(st.none(), MEMBER_INDEX),
        text=texts,
        instance=instances,
        priority=st.sampled_from(["Normal", "Normal", "High", "Low"]),
    )
    def send_group(
        self, sender: str, group: str, member: int | None, text: str, instance: str, priority: str
    ) -> Any:
        """Mostly by a current member (muted ones get 10017, MUTE-2), sometimes by anyone (10007)."""
        message = {
            "to": group,
            "conversationType": "GROUP",
            "type": "TIMTextElem",
            "payload": {"text": text},
            "priority": priority,
        }
        sender = self.pick(group, member, sender)
        return self.message_of(self.do(sender, instance, "sendMessage", {"message": message}, "MSG-3"))

    @rule(
        user=accounts,
        peer=st.one_of(st.none(), accounts),
        group=st.one_of(st.none(), groups),
        count=page_counts,
        cursor=st.one_of(st.none(), messages),
        instance=instances,
    )
    def page(
        self, user: str, peer: str | None, group: str | None, count: int | None, cursor: Any, instance: str
    ) -> None:
        if peer is None and group is None:
            peer = user
        args: dict[str, Any] = {"conversationID": self.conversation(peer, group)}
        if count is not None:
            args["count"] = count
        if cursor is not None:
            args["nextReqMessageID"] = cursor["ID"]
        self.do(user, instance, "getMessageList", args, "PAGE-1")

    @rule(message=messages, count=page_counts, cursor=st.booleans())
    def page_around(self, message: Any, count: int | None, cursor: bool) -> None:
        """The sender pages the message's own conversation, from the newest or from that message."""
        args: dict[str, Any] = {"conversationID": message["conversationID"]}
        if count is not None:
            args["count"] = count
        if cursor:
            args["nextReqMessageID"] = message["ID"]
        self.do(self.sender_of(message), "", "getMessageList", args, "PAGE-1")

    @rule(user=accounts, peer=st.one_of(st.none(), accounts), group=st.one_of(st.none(), groups))
    def read(self, user: str, peer: str | None, group: str | None) -> None:
        self.do(
            user, "", "setMessageRead", {"conversationID": self.conversation(peer or user, group)}, "UNREAD-1"
        )

    @rule(user=accounts, message=messages, instance=instances)
    def revoke(self, user: str, message: Any, instance: str) -> None:
        self.do(user, instance, "revokeMessage", {"message": message}, "REV-1")

    @rule(message=messages, instance=instances)
    def revoke_own(self, message: Any, instance: str) -> None:
        """The sender revokes: inside or outside the window depending on the clock steps (REV-1)."""
        self.do(self.sender_of(message), instance, "revokeMessage", {"message": message}, "REV-1")

    @rule(user=accounts, batch=st.lists(messages, min_size=1, max_size=2))
    def delete(self, user: str, batch: list[Any]) -> None:
        self.do(user, "", "deleteMessage", {"messageList": batch}, "MSG-9")

    @rule(user=accounts, instance=instances)
    def conversation_list(self, user: str, instance: str) -> None:
        self.do(user, instance, "getConversationList", {}, "CONV-2")

    @rule(user=accounts, peer=st.one_of(st.none(), accounts), group=st.one_of(st.none(), groups))
    def conversation_profile(self, user: str, peer: str | None, group: str | None) -> None:
        args = {"conversationID": self.conversation(peer or user, group)}
        self.do(user, "", "getConversationProfile", args, "CONV-2")

    # --- groups -------------------------------------------------------------------------------
    @rule(
        target=groups,
        owner=accounts,
        kind=st.sampled_from(GROUP_TYPES),
        members=st.lists(accounts, max_size=3, unique=True),
        custom=st.booleans(),
    )
    def create_group(self, owner: str, kind: str, members: list[str], custom: bool) -> Any:
        args: dict[str, Any] = {
            "name": f"{kind[:4]} group",
            "type": kind,
            "memberList": [{"userID": self.cell.user(m)} for m in members],
        }
        if custom:  # a custom ID; the second one is sometimes taken (10021)
            self.custom_groups = min(self.custom_groups + 1, 2)
            args["groupID"] = self.cell.user(f"g{self.custom_groups}")
        result = self.do(owner, "", "createGroup", args, "GRP-1")
        if not result.expected.ok:
            return multiple()
        group_id = result.expected.data["group"]["groupID"]
        self.owners[group_id] = owner
        return group_id

    @rule(user=accounts, group=groups, av=st.booleans())
    def join(self, user: str, group: str, av: bool) -> None:
        args: dict[str, Any] = {"groupID": group}
        if av:
            args["type"] = "AVChatRoom"
        self.do(user, "", "joinGroup", args, "GRP-7")

    @rule(user=accounts, group=groups)
    def quit(self, user: str, group: str) -> None:
        self.do(user, "", "quitGroup", {"groupID": group}, "GRP-4")

    @rule(user=accounts, group=groups)
    def dismiss(self, user: str, group: str) -> None:
        self.do(user, "", "dismissGroup", {"groupID": group}, "GRP-3")

    @rule(
        user=accounts,
        target_user=accounts,
        group=groups,
        by_owner=st.booleans(),
        member=st.one_of(st.none(), MEMBER_INDEX),
        seconds=st.sampled_from([0, 60, 600, 600]),
    )
    def mute(
        self, user: str, target_user: str, group: str, by_owner: bool, member: int | None, seconds: int
    ) -> None:
        """Mostly the creator muting a member, so later sends hit MUTE-2's 10017."""
        caller = self.owners[group] if by_owner else user
        target_user = self.pick(group, member, target_user, skip=caller)
        args = {"groupID": group, "userID": self.cell.user(target_user), "muteTime": seconds}
        self.do(caller, "", "setGroupMemberMuteTime", args, "MUTE-1")

    @rule(user=accounts, group=groups)
    def member_list(self, user: str, group: str) -> None:
        self.do(user, "", "getGroupMemberList", {"groupID": group}, "MBR-3")

    # --- time -----------------------------------------------------------------------------------
    @rule(seconds=st.sampled_from(ADVANCES))
    def advance(self, seconds: int) -> None:
        self.cell.advance(seconds, rule="CLOCK-1", step=f"advance {seconds}")

    # --- the check --------------------------------------------------------------------------------
    @invariant()
    def no_mismatch(self) -> None:
        found = self.cell.mismatches
        if found:
            lines = "\n".join("  " + m.describe() for m in found)
            raise AssertionError(f"{len(found)} mismatch(es) between the model and the target:\n{lines}")


class InProcTarget(ConformanceMachine):
    """The target is another in-process Service, seeded differently (so IDs really go through the map)."""

    def make_target(self, number: int) -> Driver:
        return InProcDriver(fake_clock=True, clock_start=CLOCK_START, seed=10_000 + number)


TestConformanceInProc = InProcTarget.TestCase


# --- a real `simtim serve` ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess(fake_clock=True, admin_key=ADMIN_KEY)
    yield proc
    proc.stop()


def test_conformance_against_simtim_serve(server: ServerProcess) -> None:
    class ServerTarget(ConformanceMachine):
        event_deadline = 2.0
        settle = 0.05  # pushes cross a WebSocket: give unexpected extras a moment to show up

        def make_target(self, number: int) -> Driver:
            return HttpDriver(server.url, admin_key=ADMIN_KEY)

    run_state_machine_as_test(ServerTarget, settings=settings(max_examples=5, stateful_step_count=15))
