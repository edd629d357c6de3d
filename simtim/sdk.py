"""A TIM-like SDK facade over the model: one ``TIM`` object per instance.

Method names are TIM's in snake_case, options are TIM's option objects with
camelCase keys, results are TIM's ``imResponse.data`` and failures raise
``IMError`` with the SPEC code.  Events are delivered to the instance they are
addressed to, through ``on(event, handler)`` and the ``events`` log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from simtim.clock import FakeClock
from simtim.errors import Code, IMError
from simtim.ids import IdSource
from simtim.model import Event, World
from simtim.model.elements import CUSTOM, FACE, FILE, IMAGE, LOCATION, SOUND, TEXT, VIDEO
from simtim.model.lifecycle import DESTROYED, state_error

Handler = Callable[[Any], None]


class SimTIM:
    """A simulated TIM service: one ``World`` and the SDK instances created on it."""

    def __init__(self, world: World | None = None, *, clock: FakeClock | None = None, seed: int = 0) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self.world = world if world is not None else World(self.clock, IdSource(seed))
        self._instances: dict[int, TIM] = {}
        self._pages: dict[tuple[str, int], TIM] = {}

    def create(self, options: Mapping[str, Any], *, page: str | None = None) -> TIM:
        """TIM.create: the same SDKAppID on the same page gives the same instance (INST-1)."""
        if not isinstance(options, Mapping):
            raise IMError(Code.INVALID_PARAMETERS, "options must be an object", rule="INST-1")
        sdkappid = options.get("SDKAppID")
        if page is not None and isinstance(sdkappid, int) and (page, sdkappid) in self._pages:
            existing = self._pages[(page, sdkappid)]
            if existing.instance.state is not DESTROYED:
                return existing
        inst = self.world.create_instance(sdkappid, options.get("platform", "web"))
        tim = TIM(self, inst.id)
        self._instances[inst.id] = tim
        if page is not None:
            self._pages[(page, inst.sdkappid)] = tim
        return tim

    def dispatch(self, events: list[Event]) -> None:
        for event in events:
            tim = self._instances.get(event.instance)
            if tim is not None:
                tim.receive(event.name, event.data)

    def advance(self, seconds: int) -> None:
        """Step the fake clock and apply what the step crossed (INST-5)."""
        self.clock.advance(seconds)
        self.dispatch(self.world.sweep())

    # --- admin-side helpers used by demos and tests ---------------------------------
    def import_account(
        self, user_id: str, nick: str = "", avatar: str = "", sdkappid: int = 1400000000
    ) -> None:
        self.world.import_account(sdkappid, user_id, nick, avatar)

    def kick(self, user_id: str, sdkappid: int = 1400000000) -> None:
        self.dispatch(self.world.admin_kick(sdkappid, user_id))

    def recall(self, message_id: str, sdkappid: int = 1400000000) -> dict[str, Any]:
        outcome = self.world.admin_recall(sdkappid, message_id)
        self.dispatch(outcome.events)
        return outcome.data

    def set_network(self, tim: TIM, connected: bool) -> None:
        self.dispatch(self.world.set_network(tim.instance_id, connected))


class TIM:
    """One SDK instance (one page's ``TIM.create``)."""

    def __init__(self, service: SimTIM, instance_id: int) -> None:
        self.service = service
        self.instance_id = instance_id
        self.events: list[tuple[str, Any]] = []
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    @property
    def instance(self) -> Any:
        return self.service.world.instances[self.instance_id]

    # --- events -------------------------------------------------------------------
    def on(self, event: str, handler: Handler) -> None:
        self._handlers[event].append(handler)

    def off(self, event: str, handler: Handler) -> None:
        if handler in self._handlers[event]:
            self._handlers[event].remove(handler)

    def receive(self, name: str, data: Any) -> None:
        self.events.append((name, data))
        for handler in list(self._handlers[name]):
            handler(data)

    def take_events(self) -> list[tuple[str, Any]]:
        taken, self.events = self.events, []
        return taken

    # --- calls --------------------------------------------------------------------
    def _call(self, method: str, options: object = None) -> dict[str, Any]:
        outcome = self.service.world.call(self.instance_id, method, options)
        self.service.dispatch(outcome.events)
        return outcome.data

    def login(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("login", options)

    def logout(self) -> dict[str, Any]:
        return self._call("logout")

    def destroy(self) -> dict[str, Any]:
        return self._call("destroy")

    def send_message(self, message: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("sendMessage", {"message": message})

    def resend_message(self, message: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("resendMessage", {"message": message})

    def revoke_message(self, message: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("revokeMessage", {"message": message})

    def delete_message(self, message_list: list[Mapping[str, Any]]) -> dict[str, Any]:
        return self._call("deleteMessage", {"messageList": message_list})

    def get_message_list(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("getMessageList", options)

    def set_message_read(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("setMessageRead", options)

    def get_conversation_list(self) -> dict[str, Any]:
        return self._call("getConversationList")

    def get_conversation_profile(self, conversation_id: str) -> dict[str, Any]:
        return self._call("getConversationProfile", {"conversationID": conversation_id})

    def delete_conversation(self, conversation_id: str) -> dict[str, Any]:
        return self._call("deleteConversation", {"conversationID": conversation_id})

    def get_my_profile(self) -> dict[str, Any]:
        return self._call("getMyProfile")

    def update_my_profile(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("updateMyProfile", options)

    def call(self, method: str, options: object = None) -> dict[str, Any]:
        """Any TIM method by its camelCase name (the group methods included)."""
        return self._call(method, options)

    # --- message factories (local: no login needed, INST-1) ---------------------------
    def _create(self, elem_type: str, options: Mapping[str, Any]) -> dict[str, Any]:
        if self.instance.state is DESTROYED:
            raise state_error(DESTROYED)  # INST-1: the local factories too
        if not isinstance(options, Mapping):
            raise IMError(Code.INVALID_PARAMETERS, "options must be an object", rule="MSG-1")
        message: dict[str, Any] = {
            "ID": "",
            "type": elem_type,
            "payload": options.get("payload"),
            "to": options.get("to"),
            "conversationType": options.get("conversationType"),
            "priority": options.get("priority", "Normal"),
            "cloudCustomData": options.get("cloudCustomData", ""),
            "random": self.service.world.ids.random32(),  # client-side random: resends dedup (MSG-6)
            "clientTime": self.service.world.clock.now(),
            "from": self.instance.user_id,
            "flow": "out",
            "status": "unSend",
        }
        return message

    def create_text_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(TEXT, options)

    def create_image_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(IMAGE, options)

    def create_audio_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(SOUND, options)

    def create_video_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(VIDEO, options)

    def create_file_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(FILE, options)

    def create_custom_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(CUSTOM, options)

    def create_face_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(FACE, options)

    def create_location_message(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(LOCATION, options)
