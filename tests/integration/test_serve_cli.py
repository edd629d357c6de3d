"""The ``simtim serve`` and ``simtim usersig`` command lines (DESIGN "Command line"), as subprocesses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import websocket

from simtim.model.core import DEV_SDKAPPID
from tests.integration.server_process import ServerProcess
from tests.integration.wire import Wire, next_frame, open_events

LISTENING = re.compile(r"simtim serve listening on (http://127\.0\.0\.1:(\d+))")
SERVE_FLAGS = (
    "--host",
    "--port",
    "--fake-clock",
    "--clock-start",
    "--admin-key",
    "--seed",
    "--log-level",
    "--data",
    "--import",
    "--snapshot-every",
    "--max-messages-per-conversation",
    "--max-messages",
)
SERVE_ENV = ("SIMTIM_HOST", "SIMTIM_PORT", "SIMTIM_ADMIN_KEY", "SIMTIM_FAKE_CLOCK", "SIMTIM_DATA")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMTIM_")}
    return {**env, **extra}


def simtim(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simtim", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _temp_path(suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix="simtim-cli-", suffix=suffix)
    os.close(handle)
    return Path(name)


class Serve:
    """``simtim serve`` with stdout and stderr in files (never an unread pipe)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.out_path, self.err_path = (_temp_path(suffix) for suffix in (".out", ".err"))
        self._out, self._err = self.out_path.open("w"), self.err_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simtim", "serve", *args],
            stdout=self._out,
            stderr=self._err,
            env=env or clean_env(),
        )

    def first_line(self, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.out_path.read_text()
            if "\n" in text:
                return text.split("\n", 1)[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"no first line; stderr: {self.stderr()}")

    def url(self) -> str:
        match = LISTENING.fullmatch(self.first_line())
        assert match, self.first_line()
        return match.group(1)

    def stderr(self) -> str:
        return self.err_path.read_text()

    def sigterm(self) -> tuple[int | None, float]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        self._err.close()
        self.out_path.unlink(missing_ok=True)
        self.err_path.unlink(missing_ok=True)


def test_serve_help_mentions_every_flag_and_env_var() -> None:
    result = simtim("serve", "--help", env=clean_env(COLUMNS="100"))
    assert result.returncode == 0
    words = " ".join(result.stdout.split())
    for name in (*SERVE_FLAGS, *SERVE_ENV):
        assert name in words, name
    assert "1400000000" in words  # the dev app
    # the parser and the help agree: no flag of the parser is left out
    from simtim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    serve = sub.choices["serve"]  # type: ignore[index]
    assert {o for a in serve._actions for o in a.option_strings if o.startswith("--")} - {"--help"} == set(
        SERVE_FLAGS
    )


def test_port_0_picks_a_free_port_and_the_first_line_says_where() -> None:
    first, second = Serve("--port", "0"), Serve("--port", "0")
    try:
        url1, url2 = first.url(), second.url()
        assert url1 != url2
        for url in (url1, url2):
            port = int(url.rsplit(":", 1)[1])
            assert port not in (0, 8080)
            # accepting as soon as the line is out
            wire = Wire(url, admin_key=None)
            assert wire.request("GET", "/healthz").status == 200
            wire.close()
        assert first.out_path.read_text().count("\n") == 1  # nothing else on stdout
        for serve in (first, second):
            code, elapsed = serve.sigterm()
            assert code == 0 and elapsed < 5, (code, elapsed, serve.stderr())
    finally:
        first.stop()
        second.stop()


def test_environment_variables_configure_the_server() -> None:
    port = free_port()
    serve = Serve(
        env=clean_env(
            SIMTIM_PORT=str(port), SIMTIM_ADMIN_KEY="env-key", SIMTIM_FAKE_CLOCK="1", SIMTIM_HOST="127.0.0.1"
        )
    )
    try:
        url = serve.url()
        assert url == f"http://127.0.0.1:{port}"
        wire = Wire(url, admin_key="env-key")
        snapshot = wire.admin("snapshot", {})
        assert snapshot["fakeClock"] is True
        assert wire.admin("advanceClock", {"seconds": 5})["now"] == snapshot["now"] + 5
        assert wire.post("/admin/v1/snapshot", {}, headers={"X-Admin-Key": "test-admin-key"}).status == 403
        wire.close()
        assert serve.sigterm()[0] == 0
    finally:
        serve.stop()
    # without SIMTIM_FAKE_CLOCK the clock is real; flags beat the environment
    serve = Serve(
        "--port",
        "0",
        "--admin-key",
        "flag-key",
        env=clean_env(SIMTIM_PORT=str(port), SIMTIM_ADMIN_KEY="env-key", SIMTIM_FAKE_CLOCK="0"),
    )
    try:
        url = serve.url()
        assert not url.endswith(f":{port}")
        wire = Wire(url, admin_key="flag-key")
        snapshot = wire.admin("snapshot", {})
        assert snapshot["fakeClock"] is False and abs(snapshot["now"] - time.time()) < 30
        answer = wire.post("/admin/v1/advanceClock", {"seconds": 5}, headers={"X-Admin-Key": "flag-key"})
        assert answer.envelope["code"] == 60009
        assert wire.post("/admin/v1/snapshot", {}, headers={"X-Admin-Key": "env-key"}).status == 403
        wire.close()
    finally:
        serve.stop()


def test_clock_start_sets_the_fake_clock() -> None:
    serve = Serve("--port", "0", "--fake-clock", "--clock-start", "1234567890", "--admin-key", "k")
    try:
        assert Wire(serve.url(), admin_key="k").admin("snapshot", {})["now"] == 1234567890
    finally:
        serve.stop()


def test_sigterm_exits_0_within_5_s_with_a_websocket_open() -> None:
    serve = Serve("--port", "0")
    ws: websocket.WebSocket | None = None
    try:
        wire = Wire(serve.url(), admin_key=None)
        sig = simtim("usersig", "gen", "alice").stdout.strip()
        token = wire.ok("login", {"SDKAppID": DEV_SDKAPPID, "userID": "alice", "userSig": sig})["token"]
        ws = open_events(wire.url, token)
        assert next_frame(ws).event == "sdkStateReady"  # type: ignore[union-attr]
        code, elapsed = serve.sigterm()
        assert code == 0 and elapsed < 5, (code, elapsed, serve.stderr())
        assert "Traceback" not in serve.stderr()
        closing = next_frame(ws, 2)
        assert closing is not None and closing.close is not None
    finally:
        if ws is not None:
            ws.close(timeout=0.5)
        serve.stop()


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "simtim", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env=clean_env(),
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and str(port) in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_usersig_gen_verifies_and_logs_in(server: ServerProcess) -> None:
    gen = simtim("usersig", "gen", "alice")
    assert gen.returncode == 0
    sig = gen.stdout.strip()
    assert sig and "\n" not in sig
    verify = simtim("usersig", "verify", sig)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.strip().endswith("valid")
    assert '"identifier": "alice"' in verify.stdout and f'"sdkappid": {DEV_SDKAPPID}' in verify.stdout
    wrong_user = simtim("usersig", "verify", sig, "--user-id", "bob")
    assert wrong_user.returncode != 0 and "70013" in wrong_user.stderr
    wrong_key = simtim("usersig", "verify", sig, "--key", "not-the-key")
    assert wrong_key.returncode != 0 and "70009" in wrong_key.stderr
    expired = simtim("usersig", "verify", sig, "--now", str(int(time.time()) + 181 * 86400))
    assert expired.returncode != 0 and "70001" in expired.stderr
    wire = Wire(server.url)
    wire.admin("reset", {})
    token = wire.ok("login", {"SDKAppID": DEV_SDKAPPID, "userID": "alice", "userSig": sig})["token"]
    assert wire.ok("getMyProfile", {}, token)["profile"]["userID"] == "alice"
    assert wire.call("login", {"SDKAppID": DEV_SDKAPPID, "userID": "bob", "userSig": sig})["code"] == 70013
    wire.close()


def test_the_console_script_works_too() -> None:
    script = Path(sys.executable).parent / "simtim"
    if not script.exists():
        pytest.skip("the simtim console script is not installed in this environment")
    result = subprocess.run(
        [str(script), "usersig", "gen", "bob"], capture_output=True, text=True, timeout=30, env=clean_env()
    )
    assert result.returncode == 0
    assert simtim("usersig", "verify", result.stdout.strip(), "--user-id", "bob").returncode == 0


@pytest.mark.parametrize("sig", ["garbage", "", "eJw*", "eJyrVkrNS8ksSy0qzszPU7JSMjIwMjAwVqoFAFD5Bso_"])
def test_usersig_verify_garbage_fails_clearly(sig: str) -> None:
    result = simtim("usersig", "verify", sig)
    assert result.returncode != 0
    assert result.stderr.startswith("invalid: 700"), result.stderr
    assert "Traceback" not in result.stderr
    assert "valid\n" not in result.stdout
