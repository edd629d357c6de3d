"""The REST v4 channel of the harness: REST rules pass on a correct target, a REST face that lies
fails the right rules, and a target reached only through REST is checked on what REST reaches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simtim.cli import main
from simtim.conformance import conform as conform_module
from simtim.driver.inproc import InProcDriver
from simtim.driver.targets import Opened
from simtim.driver.timrest import InProcRest, RestCaller
from simtim.protocol.rest.face import RestFace
from tests.conformance.test_any_target import failing

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "conformance"
REST_FILES = sorted(p.name for p in SCENARIOS.glob("rest_*.yaml"))


class KickThatKicksNobody(RestFace):
    """Answers ``kick`` with OK and does nothing (INST-6 and REST-3 say every instance is kicked)."""

    def _handle(self, method: str, path: str, query: bytes | str, body: bytes) -> dict[str, Any]:
        if path.endswith("/kick"):
            return {}
        return super()._handle(method, path, query, body)


class RoamWithoutRevokeFlag(RestFace):
    """Shows revoked messages in ``admin_getroammsg`` as if they were not (REST-5: MsgFlagBits 8)."""

    def _handle(self, method: str, path: str, query: bytes | str, body: bytes) -> dict[str, Any]:
        reply = super()._handle(method, path, query, body)
        for item in reply.get("MsgList", []):
            item["MsgFlagBits"] = 0
        return reply


def target_with(face: type[RestFace] | None) -> Callable[[str], Opened]:
    def make(_url: str) -> Opened:
        driver = InProcDriver(fake_clock=True, clock_start=None, seed=None)
        if face is not None:
            service = driver.service
            service.rest = face(service.world, lambda events: service.sink(events))

        def rest(sdkappid: int, key: str, identifier: str, now: Callable[[], float]) -> RestCaller:
            return InProcRest(driver, sdkappid, key, identifier, now=now)

        return Opened(driver, 0.0, True, rest)

    return make


def conform(monkeypatch: pytest.MonkeyPatch, make: Callable[[str], Opened], *args: str) -> int:
    monkeypatch.setattr(conform_module, "open_target", lambda url, _options: make(url))
    return main(["conform", "--target", "inproc://", "--random-steps", "0", "--event-deadline", "0.2", *args])


def only(tmp_path: Path, *names: str) -> str:
    folder = tmp_path / "s"
    folder.mkdir()
    for name in names:
        (folder / name).write_text((SCENARIOS / name).read_text(encoding="utf-8"), encoding="utf-8")
    return str(folder)


def test_every_rest_rule_passes_on_the_reference(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = only(tmp_path, *REST_FILES)
    code = conform(monkeypatch, target_with(None), "--scenarios", folder)
    out = capsys.readouterr().out
    assert code == 0, out
    for rule in [f"REST-{i}" for i in range(1, 10)]:
        assert f"{rule}" in out and "passed (" in out.split(rule, 1)[1].splitlines()[0], rule
    assert "rest yes" in out


@pytest.mark.parametrize(
    ("face", "files", "rules"),
    [
        (KickThatKicksNobody, ["rest_accounts.yaml", "rest_admin_channel.yaml"], {"REST-3", "INST-6"}),
        (RoamWithoutRevokeFlag, ["rest_c2c.yaml"], {"REST-5"}),
    ],
    ids=["kick-kicks-nobody", "roam-hides-revoke"],
)
def test_a_lying_rest_face_fails_the_right_rules(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    face: type[RestFace],
    files: list[str],
    rules: set[str],
) -> None:
    code = conform(monkeypatch, target_with(face), "--scenarios", only(tmp_path, *files))
    out = capsys.readouterr().out
    assert code == 2, out
    assert rules <= set(failing(out)), out


def test_a_target_reached_only_through_rest_is_checked_on_what_rest_reaches(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = only(tmp_path, *REST_FILES)
    code = conform(
        monkeypatch, target_with(None), "--scenarios", folder, "--without", "sdk", "--without", "admin"
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "sdk no, rest yes" in out
    for rule in ("REST-1", "REST-2", "REST-4", "REST-7"):
        assert "passed (" in out.split(f"    {rule}", 1)[1].splitlines()[0], rule
    assert "REST-9    skipped (needs sdk)" in out
    assert "INST-6    skipped (needs sdk)" in out


def test_a_wrong_key_for_rest_is_said_once_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = conform(
        monkeypatch,
        target_with(None),
        "--scenarios",
        only(tmp_path, "rest_envelope.yaml"),
        "--secret-key",
        "not-the-key",
        "--without",
        "admin",
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "REST: the secret key does not match" in err
