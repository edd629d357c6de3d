"""The ``simtim`` command: ``demo`` and ``usersig`` (``serve``, ``conform``, ``report`` follow)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from simtim.errors import IMError
from simtim.limits import DAY_SECONDS
from simtim.model.core import DEV_SDKAPPID, DEV_SECRET_KEY
from simtim.usersig import decode_usersig, gen_usersig, verify_usersig


def _cmd_usersig_gen(args: argparse.Namespace) -> int:
    now = args.time if args.time is not None else int(time.time())
    print(gen_usersig(args.sdkappid, args.key, args.user_id, args.expire, now=now))
    return 0


def _cmd_usersig_verify(args: argparse.Namespace) -> int:
    now = args.now if args.now is not None else int(time.time())
    try:
        fields = decode_usersig(args.sig)
        print(
            json.dumps(
                {
                    "identifier": fields.identifier,
                    "sdkappid": fields.sdkappid,
                    "time": fields.time,
                    "expire": fields.expire,
                    "expiresAt": fields.expires_at,
                    "userbuf": fields.userbuf.hex() if fields.userbuf is not None else None,
                },
                indent=2,
            )
        )
        verify_usersig(
            args.sig,
            sdkappid=args.sdkappid,
            identifier=args.user_id or fields.identifier,
            key=args.key,
            now=now,
        )
    except IMError as exc:
        print(f"invalid: {exc.code} {exc.message}", file=sys.stderr)
        return 1
    print("valid")
    return 0


def _count(text: str) -> int:
    """A non-negative integer option (a cap of 0 means none)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _cmd_serve(args: argparse.Namespace) -> int:
    from simtim.server.serve import serve

    return serve(
        args.host,
        args.port,
        fake_clock=True if args.fake_clock else None,
        clock_start=args.clock_start,
        admin_key=args.admin_key,
        seed=args.seed,
        log_level=args.log_level,
        data=args.data,
        import_file=args.import_file,
        snapshot_every=args.snapshot_every,
        app_defaults={  # PAGE-2 store bounds, for every app (0 = none)
            "max_messages_per_conversation": args.max_messages_per_conversation,
            "max_messages": args.max_messages,
        },
    )


def _cmd_state_export(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from simtim.durable.journal import JournalError
    from simtim.durable.state_file import export_state

    directory = args.data or os.environ.get("SIMTIM_DATA")
    if not directory:
        print(
            "simtim state export: name the server's data directory with --data DIR (or SIMTIM_DATA)",
            file=sys.stderr,
        )
        return 1
    try:
        count = export_state(Path(directory), Path(args.file))
    except (JournalError, OSError) as exc:
        print(f"simtim state export: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.file}: {count} operations")
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from simtim.rules import render_rules_doc

    root = Path(args.root).resolve()
    text = render_rules_doc(root)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def _cmd_conform(args: argparse.Namespace) -> int:
    from simtim.conformance.conform import conform

    return conform(args)


def _cmd_report(args: argparse.Namespace) -> int:
    from simtim.report import run

    return run(args)


BENCHMARKS = {"model": "model_bench.py", "server": "server_bench.py", "harness": "harness_bench.py"}


def _cmd_bench(args: argparse.Namespace) -> int:
    """Run a benchmark script of a source checkout (benchmarks/ is not installed with the wheel)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / BENCHMARKS[args.which]
    if not script.exists():
        print(
            f"simtim bench: {script} not found: benchmarks run from a source checkout "
            "(git clone, pip install -e .)",
            file=sys.stderr,
        )
        return 1
    return subprocess.call([sys.executable, str(script), *args.rest])


def _cmd_peer(args: argparse.Namespace) -> int:
    from simtim.peer.synapse import DEFAULT_VENV, SYNAPSE_PIN, run_cli

    if args.print_pin:
        print(SYNAPSE_PIN)
        return 0
    directory = args.dir or str(DEFAULT_VENV.parent / "synapse-peer")
    return run_cli(directory, args.port, args.synapse_python, args.start_timeout)


def _cmd_demo(args: argparse.Namespace) -> int:
    from simtim.demo import run_demo

    return run_demo(print)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simtim",
        description="TIM (Tencent Cloud IM) protocol simulator: reference model, server and harness.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the reference server (simtim/1 over HTTP + WebSocket) on loopback",
        description="Run the reference TIM server. A dev app exists at start: SDKAppID 1400000000 with the "
        "public sample key of the official TLSSigAPIv2 README, so `simtim usersig gen alice` "
        "gives a working UserSig. See docs/protocol.md.",
    )
    serve.add_argument("--host", default=None, help="bind address (env SIMTIM_HOST; default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=None, help="port, 0 = any free port (env SIMTIM_PORT; default 8080)"
    )
    serve.add_argument(
        "--fake-clock",
        action="store_true",
        help="time moves only through the admin advanceClock op (env SIMTIM_FAKE_CLOCK=1)",
    )
    serve.add_argument("--clock-start", type=int, default=None, help="fake clock start, epoch seconds")
    serve.add_argument(
        "--admin-key",
        default=None,
        help="enable /admin/v1 with this key (env SIMTIM_ADMIN_KEY); without it /admin is 404",
    )
    serve.add_argument(
        "--seed", type=int, default=None, help="seed for message/group IDs (reproducible runs)"
    )
    serve.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="keep state in DIR (env SIMTIM_DATA): writes are journaled before they are acknowledged and "
        "replayed at start (docs/durability.md); without it the server is in-memory",
    )
    serve.add_argument(
        "--import",
        dest="import_file",
        default=None,
        metavar="FILE",
        help="start from a state document written by `simtim state export` (with --data: into an empty DIR)",
    )
    serve.add_argument(
        "--snapshot-every",
        type=int,
        default=None,
        metavar="N",
        help="with --data: write a background snapshot after at least N journal entries (default 50000) "
        "and at least as many as the state holds messages, so a start replays at most the larger",
    )
    serve.add_argument(
        "--max-messages-per-conversation",
        type=_count,
        default=0,
        help="PAGE-2 cap: keep the newest N messages of each conversation (every app; 0 = no cap)",
    )
    serve.add_argument(
        "--max-messages",
        type=_count,
        default=0,
        help="PAGE-2 cap: at most N messages in history per app, oldest evicted first (0 = no cap)",
    )
    serve.set_defaults(func=_cmd_serve)

    state = sub.add_parser("state", help="export a --data directory's state as one JSON document")
    state_sub = state.add_subparsers(dest="state_command", required=True)
    export = state_sub.add_parser(
        "export",
        help="write the state of a --data directory (a running server's too) to FILE",
        description="Write the state of `simtim serve --data DIR` as one JSON document (docs/durability.md, "
        "'State files'); `simtim serve --import FILE` starts a server from it.",
    )
    export.add_argument("file", metavar="FILE")
    export.add_argument(
        "--data", default=None, metavar="DIR", help="the server's data directory (env SIMTIM_DATA)"
    )
    export.set_defaults(func=_cmd_state_export)

    conform_parser = sub.add_parser(
        "conform",
        help="check an endpoint against the reference model, rule by rule",
        description="Run the conformance scenarios (one per feature, covering every SPEC rule) and a seeded "
        "random phase against a target, comparing every reply and pushed event with the model. "
        "Exit 0 = all checked rules pass, 2 = conformance failures, 1 = harness error.",
    )
    from simtim.conformance.conform import add_arguments

    add_arguments(conform_parser)
    conform_parser.set_defaults(func=_cmd_conform)

    report_parser = sub.add_parser(
        "report",
        help="HTML report + JUnit XML of a Locust run (PREFIX_*.csv), or compare two runs",
        description="Read a run's Locust and simtim CSVs and write PREFIX_report.html (one self-contained page) "
        "and PREFIX_junit.xml. Exit 0 = ok, 1 = input missing/unreadable or harness errors, "
        "2 = conformance mismatches, 3 = thresholds missed or the target stopped answering (transport "
        "failures without --max-fail-ratio rank before conformance). --compare A B prints per-method deltas "
        "and writes B_compare.html.",
    )
    from simtim.report import add_arguments as add_report_arguments

    add_report_arguments(report_parser)
    report_parser.set_defaults(func=_cmd_report)

    rules = sub.add_parser(
        "rules", help="print the SPEC rule index (where each rule is implemented and tested)"
    )
    rules.add_argument("--root", default=".", help="the simtim source tree (default: current directory)")
    rules.add_argument("--write", default=None, metavar="FILE", help="write to FILE (docs/rules.md)")
    rules.set_defaults(func=_cmd_rules)

    bench = sub.add_parser(
        "bench",
        help="run a benchmark (model, server, harness); see benchmarks/README.md",
        description="Each benchmark prints figures measured side by side in one run "
        "(ratios, medians); arguments after the name go to the script.",
    )
    bench.add_argument("which", choices=sorted(BENCHMARKS))
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the benchmark script")
    bench.set_defaults(func=_cmd_bench)

    peer = sub.add_parser("peer", help="run a server nobody here wrote as a test peer (Matrix Synapse)")
    peer_sub = peer.add_subparsers(dest="peer_command", required=True)
    synapse = peer_sub.add_parser(
        "synapse",
        help="start Synapse on 127.0.0.1 with a test config (docs/matrix.md); Ctrl-C stops it",
        description="Given a Python with matrix-synapse (--synapse-python, env SIMTIM_SYNAPSE_PYTHON, or "
        "~/.cache/simtim/synapse-venv), write a loopback test config in DIR, start Synapse, print its URL "
        "and registration secret, and stop it on Ctrl-C/SIGTERM. Installs nothing.",
    )
    synapse.add_argument(
        "--dir",
        default=None,
        help="config, database and logs; reused if present (default ~/.cache/simtim/synapse-peer)",
    )
    synapse.add_argument("--port", type=int, default=0, help="client port on 127.0.0.1 (0 = any free port)")
    synapse.add_argument("--synapse-python", default=None, help="a Python that has matrix-synapse")
    synapse.add_argument("--start-timeout", type=float, default=60.0, help="seconds to wait for it to answer")
    synapse.add_argument("--print-pin", action="store_true", help="print the pinned matrix-synapse version")
    synapse.set_defaults(func=_cmd_peer)

    demo = sub.add_parser("demo", help="walk through the reference model: login, kick, send, revoke, paging")
    demo.set_defaults(func=_cmd_demo)

    usersig = sub.add_parser("usersig", help="generate or verify a TLS 2.0 UserSig")
    usersig_sub = usersig.add_subparsers(dest="usersig_command", required=True)
    gen = usersig_sub.add_parser(
        "gen", help="print a UserSig (defaults: the dev app and its public sample key)"
    )
    gen.add_argument("user_id", help="the userID the sig is for")
    gen.add_argument("--sdkappid", type=int, default=DEV_SDKAPPID)
    gen.add_argument("--key", default=DEV_SECRET_KEY, help="the app's secret key")
    gen.add_argument(
        "--expire", type=int, default=180 * DAY_SECONDS, help="validity in seconds (default 180 days)"
    )
    gen.add_argument("--time", type=int, default=None, help="issue time, epoch seconds (default now)")
    gen.set_defaults(func=_cmd_usersig_gen)
    verify = usersig_sub.add_parser("verify", help="decode a UserSig, print its fields and check it")
    verify.add_argument("sig")
    verify.add_argument("--user-id", default=None, help="expected identifier (default: the sig's own)")
    verify.add_argument("--sdkappid", type=int, default=DEV_SDKAPPID)
    verify.add_argument("--key", default=DEV_SECRET_KEY)
    verify.add_argument("--now", type=int, default=None, help="check expiry at this time (default now)")
    verify.set_defaults(func=_cmd_usersig_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
