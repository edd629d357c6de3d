"""Profiles (PROF-1): the account's own nick and avatar, and who hears about a change."""

from __future__ import annotations

from simtim.errors import Code, IMError
from simtim.limits import NICK_MAX_BYTES
from simtim.model.args import Options, utf8_len
from simtim.model.entities import Instance
from simtim.model.events import PROFILE_UPDATED, Event, Outcome
from simtim.model.fanout import emit_account
from simtim.model.sessions import Sessions


class Profiles:
    def __init__(self, sessions: Sessions) -> None:
        self.require_online = sessions.require_online

    def get_my_profile(self, inst: Instance, opts: Options) -> Outcome:
        _app, account = self.require_online(inst)
        return Outcome({"profile": account.profile()}, [])

    def update_my_profile(self, inst: Instance, opts: Options) -> Outcome:
        _app, account = self.require_online(inst)
        nick = opts.get("nick")
        avatar = opts.get("avatar")
        if nick is not None and (not isinstance(nick, str) or utf8_len(nick) > NICK_MAX_BYTES):
            raise IMError(
                Code.INVALID_PARAMETERS, f"nick must be a string of <= {NICK_MAX_BYTES} bytes", rule="PROF-1"
            )
        if avatar is not None and not isinstance(avatar, str):
            raise IMError(Code.INVALID_PARAMETERS, "avatar must be a string", rule="PROF-1")
        if nick is not None:
            account.nick = nick
        if avatar is not None:
            account.avatar = avatar
        events: list[Event] = []
        profile = account.profile()
        emit_account(events, account, PROFILE_UPDATED, [profile], exclude=inst)
        return Outcome({"profile": profile}, events)
