"""The backend of a TIM app: REST v4 calls as the App admin, while the cell's users are online.

    locust -f locustfiles/rest.py --headless -u 20 -r 10 -t 30s --csv reports/rest --html reports/rest.html

Without ``--host`` an embedded reference server is started for the run and its REST v4 face is
driven (``/v4/...`` on the same port). With ``--host http://HOST:PORT`` the REST face is tried at
the same address; ``--host inproc://`` drives the model's REST face in this process. Every reply is
checked against the model's REST face (REST-1 … REST-8) and every push the call causes to the
cell's online simtim/1 users is checked and timed (REST-9): REST sends count toward MSG-5 delivery
and end-to-end latency like SDK sends. Requests are reported as type REST, named by command.
"""

from __future__ import annotations

from typing import Any

from faker import Faker

from simtim.load import harness
from simtim.load.user import SimTimUser

harness.register()

#: action -> weight. [decision] The mix of a chat app's backend as TIM's REST docs and the
#: community server SDKs present it: system and bot messages dominate (C2C and group sends, a
#: broadcast now and then), then the reads a backend makes for moderation and support (roaming
#: history, group history, unread, online status, group info), then account and membership
#: management, and rare moderation (mute, recall).
ACTIONS: dict[str, int] = {
    "sendmsg": 26,
    "send_group_msg": 14,
    "batchsendmsg": 3,
    "roam_history": 8,
    "group_history": 8,
    "unread": 5,
    "online_status": 4,
    "group_info": 4,
    "import_account": 4,
    "member_churn": 6,
    "mute_toggle": 3,
    "recall_c2c": 2,
    "recall_group": 2,
}

_FAKER = Faker("en_US")


def _text(value: str) -> list[dict[str, Any]]:
    return [{"MsgType": "TIMTextElem", "MsgContent": {"Text": value}}]


class RestUser(SimTimUser):
    actions = ACTIONS

    def setup_cell(self) -> None:
        self.group_id = ""
        self.extra = 0  # accounts imported by this cell
        self.outsider = ""  # the churned member: in the group or not
        self.outsider_in = False
        self.muted = False
        self.recent_keys: list[tuple[str, str, str]] = []  # (from, to, MsgKey)
        self.recent_seqs: list[int] = []
        members = [{"Member_Account": self.user_id(n)} for n in self.names[1:]]
        body = {
            "Type": "Public",
            "Name": "backend",
            "Owner_Account": self.user_id(self.names[0]),
            "MemberList": members,
        }
        reply = self.rest_call("create_group", body, "REST-6")
        if reply.ok:
            self.group_id = str(reply.data["GroupId"])

    def _admin_stamp_key(self) -> str:
        """The admin speaks in every cell: its delivery order is tracked per cell, not app-wide."""
        return self.user_id("administrator")

    def _random(self) -> int:
        return self.rng.randrange(2**32)

    # --- sends ----------------------------------------------------------------------------------
    def sendmsg(self) -> None:
        to = self.rng.choice(self.names)
        body: dict[str, Any] = {
            "To_Account": self.user_id(to),
            "MsgRandom": self._random(),
            "MsgBody": _text(_FAKER.sentence()),
        }
        sender = self._admin_stamp_key()
        if self.rng.random() < 0.6:  # a bot or user the backend speaks for
            sender = self.user_id(self.rng.choice([n for n in self.names if n != to]))
            body["From_Account"] = sender
        body["CloudCustomData"] = self.stamp(sender)
        reply = self.rest_call("sendmsg", body, "REST-4")
        if reply.ok:
            self.recent_keys.append(
                (body.get("From_Account", "administrator"), body["To_Account"], str(reply.data["MsgKey"]))
            )
            del self.recent_keys[:-10]

    def send_group_msg(self) -> None:
        if not self.group_id:
            return
        sender = self.user_id(self.rng.choice(self.names))
        body = {
            "GroupId": self.group_id,
            "From_Account": sender,
            "Random": self._random(),
            "MsgBody": _text(_FAKER.sentence()),
            "CloudCustomData": self.stamp(sender),
        }
        reply = self.rest_call("send_group_msg", body, "REST-8")
        if reply.ok and "MsgDropReason" not in reply.data:
            self.recent_seqs.append(int(reply.data["MsgSeq"]))
            del self.recent_seqs[:-10]

    def batchsendmsg(self) -> None:
        body = {
            "To_Account": [self.user_id(n) for n in self.names],
            "MsgRandom": self._random(),
            "MsgBody": _text("announcement: " + _FAKER.sentence()),
            "CloudCustomData": self.stamp(self._admin_stamp_key()),
        }
        self.rest_call("batchsendmsg", body, "REST-4")

    # --- reads ----------------------------------------------------------------------------------
    def roam_history(self) -> None:
        operator, peer = self.rng.sample(self.names, 2)
        body = {
            "Operator_Account": self.user_id(operator),
            "Peer_Account": self.user_id(peer),
            "MaxCnt": 20,
            "MinTime": 0,
            "MaxTime": 4_000_000_000,
        }
        self.rest_call("admin_getroammsg", body, "REST-5")

    def group_history(self) -> None:
        if self.group_id:
            self.rest_call("group_msg_get_simple", {"GroupId": self.group_id, "ReqMsgNumber": 20}, "REST-8")

    def unread(self) -> None:
        user = self.rng.choice(self.names)
        peers = [self.user_id(n) for n in self.names if n != user]
        self.rest_call(
            "get_c2c_unread_msg_num", {"To_Account": self.user_id(user), "Peer_Account": peers}, "REST-5"
        )

    def online_status(self) -> None:
        self.rest_call(
            "query_online_status",
            {"To_Account": [self.user_id(n) for n in self.names], "IsNeedDetail": 1},
            "REST-3",
        )

    def group_info(self) -> None:
        if self.group_id:
            self.rest_call("get_group_info", {"GroupIdList": [self.group_id]}, "REST-6")

    # --- accounts and members -------------------------------------------------------------------
    def import_account(self) -> None:
        self.extra += 1
        name = self.user_id(f"x{self.extra}")
        self.rest_call("account_import", {"UserID": name, "Nick": _FAKER.first_name()}, "REST-3")
        if not self.outsider:
            self.outsider = name

    def member_churn(self) -> None:
        if not self.group_id or not self.outsider:
            return
        if self.outsider_in:
            body: dict[str, Any] = {"GroupId": self.group_id, "MemberToDel_Account": [self.outsider]}
            reply = self.rest_call("delete_group_member", body, "REST-7")
        else:
            body = {"GroupId": self.group_id, "MemberList": [{"Member_Account": self.outsider}]}
            reply = self.rest_call("add_group_member", body, "REST-7")
        if reply.ok:
            self.outsider_in = not self.outsider_in

    def mute_toggle(self) -> None:
        if not self.group_id:
            return
        target = self.user_id(self.names[-1])
        body = {"GroupId": self.group_id, "Members_Account": [target], "MuteTime": 0 if self.muted else 60}
        if self.rest_call("forbid_send_msg", body, "REST-7").ok:
            self.muted = not self.muted

    def recall_c2c(self) -> None:
        if self.recent_keys:
            sender, to, key = self.recent_keys.pop()
            self.rest_call(
                "admin_msgwithdraw", {"From_Account": sender, "To_Account": to, "MsgKey": key}, "REST-5"
            )

    def recall_group(self) -> None:
        if self.group_id and self.recent_seqs:
            seq = self.recent_seqs.pop()
            self.rest_call(
                "group_msg_recall", {"GroupId": self.group_id, "MsgSeqList": [{"MsgSeq": seq}]}, "REST-8"
            )
