"""Groups, members and join applications (GRP-*, MBR-*, MUTE-*)."""

from __future__ import annotations

from typing import Any

from simtim.model.entities import Thread


class Member:
    __slots__ = ("custom_fields", "join_order", "join_time", "name_card", "role", "user_id")

    def __init__(self, user_id: str, role: str, join_time: int, join_order: int) -> None:
        self.user_id = user_id
        self.role = role
        self.name_card = ""
        self.join_time = join_time
        self.join_order = join_order  # PAGE-2: history visibility starts here
        self.custom_fields: dict[str, str] = {}


class Application:
    """A pending join request (GRP-7); replaced when the user applies again."""

    __slots__ = ("applicant", "apply_message", "handled")

    def __init__(self, applicant: str, apply_message: str) -> None:
        self.applicant = applicant
        self.apply_message = apply_message
        self.handled = False


class Group:
    __slots__ = (
        "applications",
        "avatar",
        "create_time",
        "custom_fields",
        "group_id",
        "introduction",
        "join_option",
        "max_member_num",
        "members",
        "mute_all",
        "mute_until",
        "name",
        "notices",
        "notification",
        "owner",
        "thread",
        "type",
    )

    def __init__(self, group_id: str, group_type: str, create_time: int) -> None:
        self.group_id = group_id
        self.type = group_type
        self.name = ""
        self.introduction = ""
        self.notification = ""
        self.avatar = ""
        self.join_option = "FreeAccess"
        self.max_member_num: int | None = None
        self.custom_fields: dict[str, str] = {}
        self.owner = ""
        self.members: dict[str, Member] = {}  # insertion order is join order (MBR-3)
        self.thread = Thread("GROUP" + group_id)
        self.mute_until: dict[str, int] = {}  # MUTE-2: survives quit and rejoin
        self.applications: dict[str, Application] = {}
        self.notices: dict[str, Application] = {}  # notice-1 message ID -> application (GRP-8)
        self.create_time = create_time
        self.mute_all = False

    def profile(self, viewer: str | None = None) -> dict[str, Any]:
        """TIM's Group object; ``selfInfo`` only for a member viewer."""
        data: dict[str, Any] = {
            "groupID": self.group_id,
            "name": self.name,
            "avatar": self.avatar,
            "type": self.type,
            "introduction": self.introduction,
            "notification": self.notification,
            "ownerID": self.owner,
            "createTime": self.create_time,
            "joinOption": self.join_option,
            "memberNum": len(self.members),
            "maxMemberNum": self.max_member_num if self.max_member_num is not None else 0,
            "groupCustomField": [{"key": k, "value": v} for k, v in self.custom_fields.items()],
            "muteAllMembers": self.mute_all,
        }
        member = self.members.get(viewer) if viewer is not None else None
        if member is not None:
            data["selfInfo"] = {
                "role": member.role,
                "nameCard": member.name_card,
                "joinTime": member.join_time,
            }
        return data
