"""The test config simtim gives Synapse, and the problems said before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from simtim.cli import main
from simtim.peer.synapse import SynapseProblem, SynapseProcess, check_port_free, version_of
from simtim.peer.synapse_config import RATE_LIMITS, ROOM_VERSION, SYNAPSE_PIN, write_config


def test_the_config_is_loopback_only_fast_and_never_rate_limits(tmp_path: Path) -> None:
    path, keys = write_config(tmp_path, 18008)
    config = yaml.safe_load(path.read_text())
    (listener,) = config["listeners"]
    assert listener["bind_addresses"] == ["127.0.0.1"] and listener["port"] == 18008
    assert [r["names"] for r in listener["resources"]] == [["client"]]  # no federation listener
    assert config["trusted_key_servers"] == [] and config["federation_domain_whitelist"] == []
    assert config["database"]["name"] == "sqlite3"
    assert config["presence"] == {"enabled": False}
    assert config["caches"]["sync_response_cache_duration"] == 0
    assert config["default_room_version"] == ROOM_VERSION == "11"
    assert config["enable_media_repo"] is False and config["url_preview_enabled"] is False
    assert config["report_stats"] is False and config["enable_registration"] is False
    assert config["registration_shared_secret"] == keys["registration_shared_secret"]
    for name in RATE_LIMITS:
        assert name in config
    assert config["rc_message"]["per_second"] >= 1000


def test_a_directory_keeps_its_secrets_and_signing_key(tmp_path: Path) -> None:
    _, first = write_config(tmp_path, 1)
    key = (tmp_path / "signing.key").read_text()
    _, again = write_config(tmp_path, 2)
    assert first == again and (tmp_path / "signing.key").read_text() == key
    assert key.startswith("ed25519 a_simtim ")


def test_no_synapse_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(SynapseProblem, match=f"pip install matrix-synapse=={SYNAPSE_PIN}"):
        version_of(str(tmp_path / "no-python"))
    with pytest.raises(SynapseProblem, match="no matrix-synapse"):
        version_of(__import__("sys").executable)  # simtim's own venv: Synapse never goes there
    with pytest.raises(SynapseProblem, match="pip install"):
        SynapseProcess(tmp_path, python=str(tmp_path / "none")).start()


def test_a_port_in_use_is_refused_before_starting() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SynapseProblem, match=f"port {port} on 127.0.0.1 is in use"):
            check_port_free(port)


def test_the_pin_is_printed_for_ci(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["peer", "synapse", "--print-pin"]) == 0
    assert capsys.readouterr().out.strip() == SYNAPSE_PIN


def test_the_command_says_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["peer", "synapse", "--dir", str(tmp_path), "--synapse-python", str(tmp_path / "none")])
    assert code == 1
    assert "pip install matrix-synapse" in capsys.readouterr().err
