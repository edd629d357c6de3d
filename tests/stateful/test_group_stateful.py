"""The group model under a Hypothesis state machine, checked against its own record.

Five accounts, each with one online web instance, create groups of all four types and churn
them: join (and apply), quit, add (SDK and App admin), kick, set roles, change owners, mute and
unmute while the FakeClock moves, send group messages at every priority against a small MSG-7
rate, set remind types, handle applications and dismiss.  The machine keeps an independent shadow
of every group (members in join order with roles, owner, maxMemberNum, mutes, the stored history
as message IDs and tip types, each member's visibility start, the per-second message count, each
instance's AVChatRoom, pending applications) and predicts every reply code before the call.

Invariants after every step:

* GRP-3/GRP-4/GRP-6: exactly one Owner per group, or none only for a Private group whose owner
  quit; roles change only through setGroupMemberRole/changeGroupOwner (the member list, read
  through getGroupMemberList paging, equals the shadow's members, join order and roles);
* MBR-5: the member count never exceeds maxMemberNum;
* MUTE-2: a member whose mute has not expired is refused 10017 on every send (probed); the send
  rule checks that it succeeds once expired;
* PAGE-1/PAGE-2/TIP-1/MSG-4: every member pages (getMessageList following nextReqMessageID until
  isCompleted) exactly the stored group messages and tips since their join (ChatRoom: all; AVChatRoom:
  none), each once, in order, with consecutive sequences;
* ORDER-1: only IMError is ever raised, and a refused call leaves the app unchanged (pickle).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule

from simtim.errors import IMError
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.sdk import TIM, SimTIM
from simtim.usersig import gen_usersig

APP = DEV_SDKAPPID
USERS = ("u0", "u1", "u2", "u3", "u4")
TYPES = ("Private", "Public", "ChatRoom", "AVChatRoom")
JOIN_OPTIONS = ("FreeAccess", "NeedPermission", "DisableApply")
DEFAULT_MAX = {"Private": 200, "Public": 2000, "ChatRoom": 10000, "AVChatRoom": None}
RATE = 3  # MSG-7 messages per group per second (cfg), small so the limit is reached
OWNER, ADMIN, MEMBER = "Owner", "Admin", "Member"
TIP = "TIMGroupTipElem"
OK = None  # expected "no error"

users = st.sampled_from(USERS)
targets = st.sampled_from((*USERS, "ghost"))  # "ghost" is no account
PRIORITIES = st.sampled_from(("Normal", "Normal", "High", "Low", "Lowest"))


@dataclass
class Shadow:
    """What the machine believes about one group."""

    gid: str
    type: str
    join_option: str
    max: int | None
    owner: str
    members: dict[str, str] = field(default_factory=dict)  # user -> role, in join order
    history: list[tuple[str, Any]] = field(default_factory=list)  # ("msg", ID) | ("tip", operationType)
    visible_from: dict[str, int] = field(default_factory=dict)  # index into history (PAGE-2)
    mute: dict[str, int] = field(default_factory=dict)  # muteUntil; survives quit/rejoin (MUTE-2)

    def stores_tip(self, op_type: int) -> bool:
        """TIP-1: AVChatRoom stores no tip; ChatRoom member-change tips are off by default."""
        return self.type != "AVChatRoom" and not (self.type == "ChatRoom" and op_type in (1, 2, 3))

    def tip(self, op_type: int) -> None:
        if self.stores_tip(op_type):
            self.history.append(("tip", op_type))

    def add(self, user: str, role: str = MEMBER) -> None:
        self.members[user] = role
        self.visible_from[user] = len(self.history)

    def full(self, extra: int = 1) -> bool:
        return self.max is not None and len(self.members) + extra > self.max


class GroupMachine(RuleBasedStateMachine):
    groups = Bundle("groups")

    def __init__(self) -> None:
        super().__init__()
        self.service = SimTIM()
        self.world = self.service.world
        self.world.configure_app(APP, group_message_rate_per_second=RATE)
        self.tims: dict[str, TIM] = {}
        for user in USERS:
            tim = self.service.create({"SDKAppID": APP})
            sig = gen_usersig(APP, DEV_SECRET_KEY, user, 10**7, now=self.service.clock.now())
            tim.login({"userID": user, "userSig": sig})
            self.tims[user] = tim
        self.shadows: dict[str, Shadow] = {}  # live groups
        self.room: dict[str, str] = dict.fromkeys(USERS, "")  # each instance's AVChatRoom (GRP-7)
        self.remind: dict[tuple[str, str], str] = {}  # (gid, user) -> remind type (GRP-9)
        self.rate: dict[str, tuple[int, int]] = {}  # gid -> (second, accepted count) (MSG-7)
        self.current_application: dict[tuple[str, str], int] = {}  # (gid, applicant) -> token
        self.tokens = 0
        self.pending: list[
            tuple[str, dict[str, Any], str, str, int]
        ] = []  # handler, notice, gid, applicant, token
        self.drain()

    # --- plumbing -------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.service.clock.now()

    def snapshot(self) -> bytes:
        return pickle.dumps((self.world.apps[APP], self.world.ids))

    def call(
        self, user: str, method: str, opts: dict[str, Any], expected: int | None
    ) -> dict[str, Any] | None:
        """Make the call and require the predicted outcome; only IMError may be raised (ORDER-1)."""
        before = self.snapshot()
        try:
            if method == "sendMessage":
                data = self.tims[user].send_message(opts)
            else:
                data = self.tims[user].call(method, opts)
        except IMError as error:
            assert error.code == expected, f"{user} {method} {opts}: expected {expected}, got {error}"
            assert self.snapshot() == before, f"refused {method} changed the world (ORDER-1)"
            assert all(not tim.events for tim in self.tims.values()), f"refused {method} emitted events"
            return None
        assert expected is OK, f"{user} {method} {opts}: expected {expected}, got success {data}"
        return data

    def drain(self) -> dict[str, list[tuple[str, Any]]]:
        """Take every instance's events; record join applications (notice 1) per handler."""
        taken = {user: tim.take_events() for user, tim in self.tims.items()}
        for user, events in taken.items():
            for name, data in events:
                if name == "receiveGroupSystemNotice" and data["type"] == 1:
                    payload = data["message"]["payload"]
                    gid, applicant = payload["groupProfile"]["groupID"], payload["operatorID"]
                    token = self.current_application[(gid, applicant)]
                    self.pending.append((user, data["message"], gid, applicant, token))
        return taken

    def live(self, gid: str) -> Shadow | None:
        return self.shadows.get(gid)

    def pick(
        self,
        data: st.DataObject,
        gid: str,
        roles: tuple[str, ...] = (OWNER, ADMIN, MEMBER),
        pool: tuple[str, ...] = USERS,
    ) -> str:
        """Mostly a member of the group with one of ``roles`` (so calls get past the permission
        checks), sometimes anyone from ``pool``."""
        shadow = self.live(gid)
        fitting = [u for u, r in shadow.members.items() if r in roles] if shadow is not None else []
        if fitting and data.draw(st.integers(0, 3), label="bias"):
            return data.draw(st.sampled_from(fitting))
        return data.draw(st.sampled_from(pool))

    def remove(self, shadow: Shadow, user: str) -> None:
        del shadow.members[user]
        shadow.visible_from.pop(user, None)
        self.remind.pop((shadow.gid, user), None)  # the conversation state goes with the membership
        if shadow.owner == user:
            shadow.owner = ""
        if self.room[user] == shadow.gid:
            self.room[user] = ""

    def enter_room(self, user: str, shadow: Shadow) -> None:
        """GRP-7: an instance is in one AVChatRoom; it leaves the previous (its owner stays a member)."""
        previous = self.shadows.get(self.room[user])
        if (
            previous is not None
            and previous is not shadow
            and user in previous.members
            and previous.owner != user
        ):
            self.remove(previous, user)
            previous.tip(2)
        self.room[user] = shadow.gid

    # --- create -----------------------------------------------------------------------------
    @rule(
        target=groups,
        creator=users,
        group_type=st.sampled_from(TYPES),
        member_list=st.lists(st.tuples(targets, st.integers(0, 3).map(lambda n: n == 0)), max_size=3),
        join_option=st.sampled_from(JOIN_OPTIONS),
        max_members=st.sampled_from((None, 2, 3, 4)),
    )
    def create(
        self,
        creator: str,
        group_type: str,
        member_list: list[tuple[str, bool]],
        join_option: str,
        max_members: int | None,
    ) -> Any:
        opts: dict[str, Any] = {
            "name": "g",
            "type": group_type,
            "joinOption": join_option,
            "memberList": [{"userID": u, **({"role": ADMIN} if admin else {})} for u, admin in member_list],
        }
        if max_members is not None:
            opts["maxMemberNum"] = max_members
        limit = max_members if max_members is not None else DEFAULT_MAX[group_type]
        initial: dict[str, str] = {}
        if group_type != "AVChatRoom":
            for user, admin in member_list:
                if user != creator and user not in initial:
                    initial[user] = ADMIN if admin else MEMBER
        if any(admin for _, admin in member_list) and group_type in ("Private", "AVChatRoom"):
            expected: int | None = 10004
        elif "ghost" in initial:
            expected = 10019
        elif limit is not None and 1 + len(initial) > limit:
            expected = 10014
        else:
            expected = OK
        data = self.call(creator, "createGroup", opts, expected)
        self.drain()
        if data is None:
            return multiple()
        gid = data["group"]["groupID"]
        fixed = {"Private": "DisableApply", "AVChatRoom": "FreeAccess"}.get(group_type, join_option)
        assert data["group"]["joinOption"] == fixed
        shadow = Shadow(gid, group_type, fixed, limit, creator)
        shadow.add(creator, OWNER)
        for user, role in initial.items():
            shadow.add(user, role)
        self.shadows[gid] = shadow
        return gid

    # --- join / quit -------------------------------------------------------------------------
    @rule(gid=groups, data=st.data(), user=users, without_type=st.integers(0, 4))
    def join(self, gid: str, data: st.DataObject, user: str, without_type: int) -> None:
        """Anyone joins or applies; members re-enter (AVChatRoom: the instance's room changes)."""
        if data.draw(st.booleans(), label="member"):
            user = self.pick(data, gid)
        with_type = without_type > 0  # an AVChatRoom join without type is 6017
        shadow = self.live(gid)
        opts: dict[str, Any] = {"groupID": gid, "applyMessage": "please"}
        if with_type:
            opts["type"] = "AVChatRoom"
        if shadow is None:
            expected: int | None = 10010
        elif shadow.type == "Private":
            expected = 10007
        elif shadow.type == "AVChatRoom" and not with_type:
            expected = 6017
        elif user in shadow.members:
            expected = OK
        elif shadow.join_option == "DisableApply":
            expected = 10007
        elif shadow.full():
            expected = 10014
        else:
            expected = OK
        if (
            expected is OK
            and shadow is not None
            and shadow.join_option == "NeedPermission"
            and user not in shadow.members
        ):
            self.tokens += 1
            self.current_application[(gid, user)] = self.tokens  # re-applying replaces (GRP-7)
        data = self.call(user, "joinGroup", opts, expected)
        if data is None or shadow is None:
            self.drain()
            return
        if user in shadow.members:
            assert data["status"] == "AlreadyInGroup"
            if shadow.type == "AVChatRoom":
                self.enter_room(user, shadow)
        elif shadow.join_option == "NeedPermission":
            assert data == {"status": "WaitAdminApproval"}
            handlers = {u for u, r in shadow.members.items() if r in (OWNER, ADMIN)}
            before = len(self.pending)
            self.drain()
            assert {p[0] for p in self.pending[before:]} == handlers  # notice 1 to Owner + Admins
            return
        else:
            assert data["status"] == "JoinedSuccess"
            if shadow.type == "AVChatRoom":
                self.enter_room(user, shadow)
            shadow.add(user)
            shadow.tip(1)
        self.drain()

    @precondition(lambda self: any(s.type == "AVChatRoom" for s in self.shadows.values()))
    @rule(data=st.data(), user=users)
    def enter_avchatroom(self, data: st.DataObject, user: str) -> None:
        """GRP-7: an instance moves between live rooms (owners included: they stay owners)."""
        rooms = [s.gid for s in self.shadows.values() if s.type == "AVChatRoom"]
        self.join(data.draw(st.sampled_from(rooms)), data, user, without_type=1)

    @rule(gid=groups, data=st.data())
    def quit(self, gid: str, data: st.DataObject) -> None:
        user = self.pick(data, gid, (ADMIN, MEMBER))
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif user not in shadow.members:
            expected = 10007
        elif shadow.owner == user and shadow.type != "Private":
            expected = 10009
        else:
            expected = OK
        if self.call(user, "quitGroup", {"groupID": gid}, expected) is not None:
            assert shadow is not None
            self.remove(shadow, user)
            shadow.tip(2)
        self.drain()

    # --- add / kick -----------------------------------------------------------------------------
    def expect_added(self, shadow: Shadow, wanted: list[str], data: dict[str, Any]) -> None:
        success, failure, existed = [], [], []
        room = None if shadow.max is None else shadow.max - len(shadow.members)
        for user in dict.fromkeys(wanted):
            if user in shadow.members:
                existed.append(user)
            elif user == "ghost" or (room is not None and len(success) >= room):
                failure.append(user)
            else:
                success.append(user)
        assert (data["successUserIDList"], data["failureUserIDList"], data["existedUserIDList"]) == (
            success,
            failure,
            existed,
        )
        for user in success:
            shadow.add(user)
        if success:
            shadow.tip(1)

    @rule(gid=groups, data=st.data(), wanted=st.lists(targets, min_size=1, max_size=3))
    def add_member(self, gid: str, data: st.DataObject, wanted: list[str]) -> None:
        caller = self.pick(data, gid)
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif caller not in shadow.members or shadow.type != "Private":
            expected = 10007  # MBR-1: only Private lets SDK users add
        else:
            expected = OK
        data = self.call(caller, "addGroupMember", {"groupID": gid, "userIDList": wanted}, expected)
        if data is not None:
            assert shadow is not None
            self.expect_added(shadow, wanted, data)
        self.drain()

    @rule(gid=groups, wanted=st.lists(targets, min_size=1, max_size=3))
    def admin_add_member(self, gid: str, wanted: list[str]) -> None:
        shadow = self.live(gid)
        expected = 10010 if shadow is None else 10007 if shadow.type == "AVChatRoom" else OK
        try:
            outcome = self.world.admin_add_group_member(APP, gid, wanted)
        except IMError as error:
            assert error.code == expected, error
            return
        assert expected is OK and shadow is not None
        self.service.dispatch(outcome.events)
        self.expect_added(shadow, wanted, outcome.data)
        self.drain()

    @rule(gid=groups, data=st.data(), size=st.integers(1, 2))
    def kick(self, gid: str, data: st.DataObject, size: int) -> None:
        caller = self.pick(data, gid, (OWNER, ADMIN))
        wanted = [self.pick(data, gid, (ADMIN, MEMBER), (*USERS, "ghost")) for _ in range(size)]
        shadow = self.live(gid)
        expected: int | None = OK
        if shadow is None:
            expected = 10010
        elif caller not in shadow.members:
            expected = 10007
        elif shadow.type == "AVChatRoom" or caller in wanted or (shadow.owner and shadow.owner in wanted):
            expected = 10004
        else:
            role = shadow.members[caller]
            allowed = {OWNER: {ADMIN, MEMBER}, ADMIN: {MEMBER}, MEMBER: set()}[role]
            may_kick = (OWNER,) if shadow.type == "Private" else (OWNER, ADMIN)  # MBR-2
            beyond = any(shadow.members[u] not in allowed for u in wanted if u in shadow.members)
            if role not in may_kick or beyond:
                expected = 10007  # all or nothing
        data = self.call(caller, "deleteGroupMember", {"groupID": gid, "userIDList": wanted}, expected)
        if data is not None:
            assert shadow is not None
            removed = [u for u in dict.fromkeys(wanted) if u in shadow.members]
            assert data["userIDList"] == removed
            for user in removed:
                self.remove(shadow, user)
            if removed:
                shadow.tip(3)
        self.drain()

    # --- roles, owner, mute ------------------------------------------------------------------------
    @rule(gid=groups, data=st.data(), role=st.sampled_from((ADMIN, MEMBER, OWNER)))
    def set_role(self, gid: str, data: st.DataObject, role: str) -> None:
        caller, other = self.pick(data, gid, (OWNER,)), self.pick(data, gid, (ADMIN, MEMBER))
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif (
            caller not in shadow.members
            or shadow.type in ("Private", "AVChatRoom")
            or shadow.members[caller] != OWNER
        ):
            expected = 10007
        elif role == OWNER or other == caller:
            expected = 10004
        elif other not in shadow.members:
            expected = 10007
        else:
            expected = OK
        opts = {"groupID": gid, "userID": other, "role": role}
        if self.call(caller, "setGroupMemberRole", opts, expected) is not None:
            assert shadow is not None
            shadow.members[other] = role
            shadow.tip(4 if role == ADMIN else 5)
        self.drain()

    @rule(gid=groups, data=st.data())
    def change_owner(self, gid: str, data: st.DataObject) -> None:
        caller, other = self.pick(data, gid, (OWNER,)), self.pick(data, gid, (ADMIN, MEMBER))
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif (
            caller not in shadow.members
            or shadow.type == "AVChatRoom"
            or shadow.members[caller] != OWNER
            or other not in shadow.members
        ):
            expected = 10007
        elif other == caller:
            expected = 10004
        else:
            expected = OK
        if self.call(caller, "changeGroupOwner", {"groupID": gid, "newOwnerID": other}, expected) is not None:
            assert shadow is not None
            shadow.members[caller] = MEMBER
            shadow.members[other] = OWNER
            shadow.owner = other
            shadow.tip(6)
        self.drain()

    @rule(gid=groups, data=st.data(), seconds=st.sampled_from((0, 1, 5, 30, 90)))
    def mute(self, gid: str, data: st.DataObject, seconds: int) -> None:
        caller, other = self.pick(data, gid, (OWNER, ADMIN)), self.pick(data, gid, (ADMIN, MEMBER))
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif (
            caller not in shadow.members
            or shadow.type == "Private"
            or shadow.members[caller] not in (OWNER, ADMIN)
            or other not in shadow.members
        ):
            expected = 10007
        else:
            allowed = {OWNER: {ADMIN, MEMBER}, ADMIN: {MEMBER}}[shadow.members[caller]]
            expected = OK if other != caller and shadow.members[other] in allowed else 10007
        opts = {"groupID": gid, "userID": other, "muteTime": seconds}
        data = self.call(caller, "setGroupMemberMuteTime", opts, expected)
        if data is not None:
            assert shadow is not None
            shadow.mute[other] = self.now + seconds if seconds else 0
            assert data["member"]["muteUntil"] == shadow.mute[other]
            shadow.tip(7)
        self.drain()

    @rule(seconds=st.sampled_from((1, 2, 10, 31, 61)))
    def advance(self, seconds: int) -> None:
        self.service.advance(seconds)
        self.drain()

    # --- messages ---------------------------------------------------------------------------------
    @rule(gid=groups, data=st.data(), priorities=st.lists(PRIORITIES, min_size=1, max_size=5))
    def send(self, gid: str, data: st.DataObject, priorities: list[str]) -> None:
        """A burst of sends in one server second (MSG-7's limit is RATE per group per second)."""
        user = self.pick(data, gid)
        for priority in priorities:
            self.send_one(gid, user, priority)

    def send_one(self, gid: str, user: str, priority: str) -> None:
        shadow = self.live(gid)
        limited, count = False, 0
        if shadow is None:
            expected: int | None = 10010
        elif user not in shadow.members or (shadow.type == "AVChatRoom" and self.room[user] != gid):
            expected = 10007
        elif shadow.mute.get(user, 0) > self.now:
            expected = 10017
        else:
            second, count = self.rate.get(gid, (self.now, 0))
            if second != self.now:
                second, count = self.now, 0
            limited = count >= RATE
            expected = 10023 if limited and priority == "Normal" else OK
        message = {
            "to": gid,
            "conversationType": "GROUP",
            "type": "TIMTextElem",
            "payload": {"text": f"{user}@{self.now}"},
            "priority": priority,
        }
        data = self.call(user, "sendMessage", message, expected)
        events = self.drain()
        if data is None:
            return
        assert shadow is not None
        sent = data["message"]
        if limited and priority in ("Low", "Lowest"):
            assert not sent.get("sequence")  # MSG-7: success, no sequence, not stored, not delivered
            assert all(sent["ID"] not in self.pushed_ids(e) for e in events.values())
            return
        self.rate[gid] = (self.now, count + 1)
        if shadow.type != "AVChatRoom":
            shadow.history.append(("msg", sent["ID"]))
        for member in USERS:  # MSG-5 + GRP-9: each listening member's instance once, not the sender
            delivered = self.pushed_ids(events[member]).count(sent["ID"])
            listening = (
                member in shadow.members and member != user and self.remind.get((gid, member)) != "Discard"
            )
            assert delivered == (1 if listening else 0), (member, delivered)

    @staticmethod
    def pushed_ids(events: list[tuple[str, Any]]) -> list[str]:
        return [m["ID"] for name, data in events if name == "onMessageReceived" for m in data]

    @rule(
        gid=groups, data=st.data(), remind=st.sampled_from(("AcceptAndNotify", "AcceptNotNotify", "Discard"))
    )
    def set_remind(self, gid: str, data: st.DataObject, remind: str) -> None:
        user = self.pick(data, gid)
        shadow = self.live(gid)
        expected = 10010 if shadow is None else 10007 if user not in shadow.members else OK
        opts = {"groupID": gid, "messageRemindType": remind}
        if self.call(user, "setMessageRemindType", opts, expected) is not None:
            self.remind[(gid, user)] = remind
        self.drain()

    # --- applications and dismissal ----------------------------------------------------------------
    @precondition(lambda self: self.pending)
    @rule(data=st.data(), agree=st.booleans())
    def handle(self, data: st.DataObject, agree: bool) -> None:
        handler, notice, gid, applicant, token = data.draw(st.sampled_from(self.pending))
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif handler not in shadow.members or shadow.members[handler] not in (OWNER, ADMIN):
            expected = 10007
        elif self.current_application.get((gid, applicant)) != token:
            expected = 10024  # handled already, or replaced by a newer application
        elif agree and applicant not in shadow.members and shadow.full():
            expected = 10014  # stays pending
        else:
            expected = OK
        opts = {"handleAction": "Agree" if agree else "Reject", "message": notice}
        if self.call(handler, "handleGroupApplication", opts, expected) is not None:
            assert shadow is not None
            del self.current_application[(gid, applicant)]
            if agree and applicant not in shadow.members:
                shadow.add(applicant)
                shadow.tip(1)
        self.drain()

    @rule(gid=groups, caller=users)
    def dismiss(self, gid: str, caller: str) -> None:
        shadow = self.live(gid)
        if shadow is None:
            expected: int | None = 10010
        elif caller not in shadow.members or shadow.type == "Private" or shadow.members[caller] != OWNER:
            expected = 10007
        else:
            expected = OK
        if self.call(caller, "dismissGroup", {"groupID": gid}, expected) is not None:
            assert shadow is not None
            for user in list(shadow.members):
                self.remove(shadow, user)
            del self.shadows[gid]
        self.drain()

    # --- invariants ----------------------------------------------------------------------------------
    @invariant()
    def members_roles_and_owner(self) -> None:
        for shadow in self.shadows.values():
            if not shadow.members:
                assert shadow.type == "Private" and shadow.owner == ""
                continue
            reader = self.tims[next(iter(shadow.members))]
            listed: list[tuple[str, str]] = []
            offset = 0
            while True:
                page = reader.call(
                    "getGroupMemberList", {"groupID": shadow.gid, "count": 2, "offset": offset}
                )
                listed += [(m["userID"], m["role"]) for m in page["memberList"]]
                offset = page["offset"]
                if offset == 0:
                    break
            assert listed == list(shadow.members.items()), shadow.gid  # roles, join order
            owners = [u for u, r in listed if r == OWNER]
            if shadow.type == "Private" and shadow.owner == "":
                assert owners == []
            else:
                assert owners == [shadow.owner]
            assert shadow.max is None or len(listed) <= shadow.max  # MBR-5
            profile = reader.call("getGroupProfile", {"groupID": shadow.gid})["group"]
            assert profile["ownerID"] == shadow.owner and profile["memberNum"] == len(listed)

    @invariant()
    def muted_members_cannot_send(self) -> None:
        for shadow in self.shadows.values():
            for user, until in shadow.mute.items():
                if (
                    until > self.now
                    and user in shadow.members
                    and (shadow.type != "AVChatRoom" or self.room[user] == shadow.gid)
                ):
                    message = {
                        "to": shadow.gid,
                        "conversationType": "GROUP",
                        "type": "TIMTextElem",
                        "payload": {"text": "muted?"},
                    }
                    self.call(user, "sendMessage", message, 10017)

    @invariant()
    def every_member_pages_the_history_since_join(self) -> None:
        for shadow in self.shadows.values():
            for user in shadow.members:
                seen = self.page_all(user, "GROUP" + shadow.gid)
                if shadow.type == "AVChatRoom":
                    assert seen == []
                    continue
                start = 0 if shadow.type == "ChatRoom" else shadow.visible_from[user]
                wanted = shadow.history[start:]
                got = [
                    ("msg", m["ID"]) if m["type"] != TIP else ("tip", m["payload"]["operationType"])
                    for m in seen
                ]
                assert got == wanted, (shadow.gid, user)
                sequences = [m["sequence"] for m in seen]
                if seen:  # MSG-4: every stored message and tip takes the next group sequence
                    assert sequences == list(range(sequences[0], sequences[0] + len(seen)))

    def page_all(self, user: str, conversation_id: str) -> list[dict[str, Any]]:
        tim = self.tims[user]
        pages: list[list[dict[str, Any]]] = []
        cursor = ""
        seen_ids: set[str] = set()
        while True:
            opts: dict[str, Any] = {"conversationID": conversation_id}
            if cursor:
                opts["nextReqMessageID"] = cursor
            page = tim.get_message_list(opts)
            batch = page["messageList"]
            assert not seen_ids & {m["ID"] for m in batch}, "a message paged twice"
            seen_ids |= {m["ID"] for m in batch}
            pages.append(batch)
            if page["isCompleted"]:
                assert page["nextReqMessageID"] == ""
                break
            cursor = page["nextReqMessageID"]
        return [m for batch in reversed(pages) for m in batch]


TestGroupMachine = GroupMachine.TestCase
