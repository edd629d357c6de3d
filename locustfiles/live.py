"""AVChatRoom live fan-out: one or few senders, many online receivers, priorities and the 40/s control.

locust -f locustfiles/live.py --headless -u 4 -r 4 -t 30s --cell-size 25 --csv reports/live
"""

from __future__ import annotations

from faker import Faker

from simtim.load import harness
from simtim.load.user import SimTimUser

harness.register()

#: action -> weight.  [decision] A live room is dominated by the host's messages and viewers'
#: barrage; TIM's seed documents the per-group control (40 msg/s, High kept, Normal refused with
#: 10023, Low/Lowest dropped), so sends come in bursts with mixed priorities; viewers join and
#: leave now and then, which is AVChatRoom's membership churn.
ACTIONS: dict[str, int] = {
    "host_send": 30,  # the host (member a0), priority mix below
    "viewer_send": 20,  # a viewer's barrage message
    "burst": 4,  # 50 sends inside one clock second: crosses the 40/s control (MSG-7)
    "rejoin": 3,  # a viewer quits and joins again (GRP-7: AVChatRoom needs type)
    "tick": 10,  # step the clock one second: a new rate window
}
PRIORITIES = (("High", 1), ("Normal", 7), ("Low", 2))

_FAKER = Faker("zh_CN")


class LiveUser(SimTimUser):
    actions = ACTIONS

    def setup_cell(self) -> None:
        self.room = ""
        host = self.names[0]
        reply = self.call(host, "createGroup", {"name": "live", "type": "AVChatRoom"}, "GRP-1")
        if not reply.ok:
            return
        self.room = reply.data["group"]["groupID"]
        for name in self.names:
            self.call(name, "joinGroup", {"groupID": self.room, "type": "AVChatRoom"}, "GRP-7")
        self.joined = set(self.names)

    def _priority(self) -> str:
        names, weights = zip(*PRIORITIES, strict=True)
        return self.rng.choices(names, weights)[0]

    def _send(self, sender: str, priority: str) -> None:
        self.call(
            sender,
            "sendMessage",
            {
                "message": {
                    "to": self.room,
                    "conversationType": "GROUP",
                    "type": "TIMTextElem",
                    "priority": priority,
                    "payload": {"text": _FAKER.sentence()},
                    "cloudCustomData": self.stamp(self.user_id(sender)),
                }
            },
            "MSG-7",
        )

    def host_send(self) -> None:
        if self.room:
            self._send(self.names[0], self._priority())

    def viewer_send(self) -> None:
        viewers = sorted(self.joined - {self.names[0]})
        if self.room and viewers:
            self._send(self.rng.choice(viewers), self._priority())

    def burst(self) -> None:
        if self.room:
            for _ in range(50):
                self._send(self.names[0], self._priority())

    def rejoin(self) -> None:
        viewers = sorted(self.joined - {self.names[0]})
        if not viewers:
            return
        viewer = self.rng.choice(viewers)
        self.call(viewer, "quitGroup", {"groupID": self.room}, "GRP-4")
        self.call(viewer, "joinGroup", {"groupID": self.room, "type": "AVChatRoom"}, "GRP-7")

    def tick(self) -> None:
        self.advance_clock(1)
