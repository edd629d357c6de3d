"""The World: every TIM method, dispatched by its TIM name to the component that owns it.

``World.call(instance_id, "sendMessage", options)`` is the single entry the
SDK facade, the in-process driver and the server share, so all three answer
the same way by construction.

Map of the model (who owns what; each component gets only the collaborators it names,
and the arrows say which):

===================  ==========================  ================================================
component            module                      owns
===================  ==========================  ================================================
``state``            ``core.WorldState``         apps, accounts, instances, clock, IDs, app
                                                 config, the UserSig expiry heaps
``sessions``         ``sessions.Sessions``       login/logout/destroy, kicks, UserSig expiry,
                     <- state                    reconnect replay; the gate ``require_online``
                                                 (states, moves, codes: ``lifecycle``)
``groups``           ``group_directory``         group lookups in ORDER-1 order, membership
                     <- state                    bookkeeping; implements ``GroupView``
``conversations``    ``conversations``           conversation validity, history paging, unread
                     <- sessions, GroupView
``profiles``         ``profiles`` <- sessions    getMyProfile / updateMyProfile
``store``            ``message_store``           drawing stored messages, dedup, callback
                     <- state, sessions,         verdict, revoke bookkeeping, deleteMessage
                     conversations, GroupView
``c2c``              ``messaging.C2CMessaging``  C2C send, callback request, revoke, admin recall
                     <- state, store
``notices``          ``notices`` <- state,       tips, system notices, group-list pushes
                     conversations, groups
``group_lifecycle``  ``groups.GroupLifecycle``   create/dismiss/profile/join/quit/owner/
                     <- state, sessions,         applications/remind type
                     groups, notices
``membership``       ``members.Membership``      add/remove/list members, roles, cards, mute
                     <- state, sessions,
                     groups, notices
``group_messages``   ``group_messages`` <-       group send + fan-out, group revoke, admin
                     state, store, groups,       notices
                     notices
``account_admin``    ``admin_accounts``          a backend's account import/delete/kick,
                                                 profile tags
``c2c_admin``        ``admin_c2c``               a backend's C2C send, import, history, recall,
                                                 read
``group_admin``      ``admin_groups``            a backend's group operations
===================  ==========================  ================================================

C2C components never see a group component: what they need to know about groups
(is GROUP<id> valid, where its history starts, its unread and profile, whether a
group message may be seen or deleted) is the six-method ``group_view.GroupView``.
The World itself routes the three message methods whose owner depends on the
message (sendMessage, resendMessage, revokeMessage) and the admin entries, and
keeps the attributes outside code uses (``apps``, ``instances``, ``configure_app``
...) as one-line delegations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simtim.clock import Clock
from simtim.errors import Code, IMError
from simtim.ids import IdSource
from simtim.model import retention
from simtim.model.admin_accounts import AccountAdmin
from simtim.model.admin_c2c import C2CAdmin
from simtim.model.admin_groups import GroupAdmin
from simtim.model.args import Options, options
from simtim.model.conversations import Conversations
from simtim.model.core import BeforeSend, WorldState
from simtim.model.drafts import parse_draft
from simtim.model.entities import C2C, GROUP, Account, App, Instance
from simtim.model.events import Event, Outcome
from simtim.model.group_directory import GroupDirectory
from simtim.model.group_messages import GroupMessaging
from simtim.model.groups import GroupLifecycle
from simtim.model.lifecycle import DESTROYED, ONLINE, InstanceState, state_error
from simtim.model.members import Membership
from simtim.model.message_store import ASK_CALLBACK, MessageStore
from simtim.model.messaging import C2CMessaging
from simtim.model.notices import Notices
from simtim.model.profiles import Profiles
from simtim.model.retention import retained
from simtim.model.sessions import Sessions

Handler = Callable[[Instance, Options], Outcome]

#: TIM method -> (owning component, its method); each answers the data shape REPLY-1 lists for it.
#: ``self`` marks the three message methods the World routes by conversation type.
METHODS: dict[str, tuple[str, str]] = {
    "login": ("sessions", "login"),
    "logout": ("sessions", "logout"),
    "destroy": ("sessions", "destroy"),
    "sendMessage": ("self", "send_message"),
    "resendMessage": ("self", "resend_message"),
    "revokeMessage": ("self", "revoke_message"),
    "deleteMessage": ("store", "delete_message"),
    "getMessageList": ("conversations", "get_message_list"),
    "setMessageRead": ("conversations", "set_message_read"),
    "getConversationList": ("conversations", "get_conversation_list"),
    "getConversationProfile": ("conversations", "get_conversation_profile"),
    "deleteConversation": ("conversations", "delete_conversation"),
    "getMyProfile": ("profiles", "get_my_profile"),
    "updateMyProfile": ("profiles", "update_my_profile"),
    "createGroup": ("group_lifecycle", "create_group"),
    "dismissGroup": ("group_lifecycle", "dismiss_group"),
    "updateGroupProfile": ("group_lifecycle", "update_group_profile"),
    "joinGroup": ("group_lifecycle", "join_group"),
    "quitGroup": ("group_lifecycle", "quit_group"),
    "searchGroupByID": ("group_lifecycle", "search_group_by_id"),
    "getGroupList": ("group_lifecycle", "get_group_list"),
    "getGroupProfile": ("group_lifecycle", "get_group_profile"),
    "changeGroupOwner": ("group_lifecycle", "change_group_owner"),
    "handleGroupApplication": ("group_lifecycle", "handle_group_application"),
    "setMessageRemindType": ("group_lifecycle", "set_message_remind_type"),
    "getGroupMemberList": ("membership", "get_group_member_list"),
    "getGroupMemberProfile": ("membership", "get_group_member_profile"),
    "addGroupMember": ("membership", "add_group_member"),
    "deleteGroupMember": ("membership", "delete_group_member"),
    "setGroupMemberMuteTime": ("membership", "set_group_member_mute_time"),
    "setGroupMemberRole": ("membership", "set_group_member_role"),
    "setGroupMemberNameCard": ("membership", "set_group_member_name_card"),
    "setGroupMemberCustomField": ("membership", "set_group_member_custom_field"),
}

#: the methods that never change the world (a journaled server answers them without journaling;
#: tests/unit/durable/test_replay.py checks each leaves the state byte-identical)
READ_ONLY_METHODS = frozenset(
    {
        "getMessageList",
        "getConversationList",
        "getConversationProfile",
        "getMyProfile",
        "searchGroupByID",
        "getGroupList",
        "getGroupProfile",
        "getGroupMemberList",
        "getGroupMemberProfile",
    }
)


class World:
    """A pure, deterministic TIM service: apps, accounts, instances, messages, groups."""

    #: the component classes, a seam for tests that break one rule on purpose (mutants)
    conversations_class: type[Conversations] = Conversations

    def __init__(self, clock: Clock, ids: IdSource | None = None, *, dev_app: bool = True) -> None:
        self.state = state = WorldState(clock, ids, dev_app=dev_app)
        self.sessions = Sessions(state)
        self.groups = GroupDirectory(state)
        self.conversations = self.conversations_class(self.sessions, self.groups)
        self.profiles = Profiles(self.sessions)
        self.store = MessageStore(state, self.sessions, self.conversations, self.groups)
        self.c2c = C2CMessaging(state, self.store)
        self.notices = Notices(state, self.conversations, self.groups)
        self.group_lifecycle = GroupLifecycle(state, self.sessions, self.groups, self.notices)
        self.membership = Membership(state, self.sessions, self.groups, self.notices)
        self.group_messages = GroupMessaging(state, self.store, self.groups, self.notices)
        # what an app's backend does through the server API (REST v4), on the same components
        self.account_admin = AccountAdmin(state, self.sessions, self.groups)
        self.c2c_admin = C2CAdmin(state, self.account_admin, self.store, self.c2c)
        self.group_admin = GroupAdmin(
            state,
            self.account_admin,
            self.groups,
            self.group_lifecycle,
            self.membership,
            self.group_messages,
            self.store,
            self.notices,
        )
        self._handlers: dict[str, Handler] = {
            method: getattr(self if owner == "self" else getattr(self, owner), name)
            for method, (owner, name) in METHODS.items()
        }

    # --- the one entry ---------------------------------------------------------------------
    def call(self, instance_id: int, method: str, opts: object = None) -> Outcome:
        """Run one TIM method for one instance (60009 for an unknown method)."""
        handler = self._handlers.get(method) if isinstance(method, str) else None
        if handler is None:
            raise IMError(Code.UNKNOWN_METHOD, f"unknown method {method!r}")
        inst = self.state.instance(instance_id)
        if inst.state is DESTROYED:
            raise state_error(DESTROYED)  # INST-1
        if opts.__class__ is dict and opts:  # the usual body: _checked_options would return it as is
            return handler(inst, opts)
        return handler(inst, self._checked_options(inst, method, opts))

    def _checked_options(self, inst: Instance, method: str, opts: object) -> Options:
        """Options are checked after the instance state (ORDER-1), so a bad body on a
        logged-out instance still answers 6014/6004 first."""
        if opts is None or isinstance(opts, dict):
            return opts or {}
        if method == "destroy":
            return options(opts)  # destroy works even while the app is disabled (AUTH-4)
        if method in ("login", "logout"):
            app = self.state.apps.get(inst.sdkappid)
            online = self.sessions.effective_state(inst) is ONLINE
            if method == "login" and online:
                return options(opts)  # INST-2 ignores the fields, but the options must be an object
            if method == "login" and app is None:
                raise IMError(Code.SDKAPPID_NOT_FOUND, rule="AUTH-2")
            if app is not None and app.disabled and (method == "login" or online):
                raise IMError(Code.APP_DISABLED, rule="AUTH-4")  # ORDER-1: app disabled before shapes
            return options(opts)
        self.sessions.require_online(inst, conversation_api=method in _CONVERSATION_APIS)
        return options(opts)

    # --- message methods, routed by the message's conversation type -----------------------
    def send_message(self, inst: Instance, opts: Options, verdict: Any = ASK_CALLBACK) -> Outcome:
        """sendMessage; ``verdict`` is a before-send callback's reply a server already has (MSG-8)."""
        app, account = self.sessions.require_online(inst)
        draft = parse_draft(opts.get("message"), app.config.message_max_bytes)
        if draft.conversation_type == GROUP:
            return self.group_messages.send(app, account, inst, draft, verdict)
        return self.c2c.send(app, account, inst, draft, verdict)

    def callback_request(self, inst: Instance, opts: Options) -> dict[str, Any] | None:
        """MSG-8 for servers: every check before the callback, then the body to post.

        ``None`` means the send would be decided without a callback (dedup hit).
        A server awaits the real callback (2 s) and then calls ``send_message``
        with the reply as ``verdict``, which re-checks everything.
        """
        app, account = self.sessions.require_online(inst)
        draft = parse_draft(opts.get("message"), app.config.message_max_bytes)
        if draft.conversation_type == GROUP:
            return self.group_messages.callback_request(app, account, inst, draft)
        return self.c2c.callback_request(app, account, draft)

    def resend_message(self, inst: Instance, opts: Options) -> Outcome:
        """MSG-6: a stored message comes back as it is; an unsent one is sent now."""
        app, account = self.sessions.require_online(inst)
        message = opts.get("message")
        if not isinstance(message, Mapping):
            raise IMError(Code.INVALID_PARAMETERS, "message must be an object", rule="MSG-6")
        message_id = message.get("ID")
        stored = app.messages.get(message_id) if isinstance(message_id, str) and message_id else None
        stored = retained(app, stored)  # PAGE-2: a message past retention is gone, as if never stored
        if stored is not None:
            if stored.sender != account.user_id:
                raise IMError(Code.INVALID_PARAMETERS, "only the sender resends a message", rule="MSG-6")
            return Outcome({"message": stored.view(account.user_id)}, [])
        return self.send_message(inst, {"message": message})

    def revoke_message(self, inst: Instance, opts: Options) -> Outcome:
        app, account = self.sessions.require_online(inst)
        message = opts.get("message")
        if not isinstance(message, Mapping) or not isinstance(message.get("ID"), str):
            raise IMError(Code.INVALID_PARAMETERS, "message.ID must be a string", rule="REV-3")
        msg = app.messages.get(message["ID"])
        kind = msg.conversation_type if msg is not None else message.get("conversationType", C2C)
        if kind == GROUP:
            return self.group_messages.revoke(app, account, inst, msg, admin=False)
        return self.c2c.revoke(app, account, inst, msg)

    # --- admin entries (the admin API and, later, REST v4) -----------------------------------
    def admin_recall(self, sdkappid: int, message_id: str) -> Outcome:
        """REV-4: admin recall has no time window; otherwise as REV-2."""
        app = self.state.app_of(sdkappid)
        if not isinstance(message_id, str):
            raise IMError(Code.INVALID_PARAMETERS, "message ID must be a string", rule="REV-4")
        msg = app.messages.get(message_id)
        if msg is not None and msg.conversation_type == GROUP:
            sender = app.accounts[msg.sender]
            return self.group_messages.revoke(app, sender, None, msg, admin=True)
        return self.c2c.admin_recall(app, msg)

    def admin_kick(self, sdkappid: int, user_id: str) -> list[Event]:
        return self.sessions.admin_kick(sdkappid, user_id)

    def admin_add_group_member(self, sdkappid: int, group_id: str, user_ids: list[str]) -> Outcome:
        return self.membership.admin_add_group_member(sdkappid, group_id, user_ids)

    def admin_send_group_system_notice(
        self, sdkappid: int, group_id: str, content: str, user_ids: list[str] | None = None
    ) -> Outcome:
        return self.group_messages.admin_send_group_system_notice(sdkappid, group_id, content, user_ids)

    def sweep(self) -> list[Event]:
        """The clock's sweep: UserSig expiries (INST-5), then messages past retention (PAGE-2)."""
        events = self.sessions.sweep()
        for app in self.state.apps.values():
            retention.sweep(app)
        return events

    def set_network(self, instance_id: int, connected: bool) -> list[Event]:
        return self.sessions.set_network(instance_id, connected)

    # --- state, for drivers, servers and tests ---------------------------------------------
    @property
    def apps(self) -> dict[int, App]:
        return self.state.apps

    @property
    def instances(self) -> dict[int, Instance]:
        return self.state.instances

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @property
    def ids(self) -> IdSource:
        return self.state.ids

    def configure_app(
        self,
        sdkappid: int,
        secret_key: str | None = None,
        *,
        disabled: bool | None = None,
        clock: Clock | None = None,
        **config: Any,
    ) -> App:
        return self.state.configure_app(sdkappid, secret_key, disabled=disabled, clock=clock, **config)

    def import_account(self, sdkappid: int, user_id: str, nick: str = "", avatar: str = "") -> Account:
        return self.state.import_account(sdkappid, user_id, nick, avatar)

    def set_before_send(self, sdkappid: int, callback: BeforeSend | None) -> None:
        self.state.set_before_send(sdkappid, callback)

    def create_instance(self, sdkappid: object, platform: object = "web") -> Instance:
        return self.state.create_instance(sdkappid, platform)

    def forget_instance(self, instance_id: int) -> None:
        self.state.forget_instance(instance_id)

    def reset_state(self) -> None:
        self.state.reset_state()

    def effective_state(self, inst: Instance) -> InstanceState:
        return self.sessions.effective_state(inst)

    def conversation_view(self, app: App, account: Account, conversation_id: str) -> dict[str, Any]:
        return self.conversations.conversation_view(app, account, conversation_id)


_CONVERSATION_APIS = frozenset(
    {
        "getMessageList",
        "setMessageRead",
        "getConversationList",
        "getConversationProfile",
        "deleteConversation",
    }
)

__all__ = ["METHODS", "READ_ONLY_METHODS", "World"]
