"""The client's view of one SDK instance, and what the handler modules need from the driver.

Kept apart from ``timweb.py`` so the handler modules (``timweb_messages``, ``timweb_groups``) depend
on this small module and the ``WireClient`` protocol, never on the driver itself (no import cycle).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from simtim.driver.base import Reply
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


class WireClient(Protocol):
    """The driver as its handlers see it: one command on an instance's socket."""

    def request(self, instance: Instance, servcmd: str, body: Mapping[str, Any]) -> Reply: ...


#: one TIM method: the driver, the instance, the method's options -> what the SDK resolves
Handler = Callable[[WireClient, Instance, Mapping[str, Any]], Reply]
