"""Group members: add, remove, list, roles, name cards, custom fields, mute (MBR-*, ROLE-*, MUTE-1)."""

from __future__ import annotations

from simtim.errors import Code, IMError
from simtim.limits import (
    ADD_MEMBER_MAX,
    MEMBER_CUSTOM_FIELDS_MAX,
    MEMBER_PAGE_DEFAULT,
    MEMBER_PAGE_MAX,
    MEMBER_PROFILE_MAX_IDS,
    MUTE_FOREVER,
    NAME_CARD_MAX_BYTES,
)
from simtim.model.args import Options, is_int, req_str, str_list, utf8_len
from simtim.model.capabilities import ADMIN, CAPABILITIES, MEMBER, SELF, TARGET_RIGHTS
from simtim.model.core import WorldState
from simtim.model.entities import Account, App, Group, Instance, Member
from simtim.model.events import Event, Outcome
from simtim.model.group_directory import GroupDirectory
from simtim.model.groups import parse_custom_fields
from simtim.model.notices import (
    ADMIN_OPERATOR,
    NOTICE_CANCEL_ADMIN,
    NOTICE_INVITED,
    NOTICE_KICKED,
    NOTICE_SET_ADMIN,
    TIP_CANCEL_ADMIN,
    TIP_JOIN,
    TIP_KICKED,
    TIP_MEMBER_PROFILE,
    TIP_SET_ADMIN,
    Notices,
)
from simtim.model.sessions import Sessions


def _denied(why: str, rule: str) -> IMError:
    return IMError(Code.GROUP_PERMISSION_DENIED, why, rule=rule)


class Membership:
    """Who else is in a group and with which rights: add, remove, list, roles, cards, mute."""

    def __init__(
        self, state: WorldState, sessions: Sessions, groups: GroupDirectory, notices: Notices
    ) -> None:
        self.state = state
        self.require_online = sessions.require_online
        self.groups = groups
        self.notices = notices
        self.member_view = groups.member_view

    def _may_target(self, operation: str, caller: Member, target: Member) -> bool:
        rights = TARGET_RIGHTS[operation][caller.role]
        if caller.user_id == target.user_id:
            return SELF in rights
        return target.role in rights

    # --- addGroupMember (MBR-1) -------------------------------------------------------------
    def add_group_member(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "MBR-1"
        user_ids = str_list(opts, "userIDList", rule=rule)
        group, _member = self.groups.acting_member(app, account, opts.get("groupID"), "addGroupMember", rule)
        return self.add_members(app, group, user_ids, account.user_id, inst)

    def admin_add_group_member(self, sdkappid: int, group_id: str, user_ids: list[str]) -> Outcome:
        """MBR-1: the App admin may add to any type but AVChatRoom (admin API)."""
        app = self.state.app_of(sdkappid)
        if not isinstance(user_ids, list) or not user_ids or not all(isinstance(u, str) for u in user_ids):
            raise IMError(Code.INVALID_PARAMETERS, "userIDList must be a non-empty list", rule="MBR-1")
        group = self.groups.group_of(app, group_id, "MBR-1")
        if group.type == "AVChatRoom":
            raise _denied("AVChatRoom members join by themselves", "MBR-1")
        return self.add_members(app, group, user_ids, ADMIN_OPERATOR, None)

    def add_members(
        self,
        app: App,
        group: Group,
        user_ids: list[str],
        operator: str,
        acting: Instance | None,
        *,
        silence: bool = False,
        cap: int = ADD_MEMBER_MAX,
    ) -> Outcome:
        """MBR-1's adding (and REST-7's: ``silence`` sends no tip and no notices, only the list
        update the added accounts need; ``cap`` is the per-call limit)."""
        if len(user_ids) > cap:
            raise IMError(Code.GROUP_TOO_MANY_MEMBERS_IN_REQUEST, rule="MBR-1")
        success: list[str] = []
        failure: list[str] = []
        existed: list[str] = []
        room = None if group.max_member_num is None else group.max_member_num - len(group.members)
        for user_id in dict.fromkeys(user_ids):
            if user_id in group.members:
                existed.append(user_id)
            elif user_id not in app.accounts or (room is not None and len(success) >= room):
                failure.append(user_id)  # unknown account or over maxMemberNum (MBR-5)
            else:
                success.append(user_id)
        events: list[Event] = []
        added: list[Account] = []
        for user_id in success:
            added.append(app.accounts[user_id])
            self.groups.add_member(app, group, added[-1], MEMBER)
        if success:
            if not silence:
                self.notices.emit_tip(app, group, operator, TIP_JOIN, success, events)
                for other in added:
                    self.notices.deliver_notice(app, other, NOTICE_INVITED, operator, group, events, acting)
            self.notices.emit_group_list(app, added, events)
        viewer = operator if operator in group.members else None
        return Outcome(
            {
                "successUserIDList": success,
                "failureUserIDList": failure,
                "existedUserIDList": existed,
                "group": group.profile(viewer),
            },
            events,
        )

    # --- deleteGroupMember (MBR-2) -----------------------------------------------------------
    def delete_group_member(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "MBR-2"
        user_ids = str_list(opts, "userIDList", rule=rule)
        if opts.get("reason") is not None and not isinstance(opts.get("reason"), str):
            raise IMError(Code.INVALID_PARAMETERS, "reason must be a string", rule=rule)
        group = self.groups.group_of(app, opts.get("groupID"), rule)
        caller = self.groups.member_of(group, account.user_id, rule)
        if isinstance(CAPABILITIES["deleteGroupMember"][group.type], int):
            self.groups.check_capability("deleteGroupMember", group, caller, rule)  # AVChatRoom -> 10004
        if account.user_id in user_ids or group.owner in user_ids:
            raise IMError(Code.GROUP_INVALID_PARAMETER, "cannot remove yourself or the owner", rule=rule)
        self.groups.check_capability("deleteGroupMember", group, caller, rule)
        targets = [group.members[u] for u in dict.fromkeys(user_ids) if u in group.members]
        for target in targets:  # all or nothing
            if not self._may_target("deleteGroupMember", caller, target):
                raise _denied(f"{caller.role} cannot remove {target.role} {target.user_id}", rule)
        return self.remove_members(app, group, [t.user_id for t in targets], account.user_id, inst)

    def remove_members(
        self,
        app: App,
        group: Group,
        removed: list[str],
        operator: str,
        inst: Instance | None,
        *,
        silence: bool = False,
    ) -> Outcome:
        """MBR-2's removal (and REST-7's): notice 4 to each removed account, tip 3 to the rest
        (``silence``: only the removed are told)."""
        events: list[Event] = []
        for user_id in removed:
            self.groups.remove_member(app, group, user_id)
        removed_accounts = [app.accounts[u] for u in removed]
        for other in removed_accounts:
            self.notices.deliver_notice(app, other, NOTICE_KICKED, operator, group, events, inst)
        if removed:
            if not silence:
                self.notices.emit_tip(app, group, operator, TIP_KICKED, removed, events)
            self.notices.emit_group_list(app, removed_accounts, events)
        viewer = operator if operator in group.members else None
        return Outcome({"group": group.profile(viewer), "userIDList": removed}, events)

    # --- getGroupMemberList / getGroupMemberProfile (MBR-3, MBR-4) ---------------------------
    def get_group_member_list(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "MBR-3"
        count = opts.get("count", MEMBER_PAGE_DEFAULT)
        offset = opts.get("offset", 0)
        count = MEMBER_PAGE_DEFAULT if count is None else count
        offset = 0 if offset is None else offset
        if not is_int(count) or count <= 0:
            raise IMError(Code.INVALID_PARAMETERS, "count must be a positive integer", rule=rule)
        if not is_int(offset) or offset < 0:
            raise IMError(Code.INVALID_PARAMETERS, "offset must be a non-negative integer", rule=rule)
        group = self.groups.group_of(app, opts.get("groupID"), rule)
        self.groups.member_of(group, account.user_id, rule)
        count = min(count, MEMBER_PAGE_MAX)
        members = list(group.members.values())[offset : offset + count]
        next_offset = offset + len(members)
        if next_offset >= len(group.members):
            next_offset = 0
        return Outcome(
            {"memberList": [self.member_view(app, group, m) for m in members], "offset": next_offset}, []
        )

    def get_group_member_profile(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "MBR-4"
        user_ids = str_list(opts, "userIDList", rule=rule)
        group = self.groups.group_of(app, opts.get("groupID"), rule)
        self.groups.member_of(group, account.user_id, rule)
        wanted = user_ids[:MEMBER_PROFILE_MAX_IDS]
        return Outcome(
            {
                "memberList": [
                    self.member_view(app, group, group.members[u])
                    for u in dict.fromkeys(wanted)
                    if u in group.members
                ]
            },
            [],
        )

    # --- mute (MUTE-1) ------------------------------------------------------------------------
    def set_group_member_mute_time(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "MUTE-1"
        user_id = req_str(opts, "userID", rule=rule)
        mute_time = opts.get("muteTime")
        if not is_int(mute_time) or mute_time < 0:
            raise IMError(Code.INVALID_PARAMETERS, "muteTime must be a non-negative integer", rule=rule)
        group, caller = self.groups.acting_member(
            app, account, opts.get("groupID"), "setGroupMemberMuteTime", rule
        )
        target = group.members.get(user_id)
        if target is None:
            raise _denied("the target is not a member", rule)
        if not self._may_target("setGroupMemberMuteTime", caller, target):
            raise _denied(
                f"{caller.role} cannot mute {'themselves' if target is caller else target.role}", rule
            )
        events = self.mute(app, group, account.user_id, [user_id], mute_time)
        return Outcome(
            {"group": group.profile(account.user_id), "member": self.member_view(app, group, target)}, events
        )

    def mute(self, app: App, group: Group, operator: str, user_ids: list[str], mute_time: int) -> list[Event]:
        """MUTE-1's effect (and REST-7 forbid_send_msg's, for many): muteUntil = now + muteTime (0
        lifts it; 4294967295 is TIM's "permanent" and stays that absolute value rather than a date
        past 2106), one tip 7 naming them all."""
        now = app.clock.now()
        for user_id in user_ids:
            group.mute_until[user_id] = (
                MUTE_FOREVER if mute_time >= MUTE_FOREVER else now + mute_time if mute_time else 0
            )
        events: list[Event] = []
        self.notices.emit_tip(
            app,
            group,
            operator,
            TIP_MEMBER_PROFILE,
            list(user_ids),
            events,
            memberList=[{"userID": u, "muteTime": mute_time} for u in user_ids],
        )
        return events

    # --- roles (ROLE-1) ------------------------------------------------------------------------
    def set_group_member_role(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "ROLE-1"
        user_id = req_str(opts, "userID", rule=rule)
        group, _caller = self.groups.acting_member(
            app, account, opts.get("groupID"), "setGroupMemberRole", rule
        )
        role = opts.get("role")
        if role not in (ADMIN, MEMBER):
            raise IMError(Code.GROUP_INVALID_PARAMETER, "role must be Admin or Member", rule=rule)
        if user_id == account.user_id:
            raise IMError(Code.GROUP_INVALID_PARAMETER, "the owner cannot change their own role", rule=rule)
        target = group.members.get(user_id)
        if target is None:
            raise _denied("the target is not a member", rule)
        events = self.set_role(app, group, account.user_id, target, str(role), inst)
        return Outcome(
            {"group": group.profile(account.user_id), "member": self.member_view(app, group, target)}, events
        )

    def set_role(
        self, app: App, group: Group, operator: str, target: Member, role: str, inst: Instance | None
    ) -> list[Event]:
        """ROLE-1's effect (and REST-7 modify_group_member_info Role's): tip 4/5 and notice 9/10."""
        target.role = role
        events: list[Event] = []
        promoted = role == ADMIN
        self.notices.emit_tip(
            app, group, operator, TIP_SET_ADMIN if promoted else TIP_CANCEL_ADMIN, [target.user_id], events
        )
        self.notices.deliver_notice(
            app,
            app.accounts[target.user_id],
            NOTICE_SET_ADMIN if promoted else NOTICE_CANCEL_ADMIN,
            operator,
            group,
            events,
            inst,
        )
        return events

    def set_name_card(
        self, app: App, group: Group, operator: str, target: Member, name_card: str
    ) -> list[Event]:
        """ROLE-2's effect (and REST-7's NameCard): tip 7."""
        target.name_card = name_card
        events: list[Event] = []
        self.notices.emit_tip(
            app,
            group,
            operator,
            TIP_MEMBER_PROFILE,
            [target.user_id],
            events,
            memberList=[{"userID": target.user_id, "nameCard": name_card}],
        )
        return events

    def _target_member(
        self, group: Group, caller: Member, opts: Options, operation: str, rule: str
    ) -> Member:
        user_id = opts.get("userID")
        if user_id is None:
            user_id = caller.user_id  # default self
        if not isinstance(user_id, str) or not user_id:
            raise IMError(Code.INVALID_PARAMETERS, "userID must be a non-empty string", rule=rule)
        target = group.members.get(user_id)
        if target is None:
            raise _denied("the target is not a member", rule)
        if not self._may_target(operation, caller, target):
            raise _denied(f"{caller.role} cannot change {target.role} {target.user_id}", rule)
        return target

    # --- name card (ROLE-2) -----------------------------------------------------------------------
    def set_group_member_name_card(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "ROLE-2"
        name_card = req_str(opts, "nameCard", rule=rule, nonempty=False)
        group, caller = self.groups.acting_member(
            app, account, opts.get("groupID"), "setGroupMemberNameCard", rule
        )
        target = self._target_member(group, caller, opts, "setGroupMemberNameCard", rule)
        if utf8_len(name_card) > NAME_CARD_MAX_BYTES:
            raise IMError(Code.GROUP_INVALID_PARAMETER, "nameCard is longer than 50 bytes", rule=rule)
        events = self.set_name_card(app, group, account.user_id, target, name_card)
        return Outcome(
            {"group": group.profile(account.user_id), "member": self.member_view(app, group, target)}, events
        )

    # --- member custom fields (ROLE-3) ---------------------------------------------------------------
    def set_group_member_custom_field(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "ROLE-3"
        fields = parse_custom_fields(opts.get("memberCustomField"), rule)
        if opts.get("memberCustomField") is None:
            raise IMError(Code.INVALID_PARAMETERS, "memberCustomField is required", rule=rule)
        group, caller = self.groups.acting_member(
            app, account, opts.get("groupID"), "setGroupMemberCustomField", rule
        )
        target = self._target_member(group, caller, opts, "setGroupMemberCustomField", rule)
        if len({**target.custom_fields, **fields}) > MEMBER_CUSTOM_FIELDS_MAX:
            raise IMError(Code.GROUP_INVALID_PARAMETER, "at most 5 member custom fields", rule=rule)
        target.custom_fields.update(fields)
        return Outcome(
            {"group": group.profile(account.user_id), "member": self.member_view(app, group, target)}, []
        )


__all__ = ["Membership"]
