"""simtim's Locust command-line arguments (shown in ``locust --help`` and the web UI)."""

from __future__ import annotations

import os
from typing import Any

from simtim.driver.matrix_client import ENV_SECRET as MATRIX_SECRET_ENV
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.verdict import add_threshold_arguments


def duration_seconds(text: str) -> float:
    """``30``, ``30s``, ``2m`` or ``1h`` in seconds (Locust's own ``-t`` style)."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    text = text.strip().lower()
    scale = units.get(text[-1:], 0.0)
    number = text[:-1] if scale else text
    try:
        value = float(number) * (scale or 1.0)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (e.g. 30s, 2m)") from None
    if value < 0:
        raise ValueError(f"a duration cannot be negative: {text!r}")
    return value


def add_arguments(parser: Any) -> None:
    group = parser  # Locust's own parser: only its add_argument knows include_in_web_ui
    group.add_argument(
        "--scenario",
        default="default",
        include_in_web_ui=True,
        help="user mix: scenarios/load/NAME.yaml overrides the locustfile's action weights",
    )
    group.add_argument(
        "--cell-size",
        type=int,
        default=4,
        include_in_web_ui=True,
        help="accounts per cell (one cell per Locust user, each account one online instance)",
    )
    group.add_argument(
        "--conformance",
        choices=["full", "sample", "off"],
        default="full",
        include_in_web_ui=True,
        help="full: every reply and push checked against the model; sample: replies always, "
        "pushes 1 call in 10; off: no model, codes only",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=0,
        include_in_web_ui=True,
        help="seed of the users' choices (reproducible action sequences)",
    )
    group.add_argument(
        "--simtim-admin-key",
        default="",
        help="admin key of the target (per-cell apps, fake clock); set for you on the embedded server",
    )
    group.add_argument(
        "--sdkappid",
        type=int,
        default=int(os.environ.get("SIMTIM_SDKAPPID") or DEV_SDKAPPID),
        help="the target's app when it has no admin API (env SIMTIM_SDKAPPID; default the dev app)",
    )
    group.add_argument(
        "--secret-key",
        default=os.environ.get("SIMTIM_SECRET_KEY") or DEV_SECRET_KEY,
        help="that app's secret key: UserSigs are made locally (env SIMTIM_SECRET_KEY)",
    )
    group.add_argument(
        "--matrix-registration-secret",
        default=os.environ.get(MATRIX_SECRET_ENV) or "",
        help=f"a matrix+http(s):// host's registration shared secret (env {MATRIX_SECRET_ENV})",
    )
    group.add_argument(
        "--event-deadline",
        type=float,
        default=2.0,
        include_in_web_ui=True,
        help="seconds a pushed event may take before it counts as late/lost",
    )
    group.add_argument(
        "--request-timeout",
        type=float,
        default=5.0,
        help="seconds before a call counts as a transport failure (6010)",
    )
    group.add_argument(
        "--flap-rate",
        type=float,
        default=0.0,
        include_in_web_ui=True,
        help="faults (NET-1): share of users per minute whose connection is cut abruptly and "
        "re-opened after a random pause (0.5 = each user about every 2 minutes; 0 = never)",
    )
    group.add_argument(
        "--flap-pause",
        type=float,
        default=3.0,
        include_in_web_ui=True,
        help="longest pause in seconds before a cut connection is re-opened (drawn from 0.2..this)",
    )
    group.add_argument(
        "--storm-at",
        type=duration_seconds,
        default=None,
        include_in_web_ui=True,
        help="a one-shot reconnect storm this long into the run (e.g. 30s, 2m): --storm-share of "
        "the users lose every connection at once and re-open them after a random pause",
    )
    group.add_argument(
        "--storm-share",
        type=float,
        default=0.5,
        include_in_web_ui=True,
        help="share of the users the storm cuts (0..1)",
    )
    add_threshold_arguments(group)  # the same flags as ``simtim report`` (simtim.verdict)
