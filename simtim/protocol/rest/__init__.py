"""TIM's server API (REST v4) on simtim's model: ``RestFace`` and its command table."""

from simtim.protocol.rest.face import COMMANDS, RestFace, envelope

__all__ = ["COMMANDS", "RestFace", "envelope"]
