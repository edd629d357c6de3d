"""simtim's reference model of TIM semantics: pure, deterministic, injected clock."""

from simtim.model.events import Event, Outcome
from simtim.model.world import METHODS, World

__all__ = ["METHODS", "Event", "Outcome", "World"]
