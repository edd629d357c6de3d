"""The rule catalogue (docs/spec.md) is the one source of rule IDs, and it ships with the package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from simtim.paths import catalogue_path
from simtim.rules import CATALOGUE, RULE_IDS, RULES, area, parse_catalogue, render_rules_doc

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_catalogue_is_the_repository_copy() -> None:
    assert catalogue_path() == ROOT / "docs" / "spec.md"


def test_the_catalogue_holds_the_sdk_rule_families_in_order() -> None:
    assert RULE_IDS[:3] == ("ORDER-1", "CLOCK-1", "REPLY-1")
    assert len([r for r in RULE_IDS if area(r) != "REST"]) == 60
    assert {area(r) for r in RULE_IDS} >= {"AUTH", "INST", "MSG", "REV", "GRP", "MBR", "TIP", "SYS", "NET"}


def test_each_rule_has_text_sources_and_a_section() -> None:
    for rule in CATALOGUE:
        assert rule.text and rule.sources, rule.id
        assert rule.section, rule.id
        assert "*Decisions:*" not in rule.text  # decision links are notes, not rule text
    assert "10033" in RULES["REV-3"].text
    assert RULES["REV-3"].sources == ("native", "decision")


def test_a_new_rule_is_a_doc_edit() -> None:
    text = """## 99. Example — `EX`
| ID | rule | src |
|---|---|---|
| <a id="ex-1"></a>EX-1 | Something holds. More text. | decision |
| EX-2 | Without an anchor it still parses. | rest, web |
"""
    rules = parse_catalogue(text)
    assert [r.id for r in rules] == ["EX-1", "EX-2"]
    assert rules[0].summary == "Something holds."
    assert rules[1].sources == ("rest", "web")
    assert rules[0].section.endswith("`EX`")


def test_a_decision_note_is_parsed_into_links_not_rule_text() -> None:
    row = "| EX-1 | It holds (e.g. always). *Decisions:* [a](decisions.md#d-ex-1), [b](protocol.md#p-ex). | rest |"
    (rule,) = parse_catalogue(row)
    assert rule.text == "It holds (e.g. always)."
    assert rule.summary == "It holds (e.g. always)."  # "e.g." does not end the first sentence
    assert rule.decisions == ("decisions.md#d-ex-1", "protocol.md#p-ex")


def test_a_duplicate_rule_id_is_refused() -> None:
    row = "| EX-1 | text | decision |\n"
    with pytest.raises(ValueError, match="EX-1"):
        parse_catalogue(row + row)


def test_the_wheel_ships_the_catalogue() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert included["docs/spec.md"] == "simtim/spec.md"


def test_the_index_links_every_rule_to_its_text() -> None:
    doc = render_rules_doc(ROOT)
    for rule in RULE_IDS:
        assert f"[{rule}](spec.md#{rule.lower()})" in doc
    anchors = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    for rule in RULE_IDS:
        assert f'<a id="{rule.lower()}"></a>{rule}' in anchors


def test_no_tool_or_test_reads_outside_the_repository() -> None:
    """The design notes the project started from live beside the repo; nothing may read them."""
    outside = "/".join(("..", "shared"))  # spelled so that this file does not match itself
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("simtim", "tests", "benchmarks", "locustfiles")
        for path in (ROOT / folder).rglob("*.py")
        if outside in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders


def _anchors(page: Path) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', page.read_text(encoding="utf-8")))


def test_every_decision_note_links_an_anchor_that_exists() -> None:
    broken = []
    for rule in CATALOGUE:
        for link in rule.decisions:
            page, _, anchor = link.partition("#")
            if not (DOCS / page).is_file() or anchor not in _anchors(DOCS / page):
                broken.append(f"{rule.id} -> {link}")
    assert not broken, broken


def test_every_recorded_decision_is_linked_from_the_rule_it_refines() -> None:
    """A decision in docs/decisions.md that no rule's note links would be invisible from the rule."""
    linked = {link for rule in CATALOGUE for link in rule.decisions}
    unlinked = sorted(
        anchor for anchor in _anchors(DOCS / "decisions.md") if f"decisions.md#{anchor}" not in linked
    )
    assert not unlinked, unlinked


def test_the_committed_rule_index_is_current() -> None:
    """docs/rules.md says a test fails when it is stale: this is that test (CI diffs it too)."""
    committed = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules_doc(ROOT), (
        "docs/rules.md is stale: run simtim rules --write docs/rules.md"
    )


def test_the_index_reads_the_catalogue_of_the_tree_it_indexes(tmp_path: Path) -> None:
    """``simtim rules --root TREE`` indexes TREE's own rules, even ones the installed copy lacks."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "spec.md").write_text(
        '## 1. New — `NEW`\n| <a id="new-1"></a>NEW-1 | A new rule. | decision |\n', encoding="utf-8"
    )
    (tmp_path / "simtim").mkdir()
    (tmp_path / "simtim" / "feature.py").write_text("X = 1  # NEW-1\n", encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_feature.py").write_text(
        "def test_new_1_holds():\n    pass\n", encoding="utf-8"
    )
    doc = render_rules_doc(tmp_path)
    assert "| [NEW-1](spec.md#new-1) | A new rule. | `simtim/feature.py` | 1: `test_new_1_holds` |" in doc
    assert "REV-3" not in doc
