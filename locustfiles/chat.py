"""C2C and small-group chat: every message type, paging, read reports, revoke, resend, conversation list.

    locust -f locustfiles/chat.py --headless -u 50 -r 10 -t 30s --csv reports/chat --html reports/chat.html

Without ``--host`` an embedded reference server is started for the run; with
``--host http://HOST:PORT`` any simtim/1 endpoint is driven; ``--host
inproc://`` runs the model in this process (measures the harness itself).
"""

from __future__ import annotations

from typing import Any

from faker import Faker

from simtim.load import harness
from simtim.load.user import SimTimUser

harness.register()

#: action -> weight.  [decision] Shaped after mattermost-load-test-ng's simulcontroller, whose
#: measured action frequencies make posting about a quarter of all actions and reading (opening a
#: channel, fetching unread state, scrolling history) most of the rest; TIM-specific actions that
#: the seed documents as rare (revoke within 2 minutes, resend after a failure, profile edits) get
#: small weights.
ACTIONS: dict[str, int] = {
    "send_text": 24,  # C2C text: the bulk of chat traffic
    "send_group_text": 10,  # small group (cell members) text
    "send_rich": 6,  # image/sound/video/file/custom/face/location metadata messages
    "page_history": 16,  # opening a conversation: newest page, sometimes a second page
    "mark_read": 14,  # setMessageRead after reading
    "conversation_list": 12,  # the conversation list refresh
    "conversation_profile": 4,
    "revoke_recent": 3,  # revoke a message sent moments ago (REV-1 window)
    "resend_last": 2,  # resend of a stored message (MSG-6 dedup)
    "update_profile": 1,  # nick change (PROF-1)
    "tick": 8,  # fake-clock targets: step the cell's own app clock one second
}

_FAKERS = (Faker("zh_CN"), Faker("en_US"))
_RICH: list[tuple[str, dict[str, Any]]] = [
    (
        "TIMImageElem",
        {
            "imageFormat": 1,
            "uuid": "img-1",
            "imageInfoArray": [
                {
                    "type": 0,
                    "size": 34567,
                    "width": 640,
                    "height": 480,
                    "url": "https://cdn.example/img-1.jpg",
                }
            ],
        },
    ),
    ("TIMSoundElem", {"url": "https://cdn.example/a.mp3", "size": 20480, "second": 7}),
    (
        "TIMVideoFileElem",
        {
            "videoUrl": "https://cdn.example/v.mp4",
            "videoSize": 2048000,
            "videoSecond": 12,
            "thumbUrl": "https://cdn.example/v.jpg",
        },
    ),
    ("TIMFileElem", {"fileUrl": "https://cdn.example/f.pdf", "fileName": "report.pdf", "fileSize": 99000}),
    ("TIMCustomElem", {"data": '{"kind":"order","id":42}', "description": "order", "extension": ""}),
    ("TIMFaceElem", {"index": 3, "data": "[smile]"}),
    ("TIMLocationElem", {"description": "Shenzhen", "longitude": 113.93, "latitude": 22.53}),
]


class ChatUser(SimTimUser):
    actions = ACTIONS

    def setup_cell(self) -> None:
        self.group_id = ""
        self.recent: dict[str, list[dict[str, Any]]] = {name: [] for name in self.names}
        members = [{"userID": self.user_id(name)} for name in self.names[1:]]
        reply = self.call(
            self.names[0], "createGroup", {"name": "chat", "type": "Public", "memberList": members}, "GRP-1"
        )
        if reply.ok:
            self.group_id = reply.data["group"]["groupID"]

    def _faker(self) -> Faker:
        return self.rng.choice(_FAKERS)

    def _pair(self) -> tuple[str, str]:
        sender, peer = self.rng.sample(self.names, 2)
        return sender, peer

    def _send(self, sender: str, to: str, kind: str, elem_type: str, payload: dict[str, Any]) -> None:
        message = {
            "to": to,
            "conversationType": kind,
            "type": elem_type,
            "payload": payload,
            "cloudCustomData": self.stamp(self.user_id(sender)),
        }
        reply = self.call(sender, "sendMessage", {"message": message}, "MSG-5")
        if reply.ok and reply.data["message"].get("sequence"):
            sent = self.recent[sender]
            sent.append(reply.data["message"])
            del sent[:-20]

    # --- actions -------------------------------------------------------------------------------
    def send_text(self) -> None:
        sender, peer = self._pair()
        self._send(sender, self.user_id(peer), "C2C", "TIMTextElem", {"text": self._faker().sentence()})

    def send_group_text(self) -> None:
        if self.group_id:
            sender = self.rng.choice(self.names)
            self._send(sender, self.group_id, "GROUP", "TIMTextElem", {"text": self._faker().sentence()})

    def send_rich(self) -> None:
        sender, peer = self._pair()
        elem_type, payload = self.rng.choice(_RICH)
        self._send(sender, self.user_id(peer), "C2C", elem_type, payload)

    def _conversation(self, reader: str) -> str:
        if self.group_id and self.rng.random() < 0.3:
            return "GROUP" + self.group_id
        return "C2C" + self.user_id(self.rng.choice([n for n in self.names if n != reader]))

    def page_history(self) -> None:
        reader = self.rng.choice(self.names)
        conversation = self._conversation(reader)
        reply = self.call(reader, "getMessageList", {"conversationID": conversation}, "PAGE-1")
        if reply.ok and not reply.data["isCompleted"] and self.rng.random() < 0.4:
            self.call(
                reader,
                "getMessageList",
                {"conversationID": conversation, "nextReqMessageID": reply.data["nextReqMessageID"]},
                "PAGE-1",
            )

    def mark_read(self) -> None:
        reader = self.rng.choice(self.names)
        self.call(reader, "setMessageRead", {"conversationID": self._conversation(reader)}, "UNREAD-1")

    def conversation_list(self) -> None:
        self.call(self.rng.choice(self.names), "getConversationList", {}, "CONV-2")

    def conversation_profile(self) -> None:
        reader = self.rng.choice(self.names)
        self.call(reader, "getConversationProfile", {"conversationID": self._conversation(reader)}, "CONV-2")

    def revoke_recent(self) -> None:
        sender = self.rng.choice(self.names)
        if self.recent[sender]:
            message = self.recent[sender].pop()
            self.call(sender, "revokeMessage", {"message": message}, "REV-1")

    def resend_last(self) -> None:
        sender = self.rng.choice(self.names)
        if self.recent[sender]:
            self.call(sender, "resendMessage", {"message": self.recent[sender][-1]}, "MSG-6")

    def update_profile(self) -> None:
        self.call(self.rng.choice(self.names), "updateMyProfile", {"nick": self._faker().name()}, "PROF-1")

    def tick(self) -> None:
        self.advance_clock(1)
