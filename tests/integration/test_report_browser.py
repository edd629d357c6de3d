"""``simtim report`` end to end: a real short Locust run, its report, and the page in headless Chromium.

Locust runs as a subprocess (pytest never imports locust).  The browser tests use Debian's
``chromium`` and skip when it is absent, unless ``SIMTIM_REQUIRE_TOOLS=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from simtim.report.data import load_run
from simtim.report.html import SECTION_IDS
from simtim.rules import RULE_IDS
from tests.conftest import require_tool
from tests.unit.report.synthetic import Run, mismatch

ROOT = Path(__file__).resolve().parents[2]
LOCUST_SECONDS = 5
EVIL = '<img src=x onerror=alert(1)><script>document.title="pwned"</script>'


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, subprocess.CompletedProcess[str]]:
    """A 5-second chat run against the embedded server (~10 s in all), then ``simtim report`` on it."""
    prefix = tmp_path_factory.mktemp("locust") / "chat"
    locust = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "locustfiles/chat.py",
            "--headless",
            "-u",
            "10",
            "-r",
            "10",
            "-t",
            f"{LOCUST_SECONDS}s",
            "--csv",
            str(prefix),
            "--csv-full-history",
            "--only-summary",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert locust.returncode == 0, locust.stdout[-3000:] + locust.stderr[-3000:]
    report = subprocess.run(
        [sys.executable, "-m", "simtim", "report", str(prefix)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return str(prefix), report


def test_report_of_a_real_locust_run(real_run: tuple[str, subprocess.CompletedProcess[str]]) -> None:
    prefix, report = real_run
    assert report.returncode == 0, report.stdout + report.stderr
    assert f"wrote {prefix}_report.html and {prefix}_junit.xml; exit 0 (OK)" in report.stdout
    run = load_run(prefix)
    assert run.totals is not None and run.totals.requests > 100
    assert run.totals.requests == max(run.totals.stats_requests, run.totals.history_requests)
    names = {(m.type, m.name) for m in run.methods}
    assert {("TIM", "login"), ("TIM", "sendMessage"), ("PUSH", "onMessageReceived")} <= names
    assert run.delivery_totals()["sent"] > 0 and run.e2e().total > 0 and run.e2e().p50_ms is not None
    assert run.users == 10 and run.duration_s >= LOCUST_SECONDS - 1
    suite = ET.parse(f"{prefix}_junit.xml").getroot()
    assert len(suite.findall("testcase")) == len(RULE_IDS) + 2 and suite.attrib["failures"] == "0"


# --- headless Chromium -------------------------------------------------------------------------------
def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = require_tool("chromium")
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def dump_dom(tmp_path: Path, page: Path) -> str:
    result = chromium(tmp_path, "--dump-dom", page.resolve().as_uri())
    assert result.returncode == 0 and "</html>" in result.stdout, result.stderr[-2000:]
    return result.stdout


def png_colours(data: bytes, step: int = 3) -> set[bytes]:
    """Distinct RGB colours of every ``step``-th pixel of an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, width, height, colour_type = 8, [], 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    previous, colours = bytearray(stride), set[bytes]()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride) if kind else ():
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            else:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        colours.update(bytes(line[x : x + 3]) for x in range(0, stride, bpp * step))
        previous = line
    return colours


@pytest.mark.browser
def test_the_page_renders_in_chromium(
    real_run: tuple[str, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    prefix, _ = real_run
    page = Path(f"{prefix}_report.html")
    dom = dump_dom(tmp_path, page)
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in dom, section_id
    for chart_id in (
        "chart-throughput",
        "chart-latency",
        "chart-e2e-histogram",
        "chart-e2e-time",
        "chart-delivery",
        "chart-faults",
        "chart-replay",
    ):
        assert f'id="{chart_id}"' in dom, chart_id
    assert dom.count("<svg ") == 7 and "<polyline" in dom and 'class="bar"' in dom
    assert dom.count('id="rule-') == len(RULE_IDS)

    shot = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.resolve().as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 30_000  # a blank 1280x2000 page compresses to a few kB
    colours = png_colours(data)
    assert len(colours) > 100, len(colours)
    # the header's ink, and the first two chart series (drawn, not just present in the markup)
    assert {bytes.fromhex("1d2330"), bytes.fromhex("1f77b4"), bytes.fromhex("d62728")} <= colours


@pytest.mark.browser
def test_mismatch_text_stays_text_in_chromium(tmp_path: Path) -> None:
    prefix = Run(mismatches=[mismatch("REV-1", actual=EVIL)]).write(tmp_path / "evil")
    subprocess.run(
        [sys.executable, "-m", "simtim", "report", prefix], cwd=ROOT, capture_output=True, timeout=120
    )
    dom = dump_dom(tmp_path, Path(f"{prefix}_report.html"))
    assert "<img" not in dom and "pwned" not in dom.split("</title>")[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert '<td class="bad" id="rule-REV-1"><b>REV-1</b>mismatch ×1 of 10 checks</td>' in dom
