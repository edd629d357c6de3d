"""Group membership churn: join with approval, quit, roles, mute, name cards, kicks, member paging.

locust -f locustfiles/group.py --headless -u 20 -r 10 -t 30s --csv reports/group
"""

from __future__ import annotations

from typing import Any

from faker import Faker

from simtim.load import harness
from simtim.load.user import SimTimUser

harness.register()

#: action -> weight.  [decision] Membership operations are rare next to messaging in real groups,
#: but this locustfile exists to stress them, so they dominate; sends stay frequent enough that
#: mute (MUTE-2) and role changes are observed on live traffic.  Reads (member list/profile) follow
#: how clients refresh a member panel after each change.
ACTIONS: dict[str, int] = {
    "send": 20,  # group text (10017 while muted is an expected answer)
    "apply": 10,  # a non-member applies to the NeedPermission group (GRP-7)
    "approve": 10,  # the owner handles the newest pending application (GRP-8)
    "quit": 6,  # a plain member leaves (GRP-4)
    "kick": 3,  # the owner removes a member (MBR-2)
    "admin_add": 3,  # App admin adds a non-member (MBR-1, admin API)
    "set_role": 6,  # promote/demote (ROLE-1)
    "mute": 6,  # mute for a few seconds (MUTE-1)
    "unmute": 3,
    "name_card": 4,  # ROLE-2
    "member_list": 10,  # MBR-3 paging
    "member_profile": 5,  # MBR-4
    "tick": 8,  # step the cell's clock: mutes expire (CLOCK-1)
}

_FAKER = Faker("en_US")


class GroupUser(SimTimUser):
    actions = ACTIONS

    def setup_cell(self) -> None:
        self.group_id = ""
        owner = self.names[0]
        reply = self.call(
            owner,
            "createGroup",
            {
                "name": "churn",
                "type": "Public",
                "joinOption": "NeedPermission",
                "memberList": [{"userID": self.user_id(n)} for n in self.names[1:2]],
            },
            "GRP-1",
        )
        if reply.ok:
            self.group_id = reply.data["group"]["groupID"]
        self.members = set(self.names[:2])

    @property
    def owner(self) -> str:
        return self.names[0]

    def _members(self) -> list[str]:
        return sorted(self.members)

    def _others(self) -> list[str]:
        return [n for n in self.names if n not in self.members]

    def _gargs(self, **extra: Any) -> dict[str, Any]:
        return {"groupID": self.group_id, **extra}

    def send(self) -> None:
        sender = self.rng.choice(self._members())
        self.call(
            sender,
            "sendMessage",
            {
                "message": {
                    "to": self.group_id,
                    "conversationType": "GROUP",
                    "type": "TIMTextElem",
                    "payload": {"text": _FAKER.sentence()},
                    "cloudCustomData": self.stamp(self.user_id(sender)),
                }
            },
            "MUTE-2",
        )

    def apply(self) -> None:
        others = self._others()
        if others:
            self.call(self.rng.choice(others), "joinGroup", self._gargs(applyMessage="let me in"), "GRP-7")

    def approve(self) -> None:
        page = self.call(self.owner, "getMessageList", {"conversationID": "@TIM#SYSTEM"}, "SYS-1")
        if not page.ok:
            return
        pending = [
            m
            for m in page.data["messageList"]
            if m["payload"].get("operationType") == 1
            and m["payload"]["groupProfile"]["groupID"] == self.group_id
        ]
        if not pending:
            return
        notice = pending[-1]
        action = "Agree" if self.rng.random() < 0.8 else "Reject"
        reply = self.call(
            self.owner,
            "handleGroupApplication",
            {"handleAction": action, "handleMessage": "ok", "message": notice},
            "GRP-8",
        )
        applicant = notice["payload"].get("applicant", "")
        if reply.ok and action == "Agree" and applicant.startswith(self.cell.prefix if self.cell else ""):
            self.members.add(applicant[len(self.cell.prefix) :] if self.cell else applicant)

    def quit(self) -> None:
        plain = [n for n in self._members() if n != self.owner]
        if plain:
            name = self.rng.choice(plain)
            if self.call(name, "quitGroup", self._gargs(), "GRP-4").ok:
                self.members.discard(name)

    def kick(self) -> None:
        plain = [n for n in self._members() if n != self.owner]
        if plain:
            name = self.rng.choice(plain)
            if self.call(
                self.owner, "deleteGroupMember", self._gargs(userIDList=[self.user_id(name)]), "MBR-2"
            ).ok:
                self.members.discard(name)

    def admin_add(self) -> None:
        others = self._others()
        if others and self.cell is not None and self.cell.info.admin and hasattr(self.cell, "admin"):
            name = self.rng.choice(others)
            if self.admin_call(
                "addGroupMember", {"groupID": self.group_id, "userIDList": [self.user_id(name)]}, "MBR-1"
            ).ok:
                self.members.add(name)

    def set_role(self) -> None:
        plain = [n for n in self._members() if n != self.owner]
        if plain:
            self.call(
                self.owner,
                "setGroupMemberRole",
                self._gargs(
                    userID=self.user_id(self.rng.choice(plain)), role=self.rng.choice(["Admin", "Member"])
                ),
                "ROLE-1",
            )

    def mute(self) -> None:
        plain = [n for n in self._members() if n != self.owner]
        if plain:
            self.call(
                self.owner,
                "setGroupMemberMuteTime",
                self._gargs(userID=self.user_id(self.rng.choice(plain)), muteTime=self.rng.randint(1, 4)),
                "MUTE-1",
            )

    def unmute(self) -> None:
        plain = [n for n in self._members() if n != self.owner]
        if plain:
            self.call(
                self.owner,
                "setGroupMemberMuteTime",
                self._gargs(userID=self.user_id(self.rng.choice(plain)), muteTime=0),
                "MUTE-1",
            )

    def name_card(self) -> None:
        actor = self.rng.choice(self._members())
        self.call(actor, "setGroupMemberNameCard", self._gargs(nameCard=_FAKER.first_name()), "ROLE-2")

    def member_list(self) -> None:
        actor = self.rng.choice(self._members())
        reply = self.call(actor, "getGroupMemberList", self._gargs(count=self.rng.randint(1, 3)), "MBR-3")
        if reply.ok and reply.data["offset"]:
            self.call(actor, "getGroupMemberList", self._gargs(count=3, offset=reply.data["offset"]), "MBR-3")

    def member_profile(self) -> None:
        actor = self.rng.choice(self._members())
        ids = [self.user_id(n) for n in self.rng.sample(self.names, k=min(3, len(self.names)))]
        self.call(actor, "getGroupMemberProfile", self._gargs(userIDList=ids), "MBR-4")

    def tick(self) -> None:
        self.advance_clock(1)
