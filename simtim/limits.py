"""One table of every number SPEC names (DESIGN rule 2).

Fixed limits are module constants; the per-app configurable ones (*cfg* in
SPEC) live in ``AppConfig`` so the admin API can change them per app.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

# --- Paging (PAGE-1, MBR-3, MBR-4) ---
MESSAGE_PAGE_DEFAULT = 15
MESSAGE_PAGE_MAX = 15
MEMBER_PAGE_DEFAULT = 15
MEMBER_PAGE_MAX = 100
MEMBER_PROFILE_MAX_IDS = 50
PAGE_VIEWS_KEPT = 2048  # rendered history views kept per generation, per process (model/view_cache.py)

# --- Membership (GRP-1, MBR-1) ---
ADD_MEMBER_MAX = 500
CREATE_MEMBER_LIST_MAX = 500

# --- Messages (MSG-2, MSG-6) ---
FILE_MAX_BYTES = 100 * 1024 * 1024
IMAGE_AUDIO_MAX_BYTES = 20 * 1024 * 1024
DEDUP_WINDOW_C2C_SECONDS = 120
DEDUP_WINDOW_GROUP_SECONDS = 300
UINT32_MAX = 2**32 - 1

# --- Accounts and profiles (AUTH-3, PROF-1) ---
USER_ID_MAX_BYTES = 32
NICK_MAX_BYTES = 500

# --- Group profile fields (GRP-1, GRP-2, ROLE-2, ROLE-3) ---
GROUP_ID_MAX_BYTES = 48
GROUP_NAME_MAX_BYTES = 30
GROUP_INTRODUCTION_MAX_BYTES = 240
GROUP_NOTIFICATION_MAX_BYTES = 300
GROUP_AVATAR_MAX_BYTES = 100
GROUP_CUSTOM_FIELDS_MAX = 10
GROUP_CUSTOM_KEY_MAX_BYTES = 16
GROUP_CUSTOM_VALUE_MAX_BYTES = 512
NAME_CARD_MAX_BYTES = 50
MEMBER_CUSTOM_FIELDS_MAX = 5

# --- TIM REST API v4 (REST-1..REST-9; TIM-REST.md caps) ---
PROFILE_TAG_VALUE_MAX_BYTES = 500  # 40601 (REST-3)
REST_ACCOUNTS_PER_CALL = 100  # multiaccount_import, account_check, account_delete, portrait_get
REST_ONLINE_STATUS_MAX = 500  # query_online_status
REST_BATCH_SEND_MAX = 500  # batchsendmsg (90011)
REST_UNREAD_PEERS_MAX = 10  # get_c2c_unread_msg_num Peer_Account
REST_MSG_LIFETIME_MAX = 7 * 24 * 3600  # sendmsg MsgLifeTime (90026)
REST_ADD_MEMBER_MAX = 300  # add_group_member (TIM's CN page says 20: AppConfig.rest_add_member_max)
REST_DELETE_MEMBER_MAX = 100
REST_FORBID_MAX = 500  # forbid_send_msg Members_Account
REST_MEMBER_INFO_LIMIT_MAX = 200  # get_group_member_info Limit
REST_GROUP_LIST_LIMIT_MAX = 10000  # get_appid_group_list Limit
REST_NOTIFICATION_RECIPIENTS_MAX = 50  # send_group_system_notification
REST_RECALL_SEQS_MAX = 10  # group_msg_recall
REST_IMPORT_GROUP_MSG_MAX = 7  # import_group_msg
REST_GROUP_HISTORY_MAX = 20  # group_msg_get_simple ReqMsgNumber
REST_ROAM_PAGE_MAX = 100  # admin_getroammsg MaxCnt [decision: TIM names no cap; pages of at most 100]
REST_RATE_PER_SECOND = 200  # per API per app (60007); 100 for multiaccount_import and account_check
REST_RATE_SLOW_PER_SECOND = 100
REST_C2C_DEDUP_SECONDS = 120  # sendmsg: sender, peer, MsgSeq, MsgRandom, content
REST_GROUP_DEDUP_SECONDS = 300  # send_group_msg: content + Random
MUTE_FOREVER = 4294967295  # forbid_send_msg MuteTime: permanent

# --- Wire and server (DESIGN "Wire protocol simtim/1") ---
BODY_MAX_BYTES = 1024 * 1024
BODY_DISCARD_MAX_BYTES = 16 * 1024 * 1024
#: largest simtim/1 body the server answers without an ASGI task (simtim/server/fast_http.py);
#: larger ones take the ASGI path, which streams and bounds them (BODY_MAX_BYTES)
FAST_BODY_MAX_BYTES = 64 * 1024
#: a delivery of at most this many events holds them encoded for an instance without a socket
#: (``SimtimApp._deliver``): a C2C send has three, a group send two per listening member
ENCODE_HELD_UP_TO = 16
CALLBACK_TIMEOUT_SECONDS = 2.0  # MSG-8
#: MSG-8: app-defined refusal codes a before-send callback may return, inclusive ranges
CALLBACK_CODES_C2C = (120001, 130000)
CALLBACK_CODES_GROUP = (10100, 10200)
CALLBACK_REPLY_MAX_BYTES = 64 * 1024  # a verdict is a small JSON object; larger replies mean proceed
CALLBACK_REPLY_HEAD_MAX_BYTES = 16 * 1024  # status line and headers of a callback reply
# --- Durable state (simtim serve --data, docs/durability.md) ---
JOURNAL_SCHEMA_VERSION = 1  # the SQLite journal's layout; a newer one is refused, never rewritten
STATE_FILE_VERSION = 1  # `simtim state export` / `serve --import` documents
SNAPSHOT_EVERY_ENTRIES = 50_000  # journal entries between background snapshots (bounds replay at start)
TOKEN_RANDOM_BYTES = 24  # 192 bits >= the 128 DESIGN asks for

DAY_SECONDS = 24 * 3600

#: Web-like platforms share the ``web_instances`` limit (INST-3, INST-4).
WEB_PLATFORMS = frozenset({"web", "miniprogram"})
#: Platforms allowing one instance each per account (INST-4).
SINGLE_PLATFORMS = frozenset({"android", "ios", "ipad", "pc", "mac"})
PLATFORMS = WEB_PLATFORMS | SINGLE_PLATFORMS


def _default_max_members() -> dict[str, int | None]:
    return {"Private": 200, "Public": 2000, "ChatRoom": 10000, "AVChatRoom": None}


def _default_history_before_join() -> dict[str, bool]:
    return {"Private": False, "Public": False, "ChatRoom": True, "AVChatRoom": False}


@dataclass
class AppConfig:
    """Per-app settings that SPEC marks *cfg*, with SPEC's defaults."""

    web_instances: int = 1  # INST-3
    revoke_window_seconds: int = 120  # REV-1
    message_max_bytes: int = 12288  # MSG-2
    retention_seconds: int = 7 * DAY_SECONDS  # PAGE-2
    #: PAGE-2 caps (0 = none): past them the oldest messages go as if expired by retention
    max_messages_per_conversation: int = 0
    max_messages: int = 0
    conversation_list_max: int = 100  # CONV-2
    group_message_rate_per_second: int = 40  # MSG-7
    event_queue_max: int = 1000  # DESIGN events: per-instance queue bound
    chatroom_member_tips: bool = False  # TIP-1
    #: REST-2: identifiers that may call the REST v4 API of this app (TIM: set in the console)
    rest_admins: list[str] = field(default_factory=lambda: ["administrator"])
    rest_rate_per_second: int = REST_RATE_PER_SECOND  # REST-2 (0 = off); 100/s APIs keep their ratio
    rest_add_member_max: int = REST_ADD_MEMBER_MAX  # REST-7 (TIM-REST.md [D]: 300 intl, 20 CN)
    max_member_num: dict[str, int | None] = field(default_factory=_default_max_members)  # GRP-1
    history_before_join: dict[str, bool] = field(default_factory=_default_history_before_join)  # PAGE-2

    def updated(self, changes: dict[str, Any]) -> AppConfig:
        """A copy with ``changes`` applied; unknown keys are refused by name."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        return replace(self, **changes)
