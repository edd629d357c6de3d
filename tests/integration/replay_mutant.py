"""``simtim serve`` with one defect in NET-1's replay: the checker under faults must be able to fail.

Run as ``python -m tests.integration.replay_mutant serve ...`` with ``SIMTIM_REPLAY_MUTANT`` set to
``drop`` (the third message held for a disconnected instance is never replayed) or ``duplicate``
(it is replayed twice). Everything else is the real server.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import simtim.server.serve as serve_module
from simtim.cli import main
from simtim.model.events import MESSAGE_RECEIVED
from simtim.server.app import SimtimApp
from simtim.server.mailbox import Mailbox

TAMPERED = 3  # the n-th message held while the socket is down (earlier ones may race the cut)


class ReplayMutantMailbox(Mailbox):
    __slots__ = ("held_messages", "mode")

    def __init__(self, limit: int, mode: str) -> None:
        super().__init__(limit)
        self.mode = mode
        self.held_messages = 0

    def hold(self, name: str, item: tuple[str, Any]) -> None:
        if name == MESSAGE_RECEIVED:
            self.held_messages += 1
            if self.held_messages == TAMPERED:
                if self.mode == "drop":
                    return
                super().hold(name, item)
        super().hold(name, item)


class ReplayMutantApp(SimtimApp):
    def _mailbox(self, instance_id: int) -> Mailbox:
        box = self.mailboxes.get(instance_id)
        if box is None:
            limit = super()._mailbox(instance_id).limit
            box = self.mailboxes[instance_id] = ReplayMutantMailbox(limit, os.environ["SIMTIM_REPLAY_MUTANT"])
        return box


if __name__ == "__main__":
    serve_module.SimtimApp = ReplayMutantApp  # type: ignore[misc]
    sys.exit(main(sys.argv[1:]))
