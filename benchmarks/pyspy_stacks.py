"""Reading py-spy's ``--format raw`` stacks: shared by server_bench.py and harness_bench.py."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def read_stacks(path: Path, root: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, own time per function, inclusive time per function) from a raw py-spy file.

    Own time goes to the innermost Python frame (C code counts for its caller); file names are
    shortened to the checkout or the installed package.
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        names = []
        for raw in stack.split(";"):
            match = FRAME.match(raw)
            if match is None:
                continue  # process / thread header frames
            file = match["file"]
            for marker in ("site-packages/", "/lib/python3"):
                file = file.split(marker, 1)[-1]
            names.append(f"{match['func']} ({file.replace(str(root) + '/', '')})")
        if names:
            own[names[-1]] += n
            for name in set(names):
                inclusive[name] += n
    return total, own, inclusive
