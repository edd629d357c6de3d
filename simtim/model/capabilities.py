"""Group-type capabilities and role permissions as literal tables (DESIGN rule 3).

``CAPABILITIES[operation][group_type]`` is either the tuple of caller roles
allowed to do it, or the error code the group type answers outright.
``TARGET_RIGHTS[operation][caller_role]`` is the set of target roles (and
``SELF``) the caller may act on.  ``docs/groups.md`` is rendered from these
tables and a test fails when the two disagree.
"""

from __future__ import annotations

from simtim.errors import Code

PRIVATE = "Private"
PUBLIC = "Public"
CHATROOM = "ChatRoom"
AVCHATROOM = "AVChatRoom"
GROUP_TYPES = (PRIVATE, PUBLIC, CHATROOM, AVCHATROOM)

OWNER = "Owner"
ADMIN = "Admin"
MEMBER = "Member"
ROLES = (OWNER, ADMIN, MEMBER)
SELF = "self"
ANYONE = "anyone"  # the operation needs no membership (join, search)

ANY_MEMBER = (OWNER, ADMIN, MEMBER)
OWNER_ADMIN = (OWNER, ADMIN)
OWNER_ONLY = (OWNER,)
NOT_ALLOWED = int(Code.GROUP_PERMISSION_DENIED)  # 10007

Capability = tuple[str, ...] | int

#: operation -> group type -> allowed caller roles, or the code the type answers (rule in the comment)
CAPABILITIES: dict[str, dict[str, Capability]] = {
    # GRP-2
    "updateGroupProfile": {
        PRIVATE: ANY_MEMBER,
        PUBLIC: OWNER_ADMIN,
        CHATROOM: OWNER_ADMIN,
        AVCHATROOM: OWNER_ONLY,
    },
    # GRP-3
    "dismissGroup": {PRIVATE: NOT_ALLOWED, PUBLIC: OWNER_ONLY, CHATROOM: OWNER_ONLY, AVCHATROOM: OWNER_ONLY},
    # GRP-5
    "searchGroupByID": {PRIVATE: NOT_ALLOWED, PUBLIC: (ANYONE,), CHATROOM: (ANYONE,), AVCHATROOM: (ANYONE,)},
    # GRP-6
    "changeGroupOwner": {
        PRIVATE: OWNER_ONLY,
        PUBLIC: OWNER_ONLY,
        CHATROOM: OWNER_ONLY,
        AVCHATROOM: NOT_ALLOWED,
    },
    # GRP-7
    "joinGroup": {PRIVATE: NOT_ALLOWED, PUBLIC: (ANYONE,), CHATROOM: (ANYONE,), AVCHATROOM: (ANYONE,)},
    # GRP-8
    "handleGroupApplication": {
        PRIVATE: OWNER_ADMIN,
        PUBLIC: OWNER_ADMIN,
        CHATROOM: OWNER_ADMIN,
        AVCHATROOM: OWNER_ADMIN,
    },
    # MBR-1 (Public/ChatRoom: App admin only, through the admin API)
    "addGroupMember": {
        PRIVATE: ANY_MEMBER,
        PUBLIC: NOT_ALLOWED,
        CHATROOM: NOT_ALLOWED,
        AVCHATROOM: NOT_ALLOWED,
    },
    # MBR-2
    "deleteGroupMember": {
        PRIVATE: OWNER_ONLY,
        PUBLIC: OWNER_ADMIN,
        CHATROOM: OWNER_ADMIN,
        AVCHATROOM: int(Code.GROUP_INVALID_PARAMETER),
    },
    # MUTE-1
    "setGroupMemberMuteTime": {
        PRIVATE: NOT_ALLOWED,
        PUBLIC: OWNER_ADMIN,
        CHATROOM: OWNER_ADMIN,
        AVCHATROOM: OWNER_ADMIN,
    },
    # ROLE-1
    "setGroupMemberRole": {
        PRIVATE: NOT_ALLOWED,
        PUBLIC: OWNER_ONLY,
        CHATROOM: OWNER_ONLY,
        AVCHATROOM: NOT_ALLOWED,
    },
    # ROLE-2
    "setGroupMemberNameCard": {t: ANY_MEMBER for t in GROUP_TYPES},
    # ROLE-3
    "setGroupMemberCustomField": {t: ANY_MEMBER for t in GROUP_TYPES},
    # REV-3: AVChatRoom keeps no history to revoke from
    "revokeMessage": {
        PRIVATE: ANY_MEMBER,
        PUBLIC: ANY_MEMBER,
        CHATROOM: ANY_MEMBER,
        AVCHATROOM: int(Code.GROUP_TYPE_NO_REVOKE),
    },
    # MSG-9
    "deleteMessage": {
        PRIVATE: ANY_MEMBER,
        PUBLIC: ANY_MEMBER,
        CHATROOM: ANY_MEMBER,
        AVCHATROOM: int(Code.GROUP_TYPE_NO_DELETE),
    },
}

#: operation -> caller role -> target roles it may act on (MBR-2, MUTE-1, ROLE-2, ROLE-3)
TARGET_RIGHTS: dict[str, dict[str, frozenset[str]]] = {
    # MBR-2 [decision for ChatRoom: same as Public]
    "deleteGroupMember": {OWNER: frozenset({ADMIN, MEMBER}), ADMIN: frozenset({MEMBER}), MEMBER: frozenset()},
    # MUTE-1: never self or the Owner; an Admin never another Admin
    "setGroupMemberMuteTime": {
        OWNER: frozenset({ADMIN, MEMBER}),
        ADMIN: frozenset({MEMBER}),
        MEMBER: frozenset(),
    },
    # ROLE-2
    "setGroupMemberNameCard": {
        OWNER: frozenset({SELF, ADMIN, MEMBER}),
        ADMIN: frozenset({SELF, MEMBER}),
        MEMBER: frozenset({SELF}),
    },
    # ROLE-3
    "setGroupMemberCustomField": {
        OWNER: frozenset({SELF, ADMIN, MEMBER}),
        ADMIN: frozenset({SELF, OWNER, ADMIN, MEMBER}),
        MEMBER: frozenset({SELF}),
    },
}

#: GRP-1: fixed join options per type (None: the creator chooses)
FIXED_JOIN_OPTION: dict[str, str | None] = {
    PRIVATE: "DisableApply",
    PUBLIC: None,
    CHATROOM: None,
    AVCHATROOM: "FreeAccess",
}
JOIN_OPTIONS = ("FreeAccess", "NeedPermission", "DisableApply")
#: GRP-1: roles an initial member may be given at createGroup
CREATE_ROLES: dict[str, tuple[str, ...]] = {
    PRIVATE: (MEMBER,),
    PUBLIC: (MEMBER, ADMIN),
    CHATROOM: (MEMBER, ADMIN),
    AVCHATROOM: (MEMBER,),
}
#: UNREAD-1: types whose conversations never count unread
NO_UNREAD_TYPES = frozenset({CHATROOM, AVCHATROOM})


def _cell(value: Capability) -> str:
    if isinstance(value, int):
        return str(value)
    return ", ".join(value)


def render_capability_doc() -> str:
    """The tables as Markdown; ``docs/groups.md`` embeds exactly this text."""
    lines = ["| operation | " + " | ".join(GROUP_TYPES) + " |", "|---|" + "---|" * len(GROUP_TYPES)]
    for operation, row in CAPABILITIES.items():
        lines.append(f"| {operation} | " + " | ".join(_cell(row[t]) for t in GROUP_TYPES) + " |")
    lines += ["", "| operation | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for operation, rights in TARGET_RIGHTS.items():
        lines.append(
            f"| {operation} | " + " | ".join(", ".join(sorted(rights[role])) or "-" for role in ROLES) + " |"
        )
    return "\n".join(lines) + "\n"
