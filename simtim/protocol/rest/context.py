"""What a REST v4 command handler gets (the world, the caller, the body) and gives back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simtim.model.events import Event
from simtim.model.world import World
from simtim.protocol.rest.request import Caller, Fields

#: a handler's answer: the API's reply fields (next to the envelope) and the events to push
Result = tuple[dict[str, Any], list[Event]]


@dataclass
class Ctx:
    world: World
    caller: Caller
    body: Mapping[str, Any]

    @property
    def sdkappid(self) -> int:
        return self.caller.app.sdkappid

    @property
    def admin(self) -> str:
        return self.caller.identifier

    def fields(self, code: int) -> Fields:
        return Fields(self.body, code)


Handler = Callable[[Ctx], Result]
