"""The client's view of one SDK instance, and what the handler modules need from the driver.

Kept apart from ``timweb.py`` so the handler modules (``timweb_messages``, ``timweb_groups``) depend
on this small module and the ``WireClient`` protocol, never on the driver itself (no import cycle).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from simtim.driver.base import DriverError, Reply
from simtim.driver.timweb_socket import WebSocketSession
from simtim.model.lifecycle import NEW, InstanceState

#: messages an instance remembers for revoke notices (the SDK keeps a bounded cache too)
SEEN_LIMIT = 2000
KEYS_LIMIT = 200_000


@dataclass(eq=False)
class Instance:
    """One SDK instance: the client's view of its lifecycle and, while logged in, its socket."""

    sdkappid: int
    platform: str = "web"
    state: InstanceState = NEW
    user_id: str = ""
    socket: WebSocketSession | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: messages this instance has seen (sent, pushed, paged), by ID, as its user sees them: what the
    #: SDK's message cache gives a revoke notice (which names a message, not its body)
    seen: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    #: the user's own nick and avatar as the SDK holds them (read at login, kept on update): the SDK
    #: shows them on the messages it sends
    profile: dict[str, str] = field(default_factory=dict)

    #: MSG-8: the server's copy of a message this instance sent whose body the app backend replaced
    #: (a push of its own message flagged ``MsgModifiedFlag``), by message ID, until its send resolves
    modified: dict[str, dict[str, Any]] = field(default_factory=dict)

    #: C2C message ID -> (from, to, MsgKey): how the wire names a message this driver has seen,
    #: shared by the driver's instances (a revoke or a history cursor names a message by its ID)
    keys: OrderedDict[str, tuple[str, str, str]] = field(default_factory=OrderedDict)

    def remember(self, message: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        if key is not None:
            self.keys[message["ID"]] = (message["from"], message["to"], key)
            while len(self.keys) > KEYS_LIMIT:
                self.keys.popitem(last=False)
        self.seen[message["ID"]] = message
        self.seen.move_to_end(message["ID"])
        while len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        return message


#: an item flag of ``im_open_push.msg_push``: the SDK's ``isModified`` (MSG-8)
MODIFIED_FLAG = "MsgModifiedFlag"
#: what an SDK's keep-alive sends; the driver uses it after a send as a barrier (``settle_send``)
KEEP_ALIVE = "heartbeat.alive"
#: what the app backend may replace in a message (MSG-8: the body; cloudCustomData goes along)
STORED_CONTENT = ("type", "payload", "elements", "cloudCustomData")


def is_modified_notice(instance: Instance, item: Mapping[str, Any]) -> bool:
    """A pushed message of this instance's own user flagged modified (the face sends it only to the
    instance that sent the message): the official SDK fires ``onMessageModified`` for it, not
    ``onMessageReceived``."""
    return item.get(MODIFIED_FLAG) == 1 and item.get("From_Account") == instance.user_id


def settle_send(driver: WireClient, instance: Instance, view: dict[str, Any]) -> dict[str, Any]:
    """MSG-8: the message a send resolves with, as the server stored it.

    The face tells the sending instance of a replaced body in a push right after the send's reply
    (the official SDK then fires ``onMessageModified``).  One more request on the same socket is
    answered only after that push, so once its reply is in, the reader has seen every push the
    send caused; the server's body, when it sent one, replaces the one this client sent.  The
    model's ``sendMessage`` resolves with the stored message, so this is what the method resolves
    here; nothing is worked out on the client."""
    with contextlib.suppress(DriverError):  # the send went through; a lost barrier shows as a mismatch
        driver.request(instance, KEEP_ALIVE, {})
    stored = instance.modified.pop(view["ID"], None)
    if stored is None:
        return view
    content: dict[str, Any] = {k: stored[k] for k in STORED_CONTENT if k in stored}
    changed = {k: v for k, v in view.items() if k != "elements"}
    return {**changed, **content}


class WireClient(Protocol):
    """The driver as its handlers see it: one command on an instance's socket."""

    def request(self, instance: Instance, servcmd: str, body: Mapping[str, Any]) -> Reply: ...


#: one TIM method: the driver, the instance, the method's options -> what the SDK resolves
Handler = Callable[[WireClient, Instance, Mapping[str, Any]], Reply]
