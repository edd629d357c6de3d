"""What a Web SDK command handler gets: the face's world, the caller's session, the request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from simtim.errors import Code, IMError
from simtim.model.entities import Account, App, Message
from simtim.model.events import Event
from simtim.model.world import World
from simtim.protocol.rest.vocabulary import body_of, element_to_rest
from simtim.protocol.web.codec import Request
from simtim.protocol.web.session import Outlet, TinyIds, WebSession


class Face(Protocol):
    """What handlers use of the face (``face.WebFace``); a protocol keeps the import one-way."""

    world: World
    tinyids: TinyIds
    ended: dict[str, int]

    def open_session(self, session: WebSession) -> None: ...

    def close_session(self, session: WebSession) -> None: ...

    def session_of(self, ctx: WebCtx) -> WebSession: ...


@dataclass
class WebCtx:
    face: Face
    outlet: Outlet
    request: Request
    session: WebSession | None
    events: list[Event] = field(default_factory=list)
    #: the app backend's answer to the before-send callback, asked by the transport (MSG-8); NO_VERDICT
    #: when none was asked
    verdict: Any = None
    asked: bool = False
    #: the message this request sent, when the before-send callback replaced its body (MSG-8): the
    #: sending instance is told after the reply, as the SDK expects (``pushes.modified_frame``)
    modified: Message | None = None
    #: the a2 a login hands out, drawn before the request was journaled (``simtim serve --data``),
    #: so its replay hands out the same one; None: the login draws it
    issued_a2: str | None = None

    @property
    def world(self) -> World:
        return self.face.world

    @property
    def body(self) -> dict[str, Any]:
        return self.request.body

    @property
    def me(self) -> WebSession:
        """The logged-in session (the dispatcher only calls session handlers with one)."""
        assert self.session is not None
        return self.session

    @property
    def app(self) -> App:
        return self.world.apps[self.me.sdkappid]

    @property
    def account(self) -> Account:
        return self.app.accounts[self.me.user_id]

    def now(self) -> int:
        app = self.world.apps.get(self.session.sdkappid) if self.session else None
        return app.clock.now() if app is not None else self.world.clock.now()

    def send(self, options: dict[str, Any]) -> dict[str, Any]:
        """``sendMessage``, with the before-send callback's verdict when the transport asked it (MSG-8)."""
        if not self.asked:
            return self.call("sendMessage", options)
        inst = self.world.instances[self.me.instance_id]
        outcome = self.world.send_message(inst, options, self.verdict)
        self.events.extend(outcome.events)
        stored = self.app.messages.get(outcome.data["message"]["ID"])
        sent = [element_to_rest(e["type"], e["payload"]) for e in options["message"]["elements"]]
        if stored is not None and body_of(stored) != sent:  # the app backend replaced the body
            self.modified = stored
        return outcome.data

    def call(self, method: str, options: dict[str, Any]) -> dict[str, Any]:
        """One TIM method of the model as this session's instance; its events go out after the reply."""
        outcome = self.world.call(self.me.instance_id, method, options)
        self.events.extend(outcome.events)
        return outcome.data


#: a handler's answer: the reply's fields beside ActionStatus/ErrorCode/ErrorInfo
Handler = Callable[[WebCtx], dict[str, Any]]


def bad(why: str, code: int = Code.INVALID_PARAMETERS) -> IMError:
    """A body of the wrong shape: 6017 unless the command's service has its own code."""
    return IMError(code, why)


def text(body: dict[str, Any], key: str, code: int = Code.INVALID_PARAMETERS) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise bad(f"{key} must be a non-empty string", code)
    return value


def integer(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{key} must be an integer")
    return value


def strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(f"{key} must be a list of strings")
    return value
