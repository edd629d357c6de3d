"""Login, logout, destroy, kicks and UserSig expiry (AUTH-*, INST-*, NET-1).

Kick events go out before the new login resolves (INST-3), so they come first
in the returned event list.
"""

from __future__ import annotations

from simtim.errors import Code, IMError
from simtim.model.args import Options
from simtim.model.core import WorldBase
from simtim.model.entities import DESTROYED, EXPIRED, KICKED, NEW, ONLINE, Account, App, Instance
from simtim.model.events import (
    KICK_MULTIPLE_ACCOUNT,
    KICK_MULTIPLE_DEVICE,
    KICK_REST_API,
    KICK_USERSIG_EXPIRED,
    KICKED_OUT,
    NET_STATE_CHANGE,
    SDK_STATE_NOT_READY,
    SDK_STATE_READY,
    Event,
    Outcome,
)
from simtim.usersig import verify_usersig


class SessionOps(WorldBase):
    def login(self, inst: Instance, opts: Options) -> Outcome:
        if inst.state == DESTROYED:
            raise IMError(Code.SDK_NOT_INITIALIZED, rule="INST-1")
        app = self.apps.get(inst.sdkappid)
        if self.effective_state(inst) == ONLINE:
            return Outcome({"repeatLogin": True}, [])  # INST-2: nothing changes
        if app is None:
            raise IMError(Code.SDKAPPID_NOT_FOUND, rule="AUTH-2")
        if app.disabled:
            raise IMError(Code.APP_DISABLED, rule="AUTH-4")
        user_sig = opts.get("userSig")
        if not isinstance(user_sig, str) or not user_sig:
            raise IMError(Code.USERSIG_EMPTY, rule="AUTH-3")
        user_id = self._check_user_id(opts.get("userID"))
        now = app.clock.now()
        fields = verify_usersig(
            user_sig, sdkappid=app.sdkappid, identifier=user_id, key=app.secret_key, now=now
        )  # AUTH-2
        events: list[Event] = []
        if inst.state == ONLINE:  # expired on read, not yet swept: it leaves quietly
            self._go_offline(app, inst, EXPIRED)
        account = app.accounts.get(user_id)
        if account is None:
            account = app.accounts[user_id] = Account(user_id)  # AUTH-5
        self._make_room(app, account, inst, events)
        app.login_counter += 1
        inst.state = ONLINE
        inst.user_id = user_id
        inst.sig_expires_at = fields.expires_at
        inst.login_order = app.login_counter
        account.online.append(inst)
        self.schedule_expiry(app, inst)
        self.emit(events, inst, SDK_STATE_READY, {})  # INST-2
        return Outcome({"repeatLogin": False}, events)

    def _make_room(self, app: App, account: Account, inst: Instance, events: list[Event]) -> None:
        """INST-3/INST-4: kick the earliest instances the new login displaces."""
        if self.is_web(inst):
            limit = max(1, app.config.web_instances)
            web = [other for other in account.online if self.is_web(other)]
            for other in web[: max(0, len(web) - limit + 1)]:
                self.kick(app, other, KICK_MULTIPLE_ACCOUNT, events)  # INST-3
        else:
            for other in [o for o in account.online if o.platform == inst.platform]:
                self.kick(app, other, KICK_MULTIPLE_DEVICE, events)  # INST-4

    def kick(self, app: App, inst: Instance, reason: str, events: list[Event]) -> None:
        """kickedOut then sdkStateNotReady; later calls get 6208 (or 6206 for expiry)."""
        self._go_offline(app, inst, EXPIRED if reason == KICK_USERSIG_EXPIRED else KICKED)
        self.emit(events, inst, KICKED_OUT, {"type": reason})
        self.emit(events, inst, SDK_STATE_NOT_READY, {})

    def _go_offline(self, app: App, inst: Instance, state: str) -> None:
        account = app.accounts.get(inst.user_id)
        if account is not None and inst in account.online:
            account.online.remove(inst)
        inst.state = state
        self.leave_avchatroom(app, inst)

    def leave_avchatroom(self, app: App, inst: Instance) -> None:
        """Hook for groups: an instance going offline leaves its AVChatRoom (GRP-7)."""
        inst.avchatroom = ""

    def logout(self, inst: Instance, opts: Options) -> Outcome:
        """INST-1/INST-2: logout when not logged in resolves ``{}`` with no event."""
        if inst.state == DESTROYED:
            raise IMError(Code.SDK_NOT_INITIALIZED, rule="INST-1")
        if (
            inst.state == ONLINE
            and self.effective_state(inst) == ONLINE
            and self.apps[inst.sdkappid].disabled
        ):
            # AUTH-4: logout is a server call, not one of the local calls that keep working
            raise IMError(Code.APP_DISABLED, rule="AUTH-4")
        return self._logout(inst)

    def _logout(self, inst: Instance) -> Outcome:
        events: list[Event] = []
        if inst.state == ONLINE:
            app = self.apps[inst.sdkappid]
            was_live = self.effective_state(inst) == ONLINE
            self._go_offline(app, inst, NEW)
            if was_live:
                self.emit(events, inst, SDK_STATE_NOT_READY, {})
        inst.state = NEW
        return Outcome({}, events)

    def destroy(self, inst: Instance, opts: Options) -> Outcome:
        """INST-1: destroy logs out first; afterwards every call is 6013."""
        if inst.state == DESTROYED:
            raise IMError(Code.SDK_NOT_INITIALIZED, rule="INST-1")
        outcome = self._logout(inst)  # AUTH-4: destroy still works while the app is disabled
        inst.state = DESTROYED
        return outcome

    # --- admin and clock-driven ------------------------------------------------
    def admin_kick(self, sdkappid: int, user_id: str) -> list[Event]:
        """INST-6: kick every instance of the account."""
        app = self._app(sdkappid)
        account = app.accounts.get(self._check_user_id(user_id))  # AUTH-3 first: 70402
        if account is None:
            raise IMError(Code.ACCOUNT_NOT_FOUND, rule="INST-6")
        events: list[Event] = []
        for inst in list(account.online):
            self.kick(app, inst, KICK_REST_API, events)
        return events

    def sweep(self) -> list[Event]:
        """INST-5: apply UserSig expiries the clock has crossed, in expiry order."""
        events: list[Event] = []
        for app in self.apps.values():
            for inst in self.due_expiries(app):
                self.kick(app, inst, KICK_USERSIG_EXPIRED, events)
        return events

    def set_network(self, instance_id: int, connected: bool) -> list[Event]:
        """NET-1: a reconnect replays what the instance missed, once, in order."""
        inst = self.instance(instance_id)
        if not isinstance(connected, bool):
            raise IMError(Code.INVALID_PARAMETERS, "connected must be a boolean", rule="NET-1")
        if connected == inst.connected:
            return []
        inst.connected = connected
        if not connected:
            return []
        events = [Event(inst.id, NET_STATE_CHANGE, {"state": "connected"})]
        events.extend(Event(inst.id, name, data) for name, data in inst.deferred)
        inst.deferred = []
        return events
