"""What one checked step means for a load run, decided from the mismatches' kinds alone.

``SimTimUser`` turns each part into Locust request events and CSV rows. The decision lives here,
without Locust, so a test can pin it and no caller parses a mismatch's path or values to make it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simtim.conformance.check import Mismatch, MismatchKind


@dataclass(frozen=True)
class StepOutcome:
    #: the call got no answer (6010): the cell no longer mirrors the target and is rebuilt
    transport: bool
    #: the answer differed from the model's: the TIM/REST request fails
    reply: list[Mismatch]
    #: pushes the model made that never came (lost) or came after the deadline (late)
    missing: list[Mismatch]
    #: pushes that came with other data, or that the model did not make
    pushes: list[Mismatch]


def outcome_of(mismatches: Sequence[Mismatch]) -> StepOutcome:
    transport = any(m.kind is MismatchKind.TRANSPORT for m in mismatches)
    return StepOutcome(
        transport,
        [m for m in mismatches if not m.kind.is_event],
        [m for m in mismatches if m.kind.is_missing_event],
        [m for m in mismatches if m.kind.is_event and not m.kind.is_missing_event],
    )
