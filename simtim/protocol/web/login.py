"""Login, logout, keep-alive and the commands the SDK fires at login (``im_open_status``,
``heartbeat``, bootstrap reads).

``wslogin`` is the one command without an ``a2``: it creates a web instance of the model and logs it
in with the head's ``identifier``/``usersig`` (AUTH-2 verifies the UserSig), so a refused login
passes the model's code through (70001 expired, 70009 bad signature, 70020 unknown app ...) and
leaves nothing behind (ORDER-1).
"""

from __future__ import annotations

from typing import Any

from simtim.errors import Code, IMError
from simtim.model.args import is_int
from simtim.protocol.web import codec
from simtim.protocol.web.context import WebCtx
from simtim.protocol.web.session import WebSession, new_a2

#: seconds between the SDK's ``wshello`` keep-alives (the SDK reads it from the login reply)
HELLO_INTERVAL_SECONDS = 120


def _platform(head: dict[str, Any]) -> str:
    """``head.platform`` (the SDK's platform number; absent = web) -> the model's platform (INST-4)."""
    number = head.get("platform", codec.WEB_PLATFORM)
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    name = codec.PLATFORM_NAMES.get(number) if is_int(number) else None
    if name is None:
        raise IMError(Code.INVALID_PARAMETERS, f"head.platform {number!r} is no platform the model knows")
    return name


def wslogin(ctx: WebCtx) -> dict[str, Any]:
    head = ctx.request.head
    sdkappid = head.get("sdkappid")
    identifier = head.get("identifier")
    if isinstance(sdkappid, str) and sdkappid.isdigit():
        sdkappid = int(sdkappid)
    if not is_int(sdkappid):
        raise IMError(Code.SDKAPPID_NOT_FOUND, "head.sdkappid must be an integer", rule="AUTH-2")
    world = ctx.world
    inst = world.create_instance(sdkappid, _platform(head))
    try:
        outcome = world.call(inst.id, "login", {"userID": identifier, "userSig": head.get("usersig")})
    except IMError:
        world.forget_instance(inst.id)  # ORDER-1: a refused login leaves no instance behind
        raise
    session = WebSession(
        sdkappid=sdkappid,
        user_id=str(identifier),
        instance_id=inst.id,
        a2=ctx.issued_a2 or new_a2(),
        tinyid=ctx.face.tinyids.of(sdkappid, str(identifier)),
        outlet=ctx.outlet,
    )
    ctx.face.open_session(session)
    ctx.session = session
    ctx.events.extend(outcome.events)  # INST-3/4: the displaced instances' kicks
    return {
        "A2Key": session.a2,
        "TinyId": session.tinyid,  # a string: JSON numbers past 2**53 lose precision in JS
        "InstId": inst.id,
        "HelloInterval": HELLO_INTERVAL_SECONDS,
        "TimeStamp": ctx.now(),
    }


def wslogout(ctx: WebCtx) -> dict[str, Any]:
    """INST-1: the instance logs out (its sdkStateNotReady is the SDK's own business)."""
    session = ctx.me
    ctx.face.close_session(session)
    ctx.call("logout", {})
    ctx.events.clear()  # the SDK resolved logout itself; no push follows a logout
    return {}


def heartbeat(ctx: WebCtx) -> dict[str, Any]:
    """``heartbeat.alive`` must be answered or the SDK reconnects every ~4 s.  It is sent before the
    login reply too (no a2 yet), so only a head that names an a2 is checked: an unknown or expired
    one answers 70001, which is how the SDK learns of a UserSig expiry (INST-5)."""
    a2 = ctx.request.head.get("a2")
    if a2:
        ended = ctx.face.ended.get(a2)
        if ended == Code.KICKED_BY_OTHER:
            return {}  # kicked: the stat_forceoffline push tells the SDK; a code here would mislead it
        if ended is not None:
            # INST-5: the first keep-alive after an expiry answers 70001 (the SDK's kickedOut
            # userSigExpired); later ones from the same a2 resolve, so the SDK does not spin on it
            ctx.face.ended[a2] = Code.KICKED_BY_OTHER
            raise IMError(Code.USERSIG_EXPIRED, "UserSig expired: log in again")
        session = ctx.face.session_of(ctx)
        inst = ctx.world.instances.get(session.instance_id)
        if inst is not None:
            ctx.world.sessions.require_online(inst)  # 6206 / 6208 once the model says so
    return {}


def wshello(ctx: WebCtx) -> dict[str, Any]:
    inst = ctx.world.instances.get(ctx.me.instance_id)
    if inst is not None:
        ctx.world.sessions.require_online(inst)
    return {}


def portrait_get_all(ctx: WebCtx) -> dict[str, Any]:
    """``getMyProfile`` and others' profiles: nick and avatar as the model keeps them."""
    items = ctx.body.get("UserItem") or ctx.body.get("To_Account") or []
    if not isinstance(items, list):
        raise IMError(Code.PROFILE_INVALID_PARAMETER, "UserItem must be a list")
    # AUTH-4 and the session checks: every profile read goes through the model once (a disabled
    # app answers 60016 here as to any other call); others' profiles have no model method of their own
    ctx.call("getMyProfile", {})
    accounts = ctx.app.accounts
    out = []
    for item in items:
        user_id = item.get("To_Account") if isinstance(item, dict) else item
        if not isinstance(user_id, str):
            continue
        account = accounts.get(user_id)
        profile = account.profile() if account is not None else {"nick": "", "avatar": ""}
        out.append(
            {
                "To_Account": user_id,
                "ProfileItem": [
                    {"Tag": "Tag_Profile_IM_Nick", "Value": profile.get("nick", "")},
                    {"Tag": "Tag_Profile_IM_Image", "Value": profile.get("avatar", "")},
                ],
                "ResultCode": 0,
                "ResultInfo": "",
            }
        )
    return {"UserProfileItem": out, "CurrentStandardSequence": 0, "CurrentCustomSequence": 0}


def portrait_set(ctx: WebCtx) -> dict[str, Any]:
    """``updateMyProfile``: nick and avatar go to the model (PROF-*); other tags are accepted."""
    items = ctx.body.get("ProfileItem")
    if not isinstance(items, list):
        raise IMError(Code.PROFILE_INVALID_PARAMETER, "ProfileItem must be a list")
    changes: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            raise IMError(Code.PROFILE_INVALID_PARAMETER, "ProfileItem entries must be objects")
        tag = item.get("Tag")
        if tag == "Tag_Profile_IM_Nick":
            changes["nick"] = item.get("Value")
        elif tag == "Tag_Profile_IM_Image":
            changes["avatar"] = item.get("Value")
    if changes:
        ctx.call("updateMyProfile", changes)
    return {}


#: commands that resolve quietly when the a2 names no live session: the SDK logs out after a kick,
#: and a 70001 there would make it report a UserSig expiry instead of the kick
QUIET_WITHOUT_SESSION = frozenset({"im_open_status.wslogout"})


def telemetry(ctx: WebCtx) -> dict[str, Any]:
    """The SDK's usage reports: accepted and dropped.  They come with an empty SSO head (no a2)
    from logged-in and logged-out SDKs alike, so they never need a session."""
    return {}


#: commands answered without a session (no a2 in the head)
BEFORE_LOGIN = frozenset(
    {
        "im_open_status.wslogin",
        "heartbeat.alive",
        "imopenstat.tim_web_report_v2",
        "imopenstat.tim_web_report",
    }
)

COMMANDS = {
    "im_open_status.wslogin": wslogin,
    "im_open_status.wslogout": wslogout,
    "im_open_status.wshello": wshello,
    "heartbeat.alive": heartbeat,
    "profile.portrait_get_all": portrait_get_all,
    "profile.portrait_set": portrait_set,
    "imopenstat.tim_web_report_v2": telemetry,
    "imopenstat.tim_web_report": telemetry,
}

#: bootstrap commands whose truthful answer is "nothing": the model has no friends, blacklist,
#: contact groups, cloud config or purchase bits.  Each is a *complete* empty reply: the SDK loops
#: on an incomplete one (a bare OK to ``page_get`` made 2.27.6 send ~1k requests a second).
EMPTY_REPLIES: dict[str, dict[str, Any]] = {
    "sns.black_list_get": {"BlackListItem": [], "StartIndex": 0, "CurruentSequence": 0, "CompleteFlag": 1},
    "sns.friend_get": {
        "UserDataItem": [],
        "StandardSequence": 0,
        "CustomSequence": 0,
        "FriendNum": 0,
        "CompleteFlag": 1,
        "NextStartIndex": 0,
        "CurrentStandardSequence": 0,
    },
    "sns.group_get": {"ResultItem": [], "CurrentSequence": 0, "CompleteFlag": 1},
    "sns.pendency_get": {"PendencyItem": [], "StartTime": 0, "CompleteFlag": 1, "UnreadPendencyCount": 0},
    "openim.authkey": {},
    "im_sdk_config_mgr.fetch_config": {},
    "im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2": {},
    "recentcontact.get_contact_group": {"GroupItem": [], "CompleteFlag": 1},
    "recentcontact.search_contact_group": {"GroupItem": [], "CompleteFlag": 1},
    "openim.get_c2c_peer_mute_notifications": {"MuteNotificationsList": []},
    # Community ("million") groups are not modelled (REST-6): the list is truthfully empty
    "million_group_open_http_svc.get_joined_group_list": {"GroupIdList": [], "TotalCount": 0},
}
