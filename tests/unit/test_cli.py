"""The ``simtim`` command's own wiring (subcommands reach their code; usersig round trip)."""

from __future__ import annotations

import pytest

from simtim.cli import BENCHMARKS, build_parser, main
from simtim.driver.targets import TARGETS


def test_every_design_subcommand_exists() -> None:
    parser = build_parser()
    for command in ("serve", "conform", "report", "usersig", "bench", "rules", "demo"):
        assert (
            parser.parse_known_args(
                [
                    command,
                    *(["model"] if command == "bench" else []),
                    *(["gen", "x"] if command == "usersig" else []),
                    *(["p"] if command == "report" else []),
                ]
            )[0].command
            == command
        )


def test_bench_names_the_three_benchmarks(capfd: pytest.CaptureFixture[str]) -> None:
    assert set(BENCHMARKS) == {"model", "server", "harness"}
    assert main(["bench", "model", "--help"]) == 0  # a child process: its output is on the fd
    assert "--seconds" in capfd.readouterr().out


def test_usersig_gen_then_verify(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usersig", "gen", "alice", "--time", "1600000000", "--expire", "100"]) == 0
    sig = capsys.readouterr().out.strip()
    assert main(["usersig", "verify", sig, "--now", "1600000100"]) == 0
    assert '"identifier": "alice"' in capsys.readouterr().out
    assert main(["usersig", "verify", sig, "--now", "1600000101"]) == 1
    assert "70001" in capsys.readouterr().err


def test_demo_walks_through_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "kickedOut" in out and "20016" in out and "isCompleted=True" in out


def test_conform_help_and_refusals_read_the_target_table(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["conform", "--help"])
    target_help = " ".join(capsys.readouterr().out.split())  # argparse wraps the text
    for kind in TARGETS:
        assert kind.example in target_help
    assert main(["conform", "--target", "https://127.0.0.1:1"]) == 1
    refusal = capsys.readouterr().err
    assert "simtim/1 over TLS is not supported" in refusal and all(k.example in refusal for k in TARGETS)
