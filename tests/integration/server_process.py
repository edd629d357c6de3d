"""A real ``simtim serve`` subprocess for tests, on the shared launcher (simtim.server.process)."""

from __future__ import annotations

from simtim.server.process import ServeProcess

ADMIN_KEY = "test-admin-key"
CLOCK_START = 1_600_000_000


class ServerProcess(ServeProcess):
    def __init__(
        self,
        *extra: str,
        fake_clock: bool = True,
        admin_key: str | None = ADMIN_KEY,
        seed: int = 0,
        env: dict[str, str] | None = None,
        module: str = "simtim",
    ) -> None:
        options = ["--seed", str(seed)]
        if fake_clock:
            options += ["--fake-clock", "--clock-start", str(CLOCK_START)]
        if admin_key:
            options += ["--admin-key", admin_key]
        self.admin_key = admin_key
        super().__init__([*options, *extra], env=env, start_timeout=15.0, module=module)
