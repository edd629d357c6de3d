"""REST v4 accounts and profiles (REST-3): ``im_open_login_svc/*``, ``openim/query_online_status``,
``profile/portrait_set`` and ``portrait_get``: request shapes in, model results out in TIM's names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simtim.errors import Code, IMError
from simtim.limits import REST_ACCOUNTS_PER_CALL, REST_ONLINE_STATUS_MAX
from simtim.model.admin_accounts import known_tag
from simtim.protocol.rest.context import Ctx, Result

LOGIN_PARAM = Code.INVALID_USER_ID  # the login service's parameter code (70402)
PROFILE_PARAM = Code.PROFILE_INVALID_PARAMETER
#: TIM's platform names in query_online_status (CN page spelling, TIM-REST.md [D])
PLATFORM_NAMES = {
    "web": "Web",
    "miniprogram": "Web",
    "android": "Android",
    "ios": "iPhone",
    "ipad": "iPad",
    "pc": "PC",
    "mac": "Mac",
}


def _user_id(ctx: Ctx, record: Mapping[str, Any] | None = None) -> str:
    """``UserID``, or the legacy ``Identifier`` that old clients still send (REST-3)."""
    source = record if record is not None else ctx.body
    value = source.get("UserID", source.get("Identifier"))
    if not isinstance(value, str) or not value:
        raise IMError(LOGIN_PARAM, "UserID must be a non-empty string", rule="REST-3")
    return value


def account_import(ctx: Ctx) -> Result:
    nick = ctx.fields(LOGIN_PARAM).opt_string("Nick")
    face = ctx.fields(LOGIN_PARAM).opt_string("FaceUrl")
    ctx.world.account_admin.import_account(ctx.sdkappid, _user_id(ctx), nick, face)
    return {}, []


def multiaccount_import(ctx: Ctx) -> Result:
    """Old form ``Accounts: [ids]``, new form ``AccountList: [{UserID, Nick, FaceUrl}]``; the ones
    that fail come back in ``FailAccounts``."""
    fields = ctx.fields(LOGIN_PARAM)
    if fields.has("AccountList"):
        entries = [
            (str(r.get("UserID", "")), str(r.get("Nick") or ""), str(r.get("FaceUrl") or ""))
            for r in fields.records("AccountList", most=REST_ACCOUNTS_PER_CALL)
        ]
    else:
        entries = [(u, "", "") for u in fields.strings("Accounts", most=REST_ACCOUNTS_PER_CALL)]
    failed = []
    for user_id, nick, face in entries:
        try:
            ctx.world.account_admin.import_account(ctx.sdkappid, user_id, nick, face)
        except IMError:
            failed.append(user_id)
    return {"FailAccounts": failed}, []


def _item_ids(ctx: Ctx, name: str) -> list[str]:
    records = ctx.fields(LOGIN_PARAM).records(name, most=REST_ACCOUNTS_PER_CALL)
    return [_user_id(ctx, r) for r in records]


def account_check(ctx: Ctx) -> Result:
    checked = ctx.world.account_admin.imported(ctx.sdkappid, _item_ids(ctx, "CheckItem"))
    return {
        "ResultItem": [
            {
                "UserID": u,
                "ResultCode": 0,
                "ResultInfo": "",
                "AccountStatus": "Imported" if ok else "NotImported",
            }
            for u, ok in checked
        ]
    }, []


def account_delete(ctx: Ctx) -> Result:
    outcome = ctx.world.account_admin.delete(ctx.sdkappid, _item_ids(ctx, "DeleteItem"))
    items = [
        {
            "ResultCode": code,
            "ResultInfo": "" if not code else "Err_TLS_PT_Open_Login_Account_Not_Exist",
            "UserID": u,
        }
        for u, code in outcome.data["results"]
    ]
    return {"ResultItem": items}, outcome.events


def kick(ctx: Ctx) -> Result:
    return {}, ctx.world.account_admin.kick(ctx.sdkappid, _user_id(ctx))


def query_online_status(ctx: Ctx) -> Result:
    fields = ctx.fields(Code.REST_TO_ACCOUNT_INVALID)
    user_ids = fields.strings("To_Account", most=REST_ONLINE_STATUS_MAX)
    detail = fields.flag("IsNeedDetail")
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for user_id, platforms in ctx.world.account_admin.online_platforms(ctx.sdkappid, user_ids):
        if platforms is None:
            errors.append({"To_Account": user_id, "ErrorCode": int(Code.REST_ACCOUNT_NOT_FOUND)})
            continue
        row: dict[str, Any] = {"To_Account": user_id, "Status": "Online" if platforms else "Offline"}
        if detail:
            row["Detail"] = [{"Platform": PLATFORM_NAMES.get(p, p), "Status": "Online"} for p in platforms]
        results.append(row)
    return {"QueryResult": results, "ErrorList": errors}, []


def portrait_set(ctx: Ctx) -> Result:
    fields = ctx.fields(PROFILE_PARAM)
    user_id = fields.string("From_Account")
    items = []
    for record in fields.records("ProfileItem", most=100):
        tag = record.get("Tag")
        if not known_tag(tag):
            raise IMError(PROFILE_PARAM, f"unknown profile tag {tag!r}", rule="REST-3")
        items.append((str(tag), record.get("Value")))
    outcome = ctx.world.account_admin.set_portrait(ctx.sdkappid, user_id, items)
    return {"ErrorDisplay": ""}, outcome.events


def portrait_get(ctx: Ctx) -> Result:
    fields = ctx.fields(PROFILE_PARAM)
    user_ids = fields.strings("To_Account", most=REST_ACCOUNTS_PER_CALL)
    tags = fields.strings("TagList", most=64)
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for user_id in user_ids:
        found = ctx.world.account_admin.portrait(ctx.sdkappid, user_id, tags)
        if found is None:
            failed.append(user_id)
            rows.append(
                {
                    "To_Account": user_id,
                    "ResultCode": int(Code.PROFILE_ACCOUNT_NOT_FOUND),
                    "ResultInfo": "account not found",
                }
            )
            continue
        rows.append(
            {
                "To_Account": user_id,
                "ProfileItem": [{"Tag": t, "Value": v} for t, v in found],
                "ResultCode": 0,
                "ResultInfo": "",
            }
        )
    reply: dict[str, Any] = {"UserProfileItem": rows, "ErrorDisplay": ""}
    if failed:
        reply["Fail_Account"] = failed
    return reply, []


COMMANDS: dict[tuple[str, str], Any] = {
    ("im_open_login_svc", "account_import"): account_import,
    ("im_open_login_svc", "multiaccount_import"): multiaccount_import,
    ("im_open_login_svc", "account_check"): account_check,
    ("im_open_login_svc", "account_delete"): account_delete,
    ("im_open_login_svc", "kick"): kick,
    ("openim", "query_online_status"): query_online_status,
    ("openim", "querystate"): query_online_status,  # the legacy name many clients still call
    ("profile", "portrait_set"): portrait_set,
    ("profile", "portrait_get"): portrait_get,
}

__all__ = ["COMMANDS"]
