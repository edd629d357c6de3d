"""The World: every TIM method, dispatched by its TIM name.

``World.call(instance_id, "sendMessage", options)`` is the single entry the
SDK facade, the in-process driver and the server share, so all three answer
the same way by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simtim.errors import Code, IMError
from simtim.model.args import options
from simtim.model.events import Outcome
from simtim.model.group_messages import GroupMessageOps

#: TIM method name -> World method name; each handler answers the data shape REPLY-1 lists for it.
METHODS: dict[str, str] = {
    "login": "login",
    "logout": "logout",
    "destroy": "destroy",
    "sendMessage": "send_message",
    "resendMessage": "resend_message",
    "revokeMessage": "revoke_message",
    "deleteMessage": "delete_message",
    "getMessageList": "get_message_list",
    "setMessageRead": "set_message_read",
    "getConversationList": "get_conversation_list",
    "getConversationProfile": "get_conversation_profile",
    "deleteConversation": "delete_conversation",
    "getMyProfile": "get_my_profile",
    "updateMyProfile": "update_my_profile",
    "createGroup": "create_group",
    "dismissGroup": "dismiss_group",
    "updateGroupProfile": "update_group_profile",
    "joinGroup": "join_group",
    "quitGroup": "quit_group",
    "searchGroupByID": "search_group_by_id",
    "getGroupList": "get_group_list",
    "getGroupProfile": "get_group_profile",
    "changeGroupOwner": "change_group_owner",
    "handleGroupApplication": "handle_group_application",
    "setMessageRemindType": "set_message_remind_type",
    "getGroupMemberList": "get_group_member_list",
    "getGroupMemberProfile": "get_group_member_profile",
    "addGroupMember": "add_group_member",
    "deleteGroupMember": "delete_group_member",
    "setGroupMemberMuteTime": "set_group_member_mute_time",
    "setGroupMemberRole": "set_group_member_role",
    "setGroupMemberNameCard": "set_group_member_name_card",
    "setGroupMemberCustomField": "set_group_member_custom_field",
}


class World(GroupMessageOps):
    """A pure, deterministic TIM service: apps, accounts, instances, messages."""

    def call(self, instance_id: int, method: str, opts: object = None) -> Outcome:
        """Run one TIM method for one instance (60009 for an unknown method)."""
        handler_name = METHODS.get(method) if isinstance(method, str) else None
        if handler_name is None:
            raise IMError(Code.UNKNOWN_METHOD, f"unknown method {method!r}")
        inst = self.instance(instance_id)
        handler: Callable[..., Outcome] = getattr(self, handler_name)
        if inst.state == "destroyed":
            raise IMError(Code.SDK_NOT_INITIALIZED, rule="INST-1")
        return handler(inst, _checked_options(inst, self, method, opts))


def _checked_options(inst: Any, world: World, method: str, opts: object) -> Any:
    """Options are checked after the instance state (ORDER-1), so a bad body on a
    logged-out instance still answers 6014/6004 first."""
    if opts is None or isinstance(opts, dict):
        return opts or {}
    if method == "destroy":
        return options(opts)  # destroy works even while the app is disabled (AUTH-4)
    if method in ("login", "logout"):
        app = world.apps.get(inst.sdkappid)
        online = world.effective_state(inst) == "online"
        if method == "login" and online:
            return options(opts)  # INST-2 ignores the fields, but the options must be an object
        if method == "login" and app is None:
            raise IMError(Code.SDKAPPID_NOT_FOUND, rule="AUTH-2")
        if app is not None and app.disabled and (method == "login" or online):
            raise IMError(Code.APP_DISABLED, rule="AUTH-4")  # ORDER-1: app disabled before shapes
        return options(opts)
    world.require_online(inst, conversation_api=method in _CONVERSATION_APIS)
    return options(opts)


_CONVERSATION_APIS = frozenset(
    {
        "getMessageList",
        "setMessageRead",
        "getConversationList",
        "getConversationProfile",
        "deleteConversation",
    }
)
