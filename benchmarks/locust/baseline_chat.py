"""The I/O of ``locustfiles/chat.py`` without any checking: the baseline of harness_bench part 1.

    locust -f benchmarks/locust/baseline_chat.py --headless -u 50 -r 50 -t 20s \
        --host http://127.0.0.1:PORT --simtim-admin-key KEY

A ``FastHttpUser`` per cell: the same setup calls (configureApp, snapshot,
importAccount for every account, a shortcut login per account with its own
event socket, createGroup), then the same action table (``ACTIONS`` and the
rich payloads are read from locustfiles/chat.py with ``ast``, so the mix stays
in step without importing the harness) with the same ``wait_time`` as
``SimTimUser``.  Replies are parsed (chat needs group IDs, messages to revoke
and paging cursors), but nothing is compared and no model runs.  Each event
socket is read by a bare websocket-client greenlet (opened exactly as
``GeventTransport`` opens it) that yields every 8 frames and does nothing else;
its frames are counted for the probe (``environment.simtim_bench_counters``).

Requests are named by method, so Locust's rows read ``POST sendMessage``; the
once-per-cell admin calls that the harness does not report either are named
``setup:<op>``.  The tick action's ``advanceClock`` counts as a call, as in the
harness.
"""

from __future__ import annotations

import ast
import contextlib
import random
import secrets
import time
from pathlib import Path
from typing import Any

import gevent
import orjson
import websocket
from faker import Faker
from locust import FastHttpUser, events, task

from simtim.conformance.delivery import stamp
from simtim.load import user as simtim_user
from simtim.usersig import gen_usersig

CHAT = Path(__file__).resolve().parents[2] / "locustfiles" / "chat.py"
SIG_LIFETIME = 400 * 86400
YIELD_EVERY = 8  # as simtim.load.transport


def _literal(path: Path, name: str) -> Any:
    """The literal value assigned to ``name`` at module level of ``path``."""
    for node in ast.parse(path.read_text()).body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (node.targets[0] if isinstance(node, ast.Assign) else None)
        )
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:
            return ast.literal_eval(node.value)
    raise LookupError(f"{path}: no literal {name}")


ACTIONS: dict[str, int] = _literal(CHAT, "ACTIONS")
RICH: list[tuple[str, dict[str, Any]]] = _literal(CHAT, "_RICH")
FAKERS = (Faker("zh_CN"), Faker("en_US"))
FRAMES = [0]


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--cell-size", type=int, default=4, help="accounts per user (as the harness)")
    parser.add_argument("--simtim-admin-key", default="", help="admin key of the target")
    parser.add_argument(
        "--conformance", default="off", help="ignored: accepted so both files take one command"
    )


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    environment.simtim_bench_counters = {"frames": lambda: FRAMES[0]}


def _reader(ws: Any) -> None:
    count = 0
    try:
        while True:
            frame = ws.recv()
            if not frame:
                break
            count += 1
            FRAMES[0] += 1
            if count % YIELD_EVERY == 0:
                gevent.sleep(0)
    except Exception:
        pass


class BaselineChatUser(FastHttpUser):
    wait_time = simtim_user.SimTimUser.wait_time

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.admin_key = options.simtim_admin_key
        self.rng = random.Random(secrets.token_hex(8))
        self.choices = [name for name, weight in ACTIONS.items() if weight > 0]
        self.weights = [ACTIONS[name] for name in self.choices]
        self.sockets: list[Any] = []
        self.readers: list[gevent.Greenlet] = []
        self.tokens: dict[str, str] = {}
        self.seq: dict[str, int] = {}
        self.worker = f"baseline-{id(self)}"
        prefix = f"u{secrets.token_hex(4)}_"
        self.sdkappid = 1_500_000_000 + secrets.randbelow(600_000_000)
        self.secret_key = ("k" + prefix).ljust(32, "0")
        self.names = [f"{prefix}a{i}" for i in range(max(2, int(options.cell_size)))]
        self.admin("configureApp", {"secretKey": self.secret_key}, "setup:configureApp")
        now = int(self.admin("snapshot", {}, "setup:snapshot").get("now", time.time()))
        for name in self.names:
            self.admin("importAccount", {"userID": name, "nick": ""}, "setup:importAccount")
        host = self.host.split("://", 1)[1]
        for name in self.names:
            sig = gen_usersig(self.sdkappid, self.secret_key, name, SIG_LIFETIME, now=now)
            data = self.call(
                "", "login", {"SDKAppID": self.sdkappid, "platform": "web", "userID": name, "userSig": sig}
            )
            token = data.get("token")
            if not token:
                continue
            self.tokens[name] = token
            ws = websocket.create_connection(f"ws://{host}/v1/events?token={token}", timeout=5.0)
            ws.settimeout(None)
            self.sockets.append(ws)
            self.readers.append(gevent.spawn(_reader, ws))
        self.recent: dict[str, list[dict[str, Any]]] = {name: [] for name in self.names}
        group = self.call(
            self.names[0],
            "createGroup",
            {"name": "chat", "type": "Public", "memberList": [{"userID": n} for n in self.names[1:]]},
        )
        self.group_id = (group.get("group") or {}).get("groupID", "")

    def on_stop(self) -> None:
        for ws in self.sockets:
            with contextlib.suppress(Exception):
                ws.close()
        gevent.killall(self.readers, block=False)

    # --- I/O ---------------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str], name: str) -> dict[str, Any]:
        response = self.client.request(
            "POST",
            path,
            data=orjson.dumps(body),
            name=name,
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            value = orjson.loads(response.content or b"{}")
        except orjson.JSONDecodeError:
            return {}
        data = value.get("data") if isinstance(value, dict) else None
        return data if isinstance(data, dict) else {}

    def call(self, actor: str, method: str, args: dict[str, Any]) -> dict[str, Any]:
        token = self.tokens.get(actor)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._post(f"/v1/{method}", args, headers, method)

    def admin(self, op: str, body: dict[str, Any], name: str) -> dict[str, Any]:
        return self._post(
            f"/admin/v1/{op}", {"SDKAppID": self.sdkappid, **body}, {"X-Admin-Key": self.admin_key}, name
        )

    # --- the action table of chat.py ------------------------------------------------------------
    @task
    def step(self) -> None:
        getattr(self, self.rng.choices(self.choices, self.weights)[0])()

    def _stamp(self, sender: str) -> str:
        self.seq[sender] = self.seq.get(sender, 0) + 1
        return stamp(self.worker, sender, self.seq[sender], time.monotonic())

    def _send(self, sender: str, to: str, kind: str, elem_type: str, payload: dict[str, Any]) -> None:
        message = {
            "to": to,
            "conversationType": kind,
            "type": elem_type,
            "payload": payload,
            "cloudCustomData": self._stamp(sender),
        }
        data = self.call(sender, "sendMessage", {"message": message})
        sent = data.get("message")
        if isinstance(sent, dict) and sent.get("sequence"):
            recent = self.recent[sender]
            recent.append(sent)
            del recent[:-20]

    def _pair(self) -> tuple[str, str]:
        sender, peer = self.rng.sample(self.names, 2)
        return sender, peer

    def _conversation(self, reader: str) -> str:
        if self.group_id and self.rng.random() < 0.3:
            return "GROUP" + self.group_id
        return "C2C" + self.rng.choice([n for n in self.names if n != reader])

    def send_text(self) -> None:
        sender, peer = self._pair()
        self._send(sender, peer, "C2C", "TIMTextElem", {"text": self.rng.choice(FAKERS).sentence()})

    def send_group_text(self) -> None:
        if self.group_id:
            self._send(
                self.rng.choice(self.names),
                self.group_id,
                "GROUP",
                "TIMTextElem",
                {"text": self.rng.choice(FAKERS).sentence()},
            )

    def send_rich(self) -> None:
        sender, peer = self._pair()
        elem_type, payload = self.rng.choice(RICH)
        self._send(sender, peer, "C2C", elem_type, payload)

    def page_history(self) -> None:
        reader = self.rng.choice(self.names)
        conversation = self._conversation(reader)
        data = self.call(reader, "getMessageList", {"conversationID": conversation})
        if data and not data.get("isCompleted", True) and self.rng.random() < 0.4:
            self.call(
                reader,
                "getMessageList",
                {"conversationID": conversation, "nextReqMessageID": data.get("nextReqMessageID")},
            )

    def mark_read(self) -> None:
        reader = self.rng.choice(self.names)
        self.call(reader, "setMessageRead", {"conversationID": self._conversation(reader)})

    def conversation_list(self) -> None:
        self.call(self.rng.choice(self.names), "getConversationList", {})

    def conversation_profile(self) -> None:
        reader = self.rng.choice(self.names)
        self.call(reader, "getConversationProfile", {"conversationID": self._conversation(reader)})

    def revoke_recent(self) -> None:
        sender = self.rng.choice(self.names)
        if self.recent[sender]:
            self.call(sender, "revokeMessage", {"message": self.recent[sender].pop()})

    def resend_last(self) -> None:
        sender = self.rng.choice(self.names)
        if self.recent[sender]:
            self.call(sender, "resendMessage", {"message": self.recent[sender][-1]})

    def update_profile(self) -> None:
        self.call(self.rng.choice(self.names), "updateMyProfile", {"nick": self.rng.choice(FAKERS).name()})

    def tick(self) -> None:
        self.admin("advanceClock", {"seconds": 1}, "advanceClock")
