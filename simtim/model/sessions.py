"""Login, logout, destroy, kicks and UserSig expiry (AUTH-*, INST-*, NET-1).

Kick events go out before the new login resolves (INST-3), so they come first
in the returned event list.  Every state change goes through the lifecycle
table (``simtim.model.lifecycle``); this component decides *when*.
"""

from __future__ import annotations

from simtim.errors import Code, IMError
from simtim.model.args import Options
from simtim.model.core import WorldState
from simtim.model.entities import Account, App, Instance
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
from simtim.model.fanout import emit
from simtim.model.lifecycle import (
    DESTROYED,
    EXPIRED,
    ONLINE,
    InstanceState,
    Transition,
    state_error,
)
from simtim.usersig import verify_usersig


class Sessions:
    """Owns instance state: who is online, and what a call gets when its instance is not."""

    def __init__(self, state: WorldState) -> None:
        self.state = state
        self.apps = state.apps

    # --- the gate every server call passes (ORDER-1's first steps) ----------------------
    def effective_state(self, inst: Instance) -> InstanceState:
        """CLOCK-1: an online instance past its UserSig expiry counts as expired on read."""
        if inst.state is ONLINE:
            app = self.apps.get(inst.sdkappid)
            if app is not None and app.clock.now() > inst.sig_expires_at:
                return EXPIRED
        return inst.state

    def require_online(self, inst: Instance, conversation_api: bool = False) -> tuple[App, Account]:
        """ORDER-1's first three steps: destroyed, instance state, app disabled.

        Every call passes here, so the live case is decided inline; any other state (expired on
        read included) is ``effective_state``'s and its error ``state_error``'s.
        """
        app = self.apps.get(inst.sdkappid)  # None: created for an unknown app, never logged in
        if app is None or inst.state is not ONLINE or app.clock.now() > inst.sig_expires_at:
            raise state_error(self.effective_state(inst), conversation_api=conversation_api)
        if app.disabled:
            raise IMError(Code.APP_DISABLED, rule="AUTH-4")
        return app, app.accounts[inst.user_id]

    @staticmethod
    def refuse_if_destroyed(inst: Instance) -> None:
        """INST-1: login, logout and destroy work in every state but this one."""
        if inst.state is DESTROYED:
            raise state_error(DESTROYED)

    # --- login / logout / destroy ----------------------------------------------------------
    def login(self, inst: Instance, opts: Options) -> Outcome:
        self.refuse_if_destroyed(inst)
        app = self.apps.get(inst.sdkappid)
        if self.effective_state(inst) is ONLINE:
            return Outcome({"repeatLogin": True}, [])  # INST-2: nothing changes
        if app is None:
            raise IMError(Code.SDKAPPID_NOT_FOUND, rule="AUTH-2")
        if app.disabled:
            raise IMError(Code.APP_DISABLED, rule="AUTH-4")
        user_sig = opts.get("userSig")
        if not isinstance(user_sig, str) or not user_sig:
            raise IMError(Code.USERSIG_EMPTY, rule="AUTH-3")
        user_id = self.state.check_user_id(opts.get("userID"))
        now = app.clock.now()
        fields = verify_usersig(
            user_sig, sdkappid=app.sdkappid, identifier=user_id, key=app.secret_key, now=now
        )  # AUTH-2
        known = app.accounts.get(user_id)
        if known is not None and fields.time < known.sigs_valid_from:
            raise IMError(Code.USERSIG_EXPIRED, "this UserSig was issued before a REST kick", rule="REST-3")
        events: list[Event] = []
        if inst.state is ONLINE:  # expired on read, not yet swept: it leaves quietly
            self._go_offline(app, inst, Transition.EXPIRE)
        account = app.accounts.get(user_id)
        if account is None:
            account = app.accounts[user_id] = Account(user_id)  # AUTH-5
        self._make_room(app, account, inst, events)
        app.login_counter += 1
        inst.move(Transition.LOGIN)
        inst.user_id = user_id
        inst.sig_expires_at = fields.expires_at
        inst.login_order = app.login_counter
        account.online.append(inst)
        self.state.schedule_expiry(app, inst)
        emit(events, inst, SDK_STATE_READY, {})  # INST-2
        return Outcome({"repeatLogin": False}, events)

    def _make_room(self, app: App, account: Account, inst: Instance, events: list[Event]) -> None:
        """INST-3/INST-4: kick the earliest instances the new login displaces."""
        is_web = self.state.is_web
        if is_web(inst):
            limit = max(1, app.config.web_instances)
            web = [other for other in account.online if is_web(other)]
            for other in web[: max(0, len(web) - limit + 1)]:
                self.kick(app, other, KICK_MULTIPLE_ACCOUNT, events)  # INST-3
        else:
            for other in [o for o in account.online if o.platform == inst.platform]:
                self.kick(app, other, KICK_MULTIPLE_DEVICE, events)  # INST-4

    def kick(self, app: App, inst: Instance, reason: str, events: list[Event]) -> None:
        """kickedOut then sdkStateNotReady; later calls get 6208 (or 6206 for expiry)."""
        self._go_offline(app, inst, Transition.EXPIRE if reason == KICK_USERSIG_EXPIRED else Transition.KICK)
        emit(events, inst, KICKED_OUT, {"type": reason})
        emit(events, inst, SDK_STATE_NOT_READY, {})

    @staticmethod
    def _go_offline(app: App, inst: Instance, move: Transition) -> None:
        account = app.accounts.get(inst.user_id)
        if account is not None and inst in account.online:
            account.online.remove(inst)
        inst.move(move)
        inst.avchatroom = ""  # GRP-7: an instance that goes offline leaves its AVChatRoom

    def logout(self, inst: Instance, opts: Options) -> Outcome:
        """INST-1/INST-2: logout when not logged in resolves ``{}`` with no event."""
        self.refuse_if_destroyed(inst)
        if (
            inst.state is ONLINE
            and self.effective_state(inst) is ONLINE
            and self.apps[inst.sdkappid].disabled
        ):
            # AUTH-4: logout is a server call, not one of the local calls that keep working
            raise IMError(Code.APP_DISABLED, rule="AUTH-4")
        return self._logout(inst)

    def _logout(self, inst: Instance) -> Outcome:
        events: list[Event] = []
        if inst.state is ONLINE:
            app = self.apps[inst.sdkappid]
            was_live = self.effective_state(inst) is ONLINE
            self._go_offline(app, inst, Transition.LOGOUT)
            if was_live:
                emit(events, inst, SDK_STATE_NOT_READY, {})
        else:
            inst.move(Transition.LOGOUT)
        return Outcome({}, events)

    def destroy(self, inst: Instance, opts: Options) -> Outcome:
        """INST-1: destroy logs out first; afterwards every call is 6013."""
        self.refuse_if_destroyed(inst)
        outcome = self._logout(inst)  # AUTH-4: destroy still works while the app is disabled
        inst.move(Transition.DESTROY)
        return outcome

    # --- admin and clock-driven ------------------------------------------------
    def admin_kick(self, sdkappid: int, user_id: str) -> list[Event]:
        """INST-6: kick every instance of the account."""
        app = self.state.app_of(sdkappid)
        account = app.accounts.get(self.state.check_user_id(user_id))  # AUTH-3 first: 70402
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
            for inst in self.state.due_expiries(app):
                self.kick(app, inst, KICK_USERSIG_EXPIRED, events)
        return events

    def set_network(self, instance_id: int, connected: bool) -> list[Event]:
        """NET-1: a reconnect replays what the instance missed, once, in order."""
        inst = self.state.instance(instance_id)
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


__all__ = ["Sessions"]
