"""What an app's backend does with groups through the server API (REST-6, REST-7, REST-8).

The App admin acts on any group without being a member; an operation it performs is the model's
own (create, profile, dismiss, add, remove, roles, cards, mute, send, recall), with the admin (or the
impersonated ``From_Account``) as operator, so SDK users get the same tips, notices and list
updates (REST-9).  What only the server API has lives here: ownerless groups, silent adds and
removes, many mutes at once, the drop instead of 10023 when a group's second is full, unstored
system notifications, recall by sequence, importing history, reading history by sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import REST_GROUP_DEDUP_SECONDS
from simtim.model.admin_accounts import AccountAdmin
from simtim.model.capabilities import ADMIN, AVCHATROOM, CAPABILITIES, MEMBER, OWNER, PRIVATE
from simtim.model.core import WorldState
from simtim.model.drafts import Draft
from simtim.model.elements import content_key
from simtim.model.entities import GROUP, NOTICE_ELEM, SYSTEM, Account, App, Group, Message
from simtim.model.events import GROUP_SYSTEM_NOTICE_RECEIVED, MESSAGE_RECEIVED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.group_directory import GroupDirectory
from simtim.model.group_messages import GroupMessaging
from simtim.model.groups import GroupLifecycle, parse_custom_fields
from simtim.model.members import Membership
from simtim.model.message_store import MessageStore
from simtim.model.notices import NOTICE_CUSTOM, TIP_GROUP_PROFILE, Notices
from simtim.model.retention import stored

Elements = list[tuple[Any, Any]]
REMIND_TYPES = ("AcceptAndNotify", "AcceptNotNotify", "Discard")


def _denied(why: str, rule: str) -> IMError:
    return IMError(Code.GROUP_PERMISSION_DENIED, why, rule=rule)


class GroupAdmin:
    def __init__(
        self,
        state: WorldState,
        accounts: AccountAdmin,
        groups: GroupDirectory,
        group_lifecycle: GroupLifecycle,
        membership: Membership,
        messaging: GroupMessaging,
        store: MessageStore,
        notices: Notices,
    ) -> None:
        self.state = state
        self.accounts = accounts
        self.groups = groups
        self.group_lifecycle = group_lifecycle
        self.membership = membership
        self.messaging = messaging
        self.store = store
        self.notices = notices

    def _group(self, sdkappid: int, group_id: object, rule: str) -> tuple[App, Group]:
        app = self.state.app_of(sdkappid)
        return app, self.groups.group_of(app, group_id, rule)

    def _operator(self, app: App, user_id: str | None, admin: str) -> str:
        """``From_Account`` when the backend names one (it must exist), else the admin."""
        if user_id is None:
            return admin
        if user_id not in app.accounts:
            raise IMError(Code.GROUP_ACCOUNT_NOT_FOUND, f"unknown account {user_id!r}", rule="REST-6")
        return user_id

    # --- the group itself (REST-6) -----------------------------------------------------------
    def create(self, sdkappid: int, owner_id: str | None, opts: Mapping[str, Any], admin: str) -> Outcome:
        """create_group: GRP-1's rules with an optional owner (None: an ownerless group)."""
        app = self.state.app_of(sdkappid)
        owner: Account | None = None
        if owner_id is not None:
            owner = app.accounts.get(owner_id)
            if owner is None:
                raise IMError(Code.GROUP_ACCOUNT_NOT_FOUND, f"unknown owner {owner_id!r}", rule="REST-6")
        return self.group_lifecycle.create(app, owner, opts, None, owner_id or admin, backend=True)

    def modify(
        self, sdkappid: int, group_id: str, opts: Mapping[str, Any], operator: str, mute_all: bool | None
    ) -> Outcome:
        """modify_group_base_info: GRP-2's limits and tip 6, without the role checks."""
        app, group = self._group(sdkappid, group_id, "REST-6")
        if opts.get("joinOption") is not None and group.type in (PRIVATE, AVCHATROOM):
            raise _denied(f"{group.type} has a fixed join option", "REST-6")
        return self.group_lifecycle.update_profile(app, group, operator, opts, mute_all)

    def destroy(self, sdkappid: int, group_id: str, admin: str) -> Outcome:
        """destroy_group: any type, Private included (only the SDK cannot); notice 5 as GRP-3."""
        app, group = self._group(sdkappid, group_id, "REST-6")
        return self.group_lifecycle.dismiss(app, group, admin, None)

    def change_owner(self, sdkappid: int, group_id: str, new_owner: str, operator: str) -> Outcome:
        """change_group_owner: AVChatRoom 10007; the new owner must be a member (10007); the old owner
        (if any) becomes a Member; tip 6 (GRP-6)."""
        app, group = self._group(sdkappid, group_id, "REST-7")
        if group.type == AVCHATROOM:
            raise _denied("AVChatRoom owners cannot be changed", "REST-7")
        target = group.members.get(new_owner)
        if target is None:
            raise _denied("the new owner must be a member", "REST-7")
        if group.owner == new_owner:
            return Outcome({"group": group.profile()}, [])
        old = group.members.get(group.owner)
        if old is not None:
            old.role = MEMBER
        target.role = OWNER
        group.owner = new_owner
        events: list[Event] = []
        self.notices.emit_tip(
            app, group, operator, TIP_GROUP_PROFILE, [], events, newGroupProfile={"ownerID": new_owner}
        )
        return Outcome({"group": group.profile()}, events)

    # --- members (REST-7) --------------------------------------------------------------------------
    def add_members(
        self, sdkappid: int, group_id: str, user_ids: list[str], admin: str, *, silence: bool, cap: int
    ) -> Outcome:
        """add_group_member: AVChatRoom 10007; results as MBR-1 (added, existing, failed)."""
        app, group = self._group(sdkappid, group_id, "REST-7")
        if group.type == AVCHATROOM:
            raise _denied("AVChatRoom members join by themselves", "REST-7")
        return self.membership.add_members(app, group, user_ids, admin, None, silence=silence, cap=cap)

    def delete_members(
        self, sdkappid: int, group_id: str, user_ids: list[str], admin: str, *, silence: bool
    ) -> Outcome:
        """delete_group_member: AVChatRoom 10004; non-members ignored; notices and tips as MBR-2."""
        app, group = self._group(sdkappid, group_id, "REST-7")
        if isinstance(CAPABILITIES["deleteGroupMember"][group.type], int):
            raise IMError(CAPABILITIES["deleteGroupMember"][group.type], rule="REST-7")  # type: ignore[arg-type]
        present = [u for u in dict.fromkeys(user_ids) if u in group.members]
        return self.membership.remove_members(app, group, present, admin, None, silence=silence)

    def modify_member(
        self,
        sdkappid: int,
        group_id: str,
        user_id: str,
        admin: str,
        *,
        role: str | None = None,
        name_card: str | None = None,
        msg_flag: str | None = None,
        custom: list[Any] | None = None,
        mute_time: int | None = None,
    ) -> Outcome:
        """modify_group_member_info: each given field as the SDK's operation on it (ROLE-1, ROLE-2,
        GRP-9, ROLE-3, MUTE-1) with the admin as operator; AVChatRoom 10007."""
        app, group = self._group(sdkappid, group_id, "REST-7")
        if group.type == AVCHATROOM:
            raise _denied("AVChatRoom keeps no member profiles", "REST-7")
        target = group.members.get(user_id)
        if target is None:
            raise _denied("not a member of this group", "REST-7")
        if role is not None and (role not in (ADMIN, MEMBER) or target.role == OWNER):
            raise IMError(
                Code.GROUP_INVALID_PARAMETER, "Role is Admin or Member, never the owner's", rule="REST-7"
            )
        if role == ADMIN and group.type == PRIVATE:
            raise _denied("Private groups have no admins", "REST-7")
        if msg_flag is not None and msg_flag not in REMIND_TYPES:
            raise IMError(Code.GROUP_INVALID_PARAMETER, "MsgFlag is not a known option", rule="REST-7")
        fields = parse_custom_fields(custom, "REST-7") if custom is not None else {}
        if mute_time is not None and group.type == PRIVATE:
            raise _denied("Private groups have no mute", "REST-7")
        events: list[Event] = []
        if role is not None and role != target.role:
            events += self.membership.set_role(app, group, admin, target, role, None)
        if name_card is not None:
            events += self.membership.set_name_card(app, group, admin, target, name_card)
        if msg_flag is not None:
            app.accounts[user_id].conv(GROUP + group.group_id).remind_type = msg_flag
        if fields:
            target.custom_fields.update(fields)
        if mute_time is not None:
            events += self.membership.mute(app, group, admin, [user_id], mute_time)
        return Outcome({"member": self.groups.member_view(app, group, target)}, events)

    def forbid(
        self, sdkappid: int, group_id: str, user_ids: list[str], mute_time: int, admin: str
    ) -> Outcome:
        """forbid_send_msg: mute (or, with 0, unmute) many members at once; Private 10007 (MUTE-1);
        non-members are skipped; the mute survives quit and rejoin (MUTE-2)."""
        app, group = self._group(sdkappid, group_id, "REST-7")
        if group.type == PRIVATE:
            raise _denied("Private groups have no mute", "REST-7")
        members = [u for u in dict.fromkeys(user_ids) if u in group.members]
        events = self.membership.mute(app, group, admin, members, mute_time) if members else []
        return Outcome({}, events)

    def muted(self, sdkappid: int, group_id: str) -> list[tuple[str, int]]:
        """get_group_muted_account: who is muted now, and until when (MUTE-2 on read)."""
        app, group = self._group(sdkappid, group_id, "REST-7")
        now = app.clock.now()
        return [(u, until) for u, until in group.mute_until.items() if until > now and u in group.members]

    # --- messages (REST-8) ---------------------------------------------------------------------------
    def send(
        self,
        sdkappid: int,
        group_id: str,
        sender_id: str,
        elements: Elements,
        *,
        is_admin: bool,
        random: int,
        priority: str = "Normal",
        cloud_custom_data: str = "",
    ) -> Outcome:
        """send_group_msg: the admin need not be a member, anyone else must be (10007); a muted
        sender 10017; dedup 5 min on content + Random; past the group's per-second limit the message
        is accepted with a drop reason and neither stored nor delivered (MSG-7's count)."""
        app, group = self._group(sdkappid, group_id, "REST-8")
        if is_admin:
            sender = self.accounts.ensure(app, sender_id)
        else:
            known = app.accounts.get(sender_id)
            if known is None:
                raise IMError(Code.GROUP_ACCOUNT_NOT_FOUND, f"unknown sender {sender_id!r}", rule="REST-8")
            sender = known
            member = group.members.get(sender_id)
            if member is None:
                raise _denied("the sender is not a member", "REST-8")
            now = app.clock.now()
            if group.mute_until.get(sender_id, 0) > now or (group.mute_all and member.role == MEMBER):
                raise IMError(Code.GROUP_MEMBER_MUTED, rule="REST-8")
        now = app.clock.now()
        key = ("group", group.group_id, random, content_key(elements))
        prior = app.rest_dedup.get(key)
        if prior is not None and now - prior.time <= REST_GROUP_DEDUP_SECONDS:
            return Outcome({"message": prior, "dropped": ""}, [])
        draft = Draft(GROUP, group.group_id, priority, random, now, cloud_custom_data, elements)
        if self.messaging.rate_full(app, group):
            ghost = self.store.new_message(app, sender, draft, elements, now)  # not stored: no thread
            return Outcome({"message": ghost, "dropped": "MsgFreqCtrl"}, [])
        msg = self.store.new_message(app, sender, draft, elements, now)
        app.rest_dedup[key] = msg
        events = self.messaging.store_and_fan_out(app, group, msg, sender, None)
        return Outcome({"message": msg, "dropped": ""}, events)

    def system_notification(
        self, sdkappid: int, group_id: str, recipients: list[str] | None, content: str, admin: str
    ) -> Outcome:
        """send_group_system_notification: online instances only, never stored; SDK users get the
        custom system notice (SYS-1 type 255) as onMessageReceived + receiveGroupSystemNotice."""
        app, group = self._group(sdkappid, group_id, "REST-8")
        chosen = list(group.members) if not recipients else [u for u in recipients if u in group.members]
        events: list[Event] = []
        for user_id in dict.fromkeys(chosen):
            account = app.accounts[user_id]
            if not account.online:
                continue
            notice = self.notices.server_message(
                app,
                SYSTEM,
                user_id,
                NOTICE_ELEM,
                {
                    "operationType": NOTICE_CUSTOM,
                    "operatorID": admin,
                    "groupProfile": group.profile(),
                    "handleMessage": content,
                },
            )
            view = notice.view(user_id)
            emit_account(events, account, MESSAGE_RECEIVED, [view])
            emit_account(
                events, account, GROUP_SYSTEM_NOTICE_RECEIVED, {"type": NOTICE_CUSTOM, "message": view}
            )
        return Outcome({}, events)

    def recall(self, sdkappid: int, group_id: str, sequences: Iterable[int]) -> Outcome:
        """group_msg_recall: by sequence, no time window; per sequence 0, 10030 (not found or already
        recalled) or 10032 (a tip); AVChatRoom 10033 (REV-3, REV-4)."""
        app, group = self._group(sdkappid, group_id, "REST-8")
        if isinstance(CAPABILITIES["revokeMessage"][group.type], int):
            raise IMError(CAPABILITIES["revokeMessage"][group.type], rule="REST-8")  # type: ignore[arg-type]
        by_sequence = {m.sequence: m for m in group.thread.messages}
        results: list[tuple[int, int]] = []
        events: list[Event] = []
        for sequence in sequences:
            msg = by_sequence.get(sequence)
            try:
                sender = app.accounts.get(msg.sender) if msg is not None else None
                if msg is None or sender is None:
                    raise IMError(Code.GROUP_MESSAGE_NOT_FOUND, rule="REST-8")
                events += self.messaging.revoke(app, sender, None, msg, admin=True).events
                results.append((sequence, 0))
            except IMError as exc:
                results.append((sequence, exc.code))
        return Outcome({"results": results}, events)

    def import_messages(
        self, sdkappid: int, group_id: str, items: list[tuple[str, int, int, Elements]]
    ) -> Outcome:
        """import_group_msg: (sender, SendTime, Random, elements) in increasing time, each before now
        and after the group's last message, else that item is 10004; no pushes, no unread; AVChatRoom
        10007."""
        app, group = self._group(sdkappid, group_id, "REST-8")
        if group.type == AVCHATROOM:
            raise _denied("AVChatRoom keeps no history", "REST-8")
        now = app.clock.now()
        results: list[tuple[int, int, int]] = []
        for sender_id, send_time, random, elements in items:
            last = group.thread.messages[-1].time if group.thread.messages else group.create_time
            sender = app.accounts.get(sender_id)
            if sender is None or not last < send_time < now:
                results.append((0, send_time, int(Code.GROUP_INVALID_PARAMETER)))
                continue
            draft = Draft(GROUP, group.group_id, "Normal", random, send_time, "", elements)
            msg = self.store.new_message(app, sender, draft, elements, send_time)
            group.thread.append(msg)
            msg.thread = group.thread
            stored(app, group.thread)  # PAGE-2 caps
            results.append((msg.sequence, send_time, 0))
        return Outcome({"results": results}, [])

    def history(
        self, sdkappid: int, group_id: str, count: int, below: int | None, with_recalled: bool
    ) -> tuple[list[Message], bool]:
        """group_msg_get_simple: newest first, sequences up to ``below`` (inclusive), recalled ones
        only when asked; (page, finished). AVChatRoom 10007 (no history, PAGE-2)."""
        app, group = self._group(sdkappid, group_id, "REST-8")
        if group.type == AVCHATROOM:
            raise _denied("AVChatRoom keeps no history", "REST-8")
        now = app.clock.now()
        retention = app.config.retention_seconds
        candidates = [
            m
            for m in reversed(group.thread.messages)
            if (below is None or m.sequence <= below)
            and now - m.time <= retention
            and (with_recalled or not m.revoked)
        ]
        return candidates[:count], len(candidates) <= count

    def online_member_num(self, sdkappid: int, group_id: str) -> int:
        """get_online_member_num: members with an online instance (AVChatRoom: joined instances)."""
        app, group = self._group(sdkappid, group_id, "REST-8")
        if group.type == AVCHATROOM:
            return sum(
                1
                for u in group.members
                for inst in app.accounts[u].online
                if inst.avchatroom == group.group_id
            )
        return sum(1 for u in group.members if app.accounts[u].online)
