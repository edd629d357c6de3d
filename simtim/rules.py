"""The rule catalogue (``docs/spec.md``), and an index of where each rule is implemented and tested.

The IDs come from the catalogue itself, so adding a rule is a documentation
edit, not a code edit.  Conformance reports count per rule, tests are named
after rules and ``docs/rules.md`` is generated from this index (``simtim
rules``), so a rule with no implementation or no test shows up as a gap
instead of hiding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from simtim.paths import catalogue_path


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the catalogue (``docs/spec.md``)."""

    id: str
    text: str
    sources: tuple[str, ...]
    section: str  # the heading the rule's table sits under
    decisions: tuple[str, ...] = ()  # links of the row's "*Decisions:*" note (``decisions.md#d-rev-3``)

    @property
    def anchor(self) -> str:
        return self.id.lower()

    @property
    def summary(self) -> str:
        """The rule's first sentence, for report lines and the index."""
        first = _SENTENCE_END.split(self.text, maxsplit=1)[0]
        return first if len(first) <= 120 else first[:117] + "..."


#: a full stop and a space end a sentence, except after "e.g." and "i.e."
_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=\.)\s")
_RULE_ROW = re.compile(r'^\|\s*(?:<a id="[^"]*"></a>)?([A-Z]+-\d+)\s*\|(.*)\|([^|]*)\|\s*$')
_DECISION_NOTE = re.compile(r"\s*\*Decisions:\*(.*)$")
_LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")


def parse_catalogue(text: str) -> list[Rule]:
    """Every rule row of the catalogue, in document order; duplicate IDs are an error."""
    rules: list[Rule] = []
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = _RULE_ROW.match(line)
        if match:
            rule_id, body, sources = match.groups()
            note = _DECISION_NOTE.search(body)
            rules.append(
                Rule(
                    rule_id,
                    _DECISION_NOTE.sub("", body.strip()),
                    tuple(s.strip() for s in sources.split(",") if s.strip()),
                    section,
                    tuple(_LINK_TARGET.findall(note.group(1))) if note else (),
                )
            )
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ValueError(f"rule {rule.id} appears twice in the catalogue")
        seen.add(rule.id)
    return rules


def load_catalogue(path: Path | None = None) -> list[Rule]:
    return parse_catalogue((path or catalogue_path()).read_text(encoding="utf-8"))


CATALOGUE: tuple[Rule, ...] = tuple(load_catalogue())
RULES: dict[str, Rule] = {rule.id: rule for rule in CATALOGUE}
#: every rule ID in catalogue order (reports, JUnit and matrices iterate this)
RULE_IDS: tuple[str, ...] = tuple(RULES)

_RULE_IN_CODE = re.compile(r"\b([A-Z]+-\d+)\b")
_TEST_DEF = re.compile(r"^\s*def (test_([a-z]+)_(\d+)_\w*)\(", re.MULTILINE)


def area(rule_id: str) -> str:
    """``"REV-3"`` -> ``"REV"``: reports group rules by area."""
    return rule_id.split("-", 1)[0]


def rule_ids_in_spec(spec_text: str) -> list[str]:
    return [rule.id for rule in parse_catalogue(spec_text)]


def implementation_index(
    files: Iterable[Path], root: Path, rule_ids: Iterable[str] = RULE_IDS
) -> dict[str, list[str]]:
    """rule -> ``path:line`` of each line in ``files`` that names it."""
    index: dict[str, list[str]] = {rule: [] for rule in rule_ids}
    for path in sorted(files):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for rule in _RULE_IN_CODE.findall(line):
                if rule in index:
                    index[rule].append(f"{path.relative_to(root)}:{number}")
    return index


def test_index(files: Iterable[Path], root: Path, rule_ids: Iterable[str] = RULE_IDS) -> dict[str, list[str]]:
    """rule -> ``path::test_name`` of tests named after it (``test_rev_3_...``)."""
    index: dict[str, list[str]] = {rule: [] for rule in rule_ids}
    for path in sorted(files):
        for name, prefix, number in _TEST_DEF.findall(path.read_text(encoding="utf-8")):
            rule = f"{prefix.upper()}-{number}"
            if rule in index:
                index[rule].append(f"{path.relative_to(root)}::{name}")
    return index


def render_rules_doc(root: Path) -> str:
    """The text of ``docs/rules.md`` for the tree at ``root``, from that tree's own catalogue.

    The tree's ``docs/spec.md`` is read (not the installed copy), so ``simtim rules --root`` of a
    checkout whose catalogue gained a rule indexes that rule even under an older install.
    """
    own = root / "docs" / "spec.md"
    catalogue = load_catalogue(own) if own.is_file() else list(CATALOGUE)
    ids = [rule.id for rule in catalogue]
    impl = implementation_index(
        (p for p in (root / "simtim").rglob("*.py") if p.name != "rules.py"), root, ids
    )
    tests = test_index((root / "tests").rglob("test_*.py"), root, ids)
    lines = [
        "# Rule index",
        "",
        "Generated by `simtim rules --write docs/rules.md`; a test fails when it is stale.",
        "Each rule of the catalogue (`docs/spec.md`), the code that names it and the tests named after it.",
        "",
        "| rule | summary | implemented in | tests |",
        "|---|---|---|---|",
    ]
    for rule in catalogue:
        where = sorted({ref.rsplit(":", 1)[0] for ref in impl[rule.id]})
        names = [ref.split("::")[1] for ref in tests[rule.id]]
        shown = ", ".join(f"`{name}`" for name in names[:4]) + (" ..." if len(names) > 4 else "")
        places = ", ".join(f"`{w}`" for w in where) or "**none**"
        summary = rule.summary.replace("|", "\\|")
        lines.append(f"| [{rule.id}](spec.md#{rule.anchor}) | {summary} | {places} | {len(names)}: {shown} |")
    return "\n".join(lines) + "\n"
