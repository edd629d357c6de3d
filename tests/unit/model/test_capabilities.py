"""The capability tables (simtim.model.capabilities): docs/groups.md embeds them verbatim, and every
cell is what the model does (GRP-2, GRP-3, GRP-5..GRP-8, MBR-1, MBR-2, MUTE-1, ROLE-1..ROLE-3,
REV-3, MSG-9)."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from simtim.errors import Code, IMError
from simtim.model import capabilities
from simtim.model.capabilities import (
    ADMIN,
    ANYONE,
    CAPABILITIES,
    GROUP_TYPES,
    MEMBER,
    OWNER,
    ROLES,
    SELF,
    TARGET_RIGHTS,
    render_capability_doc,
)
from simtim.sdk import TIM
from tests.unit.model.group_support import SYSTEM, create, drain, force_role, history, send

DOC = Path(__file__).resolve().parents[3] / "docs" / "groups.md"
BEGIN = "<!-- capability-tables:begin -->"
END = "<!-- capability-tables:end -->"


def doc_section(text: str) -> str:
    """The text between the markers, without the newline that follows the begin marker."""
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "docs/groups.md needs exactly one marker pair"
    start = text.index(BEGIN) + len(BEGIN)
    section = text[start : text.index(END)]
    assert section.startswith("\n")
    return section[1:]


# --- docs/groups.md <-> tables -------------------------------------------------------------
def test_capabilities_doc_embeds_the_tables_verbatim() -> None:
    assert doc_section(DOC.read_text(encoding="utf-8")) == render_capability_doc()


def test_capabilities_doc_check_fails_when_a_table_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = DOC.read_text(encoding="utf-8")
    changed = {op: dict(row) for op, row in CAPABILITIES.items()}
    changed["dismissGroup"]["Private"] = (OWNER,)
    monkeypatch.setattr(capabilities, "CAPABILITIES", changed)
    assert doc_section(doc) != render_capability_doc()
    monkeypatch.undo()
    rights = {op: dict(row) for op, row in TARGET_RIGHTS.items()}
    rights["deleteGroupMember"][ADMIN] = frozenset({ADMIN, MEMBER})
    monkeypatch.setattr(capabilities, "TARGET_RIGHTS", rights)
    assert doc_section(doc) != render_capability_doc()


def test_capabilities_doc_has_the_legend_and_the_types() -> None:
    doc = DOC.read_text(encoding="utf-8")
    legend = doc[doc.index(END) :]
    assert "Legend" in legend and "anyone" in legend and "target rights" in legend.lower()
    for group_type in GROUP_TYPES:
        assert f"**{group_type}**" in doc
    for role in ROLES:
        assert f"**{role}**" in doc


def test_capabilities_tables_are_complete_and_well_typed() -> None:
    for operation, row in CAPABILITIES.items():
        assert tuple(row) == GROUP_TYPES, operation
        for cell in row.values():
            if isinstance(cell, int):
                assert Code(cell)  # a known code
            else:
                assert cell and set(cell) <= {*ROLES, ANYONE}, operation
    for operation, rights in TARGET_RIGHTS.items():
        assert tuple(rights) == ROLES, operation
        for allowed in rights.values():
            assert allowed <= {*ROLES, SELF}


# --- every cell of CAPABILITIES is what the model does --------------------------------------
def setup_group(service: Any, login: Any, group_type: str) -> SimpleNamespace:
    """Owner, Admin, Member, a second Member and an outsider; Admin is forced where the SDK has no
    way to appoint one (Private, AVChatRoom)."""
    w = SimpleNamespace(
        own=login("own"), adm=login("adm"), mem=login("mem"), mem2=login("mem2"), out=login("out")
    )
    if group_type == "AVChatRoom":
        w.gid = create(w.own, group_type)
        for tim in (w.own, w.adm, w.mem, w.mem2):
            tim.call("joinGroup", {"groupID": w.gid, "type": "AVChatRoom"})
        force_role(service, w.gid, "adm", ADMIN)
    elif group_type == "Private":
        w.gid = create(w.own, group_type, memberList=[{"userID": u} for u in ("adm", "mem", "mem2")])
        force_role(service, w.gid, "adm", ADMIN)
    else:
        w.gid = create(
            w.own,
            group_type,
            memberList=[{"userID": "adm", "role": ADMIN}, {"userID": "mem"}, {"userID": "mem2"}],
        )
    drain(w.own, w.adm, w.mem, w.mem2, w.out)
    return w


def caller_of(w: SimpleNamespace, role: str) -> TIM:
    return {OWNER: w.own, ADMIN: w.adm, MEMBER: w.mem, ANYONE: w.out}[role]


def prepare(w: SimpleNamespace, operation: str, group_type: str, role: str) -> tuple[str, dict[str, Any]]:
    """The call to make for ``operation`` (after any setup it needs)."""
    gid = w.gid
    caller = caller_of(w, role)
    if operation == "updateGroupProfile":
        return operation, {"groupID": gid, "introduction": "changed"}
    if operation in ("dismissGroup", "searchGroupByID"):
        return operation, {"groupID": gid}
    if operation == "changeGroupOwner":
        return operation, {"groupID": gid, "newOwnerID": "mem2"}
    if operation == "joinGroup":
        return operation, {"groupID": gid, "type": group_type}
    if operation == "handleGroupApplication":
        if group_type not in ("Public", "ChatRoom"):
            pytest.skip(f"no application can reach a {group_type} group's handlers")
        w.own.call("updateGroupProfile", {"groupID": gid, "joinOption": "NeedPermission"})
        if role == MEMBER:  # an ex-Admin still holds the application notice
            w.own.call("setGroupMemberRole", {"groupID": gid, "userID": "mem", "role": ADMIN})
        w.out.call("joinGroup", {"groupID": gid})
        if role == MEMBER:
            w.own.call("setGroupMemberRole", {"groupID": gid, "userID": "mem", "role": MEMBER})
        [notice] = [m for m in history(caller, SYSTEM) if m["payload"]["operationType"] == 1]
        return operation, {"handleAction": "Agree", "message": notice}
    if operation == "addGroupMember":
        return operation, {"groupID": gid, "userIDList": ["out"]}
    if operation == "deleteGroupMember":
        return operation, {"groupID": gid, "userIDList": ["mem2"]}
    if operation == "setGroupMemberMuteTime":
        return operation, {"groupID": gid, "userID": "mem2", "muteTime": 60}
    if operation == "setGroupMemberRole":
        return operation, {"groupID": gid, "userID": "mem2", "role": ADMIN}
    if operation == "setGroupMemberNameCard":
        return operation, {"groupID": gid, "nameCard": "me"}
    if operation == "setGroupMemberCustomField":
        return operation, {"groupID": gid, "memberCustomField": [{"key": "k", "value": "v"}]}
    if operation in ("revokeMessage", "deleteMessage"):
        message = send(caller, gid)
        if operation == "revokeMessage":
            return operation, {"message": message}
        return operation, {"messageList": [message]}
    raise AssertionError(f"no test setup for {operation}: add one when the table grows")


def callers(operation: str, group_type: str) -> tuple[str, ...]:
    """The three roles, plus a non-member where the cell says "anyone"."""
    cell = CAPABILITIES[operation][group_type]
    return (*ROLES, ANYONE) if not isinstance(cell, int) and ANYONE in cell else ROLES


CELLS = [(op, t, r) for op in CAPABILITIES for t in GROUP_TYPES for r in callers(op, t)]


@pytest.mark.parametrize(("operation", "group_type", "role"), CELLS)
def test_capabilities_cell_matches_the_model(
    service: Any, login: Any, operation: str, group_type: str, role: str
) -> None:
    w = setup_group(service, login, group_type)
    method, opts = prepare(w, operation, group_type, role)
    cell = CAPABILITIES[operation][group_type]
    caller = caller_of(w, role)
    if isinstance(cell, int):
        expected: int | None = cell
    elif ANYONE in cell or role in cell:
        expected = None
    else:
        expected = int(Code.GROUP_PERMISSION_DENIED)
    try:
        caller.call(method, opts)
    except IMError as error:
        assert expected is not None, f"{operation} on {group_type} by {role} should be allowed: {error}"
        assert error.code == expected, f"{operation} on {group_type} by {role}: {error}"
    else:
        assert expected is None, f"{operation} on {group_type} by {role} should be {expected}"


def test_capabilities_anyone_means_no_membership_needed(service: Any, login: Any) -> None:
    w = setup_group(service, login, "Public")
    assert w.out.call("searchGroupByID", {"groupID": w.gid})["group"]["groupID"] == w.gid
    assert w.out.call("joinGroup", {"groupID": w.gid})["status"] == "JoinedSuccess"


# --- every cell of TARGET_RIGHTS --------------------------------------------------------------
TARGETS = (SELF, OWNER, ADMIN, MEMBER)
RIGHT_CELLS = [
    (op, role, target)
    for op, role, target in itertools.product(TARGET_RIGHTS, ROLES, TARGETS)
    if not (role == OWNER and target == OWNER)
]  # the only Owner is the caller itself


def call_on(operation: str, gid: str, target: str) -> dict[str, Any]:
    if operation == "deleteGroupMember":
        return {"groupID": gid, "userIDList": [target]}
    if operation == "setGroupMemberMuteTime":
        return {"groupID": gid, "userID": target, "muteTime": 60}
    if operation == "setGroupMemberNameCard":
        return {"groupID": gid, "userID": target, "nameCard": "n"}
    if operation == "setGroupMemberCustomField":
        return {"groupID": gid, "userID": target, "memberCustomField": [{"key": "k", "value": "v"}]}
    raise AssertionError(f"no test setup for {operation}")


@pytest.mark.parametrize(("operation", "role", "target"), RIGHT_CELLS)
def test_capabilities_target_rights_match_the_model(
    login: Any, operation: str, role: str, target: str
) -> None:
    tims = {name: login(name) for name in ("own", "adm", "adm2", "mem", "mem2")}
    gid = create(
        tims["own"],
        "Public",
        memberList=[
            {"userID": "adm", "role": ADMIN},
            {"userID": "adm2", "role": ADMIN},
            {"userID": "mem"},
            {"userID": "mem2"},
        ],
    )
    caller_id = {OWNER: "own", ADMIN: "adm", MEMBER: "mem"}[role]
    target_id = {
        SELF: caller_id,
        OWNER: "own",
        ADMIN: "adm2" if caller_id == "adm" else "adm",
        MEMBER: "mem2" if caller_id == "mem" else "mem",
    }[target]
    allowed = target in TARGET_RIGHTS[operation][role]
    try:
        tims[caller_id].call(operation, call_on(operation, gid, target_id))
    except IMError as error:
        assert not allowed, f"{role} should {operation} {target}: {error}"
        # MBR-2: naming yourself or the owner is a bad argument (10004); anything else is 10007
        bad_argument = operation == "deleteGroupMember" and target in (SELF, OWNER)
        assert error.code == (10004 if bad_argument else 10007), error
    else:
        assert allowed, f"{role} should not {operation} {target}"
