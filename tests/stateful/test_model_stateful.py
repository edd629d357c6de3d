"""The C2C model under a Hypothesis state machine, checked against its own record.

The machine drives ``World.call`` (plus sweep, admin kick, app config and the
network switch) on a FakeClock and keeps an *independent* shadow: which
instances are online as whom, every message it sent (with its time, sequence,
revocation and per-account deletions), read and hide marks per conversation,
and every event each instance received.  Every call's reply code is predicted
from the shadow before the call, and every event it emits (kicks, state
changes, deliveries, revocations, replays) is predicted per instance and in
order.  After every step the invariants below are checked through the public
API of one online instance per account:

* PAGE-1/PAGE-3/MSG-4: paging a conversation newest-first until
  ``isCompleted`` returns every stored message the account did not delete,
  exactly once, in (time, sequence) order, as the shadow has them;
* UNREAD-1/REV-2/CONV-3: unread counts are never negative and equal the
  peer's non-revoked messages since the account's last read or delete;
* INST-3: an account never has more web instances online than the
  ``web_instances`` in force at its latest web login;
* INST-3..6: each kick gives exactly one ``kickedOut`` then
  ``sdkStateNotReady``, never a second ``kickedOut`` before a new login;
* REV-2: a revoked message shows ``isRevoked: true`` in every later reply;
* ORDER-1: calls raise only ``IMError``; a refused call leaves the world
  unchanged (``tests/world_snapshot.py``), so it emitted and queued nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from simtim.clock import FakeClock
from simtim.errors import Code, IMError
from simtim.ids import IdSource
from simtim.limits import WEB_PLATFORMS
from simtim.model import Event, Outcome, World
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.model.events import (
    ALL_EVENTS,
    CONVERSATION_LIST_UPDATED,
    ERROR,
    KICK_MULTIPLE_ACCOUNT,
    KICK_MULTIPLE_DEVICE,
    KICK_REST_API,
    KICK_USERSIG_EXPIRED,
    KICKED_OUT,
    MESSAGE_RECEIVED,
    MESSAGE_REVOKED,
    NET_STATE_CHANGE,
    SDK_STATE_NOT_READY,
    SDK_STATE_READY,
)
from simtim.usersig import gen_usersig
from tests.world_snapshot import Snapshot

T0 = 1_600_000_000
#: Stay well inside the 7-day retention (PAGE-2) so every stored message stays visible.
TIME_CAP = 6 * 24 * 3600
REVOKE_WINDOW = 120
DEDUP_WINDOW = 120
PAGE_MAX = 15

USERS = ("u0", "u1", "u2", "u3")
IMPORTED = USERS[:3]  # u3 exists only once it has logged in (AUTH-5)
PLATFORMS = ("web", "miniprogram", "android", "ios")
CONVERSATION_IDS = (*(f"C2C{u}" for u in USERS), "C2Cghost", "GROUPnope", "bogus", "@TIM#SYSTEM")

#: Events the shadow predicts exactly; conversation-list updates are checked for content only.
PREDICTED = frozenset(
    {SDK_STATE_READY, SDK_STATE_NOT_READY, KICKED_OUT, MESSAGE_RECEIVED, MESSAGE_REVOKED, NET_STATE_CHANGE}
)

IDX = st.integers(min_value=0, max_value=10_000)
#: Mostly act through an online instance, sometimes through any (to hit ORDER-1's state codes).
PREFER = st.sampled_from([True, True, True, False])

Pred = tuple[int, str, Any]  # (instance id, event name, key)


@dataclass
class Inst:
    id: int
    platform: str
    state: str = "new"  # new | online | kicked | expired | destroyed (model's names)
    user: str = ""
    expires: int = 0
    order: int = 0
    connected: bool = True
    pending: list[tuple[str, Any]] = field(default_factory=list)  # predicted, deferred (NET-1)
    kicks: int = 0  # kicks the shadow predicted for this instance

    @property
    def web(self) -> bool:
        return self.platform in WEB_PLATFORMS


@dataclass
class Msg:
    id: str
    sender: str
    to: str
    time: int
    sequence: int
    index: int  # arrival order in the app (the shadow's own counter)
    view: dict[str, Any]  # the sender's view from the send reply (what a client resends)
    revoked: bool = False

    def conversation_for(self, user: str) -> str:
        return "C2C" + (self.to if user == self.sender else self.sender)


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def gate(inst: Inst, conversation_api: bool = False) -> int | None:
    """ORDER-1's first steps for the calling instance (the app is never disabled here)."""
    if inst.state == "destroyed":
        return Code.SDK_NOT_INITIALIZED
    if inst.state == "new":
        return Code.CONVERSATION_INVALID if conversation_api else Code.NOT_LOGGED_IN
    if inst.state == "kicked":
        return Code.KICKED_BY_OTHER
    if inst.state == "expired":
        return Code.USERSIG_EXPIRED_KICKED
    return None


def event_key(event: Event) -> Any:
    if event.name == KICKED_OUT:
        return event.data["type"]
    if event.name in (MESSAGE_RECEIVED, MESSAGE_REVOKED):
        assert isinstance(event.data, list) and len(event.data) == 1, event
        return event.data[0]["ID"]
    if event.name == NET_STATE_CHANGE:
        return event.data["state"]
    return None


class C2CMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(T0)
        self.world = World(self.clock, IdSource(7))
        for user in IMPORTED:
            self.world.import_account(DEV_SDKAPPID, user)
        self.accounts: set[str] = set(IMPORTED)
        self.insts: dict[int, Inst] = {}
        self.inst_list: list[Inst] = []
        self.msgs: dict[str, Msg] = {}
        self.msg_list: list[Msg] = []
        self.threads: dict[tuple[str, str], list[Msg]] = defaultdict(list)
        self.deleted: dict[str, set[str]] = defaultdict(set)
        self.read_mark: dict[tuple[str, str], int] = {}
        self.hidden_mark: dict[tuple[str, str], int] = {}
        self.dedup: dict[tuple[str, str, int, int], Msg] = {}
        self.web_limit = 1
        self.web_bound: dict[str, int] = {}
        self.log: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        self.login_counter = 0
        self.index = 0

    # --- shadow helpers ----------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.clock.now()

    def online(self, user: str) -> list[Inst]:
        return sorted(
            (i for i in self.inst_list if i.state == "online" and i.user == user), key=lambda i: i.order
        )

    def pick(self, n: int, prefer_online: bool, user: str | None = None) -> Inst:
        """An instance: any, or preferably an online one (of ``user`` when it has one)."""
        pool: list[Inst] = []
        if prefer_online:
            online = [i for i in self.inst_list if i.state == "online"]
            pool = [i for i in online if i.user == user] or online
        pool = pool or self.inst_list
        return pool[n % len(pool)]

    def visible(self, user: str, peer: str) -> list[Msg]:
        gone = self.deleted[user]
        return [m for m in self.threads.get(pair(user, peer), []) if m.id not in gone]

    def unread(self, user: str, peer: str) -> int:
        """UNREAD-1 from the shadow: the peer's non-revoked messages since the last read/delete."""
        if user == peer:
            return 0
        mark = self.read_mark.get((user, peer), 0)
        return sum(
            1
            for m in self.threads.get(pair(user, peer), [])
            if m.sender == peer and not m.revoked and m.index > mark
        )

    def peer_of(self, conversation_id: str) -> str | None:
        """The peer of a valid C2C conversation ID, '' for @TIM#SYSTEM, None if invalid (CONV-1)."""
        if conversation_id == "@TIM#SYSTEM":
            return ""
        if conversation_id.startswith("C2C") and conversation_id[3:] in self.accounts:
            return conversation_id[3:]
        return None

    def kick(self, inst: Inst, reason: str, out: list[Pred]) -> None:
        inst.state = "expired" if reason == KICK_USERSIG_EXPIRED else "kicked"
        inst.kicks += 1
        out.append((inst.id, KICKED_OUT, reason))
        out.append((inst.id, SDK_STATE_NOT_READY, None))

    # --- calling the model -----------------------------------------------------------------
    def invoke(self, inst_id: int, method: str, opts: object, expected: int | None) -> Outcome | None:
        """One World.call: only IMError may escape; a refusal must leave the world unchanged."""
        before = Snapshot(self.world) if expected is not None else None
        try:
            outcome = self.world.call(inst_id, method, opts)
        except IMError as exc:
            assert exc.code == expected, f"{method}({opts!r}) -> {exc}, expected {expected}"
            assert before is not None and before.unchanged(), f"refused {method}({opts!r}) changed the world"
            return None
        except Exception as exc:  # ORDER-1: every failure is an IMError
            raise AssertionError(f"{method}({opts!r}) raised {type(exc).__name__}: {exc}") from exc
        assert expected is None, f"{method}({opts!r}) succeeded, expected {expected}"
        return outcome

    def read(self, inst_id: int, method: str, opts: object) -> dict[str, Any]:
        """A read-only call that must succeed and emit nothing."""
        outcome = self.invoke(inst_id, method, opts, None)
        assert outcome is not None and outcome.events == [], (method, outcome)
        self.check_views(outcome.data)
        return outcome.data

    def settle(self, events: list[Event], predicted: list[Pred], *, replay: bool = False) -> None:
        """Log the actual events per instance and compare them with the shadow's prediction.

        Predicted events for a disconnected instance are queued in the shadow (NET-1),
        exactly as the model must queue them; a reconnect passes ``replay=True``.
        """
        immediate: list[Pred] = []
        for inst_id, name, key in predicted:
            inst = self.insts[inst_id]
            if inst.connected:
                immediate.append((inst_id, name, key))
            else:
                inst.pending.append((name, key))
        actual: list[Pred] = []
        for event in events:
            assert event.name in ALL_EVENTS and event.name != ERROR, event  # EVT-1
            self.log[event.instance].append((event.name, event.data))
            if event.name in PREDICTED:
                actual.append((event.instance, event.name, event_key(event)))
            if not replay:
                self.check_views(event.data)
                if event.name == CONVERSATION_LIST_UPDATED:
                    self.check_conversation_update(self.insts[event.instance], event.data)
        assert actual == immediate, f"events {actual} != predicted {immediate}"

    def check_views(self, data: Any) -> None:
        """REV-2: every Message view anywhere in a reply shows the current revocation state."""
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                msg = self.msgs.get(item.get("ID")) if isinstance(item.get("ID"), str) else None
                if msg is not None and "isRevoked" in item:
                    assert item["isRevoked"] is msg.revoked, (item, msg)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)

    def check_conversation_update(self, inst: Inst, conversations: list[dict[str, Any]]) -> None:
        """CONV-4 content: unread counts and last messages as the shadow has them now."""
        assert inst.state == "online", inst
        for conv in conversations:
            peer = self.peer_of(conv["conversationID"])
            assert peer, conv
            assert conv["unreadCount"] == self.unread(inst.user, peer), (inst, conv)
            visible = self.visible(inst.user, peer)
            last = conv["lastMessage"]
            assert (last["ID"] if last else None) == (visible[-1].id if visible else None), (inst, conv)

    def advance(self, seconds: int) -> None:
        """Step the clock (within the cap), sweep, and check INST-5's expiry kicks."""
        seconds = min(seconds, T0 + TIME_CAP - self.now)
        if seconds <= 0:
            return
        self.clock.advance(seconds)
        predicted: list[Pred] = []
        due = sorted(
            (i for i in self.inst_list if i.state == "online" and i.expires < self.now),
            key=lambda i: (i.expires, i.order),
        )
        for inst in due:
            self.kick(inst, KICK_USERSIG_EXPIRED, predicted)
        self.settle(self.world.sweep(), predicted)

    # --- rules: instances and sessions ---------------------------------------------------------
    @initialize()
    def pages(self) -> None:
        """Four pages; u0 on the web and u1 on android are online from the start."""
        for platform in ("web", "web", "android", "miniprogram"):
            self.create_instance(platform)
        self.login(0, "u0", 86400, "ok", fresh=False)
        self.login(2, "u1", 3600, "ok", fresh=False)

    @rule(platform=st.sampled_from(PLATFORMS))
    def create_instance(self, platform: str) -> None:
        inst = self.world.create_instance(DEV_SDKAPPID, platform)
        assert inst.id not in self.insts
        record = Inst(inst.id, platform)
        self.insts[inst.id] = record
        self.inst_list.append(record)

    @rule(
        n=IDX,
        user=st.sampled_from(USERS),
        expire=st.sampled_from([60, 600, 3600, 86400, 86400]),
        sig=st.sampled_from(["ok", "ok", "ok", "ok", "expired", "other_user", "garbage", "empty"]),
        fresh=PREFER,
    )
    def login(self, n: int, user: str, expire: int, sig: str, fresh: bool) -> None:
        """AUTH-2/3, INST-2..4; ``fresh`` prefers an instance that is not logged in."""
        pool = [i for i in self.inst_list if i.state not in ("online", "destroyed")] if fresh else []
        pool = pool or self.inst_list
        inst = pool[n % len(pool)]
        now = self.now
        if sig == "expired":
            user_sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, expire, now=now - expire - 1)
        elif sig == "other_user":
            other = USERS[(USERS.index(user) + 1) % len(USERS)]
            user_sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, other, expire, now=now)
        elif sig == "garbage":
            user_sig = "not-a-usersig"
        elif sig == "empty":
            user_sig = ""
        else:
            user_sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, expire, now=now)
        expected = {"destroyed": Code.SDK_NOT_INITIALIZED}.get(inst.state)
        if expected is None and inst.state != "online":  # INST-2: online -> repeatLogin, sig unread
            expected = {
                "expired": Code.USERSIG_EXPIRED,
                "other_user": Code.USERSIG_IDENTIFIER_MISMATCH,
                "garbage": Code.USERSIG_UNDECODABLE,
                "empty": Code.USERSIG_EMPTY,
            }.get(sig)
        outcome = self.invoke(inst.id, "login", {"userID": user, "userSig": user_sig}, expected)
        if outcome is None:
            return
        if inst.state == "online":
            assert outcome == Outcome({"repeatLogin": True}, []), outcome
            return
        assert outcome.data == {"repeatLogin": False}
        predicted: list[Pred] = []
        if inst.web:  # INST-3: kick the earliest web instances beyond the limit
            limit = max(1, self.web_limit)
            web = [i for i in self.online(user) if i.web]
            for victim in web[: max(0, len(web) - limit + 1)]:
                self.kick(victim, KICK_MULTIPLE_ACCOUNT, predicted)
            self.web_bound[user] = limit
        else:  # INST-4: one instance per native platform
            for victim in self.online(user):
                if victim.platform == inst.platform:
                    self.kick(victim, KICK_MULTIPLE_DEVICE, predicted)
        self.login_counter += 1
        inst.state, inst.user, inst.expires, inst.order = "online", user, now + expire, self.login_counter
        self.accounts.add(user)
        predicted.append((inst.id, SDK_STATE_READY, None))
        self.settle(outcome.events, predicted)

    @rule(n=IDX, user=st.sampled_from(USERS), expire=st.sampled_from([600, 86400]))
    def login_fresh(self, n: int, user: str, expire: int) -> None:
        """A plain good login on a page that is not logged in (keeps accounts online)."""
        self.login(n, user, expire, "ok", fresh=True)

    def _logout(self, inst: Inst, method: str) -> None:
        expected = Code.SDK_NOT_INITIALIZED if inst.state == "destroyed" else None
        outcome = self.invoke(inst.id, method, None, expected)
        if outcome is None:
            return
        assert outcome.data == {}
        predicted: list[Pred] = []
        if inst.state == "online":
            predicted.append((inst.id, SDK_STATE_NOT_READY, None))
        inst.state = "destroyed" if method == "destroy" else "new"
        self.settle(outcome.events, predicted)

    @rule(n=IDX, prefer=PREFER)
    def logout(self, n: int, prefer: bool) -> None:
        self._logout(self.pick(n, prefer), "logout")

    @precondition(lambda self: sum(i.state != "destroyed" for i in self.inst_list) > 3)
    @rule(n=IDX, prefer=PREFER)
    def destroy(self, n: int, prefer: bool) -> None:
        self._logout(self.pick(n, prefer), "destroy")

    @rule(
        user=st.sampled_from(USERS),
        limit=st.integers(min_value=1, max_value=3),
        platforms=st.lists(st.sampled_from(("web", *PLATFORMS)), min_size=2, max_size=5),
    )
    def crowd(self, user: str, limit: int, platforms: list[str]) -> None:
        """Set web_instances, then one account on several new pages (INST-3/INST-4 with several slots)."""
        self.configure_web_instances(limit)
        for platform in platforms:
            self.create_instance(platform)
            self.login(len(self.inst_list) - 1, user, 3600, "ok", fresh=False)

    @rule(user=st.sampled_from(USERS))
    def admin_kick(self, user: str) -> None:
        """INST-6: every instance of the account, in login order."""
        if user not in self.accounts:
            before = Snapshot(self.world)
            try:
                self.world.admin_kick(DEV_SDKAPPID, user)
            except IMError as exc:
                assert exc.code == Code.ACCOUNT_NOT_FOUND
            else:
                raise AssertionError("admin_kick of an unknown account succeeded")
            assert before.unchanged()
            return
        predicted: list[Pred] = []
        for victim in self.online(user):
            self.kick(victim, KICK_REST_API, predicted)
        self.settle(self.world.admin_kick(DEV_SDKAPPID, user), predicted)

    @rule(n=st.integers(min_value=1, max_value=3))
    def configure_web_instances(self, n: int) -> None:
        self.world.configure_app(DEV_SDKAPPID, web_instances=n)
        self.web_limit = n

    @rule(n=IDX, connected=st.booleans())
    def network(self, n: int, connected: bool) -> None:
        """NET-1: a reconnect replays what the instance missed, once, in order."""
        pool = [i for i in self.inst_list if i.connected != connected and (connected or i.state == "online")]
        pool = pool or self.inst_list  # mostly: drop an online page, bring back a dropped one
        self.set_network(pool[n % len(pool)], connected)

    @rule(n=IDX, m=IDX, k=st.integers(min_value=1, max_value=3), kick=st.booleans())
    def network_blip(self, n: int, m: int, k: int, kick: bool) -> None:
        """NET-1: a page drops, messages (and maybe a kick) reach it meanwhile, then it comes back."""
        online = [i for i in self.inst_list if i.state == "online" and i.connected]
        if not online:
            return
        target = online[n % len(online)]
        self.set_network(target, False)
        others = [i for i in online if i is not target]
        for i in range(k):
            if others:
                self.send_from(others[(m + i) % len(others)], target.user, None, None, False, f"blip {i}")
        if kick:
            self.admin_kick(target.user)
        self.set_network(target, True)

    def set_network(self, inst: Inst, connected: bool) -> None:
        events = self.world.set_network(inst.id, connected)
        if connected == inst.connected or not connected:
            inst.connected = connected
            self.settle(events, [])
            return
        inst.connected = True
        predicted = [(inst.id, NET_STATE_CHANGE, "connected")]
        predicted += [(inst.id, name, key) for name, key in inst.pending]
        inst.pending = []
        self.settle(events, predicted, replay=True)

    # --- rules: clock --------------------------------------------------------------------------
    @rule(seconds=st.integers(min_value=1, max_value=30))
    def tick(self, seconds: int) -> None:
        self.advance(seconds)

    @rule()
    def past_a_usersig_expiry(self) -> None:
        """CLOCK-1/INST-5: jump to the first second an online instance's UserSig is invalid."""
        expiries = [i.expires for i in self.inst_list if i.state == "online"]
        if expiries:
            self.advance(min(expiries) + 1 - self.now)

    # --- rules: messages ----------------------------------------------------------------------
    @rule(
        n=IDX,
        prefer=PREFER,
        to=st.sampled_from(USERS),
        random=st.none() | st.sampled_from([7, 8]),
        client_time=st.none() | st.just(T0),
        via_resend=st.booleans(),
        text=st.sampled_from(["hi", "héllo", "👋 x"]),
    )
    def send(
        self,
        n: int,
        prefer: bool,
        to: str,
        random: int | None,
        client_time: int | None,
        via_resend: bool,
        text: str,
    ) -> None:
        """MSG-3..6: a C2C text (resendMessage of an unsent message sends it too)."""
        self.send_from(self.pick(n, prefer), to, random, client_time, via_resend, text)

    def send_from(
        self, inst: Inst, to: str, random: int | None, client_time: int | None, via_resend: bool, text: str
    ) -> bool:
        """One send through ``inst``; True if a new message was stored."""
        message: dict[str, Any] = {
            "to": to,
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": text},
        }
        if random is not None:
            message["random"] = random
        if client_time is not None:
            message["clientTime"] = client_time
        expected = gate(inst)
        if expected is None and to not in self.accounts:
            expected = Code.ACCOUNT_NOT_FOUND
        now, me = self.now, inst.user
        prior = None
        if expected is None and random is not None:
            prior = self.dedup.get((me, "C2C" + to, random, client_time if client_time is not None else now))
            if prior is not None and now - prior.time > DEDUP_WINDOW:
                prior = None
        method = "resendMessage" if via_resend else "sendMessage"
        outcome = self.invoke(inst.id, method, {"message": message}, expected)
        if outcome is None:
            return False
        reply = outcome.data["message"]
        if prior is not None:  # MSG-6: the stored message, nothing new
            assert reply["ID"] == prior.id, (reply, prior)
            self.check_views(outcome.data)
            self.settle(outcome.events, [])
            return False
        assert reply["ID"] not in self.msgs, reply
        thread = self.threads[pair(me, to)]
        assert (reply["from"], reply["to"], reply["flow"], reply["conversationID"]) == (
            me,
            to,
            "out",
            "C2C" + to,
        ), reply
        assert reply["time"] == now and reply["payload"] == {"text": text}, reply
        assert reply["isRevoked"] is False and reply["status"] == "success", reply
        if random is not None:
            assert reply["random"] == random, reply
        if thread:  # MSG-4: a monotonic per-conversation sequence
            assert reply["sequence"] > thread[-1].sequence, (reply, thread[-1])
        self.index += 1
        msg = Msg(reply["ID"], me, to, now, reply["sequence"], self.index, dict(reply))
        self.msgs[msg.id] = msg
        self.msg_list.append(msg)
        thread.append(msg)
        if random is not None:
            self.dedup[(me, "C2C" + to, random, client_time if client_time is not None else now)] = msg
        predicted: list[Pred] = []
        if to != me:  # MSG-5: every online instance of the recipient ...
            predicted += [(i.id, MESSAGE_RECEIVED, msg.id) for i in self.online(to)]
        predicted += [(i.id, MESSAGE_RECEIVED, msg.id) for i in self.online(me) if i is not inst]
        self.check_views(outcome.data)
        self.settle(outcome.events, predicted)
        return True

    @rule(n=IDX, to=st.sampled_from(USERS), text=st.sampled_from(["a", "b"]))
    def send_plain(self, n: int, to: str, text: str) -> None:
        """A second, simpler send rule so that sends are frequent (Hypothesis has no rule weights)."""
        self.send(n, True, to, None, None, False, text)

    @rule(n=IDX, to=st.sampled_from(USERS), k=st.integers(min_value=2, max_value=17))
    def send_burst(self, n: int, to: str, k: int) -> None:
        """Several sends in a row, so conversations grow past one page (PAGE-1)."""
        inst = self.pick(n, True)
        for i in range(k):
            if not self.send_from(inst, to, None, None, False, f"burst {i}"):
                break

    @rule(n=IDX, to=st.sampled_from(USERS), random=st.sampled_from([7, 8]))
    def send_with_random(self, n: int, to: str, random: int) -> None:
        self.send(n, True, to, random, None, False, "r")

    @rule(n=IDX, prefer=PREFER, which=st.sampled_from(["empty_text", "no_to", "bad_type"]))
    def send_refused(self, n: int, prefer: bool, which: str) -> None:
        """MSG-2/ORDER-1: malformed sends are refused and change nothing."""
        inst = self.pick(n, prefer)
        message: dict[str, Any] = {
            "to": "u1",
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": "x"},
        }
        code = Code.INVALID_ELEMENT
        if which == "empty_text":
            message["payload"] = {"text": ""}
        elif which == "no_to":
            del message["to"]
            code = Code.INVALID_PARAMETERS
        else:
            message["type"] = "TIMNopeElem"
        self.invoke(inst.id, "sendMessage", {"message": message}, gate(inst) or code)

    @precondition(lambda self: self.msg_list)
    @rule(n=IDX, prefer=PREFER, m=IDX)
    def resend(self, n: int, prefer: bool, m: int) -> None:
        """MSG-6: a stored message comes back as it is (only its sender may resend it)."""
        msg = self.msg_list[m % len(self.msg_list)]
        inst = self.pick(n, prefer, msg.sender)
        expected = gate(inst)
        if expected is None and inst.user != msg.sender:
            expected = Code.INVALID_PARAMETERS
        outcome = self.invoke(inst.id, "resendMessage", {"message": dict(msg.view)}, expected)
        if outcome is not None:
            assert outcome.data["message"]["ID"] == msg.id
            self.check_views(outcome.data)
            self.settle(outcome.events, [])

    @precondition(lambda self: self.msg_list)
    @rule(n=IDX, prefer=PREFER, m=IDX, late=st.sampled_from([False, False, False, True]), recent=PREFER)
    def revoke(self, n: int, prefer: bool, m: int, late: bool, recent: bool) -> None:
        """REV-1..3 (C2C): sender only, within 120 s; everyone else online hears of it."""
        if late:
            self.advance(REVOKE_WINDOW + 1)
        msg = (
            self.msg_list[-1 - m % min(3, len(self.msg_list))]
            if recent
            else self.msg_list[m % len(self.msg_list)]
        )
        self.revoke_as(self.pick(n, prefer, msg.sender), msg)

    @rule(
        n=IDX, to=st.sampled_from(USERS), wait=st.sampled_from([0, 0, 30, REVOKE_WINDOW, REVOKE_WINDOW + 1])
    )
    def send_then_revoke(self, n: int, to: str, wait: int) -> None:
        """REV-1/REV-2 at the window's edges: a fresh message revoked by its sender after ``wait`` s."""
        inst = self.pick(n, True)
        if self.send_from(inst, to, None, None, False, "to revoke"):
            self.advance(wait)
            self.revoke_as(inst, self.msg_list[-1])

    def revoke_as(self, inst: Inst, msg: Msg) -> None:
        me = inst.user
        expected = gate(inst)
        if expected is None:
            if me not in (msg.sender, msg.to):
                expected = Code.C2C_MESSAGE_NOT_FOUND
            elif msg.revoked:
                expected = Code.C2C_MESSAGE_ALREADY_REVOKED
            elif msg.sender != me:
                expected = Code.C2C_MESSAGE_NOT_FOUND
            elif self.now - msg.time > REVOKE_WINDOW:
                expected = Code.C2C_REVOKE_TIME_LIMIT
        outcome = self.invoke(inst.id, "revokeMessage", {"message": dict(msg.view)}, expected)
        if outcome is None:
            return
        msg.revoked = True
        assert outcome.data["message"]["ID"] == msg.id and outcome.data["message"]["isRevoked"] is True
        predicted = [(i.id, MESSAGE_REVOKED, msg.id) for i in self.online(msg.sender) if i is not inst]
        if msg.to != msg.sender:
            predicted += [(i.id, MESSAGE_REVOKED, msg.id) for i in self.online(msg.to)]
        self.check_views(outcome.data)
        self.settle(outcome.events, predicted)

    @precondition(lambda self: self.msg_list)
    @rule(n=IDX, prefer=PREFER, picks=st.lists(IDX, min_size=1, max_size=3), same_conversation=st.booleans())
    def delete(self, n: int, prefer: bool, picks: list[int], same_conversation: bool) -> None:
        """MSG-9: one conversation, the caller's account only."""
        first = self.msg_list[picks[0] % len(self.msg_list)]
        inst = self.pick(n, prefer, first.sender if picks[0] % 2 else first.to)
        pool = self.threads[pair(first.sender, first.to)] if same_conversation else self.msg_list
        chosen = [first] + [pool[p % len(pool)] for p in picks[1:]]
        me = inst.user
        expected = gate(inst)
        if expected is None and (
            any(me not in (m.sender, m.to) for m in chosen)
            or len({m.conversation_for(me) for m in chosen}) > 1
        ):
            expected = Code.INVALID_PARAMETERS
        opts = {"messageList": [dict(m.view) for m in chosen]}
        outcome = self.invoke(inst.id, "deleteMessage", opts, expected)
        if outcome is None:
            return
        assert [v["ID"] for v in outcome.data["messageList"]] == [m.id for m in chosen]
        self.deleted[me].update(m.id for m in chosen)
        self.check_views(outcome.data)
        self.settle(outcome.events, [])

    # --- rules: conversations -----------------------------------------------------------------
    def _mark(self, n: int, prefer: bool, conversation_id: str, method: str) -> None:
        inst = self.pick(n, prefer)
        expected = gate(inst, conversation_api=True)
        peer = self.peer_of(conversation_id)
        if expected is None and peer is None:
            expected = Code.CONVERSATION_INVALID
        outcome = self.invoke(inst.id, method, {"conversationID": conversation_id}, expected)
        if outcome is None:
            return
        if peer:
            self.read_mark[(inst.user, peer)] = self.index
            if method == "deleteConversation":
                self.hidden_mark[(inst.user, peer)] = self.index
        assert outcome.data == ({} if method == "setMessageRead" else {"conversationID": conversation_id})
        self.settle(outcome.events, [])

    @rule(n=IDX, prefer=PREFER, conversation_id=st.sampled_from(CONVERSATION_IDS))
    def set_read(self, n: int, prefer: bool, conversation_id: str) -> None:
        self._mark(n, prefer, conversation_id, "setMessageRead")

    @rule(n=IDX, prefer=PREFER, conversation_id=st.sampled_from(CONVERSATION_IDS))
    def delete_conversation(self, n: int, prefer: bool, conversation_id: str) -> None:
        self._mark(n, prefer, conversation_id, "deleteConversation")

    @rule(
        n=IDX,
        prefer=PREFER,
        conversation_id=st.sampled_from(CONVERSATION_IDS),
        count=st.sampled_from([None, 1, 2, 4, 15, 16, 100, 0, -1, "3", 1.5, True]),
        cursor=st.none() | IDX,
    )
    def get_message_list(
        self, n: int, prefer: bool, conversation_id: str, count: Any, cursor: int | None
    ) -> None:
        """PAGE-1: full paging, or one page before a chosen message (6017 if not in this conversation)."""
        inst = self.pick(n, prefer)
        peer = self.peer_of(conversation_id)
        expected = gate(inst, conversation_api=True)
        count_ok = count is None or (type(count) is int and count > 0)
        if expected is None and not count_ok:
            expected = Code.INVALID_PARAMETERS
        if expected is None and peer is None:
            expected = Code.CONVERSATION_INVALID
        if cursor is None or not self.msg_list:
            if expected is not None:
                self.invoke(
                    inst.id, "getMessageList", {"conversationID": conversation_id, "count": count}, expected
                )
            else:
                self.page_through(inst, conversation_id, count)
            return
        anchor = self.msg_list[cursor % len(self.msg_list)]
        thread = self.threads[pair(inst.user, peer)] if peer else []
        if expected is None and anchor not in thread:
            expected = Code.INVALID_PARAMETERS
        opts = {"conversationID": conversation_id, "count": count, "nextReqMessageID": anchor.id}
        outcome = self.invoke(inst.id, "getMessageList", opts, expected)
        if outcome is None:
            return
        assert outcome.events == []
        gone = self.deleted[inst.user]
        older = [m for m in thread[: thread.index(anchor)] if m.id not in gone]
        size = min(count or PAGE_MAX, PAGE_MAX)
        want = older[-size:]
        data = outcome.data
        assert [v["ID"] for v in data["messageList"]] == [m.id for m in want], (data, want)
        assert data["isCompleted"] is (len(older) <= size)
        assert data["nextReqMessageID"] == ("" if len(older) <= size else want[0].id)
        self.check_views(data)

    @rule(n=IDX, prefer=PREFER)
    def get_conversation_list(self, n: int, prefer: bool) -> None:
        inst = self.pick(n, prefer)
        expected = gate(inst, conversation_api=True)
        outcome = self.invoke(inst.id, "getConversationList", None, expected)
        if outcome is not None:
            assert outcome.events == []
            self.check_views(outcome.data)
            self.check_conversation_list(inst.user, outcome.data["conversationList"])

    # --- invariant checks through the public API -----------------------------------------------------
    def page_through(self, inst: Inst, conversation_id: str, count: int | None) -> None:
        """PAGE-1/PAGE-3/MSG-4: newest page first, following nextReqMessageID until isCompleted."""
        peer = self.peer_of(conversation_id)
        expected = self.visible(inst.user, peer) if peer else []
        size = min(count or PAGE_MAX, PAGE_MAX)
        pages: list[list[dict[str, Any]]] = []
        cursor = ""
        for _ in range(len(expected) + 2):
            opts: dict[str, Any] = {"conversationID": conversation_id}
            if count is not None:
                opts["count"] = count
            if cursor:
                opts["nextReqMessageID"] = cursor
            data = self.read(inst.id, "getMessageList", opts)
            page = data["messageList"]
            keys = [(v["time"], v["sequence"]) for v in page]
            assert keys == sorted(set(keys)), keys  # ascending, no ties
            if data["isCompleted"]:
                assert data["nextReqMessageID"] == "" and len(page) <= size, data
                pages.append(page)
                break
            assert len(page) == size and data["nextReqMessageID"] == page[0]["ID"], data
            pages.append(page)
            cursor = data["nextReqMessageID"]
        else:
            raise AssertionError(f"paging {conversation_id} never completed")
        got = [v for page in reversed(pages) for v in page]
        assert [v["ID"] for v in got] == [m.id for m in expected], (conversation_id, got, expected)
        for view, msg in zip(got, expected, strict=True):
            assert view["isRevoked"] is msg.revoked
            assert view["conversationID"] == conversation_id and view["from"] == msg.sender
            assert view["flow"] == ("out" if msg.sender == inst.user else "in")
            assert (view["time"], view["sequence"]) == (msg.time, msg.sequence)
        if len(expected) <= size:  # exactly `size` messages -> one completed page
            assert len(pages) == 1

    def check_conversation_list(self, user: str, listed: list[dict[str, Any]]) -> None:
        """CONV-2/CONV-3: conversations with a visible last message newer than the hide mark."""
        rows = []
        for peer in self.accounts:
            visible = self.visible(user, peer)
            if visible and visible[-1].index > self.hidden_mark.get((user, peer), 0):
                rows.append((visible[-1].time, visible[-1].index, peer, visible[-1]))
        rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
        assert [c["conversationID"] for c in listed] == [f"C2C{r[2]}" for r in rows], (listed, rows)
        for conv, (_, _, peer, last) in zip(listed, rows, strict=True):
            assert conv["type"] == "C2C" and conv["userProfile"]["userID"] == peer
            assert conv["unreadCount"] == self.unread(user, peer) >= 0
            assert conv["lastMessage"]["ID"] == last.id

    @invariant()
    def instances_agree(self) -> None:
        """The model's instance states and online lists are the shadow's."""
        app = self.world.apps[DEV_SDKAPPID]
        for inst in self.inst_list:
            assert self.world.instances[inst.id].state == inst.state, inst
        for user in self.accounts:
            online = self.online(user)
            assert [i.id for i in app.accounts[user].online] == [i.id for i in online], user
            web = sum(1 for i in online if i.web)
            assert web <= self.web_bound.get(user, 1), (user, web, self.web_bound)  # INST-3

    @invariant()
    def kicks_are_well_formed(self) -> None:
        """Each kick: one kickedOut then sdkStateNotReady; no second kickedOut before a new login."""
        for inst in self.inst_list:
            names = [name for name, _ in self.log.get(inst.id, [])]
            kicked = False
            for pos, name in enumerate(names):
                if name == KICKED_OUT:
                    assert not kicked, (inst, names)
                    assert names[pos + 1 : pos + 2] == [SDK_STATE_NOT_READY], (inst, names)
                    kicked = True
                elif name == SDK_STATE_READY:
                    kicked = False
            waiting = sum(1 for name, _ in inst.pending if name == KICKED_OUT)
            assert names.count(KICKED_OUT) + waiting == inst.kicks, (inst, names)
            for name in (MESSAGE_RECEIVED, MESSAGE_REVOKED):  # MSG-5/REV-2: exactly once each
                ids = [data[0]["ID"] for n, data in self.log.get(inst.id, []) if n == name]
                assert len(ids) == len(set(ids)), (inst, name, ids)

    @invariant()
    def history_and_unread(self) -> None:
        """Paging, unread counts and the conversation list, per account, via an online instance."""
        for user in sorted(self.accounts):
            online = self.online(user)
            if not online:
                continue
            inst = online[0]
            for peer in sorted(self.accounts):
                conversation_id = f"C2C{peer}"
                self.page_through(inst, conversation_id, None)
                conv = self.read(inst.id, "getConversationProfile", {"conversationID": conversation_id})[
                    "conversation"
                ]
                assert conv["unreadCount"] >= 0, conv
                assert conv["unreadCount"] == self.unread(user, peer), (user, peer, conv)
            listed = self.read(inst.id, "getConversationList", None)["conversationList"]
            self.check_conversation_list(user, listed)


C2CMachine.TestCase.settings = settings(settings.get_profile("ci"))
TestC2CModel = C2CMachine.TestCase
