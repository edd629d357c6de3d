"""Group lifecycle: create, dismiss, profile, join, quit, search, owner, applications (GRP-*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import (
    CREATE_MEMBER_LIST_MAX,
    GROUP_AVATAR_MAX_BYTES,
    GROUP_CUSTOM_FIELDS_MAX,
    GROUP_CUSTOM_KEY_MAX_BYTES,
    GROUP_CUSTOM_VALUE_MAX_BYTES,
    GROUP_ID_MAX_BYTES,
    GROUP_INTRODUCTION_MAX_BYTES,
    GROUP_NAME_MAX_BYTES,
    GROUP_NOTIFICATION_MAX_BYTES,
)
from simtim.model.args import Options, is_int, opt_str, req_str, utf8_len
from simtim.model.capabilities import (
    ADMIN,
    AVCHATROOM,
    CREATE_ROLES,
    FIXED_JOIN_OPTION,
    GROUP_TYPES,
    JOIN_OPTIONS,
    MEMBER,
    OWNER,
    PRIVATE,
)
from simtim.model.core import WorldState
from simtim.model.entities import GROUP, Account, App, Application, Group, Instance
from simtim.model.events import Event, Outcome
from simtim.model.group_directory import GroupDirectory
from simtim.model.notices import (
    NOTICE_ACCEPTED,
    NOTICE_APPLY,
    NOTICE_CREATED,
    NOTICE_DISMISSED,
    NOTICE_INVITED,
    NOTICE_QUIT,
    NOTICE_REFUSED,
    TIP_GROUP_PROFILE,
    TIP_JOIN,
    TIP_QUIT,
    Notices,
)
from simtim.model.sessions import Sessions

REMIND_TYPES = ("AcceptAndNotify", "AcceptNotNotify", "Discard")  # GRP-9
_PROFILE_LIMITS = {
    "name": GROUP_NAME_MAX_BYTES,
    "introduction": GROUP_INTRODUCTION_MAX_BYTES,
    "notification": GROUP_NOTIFICATION_MAX_BYTES,
    "avatar": GROUP_AVATAR_MAX_BYTES,
}


def _value_error(why: str, rule: str) -> IMError:
    return IMError(Code.GROUP_INVALID_PARAMETER, why, rule=rule)


def parse_custom_fields(value: object, rule: str) -> dict[str, str]:
    """``[{key, value}]`` -> dict; shapes are 6017, sizes 10004 (GRP-2)."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(
        isinstance(f, Mapping) and isinstance(f.get("key"), str) and isinstance(f.get("value"), str)
        for f in value
    ):
        raise IMError(
            Code.INVALID_PARAMETERS, "custom fields must be a list of {key, value} strings", rule=rule
        )
    return {f["key"]: f["value"] for f in value}


CUSTOM_GROUP_ID_RULE = "groupID must be printable ASCII, <= 48 bytes, not starting @TGS#"


def custom_group_id_ok(custom_id: str) -> bool:
    """GRP-1/REST-6: a custom ID must not look like a server-assigned one (``@TGS#``)."""
    return (
        utf8_len(custom_id) <= GROUP_ID_MAX_BYTES
        and not custom_id.startswith("@TGS#")
        and all("!" <= ch <= "~" for ch in custom_id)
    )


class GroupLifecycle:
    """A group from creation to dismissal: profile, joining, quitting, owner, applications."""

    def __init__(
        self, state: WorldState, sessions: Sessions, groups: GroupDirectory, notices: Notices
    ) -> None:
        self.ids = state.ids
        self.require_online = sessions.require_online
        self.groups = groups
        self.notices = notices

    # --- shared checks -------------------------------------------------------------------
    def _profile_changes(self, opts: Options, rule: str) -> dict[str, Any]:
        """GRP-2: read the profile fields present in ``opts`` (6017 shapes, 10004 sizes)."""
        changes: dict[str, Any] = {}
        for name, limit in _PROFILE_LIMITS.items():
            if opts.get(name) is not None:
                value = opt_str(opts, name, rule=rule)
                if utf8_len(value) > limit:
                    raise _value_error(f"{name} is longer than {limit} bytes", rule)
                changes[name] = value
        if opts.get("groupCustomField") is not None:
            fields = parse_custom_fields(opts.get("groupCustomField"), rule)
            if any(
                utf8_len(k) > GROUP_CUSTOM_KEY_MAX_BYTES or utf8_len(v) > GROUP_CUSTOM_VALUE_MAX_BYTES
                for k, v in fields.items()
            ):
                raise _value_error("group custom field key or value too long", rule)
            changes["groupCustomField"] = fields
        if opts.get("joinOption") is not None:
            if opts.get("joinOption") not in JOIN_OPTIONS:
                raise _value_error("joinOption must be FreeAccess, NeedPermission or DisableApply", rule)
            changes["joinOption"] = opts["joinOption"]
        if opts.get("maxMemberNum") is not None:
            max_members = opts.get("maxMemberNum")
            if not is_int(max_members) or max_members <= 0:
                raise _value_error("maxMemberNum must be a positive integer", rule)
            changes["maxMemberNum"] = max_members
        return changes

    # --- createGroup (GRP-1) ----------------------------------------------------------------
    def create_group(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        return self.create(app, account, opts, inst, account.user_id)

    def create(
        self,
        app: App,
        account: Account | None,
        opts: Options,
        inst: Instance | None,
        operator: str,
        *,
        backend: bool = False,
    ) -> Outcome:
        """GRP-1 for an SDK user (``account`` the creator, ``inst`` its instance) or a backend
        (REST-6: ``account`` the owner or None for an ownerless group, ``backend`` True: members of an
        AVChatRoom are refused with 10007 and NeedPermission is the default join option, as TIM's
        server API has it)."""
        rule = "GRP-1"
        name = req_str(opts, "name", rule=rule, nonempty=False)  # empty is 10004, below
        group_type = opts.get("type", PRIVATE) or PRIVATE
        member_list = opts.get("memberList") or []
        if not isinstance(member_list, list) or not all(
            isinstance(m, Mapping) and isinstance(m.get("userID"), str) for m in member_list
        ):
            raise IMError(Code.INVALID_PARAMETERS, "memberList must be a list of {userID, role?}", rule=rule)
        custom_id = opt_str(opts, "groupID", rule=rule)
        if len(member_list) > CREATE_MEMBER_LIST_MAX:
            raise IMError(Code.GROUP_TOO_MANY_MEMBERS_IN_REQUEST, rule=rule)
        if group_type not in GROUP_TYPES:
            raise _value_error(f"type must be one of {', '.join(GROUP_TYPES)}", rule)
        if not name:
            raise _value_error("name must not be empty", rule)
        changes = self._profile_changes(opts, rule)
        if len(changes.get("groupCustomField", {})) > GROUP_CUSTOM_FIELDS_MAX:
            raise _value_error("at most 10 group custom fields", "GRP-2")
        if custom_id and not custom_group_id_ok(custom_id):
            raise _value_error(CUSTOM_GROUP_ID_RULE, rule)
        members: list[tuple[Account, str, dict[str, str]]] = []
        for entry in member_list:  # roles are checked for every type (Admin in AVChatRoom -> 10004)
            if (entry.get("role") or MEMBER) not in CREATE_ROLES[group_type]:
                raise _value_error(
                    f"role {entry.get('role')!r} is not allowed at creation of a {group_type}", rule
                )
        if backend and group_type == AVCHATROOM and member_list:
            raise IMError(
                Code.GROUP_PERMISSION_DENIED, "AVChatRoom members join by themselves", rule="REST-6"
            )
        if group_type != AVCHATROOM:  # AVChatRoom ignores memberList
            seen = {account.user_id} if account is not None else set()
            for entry in member_list:
                role = entry.get("role") or MEMBER
                fields = parse_custom_fields(entry.get("memberCustomField"), rule)
                member_account = app.accounts.get(entry["userID"])
                if member_account is None:
                    raise IMError(
                        Code.GROUP_ACCOUNT_NOT_FOUND, f"unknown account {entry['userID']!r}", rule=rule
                    )
                if member_account.user_id not in seen:
                    seen.add(member_account.user_id)
                    members.append((member_account, role, fields))
        if custom_id and custom_id in app.groups:
            raise IMError(Code.GROUP_ID_TAKEN, rule=rule)
        max_members = changes.get("maxMemberNum", app.config.max_member_num.get(group_type))
        if max_members is not None and (account is not None) + len(members) > max_members:
            raise IMError(Code.GROUP_FULL, rule=rule)
        # -- every check passed: create
        group = Group(custom_id or self.ids.group_id(), group_type, app.clock.now())
        group.name = name
        for field in ("introduction", "notification", "avatar"):
            if field in changes:
                setattr(group, field, changes[field])
        group.custom_fields = changes.get("groupCustomField", {})
        default_join = "NeedPermission" if backend else "FreeAccess"
        group.join_option = FIXED_JOIN_OPTION[group_type] or changes.get("joinOption", default_join)
        group.max_member_num = max_members
        app.groups[group.group_id] = group
        events: list[Event] = []
        if account is not None:
            self.groups.add_member(app, group, account, OWNER)
            group.owner = account.user_id
        for member_account, role, fields in members:
            self.groups.add_member(app, group, member_account, role).custom_fields = fields
        if account is not None:
            self.notices.deliver_notice(app, account, NOTICE_CREATED, operator, group, events, inst)
        for member_account, _, _ in members:
            self.notices.deliver_notice(
                app, member_account, NOTICE_INVITED, operator, group, events, inst
            )  # [decision] no tip
        owners = [account] if account is not None else []
        self.notices.emit_group_list(app, owners + [m[0] for m in members], events)
        return Outcome({"group": group.profile(account.user_id if account is not None else None)}, events)

    # --- dismissGroup (GRP-3) ---------------------------------------------------------------
    def dismiss_group(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        group, _member = self.groups.acting_member(app, account, opts.get("groupID"), "dismissGroup", "GRP-3")
        return self.dismiss(app, group, account.user_id, inst)

    def dismiss(self, app: App, group: Group, operator: str, inst: Instance | None) -> Outcome:
        """GRP-3 (and REST-6 destroy_group): notice 5 to every member's instances but the acting
        one, then the group is gone."""
        events: list[Event] = []
        accounts = [app.accounts[u] for u in group.members]
        for other in accounts:
            self.notices.deliver_notice(app, other, NOTICE_DISMISSED, operator, group, events, inst)
        for user_id in list(group.members):
            self.groups.remove_member(app, group, user_id)
        del app.groups[group.group_id]
        self.notices.emit_group_list(app, accounts, events)
        return Outcome({"groupID": group.group_id}, events)

    # --- updateGroupProfile (GRP-2) -----------------------------------------------------------
    def update_group_profile(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "GRP-2"
        group, _member = self.groups.acting_member(
            app, account, opts.get("groupID"), "updateGroupProfile", rule
        )
        return self.update_profile(app, group, account.user_id, opts)

    def update_profile(
        self, app: App, group: Group, operator: str, opts: Options, mute_all: bool | None = None
    ) -> Outcome:
        """GRP-2's changes (and REST-6 modify_group_base_info's): limits, then tip 6 with only the
        changed fields; ``mute_all`` is the backend's group-wide switch (MuteAllMember)."""
        rule = "GRP-2"
        if opts.get("joinOption") is not None and FIXED_JOIN_OPTION[group.type] is not None:
            raise IMError(Code.GROUP_PERMISSION_DENIED, f"{group.type} has a fixed joinOption", rule=rule)
        changes = self._profile_changes(opts, rule)
        if "groupCustomField" in changes:
            merged = {**group.custom_fields, **changes["groupCustomField"]}
            if len(merged) > GROUP_CUSTOM_FIELDS_MAX:
                raise _value_error("at most 10 group custom fields", rule)
        if changes.get("maxMemberNum") is not None and changes["maxMemberNum"] < len(group.members):
            raise _value_error("maxMemberNum below the member count", rule)
        changed: dict[str, Any] = {}
        for name in ("name", "introduction", "notification", "avatar"):
            if name in changes and changes[name] != getattr(group, name):
                setattr(group, name, changes[name])
                changed[name] = changes[name]
        if "joinOption" in changes and changes["joinOption"] != group.join_option:
            group.join_option = changed["joinOption"] = changes["joinOption"]
        if "maxMemberNum" in changes and changes["maxMemberNum"] != group.max_member_num:
            group.max_member_num = changed["maxMemberNum"] = changes["maxMemberNum"]
        if "groupCustomField" in changes:
            fresh = {k: v for k, v in changes["groupCustomField"].items() if group.custom_fields.get(k) != v}
            if fresh:
                group.custom_fields.update(fresh)
                changed["groupCustomField"] = [{"key": k, "value": v} for k, v in fresh.items()]
        if mute_all is not None and mute_all != group.mute_all:
            group.mute_all = changed["muteAllMembers"] = mute_all
        events: list[Event] = []
        if changed:  # tip 6 holds only the changed fields; no change, no tip [decision]
            self.notices.emit_tip(
                app, group, operator, TIP_GROUP_PROFILE, [], events, newGroupProfile=changed
            )
        viewer = operator if operator in group.members else None
        return Outcome({"group": group.profile(viewer)}, events)

    # --- joinGroup (GRP-7) -------------------------------------------------------------------
    def join_group(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "GRP-7"
        apply_message = opt_str(opts, "applyMessage", rule=rule)
        group = self.groups.group_of(app, opts.get("groupID"), rule)
        self.groups.check_capability("joinGroup", group, None, rule)
        if group.type == AVCHATROOM and opts.get("type") != AVCHATROOM:
            raise IMError(Code.INVALID_PARAMETERS, 'joining an AVChatRoom needs type "AVChatRoom"', rule=rule)
        me = account.user_id
        if me in group.members:
            entered: list[Event] = []
            if group.type == AVCHATROOM:  # TIP-1: the room it leaves still gets its tip 2
                self._enter_avchatroom(app, inst, group, entered)
            return Outcome({"status": "AlreadyInGroup", "group": group.profile(me)}, entered)
        if group.join_option == "DisableApply":
            raise IMError(Code.GROUP_PERMISSION_DENIED, "this group accepts no applications", rule=rule)
        if self.groups.is_full(group):
            raise IMError(Code.GROUP_FULL, rule="MBR-5")
        events: list[Event] = []
        if group.join_option == "NeedPermission":
            application = Application(me, apply_message)
            group.applications[me] = application  # re-applying replaces the pending one
            for user_id, member in list(group.members.items()):
                if member.role in (OWNER, ADMIN):
                    notice = self.notices.deliver_notice(
                        app, app.accounts[user_id], NOTICE_APPLY, me, group, events, inst, apply_message
                    )
                    notice.payload["applicant"] = me
                    group.notices[notice.id] = application
            return Outcome({"status": "WaitAdminApproval"}, events)
        if group.type == AVCHATROOM:
            self._enter_avchatroom(app, inst, group, events)
        self.groups.add_member(app, group, account, MEMBER)
        self.notices.emit_tip(app, group, me, TIP_JOIN, [me], events)
        self.notices.emit_group_list(app, [account], events)
        return Outcome({"status": "JoinedSuccess", "group": group.profile(me)}, events)

    def _enter_avchatroom(self, app: App, inst: Instance, group: Group, events: list[Event]) -> None:
        """GRP-7: joining an AVChatRoom leaves the instance's previous one."""
        previous = app.groups.get(inst.avchatroom) if inst.avchatroom else None
        if (
            previous is not None
            and previous is not group
            and inst.user_id in previous.members
            and previous.owner != inst.user_id
        ):  # GRP-4: the owner never leaves (rejoins to send)
            self.groups.remove_member(app, previous, inst.user_id)
            self.notices.emit_tip(app, previous, inst.user_id, TIP_QUIT, [inst.user_id], events)
        inst.avchatroom = group.group_id

    # --- quitGroup (GRP-4) -------------------------------------------------------------------
    def quit_group(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        group = self.groups.group_of(app, opts.get("groupID"), "GRP-4")
        member = self.groups.member_of(group, account.user_id, "GRP-4")
        if member.role == OWNER and group.type != PRIVATE:
            raise IMError(Code.GROUP_OWNER_CANNOT_QUIT, rule="GRP-4")
        events: list[Event] = []
        me = account.user_id
        self.groups.remove_member(app, group, me)
        self.notices.emit_tip(app, group, me, TIP_QUIT, [me], events)
        self.notices.deliver_notice(app, account, NOTICE_QUIT, me, group, events, inst)
        self.notices.emit_group_list(app, [account], events)
        return Outcome({"groupID": group.group_id}, events)

    # --- search, profile, list (GRP-5) ----------------------------------------------------------
    def search_group_by_id(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        group = self.groups.group_of(app, opts.get("groupID"), "GRP-5")
        self.groups.check_capability("searchGroupByID", group, None, "GRP-5")
        return Outcome({"group": group.profile(account.user_id)}, [])

    def get_group_profile(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        group = self.groups.group_of(app, opts.get("groupID"), "GRP-5")
        self.groups.member_of(group, account.user_id, "GRP-5")
        return Outcome({"group": group.profile(account.user_id)}, [])

    def get_group_list(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        return Outcome({"groupList": self.groups.group_list_for(app, account)}, [])

    # --- changeGroupOwner (GRP-6) --------------------------------------------------------------
    def change_group_owner(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "GRP-6"
        new_owner = req_str(opts, "newOwnerID", rule=rule)
        group, member = self.groups.acting_member(app, account, opts.get("groupID"), "changeGroupOwner", rule)
        target = group.members.get(new_owner)
        if target is None:
            raise IMError(Code.GROUP_PERMISSION_DENIED, "the new owner must be a member", rule=rule)
        if new_owner == account.user_id:
            raise _value_error("the new owner is already the owner", rule)
        member.role = MEMBER
        target.role = OWNER
        group.owner = new_owner
        events: list[Event] = []
        self.notices.emit_tip(
            app, group, account.user_id, TIP_GROUP_PROFILE, [], events, newGroupProfile={"ownerID": new_owner}
        )
        return Outcome({"group": group.profile(account.user_id)}, events)

    # --- handleGroupApplication (GRP-8) -----------------------------------------------------------
    def handle_group_application(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        rule = "GRP-8"
        message = opts.get("message")
        handle_message = opt_str(opts, "handleMessage", rule=rule)
        if not isinstance(message, Mapping) or not isinstance(message.get("ID"), str):
            raise IMError(Code.INVALID_PARAMETERS, "message must be the application notice", rule=rule)
        notice = app.messages.get(message["ID"])
        if notice is None or notice.thread is not account.system_thread:
            raise IMError(Code.INVALID_PARAMETERS, "no such application notice for this account", rule=rule)
        group_id = notice.payload["groupProfile"]["groupID"]
        group = self.groups.group_of(app, group_id, rule)
        application = group.notices.get(notice.id)
        if application is None:
            raise IMError(Code.INVALID_PARAMETERS, "that notice is not a join application", rule=rule)
        member = self.groups.member_of(group, account.user_id, rule)
        self.groups.check_capability("handleGroupApplication", group, member, rule)
        action = opts.get("handleAction")
        if action not in ("Agree", "Reject"):
            raise IMError(Code.INVALID_PARAMETERS, "handleAction must be Agree or Reject", rule=rule)
        if application.handled or group.applications.get(application.applicant) is not application:
            raise IMError(Code.GROUP_APPLICATION_HANDLED, rule=rule)
        applicant = app.accounts[application.applicant]
        if action == "Agree" and applicant.user_id not in group.members and self.groups.is_full(group):
            raise IMError(Code.GROUP_FULL, rule="MBR-5")  # stays pending
        application.handled = True
        del group.applications[application.applicant]
        events: list[Event] = []
        me = account.user_id
        if action == "Agree":
            if applicant.user_id not in group.members:
                self.groups.add_member(app, group, applicant, MEMBER)
                self.notices.emit_tip(app, group, me, TIP_JOIN, [applicant.user_id], events)
            self.notices.deliver_notice(
                app, applicant, NOTICE_ACCEPTED, me, group, events, inst, handle_message
            )
            self.notices.emit_group_list(app, [applicant], events)
        else:
            self.notices.deliver_notice(
                app, applicant, NOTICE_REFUSED, me, group, events, inst, handle_message
            )
        return Outcome({"group": group.profile(me)}, events)

    # --- setMessageRemindType (GRP-9) ---------------------------------------------------------------
    def set_message_remind_type(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.require_online(inst)
        remind = opts.get("messageRemindType")
        if remind not in REMIND_TYPES:
            raise IMError(
                Code.INVALID_PARAMETERS, f"messageRemindType must be one of {REMIND_TYPES}", rule="GRP-9"
            )
        group = self.groups.group_of(app, opts.get("groupID"), "GRP-9")
        self.groups.member_of(group, account.user_id, "GRP-9")
        account.conv(GROUP + group.group_id).remind_type = str(remind)
        return Outcome({"group": group.profile(account.user_id)}, [])
