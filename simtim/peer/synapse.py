"""Synapse run for the user: one code path for ``simtim peer synapse``, the tests and CI.

simtim installs nothing: it is given a Python that has ``matrix-synapse`` (its own venv, so
Synapse's dependencies never meet simtim's), writes the loopback test config
(``synapse_config``), starts ``python -m synapse.app.homeserver`` with its output in a file of the
directory (never an unread pipe), waits until ``/_matrix/client/versions`` answers, and stops it
with SIGTERM (then SIGKILL).  Every problem is a ``SynapseProblem`` with a one-paragraph message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from simtim.peer.synapse_config import SERVER_NAME, SYNAPSE_PIN, write_config

__all__ = ["SYNAPSE_PIN", "SynapseProblem", "SynapseProcess", "find", "run_cli"]

ENV_PYTHON = "SIMTIM_SYNAPSE_PYTHON"
DEFAULT_VENV = Path.home() / ".cache" / "simtim" / "synapse-venv"
VERSIONS_PATH = "/_matrix/client/versions"


class SynapseProblem(Exception):
    """Synapse cannot be started (not installed, port taken, did not come up): said once, clearly."""


def install_hint(venv: Path = DEFAULT_VENV) -> str:
    return (
        f"install it into its own venv: python3 -m venv {venv} && "
        f"{venv}/bin/pip install matrix-synapse=={SYNAPSE_PIN}"
    )


def synapse_python(explicit: str | None = None) -> str:
    """The Python to run Synapse with: ``explicit`` (``--synapse-python``), else
    ``$SIMTIM_SYNAPSE_PYTHON``, else the default venv's; its existence is checked by ``version_of``."""
    return explicit or os.environ.get(ENV_PYTHON) or str(DEFAULT_VENV / "bin" / "python")


def version_of(python: str) -> str:
    """The matrix-synapse version importable by ``python``; SynapseProblem with the install line if none."""
    if not Path(python).exists():
        raise SynapseProblem(
            f"no Python at {python}: matrix-synapse is not installed there; {install_hint()}"
        )
    try:
        done = subprocess.run(
            [python, "-c", "import synapse; print(synapse.__version__)"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SynapseProblem(f"cannot run {python}: {exc}") from exc
    if done.returncode != 0:
        raise SynapseProblem(f"{python} has no matrix-synapse (import synapse failed); {install_hint()}")
    return done.stdout.strip()


def find() -> str | None:
    """The Python with matrix-synapse that ``SynapseProcess`` would use, or None (tests skip on None)."""
    python = synapse_python()
    try:
        version_of(python)
    except SynapseProblem:
        return None
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_port_free(port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise SynapseProblem(
                f"port {port} on 127.0.0.1 is in use ({exc.strerror}); pick another or 0"
            ) from exc


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


class SynapseProcess:
    """A running Synapse; a context manager (``with SynapseProcess(dir) as hs: hs.target``)."""

    def __init__(
        self,
        directory: str | Path,
        *,
        port: int = 0,
        python: str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.python = synapse_python(python)
        self.requested_port = port
        self.start_timeout = start_timeout
        self.port = 0
        self.version = ""
        self.secret = ""
        self.start_seconds = 0.0
        self.proc: subprocess.Popen[bytes] | None = None
        self.output_path = self.directory / "synapse.out"
        self.log_path = self.directory / "homeserver.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target(self) -> str:
        """The harness target of this server (``--target``, Locust ``--host``)."""
        return f"matrix+http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        return SERVER_NAME

    def start(self) -> SynapseProcess:
        self.version = version_of(self.python)
        if self.requested_port:
            check_port_free(self.requested_port)
        self.port = self.requested_port or free_port()
        config_path, keys = write_config(self.directory, self.port)
        self.secret = keys["registration_shared_secret"]
        started = time.monotonic()
        with self.output_path.open("ab") as output:
            self.proc = subprocess.Popen(
                [self.python, "-m", "synapse.app.homeserver", "--config-path", str(config_path)],
                cwd=self.directory,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
            )
        self._wait_until_up()
        self.start_seconds = time.monotonic() - started
        return self

    def _wait_until_up(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise SynapseProblem(
                    f"Synapse exited with code {self.proc.returncode} while starting; "
                    f"{self.output_path}:\n{log_tail(self.output_path)}\n{self.log_path}:\n{log_tail(self.log_path)}"
                )
            if self.answers():
                return
            time.sleep(0.1)
        self.stop()
        raise SynapseProblem(
            f"Synapse did not answer {self.url}{VERSIONS_PATH} within {self.start_timeout:.0f} s; "
            f"{self.output_path}:\n{log_tail(self.output_path)}\n{self.log_path}:\n{log_tail(self.log_path)}"
        )

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + VERSIONS_PATH, timeout=1.0) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` s; returns the exit code (None if never started)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def rss_kib(self) -> int:
        """Resident memory of the server process (Linux /proc), 0 when unknown."""
        if self.proc is None:
            return 0
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def __enter__(self) -> SynapseProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_cli(directory: str, port: int, python: str | None, start_timeout: float) -> int:
    """``simtim peer synapse``: start, print URL and secret, run until Ctrl-C or SIGTERM, stop."""
    server = SynapseProcess(directory, port=port, python=python, start_timeout=start_timeout)
    stop_now = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop_now
        stop_now = True

    try:
        server.start()
    except SynapseProblem as exc:
        print(f"simtim peer synapse: {exc}", file=sys.stderr)
        return 1
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"synapse {server.version} listening on {server.url}", flush=True)
        print(f"target: {server.target}", flush=True)
        print(f"registration secret: {server.secret}", flush=True)
        print(f"server name: {server.server_name}; log: {server.log_path}", flush=True)
        while not stop_now:
            if server.proc is not None and server.proc.poll() is not None:
                print(
                    f"simtim peer synapse: Synapse exited with code {server.proc.returncode}; "
                    f"{server.log_path}:\n{log_tail(server.log_path)}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    print("synapse stopped", flush=True)
    return 0
