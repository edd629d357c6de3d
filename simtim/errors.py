"""One table of every error code simtim answers (DESIGN rule 2).

Raise sites name only the code; the text lives here, once, so the model, the
server and the harness always agree on it.  Codes follow SPEC's numbering:
client-state 6xxx/7xxx, group 10xxx, C2C 20xxx, common 60xxx, account 70xxx,
content 80xxx.
"""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    """An error code with its official meaning attached (like httpx ``codes``)."""

    phrase: str

    def __new__(cls, value: int, phrase: str = "") -> Code:
        obj = int.__new__(cls, value)
        obj._value_ = value
        obj.phrase = phrase
        return obj

    OK = 0, "ok"
    # driver-side marker, never sent by a server: "drivers translate, never pretend"
    UNSUPPORTED_BY_TARGET = -1, "the target has no counterpart for this TIM operation"
    # client-state codes (seed's native numbering)
    CONVERSATION_INVALID = 6004, "conversation is invalid: log in first, or no such conversation"
    HTTP_REQUEST_FAILED = (
        6010,
        "HTTP request failed: the endpoint could not be reached or did not speak simtim/1",
    )
    SDK_NOT_INITIALIZED = 6013, "SDK not initialized (instance destroyed)"
    NOT_LOGGED_IN = 6014, "SDK not logged in, or the token is unknown"
    INVALID_ELEMENT = 6016, "message element is invalid"
    INVALID_PARAMETERS = 6017, "invalid parameters"
    USERSIG_EXPIRED_KICKED = 6206, "UserSig expired; get a new UserSig and log in again"
    KICKED_BY_OTHER = 6208, "kicked offline: the same account logged in elsewhere"
    FILE_TOO_LARGE = 7005, "file size exceeds the limit"
    # group codes
    GROUP_INVALID_PARAMETER = 10004, "invalid group parameter"
    GROUP_TOO_MANY_MEMBERS_IN_REQUEST = 10005, "too many accounts in one request"
    GROUP_PERMISSION_DENIED = 10007, "no permission for this group operation"
    GROUP_OWNER_CANNOT_QUIT = 10009, "the group owner cannot quit this group"
    GROUP_NOT_FOUND = 10010, "group does not exist or was dismissed"
    GROUP_FULL = 10014, "group is full"
    GROUP_CALLBACK_REJECTED = 10016, "the app backend rejected the operation through the before-send callback"
    GROUP_MEMBER_MUTED = 10017, "muted: cannot send messages to this group"
    GROUP_ACCOUNT_NOT_FOUND = 10019, "account does not exist"
    GROUP_ID_TAKEN = 10021, "group ID is already in use"
    GROUP_MESSAGE_FREQUENCY_LIMIT = 10023, "group message frequency limit reached"
    GROUP_APPLICATION_HANDLED = 10024, "the application was already handled"
    GROUP_MESSAGE_NOT_FOUND = 10030, "message not found, or already revoked"
    GROUP_REVOKE_TIME_LIMIT = 10031, "revoke time limit exceeded (default 2 minutes)"
    GROUP_MESSAGE_NOT_REVOKABLE = 10032, "this message cannot be revoked"
    GROUP_TYPE_NO_REVOKE = 10033, "this group type does not support revoking messages"
    MESSAGE_TYPE_NOT_DELETABLE = 10034, "this message type cannot be deleted"
    GROUP_TYPE_NO_DELETE = 10035, "AVChatRoom messages cannot be deleted"
    # C2C codes
    ACCOUNT_NOT_FOUND = 20003, "account does not exist"
    C2C_CALLBACK_REJECTED = 20006, "the app backend rejected the message through the before-send callback"
    C2C_REVOKE_TIME_LIMIT = 20016, "revoke time limit exceeded (default 2 minutes)"
    C2C_MESSAGE_NOT_FOUND = 20022, "message not found"
    C2C_MESSAGE_ALREADY_REVOKED = 20023, "message already revoked"
    GROUP_INVALID_ID = 10015, "invalid group ID"
    # common server codes
    REQUEST_INVALID = 60003, "request is not valid JSON or is too large"
    REST_RATE_LIMITED = 60007, "REST API call frequency over the limit: reduce the request rate"
    UNKNOWN_METHOD = 60009, "unknown method"
    REST_NEEDS_ADMIN = 60010, "the request needs App admin rights: identifier must be an App admin"
    REST_SDKAPPID_MISSING = 60012, "the REST request needs an SDKAppID (query parameter sdkappid)"
    APP_DISABLED = 60016, "SDKAppID is disabled"
    # account / UserSig codes
    USERSIG_EXPIRED = 70001, "UserSig expired"
    USERSIG_EMPTY = 70002, "UserSig is empty"
    USERSIG_UNDECODABLE = 70003, "UserSig could not be decoded"
    USERSIG_VERIFY_FAILED = 70009, "UserSig signature verification failed"
    USERSIG_IDENTIFIER_MISMATCH = 70013, "UserSig identifier does not match the userID"
    USERSIG_SDKAPPID_MISMATCH = 70014, "UserSig sdkappid does not match the SDKAppID"
    SDKAPPID_NOT_FOUND = 70020, "SDKAppID not found"
    REST_ACCOUNT_NOT_FOUND = 70107, "account not imported or does not exist"
    INVALID_USER_ID = 70402, "invalid userID"
    ADMIN_FORBIDDEN = 70403, "admin key missing or wrong"
    STORAGE_FAILED = (
        70500,
        "internal error: the write could not be stored (journal commit failed); nothing was applied, retry later",
    )
    # content codes
    MESSAGE_TOO_LONG = 80002, "message body is too long"
    # profile service (REST)
    PROFILE_INVALID_PARAMETER = 40001, "invalid profile request parameter"
    PROFILE_ACCOUNT_NOT_FOUND = 40003, "account not found"
    PROFILE_VALUE_TOO_LONG = 40601, "profile field value longer than 500 bytes"
    # REST message service (openim)
    REST_JSON_INVALID = 90001, "Fail to Parse json data of body, Please check it"
    REST_MSG_BODY_INVALID = 90002, "MsgBody is not a valid message body"
    REST_TO_ACCOUNT_INVALID = 90003, "To_Account missing or of the wrong type"
    REST_MSG_RANDOM_INVALID = 90005, "MsgRandom missing or not an integer"
    REST_MSG_TIMESTAMP_INVALID = 90006, "MsgTimeStamp missing or not an integer"
    REST_FROM_ACCOUNT_INVALID = 90008, "From_Account missing or does not exist"
    REST_TOO_MANY_RECIPIENTS = 90011, "more than 500 target accounts"
    REST_TO_ACCOUNT_NOT_FOUND = 90012, "invalid To_Account: not registered"
    REST_MSG_LIFETIME_INVALID = 90026, "offline storage time too long (at most 7 days)"
    REST_MSG_KEY_INVALID = 90054, "MsgKey invalid"
    REST_BODY_TOO_LONG = 93000, "the JSON packet has exceeded the maximum size of 12 KB"


def phrase_of(code: int) -> str:
    """Text for any code, including app-defined callback codes outside the table."""
    try:
        return Code(code).phrase
    except ValueError:
        return "error code set by the app backend"


class IMError(Exception):
    """The one error type the model and SDK facade raise (TIM's imError)."""

    def __init__(self, code: int, message: str | None = None, rule: str = "") -> None:
        self.code = int(code)
        self.message = message if message is not None else phrase_of(code)
        self.rule = rule
        super().__init__(f"{self.code}: {self.message}" + (f" [{rule}]" if rule else ""))

    def __reduce__(self) -> tuple[type[IMError], tuple[int, str, str]]:
        return (IMError, (self.code, self.message, self.rule))
