"""What an app's backend does to accounts through the server API: import, check, delete, kick,
online status and profile tags (REST-3).

The REST face (``simtim/protocol/rest``) validates request shapes and maps these results to TIM's
field names; the decisions live here, so SDK users see the same world (REST-9).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import PROFILE_TAG_VALUE_MAX_BYTES
from simtim.model.args import utf8_len
from simtim.model.core import WorldState
from simtim.model.entities import Account, App
from simtim.model.events import KICK_REST_API, PROFILE_UPDATED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.group_directory import GroupDirectory
from simtim.model.lifecycle import ONLINE
from simtim.model.sessions import Sessions

NICK_TAG = "Tag_Profile_IM_Nick"
IMAGE_TAG = "Tag_Profile_IM_Image"
#: standard tags TIM documents; Tag_Profile_Custom_* are accepted too (REST-3)
STANDARD_TAGS = frozenset(
    {
        NICK_TAG,
        IMAGE_TAG,
        "Tag_Profile_IM_Gender",
        "Tag_Profile_IM_BirthDay",
        "Tag_Profile_IM_Location",
        "Tag_Profile_IM_SelfSignature",
        "Tag_Profile_IM_AllowType",
        "Tag_Profile_IM_Language",
        "Tag_Profile_IM_MsgSettings",
        "Tag_Profile_IM_AdminForbidType",
        "Tag_Profile_IM_Level",
        "Tag_Profile_IM_Role",
    }
)
CUSTOM_TAG_PREFIX = "Tag_Profile_Custom_"


def known_tag(tag: object) -> bool:
    return isinstance(tag, str) and (tag in STANDARD_TAGS or tag.startswith(CUSTOM_TAG_PREFIX))


class AccountAdmin:
    def __init__(self, state: WorldState, sessions: Sessions, groups: GroupDirectory) -> None:
        self.state = state
        self.sessions = sessions
        self.groups = groups

    def ensure(self, app: App, user_id: str) -> Account:
        """The account of an App admin or impersonated sender: exists once used (AUTH-5)."""
        account = app.accounts.get(user_id)
        if account is None:
            account = app.accounts[user_id] = Account(self.state.check_user_id(user_id))
        return account

    # --- import, check, delete ------------------------------------------------------------
    def import_account(self, sdkappid: int, user_id: str, nick: str = "", avatar: str = "") -> Account:
        """REST-3 account_import: idempotent; a later import updates nick and face URL."""
        return self.state.import_account(sdkappid, user_id, nick, avatar)

    def imported(self, sdkappid: int, user_ids: Iterable[str]) -> list[tuple[str, bool]]:
        app = self.state.app_of(sdkappid)
        return [(user_id, user_id in app.accounts) for user_id in user_ids]

    def delete(self, sdkappid: int, user_ids: Iterable[str]) -> Outcome:
        """REST-3 account_delete: per account 0 or 70107. A deleted account is kicked
        (REST_API_Kick), leaves its groups without tips, and its name no longer exists (AUTH-5)
        [decision: TIM also drops contacts and conversations; others keep their history]."""
        app = self.state.app_of(sdkappid)
        results: list[tuple[str, int]] = []
        events: list[Event] = []
        for user_id in dict.fromkeys(user_ids):
            account = app.accounts.get(user_id)
            if account is None:
                results.append((user_id, int(Code.REST_ACCOUNT_NOT_FOUND)))
                continue
            for inst in list(account.online):
                self.sessions.kick(app, inst, KICK_REST_API, events)
            for group in list(app.groups.values()):
                if user_id in group.members:
                    self.groups.remove_member(app, group, user_id)
            del app.accounts[user_id]
            results.append((user_id, 0))
        return Outcome({"results": results}, events)

    def kick(self, sdkappid: int, user_id: str) -> list[Event]:
        """REST-3 kick: every instance gets kickedOut REST_API_Kick (INST-6) and every UserSig issued
        before this second stops working; one issued from now on logs in [decision: the same second
        counts as after, so a backend that signs right after kicking is not refused]."""
        app = self.state.app_of(sdkappid)
        account = app.accounts.get(self.state.check_user_id(user_id))
        if account is None:
            raise IMError(Code.REST_ACCOUNT_NOT_FOUND, rule="REST-3")
        events = self.sessions.admin_kick(sdkappid, user_id)
        account.sigs_valid_from = app.clock.now()
        return events

    def online_platforms(self, sdkappid: int, user_ids: Iterable[str]) -> list[tuple[str, list[str] | None]]:
        """REST-3 query_online_status: the platforms of each account's logged-in instances
        (None for an unknown account)."""
        app = self.state.app_of(sdkappid)
        out: list[tuple[str, list[str] | None]] = []
        for user_id in user_ids:
            account = app.accounts.get(user_id)
            if account is None:
                out.append((user_id, None))
                continue
            out.append(
                (user_id, [i.platform for i in account.online if self.sessions.effective_state(i) is ONLINE])
            )
        return out

    # --- profile tags ------------------------------------------------------------------------
    def set_portrait(self, sdkappid: int, user_id: str, items: list[tuple[str, Any]]) -> Outcome:
        """REST-3 portrait_set: nick and image are the SDK profile (PROF-1, onProfileUpdated to every
        instance: the change comes from outside them); other tags are stored and returned."""
        app = self.state.app_of(sdkappid)
        account = app.accounts.get(user_id)
        if account is None:
            raise IMError(Code.PROFILE_ACCOUNT_NOT_FOUND, rule="REST-3")
        for tag, value in items:
            if not known_tag(tag):
                raise IMError(Code.PROFILE_INVALID_PARAMETER, f"unknown profile tag {tag!r}", rule="REST-3")
            if tag in (NICK_TAG, IMAGE_TAG) and not isinstance(value, str):
                raise IMError(Code.PROFILE_INVALID_PARAMETER, f"{tag} takes a string", rule="REST-3")
            if isinstance(value, str) and utf8_len(value) > PROFILE_TAG_VALUE_MAX_BYTES:
                raise IMError(Code.PROFILE_VALUE_TOO_LONG, rule="REST-3")
        for tag, value in items:
            if tag == NICK_TAG:
                account.nick = value
            elif tag == IMAGE_TAG:
                account.avatar = value
            else:
                account.tags[tag] = value
        events: list[Event] = []
        emit_account(events, account, PROFILE_UPDATED, [account.profile()])
        return Outcome({}, events)

    def portrait(self, sdkappid: int, user_id: str, tags: Iterable[str]) -> list[tuple[str, Any]] | None:
        """REST-3 portrait_get: the requested tags that have a value (None: unknown account)."""
        app = self.state.app_of(sdkappid)
        account = app.accounts.get(user_id)
        if account is None:
            return None
        out: list[tuple[str, Any]] = []
        for tag in tags:
            if tag == NICK_TAG:
                out.append((tag, account.nick))
            elif tag == IMAGE_TAG:
                out.append((tag, account.avatar))
            elif tag in account.tags:
                out.append((tag, account.tags[tag]))
        return out
