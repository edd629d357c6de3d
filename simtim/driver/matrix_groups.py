"""Groups on Matrix: a group is a room; its type and ``joinOption`` are the join rule and history
visibility, its roles and mutes are power levels (GRP-*, MBR-*, ROLE-1, MUTE-1; docs/matrix.md).

A group's TIM identity (groupID, type, creator) is the room's ``org.simtim.conversation`` state,
set at creation; a custom groupID is also a room alias so anyone can find the room by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.driver.matrix_client import CLIENT, MatrixError, errors_as, path_of
from simtim.driver.matrix_map import (
    ADDED_BY,
    AT_CREATION,
    CONVERSATION_STATE,
    DEFAULT_GROUP_PREFIX,
    GROUP,
    GROUP_TYPES,
    JOIN_OPTION_OF_RULE,
    MUTED_POWER,
    ROLE_POWER,
    Refusal,
    RoomInfo,
    Unsupported,
    group_alias,
    group_id_of_room,
    localpart_of,
    power_levels,
    role_of,
    room_of_default_group,
    seconds,
    tim_user,
)
from simtim.driver.matrix_sync import DriverCore, Session
from simtim.errors import Code
from simtim.limits import UINT32_MAX

#: TIM's joinOption as the join rule of a Public or ChatRoom group (Private and AVChatRoom are fixed)
JOIN_RULE_OF_OPTION = {"FreeAccess": "public", "NeedPermission": "knock", "DisableApply": "invite"}
FIXED_JOIN_RULE = {"Private": "invite", "AVChatRoom": "public"}
PROFILE_FIELDS = {
    "name": ("m.room.name", "name"),
    "introduction": ("m.room.topic", "topic"),
    "avatar": ("m.room.avatar", "url"),
}
MEMBER_HISTORY_WALK = 32  # profile-only member events walked back to find a join (MBR-3)
JOINED_AT = "org.simtim.joined_at"  # a member event's join time (ms), set by ``GroupOps._members``
PERMANENT_MUTE = UINT32_MAX  # TIM's own "muted for ever"; Matrix mutes have no end (MUTE-1 divergence)


def join_rule_of(group_type: str, join_option: Any) -> str:
    fixed = FIXED_JOIN_RULE.get(group_type)
    if fixed is not None:
        return fixed
    return JOIN_RULE_OF_OPTION.get(str(join_option or "FreeAccess"), "public")


class GroupOps:
    def __init__(self, driver: DriverCore) -> None:
        self.driver = driver
        self.http = driver.http
        self._aliases: dict[str, str] = {}

    # --- finding rooms ----------------------------------------------------------------------------
    def room(self, group_id: str, token: str) -> RoomInfo:
        """The room of a groupID: ``@TGS#X`` is ``!X:server``; a custom ID is an alias (10010 if none)."""
        if group_id.startswith(DEFAULT_GROUP_PREFIX):
            room_id = room_of_default_group(group_id, self.driver.server_name())
        else:
            room_id = self._aliases.get(group_id, "")
            if not room_id:
                alias = group_alias(group_id, self.driver.server_name())
                try:
                    answer = self.http.request("GET", path_of(f"{CLIENT}/directory/room", alias), token=token)
                except MatrixError as exc:
                    if exc.errcode == "M_NOT_FOUND":
                        raise Refusal(int(Code.GROUP_NOT_FOUND), f"no group {group_id!r}") from exc
                    raise
                room_id = self._aliases[group_id] = str(answer["room_id"])
        known = self.driver.rooms.info(self.http, room_id, token)
        return known if known is not None else RoomInfo(room_id, GROUP, group_id=group_id)

    def _state(self, room_id: str, token: str) -> list[dict[str, Any]]:
        with errors_as("group"):
            answer = self.http.request("GET", path_of(f"{CLIENT}/rooms", room_id, "state"), token=token)
        return list(answer.get("events", []))

    def _power(self, room_id: str, token: str) -> dict[str, Any]:
        return self.http.request(
            "GET", path_of(f"{CLIENT}/rooms", room_id, "state", "m.room.power_levels", ""), token=token
        )

    def _set_power(self, room_id: str, token: str, content: Mapping[str, Any]) -> None:
        self.http.request(
            "PUT",
            path_of(f"{CLIENT}/rooms", room_id, "state", "m.room.power_levels", ""),
            content,
            token=token,
        )

    # --- views ------------------------------------------------------------------------------------
    def group_view(self, info: RoomInfo, state: list[dict[str, Any]], viewer: str) -> dict[str, Any]:
        """TIM's Group from the room's state (GRP-5); fields Matrix has no counterpart for stay empty."""
        by_type: dict[tuple[str, str], dict[str, Any]] = {
            (e["type"], e.get("state_key", "")): e for e in state
        }

        def content(kind: str, key: str = "") -> dict[str, Any]:
            return dict((by_type.get((kind, key)) or {}).get("content") or {})

        conversation = content(CONVERSATION_STATE)
        users = content("m.room.power_levels").get("users") or {}
        owners = [tim_user(u) for u, level in users.items() if int(level) >= ROLE_POWER["Owner"]]
        joined = [
            e
            for e in state
            if e["type"] == "m.room.member" and (e.get("content") or {}).get("membership") == "join"
        ]
        create = by_type.get(("m.room.create", "")) or {}
        group: dict[str, Any] = {
            "groupID": info.group_id or group_id_of_room(info.room_id),
            "name": content("m.room.name").get("name", ""),
            "avatar": content("m.room.avatar").get("url", ""),
            "type": conversation.get("type", info.group_type),
            "introduction": content("m.room.topic").get("topic", ""),
            "notification": conversation.get("notification", ""),
            "ownerID": owners[0] if owners else "",
            "createTime": seconds(create.get("origin_server_ts")),
            "joinOption": JOIN_OPTION_OF_RULE.get(content("m.room.join_rules").get("join_rule", ""), ""),
            "memberNum": len(joined),
            "maxMemberNum": int(conversation.get("maxMemberNum", 0) or 0),
            "groupCustomField": [],
            "muteAllMembers": False,
        }
        me = self.driver.matrix_id(viewer)
        mine = by_type.get(("m.room.member", me))
        if mine is not None and (mine.get("content") or {}).get("membership") == "join":
            group["selfInfo"] = {
                "role": role_of(int(users.get(me, 0))),
                "nameCard": "",
                "joinTime": seconds(mine.get("origin_server_ts")),
            }
        return group

    def profile_of_room(self, info: RoomInfo, session: Session) -> dict[str, Any]:
        return self._profile(info, session)

    def _profile(self, info: RoomInfo, session: Session) -> dict[str, Any]:
        return self.group_view(info, self._state(info.room_id, session.access_token), session.user)

    def joined_at(self, room_id: str, event: Mapping[str, Any], token: str) -> int:
        """When a member joined (ms): its member event, or, when that event only changed its name
        or avatar (a profile update re-sends the member event in every room), the join event it
        replaced, found through ``unsigned.replaces_state`` on the homeserver (MBR-3's join order and
        joinTime are the join's, not the last profile change's)."""
        current: Mapping[str, Any] = event
        for _ in range(MEMBER_HISTORY_WALK):
            unsigned = current.get("unsigned") or {}
            previous = str(unsigned.get("replaces_state") or "")
            if (unsigned.get("prev_content") or {}).get("membership") != "join" or not previous:
                break
            try:
                current = self.http.request(
                    "GET", path_of(f"{CLIENT}/rooms", room_id, "event", previous), token=token
                )
            except MatrixError:
                break  # not visible to this member: the oldest one it may see
        return int(current.get("origin_server_ts") or 0)

    def member_view(self, event: Mapping[str, Any], users: Mapping[str, Any]) -> dict[str, Any]:
        """MBR-3's fields; a muted member (power below events_default) is muted for ever."""
        matrix_id = str(event.get("state_key", ""))
        level = int(users.get(matrix_id, 0))
        content = event.get("content") or {}
        return {
            "userID": tim_user(matrix_id),
            "role": role_of(level),
            "nameCard": "",
            "nick": content.get("displayname") or "",
            "avatar": content.get("avatar_url") or "",
            "joinTime": seconds(event.get(JOINED_AT, event.get("origin_server_ts"))),
            "muteUntil": PERMANENT_MUTE if level <= MUTED_POWER else 0,
            "memberCustomField": [],
        }

    # --- operations ---------------------------------------------------------------------------------
    def create(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """GRP-1 as ``createRoom``: initial state says type, join rule, history visibility and power
        levels; ``memberList`` becomes invites (Matrix members join by themselves: a divergence)."""
        group_type = args.get("type", "Private")
        if group_type not in GROUP_TYPES:
            raise Refusal(int(Code.INVALID_PARAMETERS), f"unknown group type {group_type!r}")
        settings = GROUP_TYPES[str(group_type)]
        custom_id = args.get("groupID")
        me = session.matrix_id
        levels = power_levels(me, str(group_type))
        invites = []
        for member in args.get("memberList") or []:
            if isinstance(member, Mapping) and isinstance(member.get("userID"), str):
                matrix_id = self.driver.matrix_id(member["userID"])
                invites.append(matrix_id)
                if member.get("role") == "Admin":
                    levels["users"][matrix_id] = ROLE_POWER["Admin"]
        conversation = {
            "kind": GROUP,
            "groupID": custom_id if isinstance(custom_id, str) else "",
            "type": group_type,
            "creator": session.user,
            "notification": str(args.get("notification") or ""),
            "maxMemberNum": args.get("maxMemberNum") if isinstance(args.get("maxMemberNum"), int) else 0,
        }
        initial = [
            {"type": CONVERSATION_STATE, "state_key": "", "content": conversation},
            {
                "type": "m.room.join_rules",
                "state_key": "",
                "content": {"join_rule": join_rule_of(str(group_type), args.get("joinOption"))},
            },
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": settings.history_visibility},
            },
        ]
        # GRP-2: every profile field TIM has is room state from the start (empty when not given), so a
        # later first change replaces state and is a tip (TIP-1 6), never mistaken for initial state
        avatar = args.get("avatar") if isinstance(args.get("avatar"), str) else ""
        initial.append(
            {"type": "m.room.avatar", "state_key": "", "content": {"url": avatar} if avatar else {}}
        )
        body: dict[str, Any] = {
            "preset": settings.preset,
            "visibility": "private",
            "name": str(args.get("name") or ""),
            "invite": invites,
            "initial_state": initial,
            "power_level_content_override": levels,
        }
        introduction = args.get("introduction")
        body["topic"] = introduction if isinstance(introduction, str) else ""  # GRP-2: state from the start
        if isinstance(custom_id, str) and custom_id:
            body["room_alias_name"] = f"simtim.g.{localpart_of(custom_id)}"
        with errors_as("group"):
            room_id = str(
                self.http.request("POST", f"{CLIENT}/createRoom", body, token=session.access_token)["room_id"]
            )
        group_id = custom_id if isinstance(custom_id, str) and custom_id else group_id_of_room(room_id)
        info = RoomInfo(room_id, GROUP, group_id=group_id, group_type=str(group_type), creator=session.user)
        self.driver.rooms.remember(info)
        for matrix_id in invites:
            self._accept(room_id, tim_user(matrix_id), session.user, at_creation=True)
        return {"group": self._profile(info, session)}

    def _accept(self, room_id: str, user: str, operator: str, *, at_creation: bool = False) -> None:
        """MBR-1: TIM adds a member directly; on Matrix the invitee accepts. The driver holds every
        account it provisioned, so the invitee's own device joins (``join_as``), as for a C2C room:
        the membership is the homeserver's, never simulated here."""
        with errors_as("group"):
            # kept in the member event's content
            self.driver.join_as(user, room_id, {ADDED_BY: operator, AT_CREATION: at_creation})

    def add_members(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """MBR-1 as an invite by the caller, then the invitee's acceptance (``_accept``)."""
        info = self.room(self._group_id(args), session.access_token)
        users = [u for u in dict.fromkeys(args.get("userIDList") or []) if isinstance(u, str)]
        if not users:
            raise Refusal(int(Code.INVALID_PARAMETERS), "userIDList is required")
        members, _ = self._members(info, session)
        present = {m["userID"] for m in members}
        success, failure, existed = [], [], []
        for user in users:
            if user in present:
                existed.append(user)
                continue
            if not self.driver.account_exists(user):  # fails alone, as in TIM; never registered here
                failure.append(user)
                continue
            try:
                with errors_as("group"):
                    self.http.request(
                        "POST",
                        path_of(f"{CLIENT}/rooms", info.room_id, "invite"),
                        {"user_id": self.driver.matrix_id(user)},
                        token=session.access_token,
                    )
            except MatrixError as exc:
                if exc.errcode != "M_NOT_FOUND":  # an unknown account fails alone, as in TIM
                    raise
                failure.append(user)
                continue
            self._accept(info.room_id, user, session.user)
            success.append(user)
        return {
            "successUserIDList": success,
            "failureUserIDList": failure,
            "existedUserIDList": existed,
            "group": self._profile(info, session),
        }

    def profile(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        info = self.room(self._group_id(args), session.access_token)
        return {"group": self._profile(info, session)}

    def update_profile(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """GRP-2 for what rooms have (name, topic, avatar); the rest has no Matrix counterpart."""
        info = self.room(self._group_id(args), session.access_token)
        others = sorted(k for k in args if k not in PROFILE_FIELDS and k != "groupID")
        if others:
            raise Unsupported(f"updateGroupProfile {', '.join(others)}: no Matrix room counterpart")
        with errors_as("group"):
            for field_name, (kind, key) in PROFILE_FIELDS.items():
                if isinstance(args.get(field_name), str):
                    self.http.request(
                        "PUT",
                        path_of(f"{CLIENT}/rooms", info.room_id, "state", kind, ""),
                        {key: args[field_name]},
                        token=session.access_token,
                    )
        return {"group": self._profile(info, session)}

    def join(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """GRP-7: ``/join`` (public rooms), else ``/knock`` (NeedPermission); invite-only refuses."""
        info = self.room(self._group_id(args), session.access_token)
        me = session.matrix_id
        try:
            mine = self.http.request(
                "GET",
                path_of(f"{CLIENT}/rooms", info.room_id, "state", "m.room.member", me),
                token=session.access_token,
            )
            if mine.get("membership") == "join":  # GRP-7: TIM answers a member with the group too
                return {"status": "AlreadyInGroup", "group": self._profile(info, session)}
        except MatrixError:
            pass  # not a member: Matrix shows a room's state only to members
        with errors_as("group"):
            try:
                self.http.request(
                    "POST", path_of(f"{CLIENT}/join", info.room_id), {}, token=session.access_token
                )
            except MatrixError as refused:
                if refused.errcode != "M_FORBIDDEN":
                    raise
                try:
                    reason = str(args.get("applyMessage") or "")
                    self.http.request(
                        "POST",
                        path_of(f"{CLIENT}/knock", info.room_id),
                        {"reason": reason},
                        token=session.access_token,
                    )
                except MatrixError:
                    raise refused from None
                return {"status": "WaitAdminApproval"}
        info = self.room(info.group_id, session.access_token)
        return {"status": "JoinedSuccess", "group": self._profile(info, session)}

    def quit(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        group_id = self._group_id(args)
        info = self.room(group_id, session.access_token)
        with errors_as("group"):
            self.http.request(
                "POST", path_of(f"{CLIENT}/rooms", info.room_id, "leave"), {}, token=session.access_token
            )
        return {"groupID": group_id}

    def group_list(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        joined = self.http.request("GET", f"{CLIENT}/joined_rooms", token=session.access_token)
        groups: list[tuple[int, dict[str, Any]]] = []
        for room_id in joined.get("joined_rooms", []):
            info = self.driver.rooms.info(self.http, str(room_id), session.access_token)
            if info is not None and info.kind == GROUP:
                state = self._state(info.room_id, session.access_token)
                created = next((e for e in state if e.get("type") == "m.room.create"), {})
                view = self.group_view(info, state, session.user)
                groups.append((int(created.get("origin_server_ts") or 0), view))
        # GLIST-1: oldest group first, as TIM lists them; /joined_rooms has no order
        return {"groupList": [view for _, view in sorted(groups, key=lambda pair: pair[0])]}

    def change_owner(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """GRP-6: the new owner gets 100, the old one 0, in one power-levels event."""
        info = self.room(self._group_id(args), session.access_token)
        new_owner = args.get("newOwnerID")
        if not isinstance(new_owner, str) or not new_owner:
            raise Refusal(int(Code.INVALID_PARAMETERS), "newOwnerID is required")
        with errors_as("group"):
            levels = self._power(info.room_id, session.access_token)
            users = dict(levels.get("users") or {})
            users[self.driver.matrix_id(new_owner)] = ROLE_POWER["Owner"]
            users[session.matrix_id] = ROLE_POWER["Member"]
            self._set_power(info.room_id, session.access_token, {**levels, "users": users})
        return {"group": self._profile(info, session)}

    def _members(self, info: RoomInfo, session: Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with errors_as("group"):
            answer = self.http.request(
                "GET",
                path_of(f"{CLIENT}/rooms", info.room_id, "members"),
                token=session.access_token,
                query={"membership": "join"},
            )
            users = self._power(info.room_id, session.access_token).get("users") or {}
        token = session.access_token
        events = [{**e, JOINED_AT: self.joined_at(info.room_id, e, token)} for e in answer.get("chunk", [])]
        events.sort(key=lambda e: int(e[JOINED_AT]))
        return [self.member_view(e, users) for e in events], users

    def member_list(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """MBR-3: members in join order, ``count`` (default 15, at most 100) from ``offset``."""
        info = self.room(self._group_id(args), session.access_token)
        count = args.get("count", 15)
        offset = args.get("offset", 0)
        if not isinstance(count, int) or count < 1 or not isinstance(offset, int) or offset < 0:
            raise Refusal(int(Code.INVALID_PARAMETERS), "count must be positive, offset non-negative")
        members, _ = self._members(info, session)
        page = members[offset : offset + min(count, 100)]
        following = offset + len(page)
        return {"memberList": page, "offset": following if following < len(members) else 0}

    def member_profile(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        info = self.room(self._group_id(args), session.access_token)
        wanted = [u for u in (args.get("userIDList") or [])[:50] if isinstance(u, str)]
        members, _ = self._members(info, session)
        return {"memberList": [m for m in members if m["userID"] in wanted]}

    def delete_members(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """MBR-2 as kicks, one per user (Matrix has no all-or-nothing batch)."""
        info = self.room(self._group_id(args), session.access_token)
        users = [u for u in (args.get("userIDList") or []) if isinstance(u, str)]
        if not users:
            raise Refusal(int(Code.INVALID_PARAMETERS), "userIDList is required")
        with errors_as("group"):
            for user in users:
                self.http.request(
                    "POST",
                    path_of(f"{CLIENT}/rooms", info.room_id, "kick"),
                    {"user_id": self.driver.matrix_id(user), "reason": str(args.get("reason") or "")},
                    token=session.access_token,
                )
        return {"group": self._profile(info, session), "userIDList": users}

    def _member_after(self, info: RoomInfo, session: Session, user: str) -> dict[str, Any]:
        members, _ = self._members(info, session)
        member = next((m for m in members if m["userID"] == user), {"userID": user})
        return {"group": self._profile(info, session), "member": member}

    def _set_level(self, session: Session, args: Mapping[str, Any], level_of: Any) -> dict[str, Any]:
        info = self.room(self._group_id(args), session.access_token)
        user = args.get("userID")
        if not isinstance(user, str) or not user:
            raise Refusal(int(Code.INVALID_PARAMETERS), "userID is required")
        target = self.driver.matrix_id(user)
        with errors_as("group"):
            levels = self._power(info.room_id, session.access_token)
            users = dict(levels.get("users") or {})
            users[target] = level_of(int(users.get(target, 0)))
            self._set_power(info.room_id, session.access_token, {**levels, "users": users})
        return self._member_after(info, session, user)

    def mute(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """MUTE-1: muted = power below ``events_default``; Matrix keeps no end time, so any positive
        muteTime mutes for ever and 0 unmutes (back to a plain member)."""
        mute_time = args.get("muteTime")
        if not isinstance(mute_time, int) or isinstance(mute_time, bool) or mute_time < 0:
            raise Refusal(int(Code.INVALID_PARAMETERS), "muteTime must be a non-negative integer")
        return self._set_level(
            session,
            args,
            lambda old: (
                MUTED_POWER if mute_time > 0 else (ROLE_POWER["Member"] if old <= MUTED_POWER else old)
            ),
        )

    def set_role(self, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
        """ROLE-1: Admin 50, Member 0."""
        role = args.get("role")
        if role not in ("Admin", "Member"):
            raise Refusal(int(Code.GROUP_INVALID_PARAMETER), "role must be Admin or Member")
        return self._set_level(session, args, lambda old: ROLE_POWER[str(role)])

    @staticmethod
    def _group_id(args: Mapping[str, Any]) -> str:
        group_id = args.get("groupID")
        if not isinstance(group_id, str) or not group_id:
            raise Refusal(int(Code.INVALID_PARAMETERS), "groupID is required")
        return group_id
