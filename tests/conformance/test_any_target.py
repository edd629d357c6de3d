"""Conformance on targets without the admin API or a fake clock: honest evidence, real waits, verdicts.

The in-process target runs on the wall clock here (``inproc://?clock=real``, sweeping expiries every
second like ``simtim serve``) with its admin capabilities masked, so these tests see what a team's
own server with only an app key sees.  Broken targets must still fail the right rules, in bounded time.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from simtim.cli import main
from simtim.conformance import conform as conform_module
from simtim.driver.base import Call, EventStream, Reply
from simtim.driver.inproc import InProcDriver
from simtim.driver.targets import Opened, open_target
from tests.conformance.test_mutants import MUTE, MuteAnsweredAsSuccess, PushTampering, deliveries, write

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "conformance"
NO_ADMIN = ("--without", "admin", "--without", "app_config", "--without", "callback")


class _DroppingStream(EventStream):
    def __init__(self, session: str, drop: Any) -> None:
        super().__init__(session)
        self._drop = drop

    def put(self, name: str, data: Any) -> None:
        if not self._drop(name, data):
            super().put(name, data)


class DropsGroupTips(InProcDriver):
    """A server that never pushes the messages carrying group tips (TIP-1) - and nothing else wrong."""

    def events(self, session: str) -> EventStream:
        stream = self._streams.get(session)
        if stream is None:
            stream = self._streams[session] = _DroppingStream(session, _is_tip)
        return stream


def _is_tip(name: str, data: Any) -> bool:
    return (
        name == "onMessageReceived"
        and isinstance(data, list)
        and bool(data)
        and data[0].get("type") == "TIMGroupTipElem"
    )


class MutesForever:
    """A driver wrapper whose target keeps a mute 1000 times longer than asked (MUTE-2's expiry)."""

    def __init__(self, inner: InProcDriver) -> None:
        self.inner = inner

    def call(self, call: Call) -> Reply:
        if call.method == "setGroupMemberMuteTime" and call.args.get("muteTime"):
            call = Call(call.method, {**call.args, "muteTime": call.args["muteTime"] * 1000}, call.session)
        return self.inner.call(call)

    def events(self, session: str) -> EventStream:
        return self.inner.events(session)

    def admin(self, op: str, body: Any) -> Reply:
        return self.inner.admin(op, body)

    def close(self) -> None:
        self.inner.close()


def conform(monkeypatch: pytest.MonkeyPatch, make: Any, *args: str) -> int:
    """``simtim conform`` with every driver it opens made by ``make(url)`` (one per scenario)."""
    monkeypatch.setattr(conform_module, "open_target", lambda url, _options: Opened(make(url), 0.0, True))
    return main(["conform", *args])


def failing(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if line.startswith("FAILING RULES: ")]
    return lines[0].removeprefix("FAILING RULES: ").split() if lines else []


def test_tip_1_a_server_that_drops_tip_pushes_fails_tip_1_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code = conform(
        monkeypatch,
        lambda url: DropsGroupTips(fake_clock=True, clock_start=None, seed=None),
        "--target",
        "inproc://",
        "--random-steps",
        "0",
        "--event-deadline",
        "0.2",
    )
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 2, out
    assert "TIP-1" in failing(out), out
    assert re.search(r"TIP-1\s+failed \(\d+ of \d+\)", out)
    assert "expected 'lost'" in out or "event_lost" in out or "lost" in out
    # every missing tip costs at most one shared grace period per step, never one per event
    assert elapsed < 120, f"took {elapsed:.0f} s"


@pytest.mark.parametrize(
    "scenario", ["group_mute.yaml", "clock_margins.yaml"], ids=["group_mute", "clock_margins"]
)
def test_mute_2_and_clock_1_pass_on_a_correct_real_clock_target_without_admin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, scenario: str
) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / scenario).write_text((SCENARIOS / scenario).read_text(encoding="utf-8"), encoding="utf-8")
    code = conform(
        monkeypatch,
        lambda url: open_target("inproc://?clock=real").driver,
        "--target",
        "inproc://?clock=real",
        "--scenarios",
        str(folder),
        "--random-steps",
        "0",
        *NO_ADMIN,
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "admin no, fake clock no" in out
    assert re.search(r"(MUTE-2|CLOCK-1)\s+passed \(\d+ checks", out), out


def test_mute_2_a_mute_that_never_ends_fails_on_a_real_clock(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "clock_margins.yaml").write_text(
        (SCENARIOS / "clock_margins.yaml").read_text(), encoding="utf-8"
    )
    code = conform(
        monkeypatch,
        lambda url: MutesForever(open_target("inproc://?clock=real").driver),  # type: ignore[arg-type]
        "--target",
        "inproc://?clock=real",
        "--scenarios",
        str(folder),
        "--random-steps",
        "0",
        *NO_ADMIN,
    )
    out = capsys.readouterr().out
    assert code == 2, out
    assert "CLOCK-1" in failing(out), out  # the send after the mute ended was refused with 10017


def test_without_admin_the_capabilities_are_printed_and_admin_rules_are_skipped_with_reasons(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = conform(
        monkeypatch,
        lambda url: open_target("inproc://?clock=real").driver,
        "--target",
        "inproc://?clock=real",
        "--rules",
        "INST-*",
        "--random-steps",
        "0",
        *NO_ADMIN,
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "target inproc://?clock=real: admin no, fake clock no, app config no, callback no" in out
    assert re.search(r"INST-5\s+passed \(\d+ checks", out), out  # a 10 s UserSig, really waited for
    assert re.search(r"INST-6\s+skipped \(.*needs admin", out), out


def test_a_wrong_key_is_said_once_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = conform(
        monkeypatch,
        lambda url: open_target("inproc://?clock=real").driver,
        "--target",
        "inproc://?clock=real",
        "--secret-key",
        "not-the-key",
        *NO_ADMIN,
    )
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.count("the secret key does not match this SDKAppID") == 1, captured.err


def test_an_unreachable_target_exits_1_quickly_naming_the_address(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = main(["conform", "--target", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1
    assert time.monotonic() - started < 10
    assert "http://127.0.0.1:9" in err and "cannot be reached" in err


@pytest.mark.parametrize(
    ("name", "make", "rule"),
    [
        (
            "10017 as success",
            lambda: MuteAnsweredAsSuccess(open_target("inproc://?clock=real").driver),
            "MUTE-2",
        ),
        (
            "lost push",
            lambda: PushTampering(
                every=50, copies=0, fake_clock=False, clock_start=None, seed=None, ticking=True
            ),
            "MSG-5",
        ),
    ],
)
def test_existing_mutants_are_caught_on_a_real_clock_without_admin(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    make: Any,
    rule: str,
) -> None:
    folder = tmp_path / "s"
    write(folder, "mute.yaml", MUTE)
    write(folder, "deliveries.yaml", deliveries(55))
    code = conform(
        monkeypatch,
        lambda url: make(),
        "--target",
        "inproc://?clock=real",
        "--scenarios",
        str(folder),
        "--random-steps",
        "0",
        "--event-deadline",
        "0.5",
        *NO_ADMIN,
    )
    out = capsys.readouterr().out
    assert code == 2, out
    assert "fake clock no" in out and "admin no" in out
    assert failing(out) == [rule], out
