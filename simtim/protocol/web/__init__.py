"""The official TIM Web SDK's wire protocol (``/binfo``, ``/info``) over the model: docs/websdk.md."""

from simtim.protocol.web.commands import COMMANDS, EMPTY_REPLIES
from simtim.protocol.web.face import WebFace

__all__ = ["COMMANDS", "EMPTY_REPLIES", "WebFace"]
