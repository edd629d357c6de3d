"""The ``timweb+ws://`` target against a real ``simtim serve``: the Web SDK face driven by the Python
client, checked against the model by ``simtim conform``, and seen by a simtim/1 user of the same world.

Skipped when the server has no Web SDK face (``simtim.protocol.web.face`` absent), so the client's
branch stays green on its own.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simtim.cli import main
from simtim.driver.base import Call, Driver
from simtim.driver.targets import open_target
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.server.process import ServeProcess
from simtim.usersig import gen_usersig

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("simtim.protocol.web.face") is None, reason="simtim serve has no Web SDK face"
)
ADMIN_KEY = "timweb-admin-key"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "conformance"


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    process = ServeProcess(["--admin-key", ADMIN_KEY, "--fake-clock"])
    try:
        yield process
    finally:
        process.stop()


def ws_url(server: ServeProcess) -> str:
    return "timweb+" + server.url.replace("http://", "ws://")


def login(driver: Driver, user: str) -> str:
    sig = gen_usersig(DEV_SDKAPPID, DEV_SECRET_KEY, user, 86400, now=int(time.time()))
    reply = driver.call(Call("login", {"SDKAppID": DEV_SDKAPPID, "userID": user, "userSig": sig}))
    assert reply.ok, reply
    return str(reply.data["session"])


def test_msg_4_a_web_sdk_user_and_a_simtim1_user_share_one_world(server: ServeProcess) -> None:
    web = open_target(ws_url(server)).driver
    simtim1 = open_target(server.url).driver
    try:
        alice = login(web, "tw_alice")
        bob = login(simtim1, "tw_bob")
        text = {"to": "tw_bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "hi"}}
        sent = web.call(Call("sendMessage", {"message": text}, alice))
        assert sent.ok, sent
        got = simtim1.events(bob).wait_for(lambda e: e.name == "onMessageReceived", 3)
        assert got is not None and got.data[0]["payload"] == {"text": "hi"}
        assert got.data[0]["time"] == sent.data["message"]["time"]
        answer = {
            "to": "tw_alice",
            "conversationType": "C2C",
            "type": "TIMTextElem",
            "payload": {"text": "yo"},
        }
        assert simtim1.call(Call("sendMessage", {"message": answer}, bob)).ok
        pushed = web.events(alice).wait_for(lambda e: e.name == "onMessageReceived", 3)
        assert pushed is not None and pushed.data[0]["from"] == "tw_bob"
        history = web.call(Call("getMessageList", {"conversationID": "C2Ctw_bob"}, alice))
        assert [m["payload"]["text"] for m in history.data["messageList"]] == ["hi", "yo"]
    finally:
        web.close()
        simtim1.close()


def test_conformance_of_the_c2c_scenarios_over_the_web_sdk_wire(
    server: ServeProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scenarios whose every step the face answers: each rule passes on checks, none fails."""
    folder = tmp_path / "s"
    folder.mkdir()
    for name in ("revoke.yaml", "paging.yaml", "offline.yaml"):
        (folder / name).write_text((SCENARIOS / name).read_text(encoding="utf-8"), encoding="utf-8")
    code = main(
        [
            "conform",
            "--target",
            ws_url(server),
            "--admin-key",
            ADMIN_KEY,
            "--scenarios",
            str(folder),
            "--random-steps",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert "admin yes, fake clock yes" in out
    assert code == 0, out
    assert "0 failed" in out and "passed (" in out
