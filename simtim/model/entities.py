"""The world's nouns: apps, accounts, instances, threads, messages, conversations.

Plain slotted classes with no behaviour beyond views: the rules live in the
operation modules so each decision can name its SPEC rule in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, ValuesView
from typing import Any

from simtim.clock import Clock
from simtim.ids import KEY_RANDOM_BITS, KEY_RANDOM_MASK, message_id_of, message_key_of
from simtim.limits import AppConfig
from simtim.model.custom_data import DATA_MARK, carries_data, data_of, join, text_of
from simtim.model.dedup import DedupKey, DedupTable, dedup_key
from simtim.model.lifecycle import NEW, InstanceState, Transition, next_state

C2C = "C2C"
GROUP = "GROUP"
SYSTEM = "@TIM#SYSTEM"
SYSTEM_CONVERSATION_ID = "@TIM#SYSTEM"

TEXT_ELEM = "TIMTextElem"
TIP_ELEM = "TIMGroupTipElem"
NOTICE_ELEM = "TIMGroupSystemNoticeElem"


class Instance:
    """One SDK instance (one page's ``TIM.create``)."""

    __slots__ = (
        "avchatroom",
        "connected",
        "deferred",
        "id",
        "login_order",
        "platform",
        "sdkappid",
        "sig_expires_at",
        "state",
        "user_id",
    )

    def __init__(self, instance_id: int, sdkappid: int, platform: str) -> None:
        self.id = instance_id
        self.sdkappid = sdkappid
        self.platform = platform
        self.state: InstanceState = NEW
        self.user_id = ""
        self.sig_expires_at = 0
        self.login_order = 0
        self.connected = True  # NET-1: events are deferred while False
        self.deferred: list[tuple[str, Any]] = []
        self.avchatroom = ""  # GRP-7: the one AVChatRoom this instance is in

    def move(self, transition: Transition) -> None:
        """The only way an instance changes state: along the lifecycle table."""
        self.state = next_state(self.state, transition)


#: the (nick, avatar) of an account that set neither
NO_CARD = ("", "")


class Account:
    """A user of one app: profile, online instances, per-conversation state."""

    __slots__ = (
        "_card",
        "avatar",
        "convs",
        "deleted",
        "nick",
        "online",
        "sigs_valid_from",
        "system_thread",
        "tags",
        "user_id",
    )

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.nick = ""
        self.avatar = ""
        self.tags: dict[str, Any] = {}  # other profile tags a backend stored (REST-3)
        self.sigs_valid_from = 0  # a REST kick voids every UserSig issued before it (REST-3)
        self.online: list[Instance] = []  # logged-in instances in login order (INST-3)
        self.convs: dict[str, ConvState] = {}
        self.deleted: set[int] = set()  # keys of the messages this account deleted (MSG-9)
        self.system_thread = Thread(SYSTEM_CONVERSATION_ID)
        self._card = NO_CARD

    def card(self) -> tuple[str, str]:
        """(nick, avatar) as one tuple that every message sent under this profile shares (PROF-1)."""
        card = self._card
        if card[0] != self.nick or card[1] != self.avatar:
            card = self._card = (self.nick, self.avatar)
        return card

    def profile(self) -> dict[str, Any]:
        return {"userID": self.user_id, "nick": self.nick, "avatar": self.avatar}

    def conv(self, conversation_id: str) -> ConvState:
        state = self.convs.get(conversation_id)
        if state is None:
            state = self.convs[conversation_id] = ConvState()
        return state


class ConvState:
    """Per-account state of one conversation (UNREAD-1, CONV-3, GRP-9)."""

    __slots__ = ("hidden_mark", "read_mark", "remind_type", "unread")

    def __init__(self) -> None:
        self.unread = 0
        self.read_mark = 0  # app order of the newest message read (UNREAD-1)
        self.hidden_mark = 0  # deleteConversation hides messages up to this order (CONV-3)
        self.remind_type = "AcceptAndNotify"


class Thread:
    """The stored messages of one conversation, in (time, sequence) order (MSG-4).

    A message's index in ``messages`` is found without a per-message index while the thread only
    ever grew at its end with consecutive sequences: it is ``sequence - 1 - base``, ``base`` being
    how many messages were evicted from the front (PAGE-2).  An imported message placed by time
    (REST-4) breaks that, and only then does the thread keep ``position``: a message's key -> its
    index counted from the thread's first message ever, so evicting never rewrites the others.
    """

    __slots__ = ("base", "conversation_id", "messages", "next_sequence", "position")

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.messages: list[Message] = []
        self.position: dict[int, int] | None = None
        self.next_sequence = 1
        self.base = 0

    def append(self, message: Message) -> None:
        message.sequence = self.next_sequence
        self.next_sequence += 1
        position = self.base + len(self.messages)
        if self.position is not None:
            self.position[message.key] = position
        elif message.sequence - 1 != position:  # a sequence was skipped: positions need the index
            self._index_positions()
            assert self.position is not None
            self.position[message.key] = position
        self.messages.append(message)

    def index_of(self, message: Message) -> int | None:
        """The message's index in ``messages``, or None when it is not (or no longer) here."""
        if self.position is None:
            index = message.sequence - 1 - self.base
        else:
            position = self.position.get(message.key)
            if position is None:
                return None
            index = position - self.base
        messages = self.messages
        return index if 0 <= index < len(messages) and messages[index] is message else None

    def insert_in_time_order(self, message: Message) -> None:
        """An imported message from the past (REST-4 importmsg) takes its place by time; it still
        gets the next sequence number (history order is (time, sequence), MSG-4)."""
        if self.position is None:
            self._index_positions()
        assert self.position is not None
        index = len(self.messages)
        while index > 0 and self.messages[index - 1].time > message.time:
            index -= 1
        message.sequence = self.next_sequence
        self.next_sequence += 1
        self.messages.insert(index, message)
        for position in range(index, len(self.messages)):
            self.position[self.messages[position].key] = self.base + position

    def evict_front(self, count: int) -> list[Message]:
        """PAGE-2: drop the ``count`` oldest messages (retention or a cap) and return them."""
        gone = self.messages[:count]
        del self.messages[:count]
        self.base += len(gone)
        position = self.position
        if position is not None:
            for message in gone:
                del position[message.key]
        return gone

    def _index_positions(self) -> None:
        self.position = {message.key: self.base + i for i, message in enumerate(self.messages)}


def compact_payload(elem_type: str, payload: Any) -> Any:
    """What ``Message.body`` keeps: a text element's text as UTF-8 ``bytes``, any other payload as
    it is.  Bytes, not the ``str``: 33 bytes of header instead of 49 (74 for CJK text, which a
    ``str`` keeps in two bytes a character); ``surrogatepass`` so any ``str`` an in-process caller
    passes comes back exactly."""
    if elem_type == TEXT_ELEM and payload.__class__ is dict and len(payload) == 1:
        text = payload.get("text")
        if text.__class__ is str:
            return text.encode("utf-8", "surrogatepass")
    return payload


def _text(body: bytes) -> dict[str, str]:
    return {"text": body.decode("utf-8", "surrogatepass")}


#: the low bits of ``Message.seq_random``: the message's ``random`` (a uint32, MSG-4)
_RANDOM_BITS = 32
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1


class Message:
    """A stored message; ``view`` renders it as TIM's Message for one account.

    Laid out for issue 15's memory budget (<= 400 bytes a stored text message, indexes
    included): no ID string (``key`` spells it on demand), ``sequence`` and ``random`` share one
    int, nick and avatar are one tuple the sender's account shares, a text is kept as UTF-8 bytes
    (with its ``cloudCustomData``, ``simtim/model/custom_data.py``), fields most messages leave
    unset share one ``rare`` slot, and ``stored`` is whether a history thread holds it.
    """

    __slots__ = (
        "body",
        "card",
        "client_time",
        "conversation_type",
        "key",
        "order",
        "priority",
        "rare",
        "revoked",
        "sender",
        "seq_random",
        "thread",
        "time",
        "to",
        "type",
    )

    def __init__(self) -> None:
        #: the ID's counter and random part (``IdSource.message_key``): the ID string itself is
        #: spelled on demand from sender, time and key, so a stored message keeps no string for it
        self.key = 0
        self.conversation_type = C2C
        self.sender = ""
        self.to = ""
        self.type = ""
        #: the payload; a text message's is kept as its bare text (a one-key dict costs 184 bytes,
        #: most of a stored message) and rebuilt on every view
        #: (then its ``cloudCustomData`` too: ``custom_data.carries_data``)
        self.body: Any = None
        #: elements beyond the first, a backend's MsgSeq, data a text could not carry: most
        #: messages have none of them, so one slot (None) holds them all
        self.rare: RareFields | None = None
        self.time = 0
        #: ``sequence << 32 | random``: one int object instead of two (32 bytes each)
        self.seq_random = 0
        self.client_time = 0
        self.priority = "Normal"
        #: the sender's (nick, avatar) when it was sent (PROF-1), shared with the account
        self.card = NO_CARD
        self.revoked = False
        self.order = 0  # app-wide arrival order: a tie-break across conversations
        self.thread: Thread | None = None

    @property
    def id(self) -> str:
        """TIM's message ID (MSG-4): unique per world, stable under a seed."""
        return message_id_of(self.sender, self.time, self.key)

    @property
    def sequence(self) -> int:
        """The message's place in its conversation (MSG-4); AVChatRoom's count without history."""
        return self.seq_random >> _RANDOM_BITS

    @sequence.setter
    def sequence(self, value: int) -> None:
        self.seq_random = value << _RANDOM_BITS | self.seq_random & _RANDOM_MASK

    @property
    def random(self) -> int:
        """TIM's uint32 ``random`` (MSG-4, MSG-6): every entry point checks the range."""
        return self.seq_random & _RANDOM_MASK

    @random.setter
    def random(self, value: int) -> None:
        if not 0 <= value <= _RANDOM_MASK:
            raise ValueError(f"a message's random is a uint32, not {value!r}")
        self.seq_random = self.seq_random & ~_RANDOM_MASK | value

    @property
    def nick(self) -> str:
        return self.card[0]

    @property
    def avatar(self) -> str:
        return self.card[1]

    @property
    def stored(self) -> bool:
        """In a history thread (PAGE-2); AVChatRoom messages, custom notices and messages the rate
        control dropped (MSG-7) are not."""
        return self.thread is not None

    @property
    def payload(self) -> Any:
        """TIM's payload object (MSG-4); for a text message a new ``{"text": ...}`` each time."""
        body = self.body
        if body.__class__ is bytes:
            return _text(text_of(body) if carries_data(body) else body)
        return body

    @payload.setter
    def payload(self, value: Any) -> None:
        data = self.cloud_custom_data
        self.body = compact_payload(self.type, value)
        if data:
            self.cloud_custom_data = data

    @property
    def cloud_custom_data(self) -> str:
        """TIM's ``cloudCustomData`` (MSG-4), exactly the string the client sent."""
        body = self.body
        if body.__class__ is bytes and carries_data(body):
            return data_of(body, self.sender)
        rare = self.rare
        return "" if rare is None else rare.cloud_custom_data

    @cloud_custom_data.setter
    def cloud_custom_data(self, value: str) -> None:
        """Set it after ``sender`` and ``payload``: a text carries it (a stamp is packed by sender)."""
        body = self.body
        if body.__class__ is bytes and carries_data(body):
            body = self.body = text_of(body)
        joined = join(body, value, self.sender) if value and body.__class__ is bytes else None
        if joined is not None:
            self.body = joined
            value = ""
        if value or self.rare is not None:
            self._rare().cloud_custom_data = value

    @property
    def elements(self) -> list[dict[str, Any]] | None:
        """Every element (MSG-4) when there is more than one; None: the one in type and payload."""
        rare = self.rare
        return None if rare is None else rare.elements

    @elements.setter
    def elements(self, value: list[dict[str, Any]] | None) -> None:
        if value is not None or self.rare is not None:
            self._rare().elements = value

    @property
    def rest_seq(self) -> int:
        """A backend's own C2C MsgSeq (REST-4); 0: the conversation sequence."""
        rare = self.rare
        return 0 if rare is None else rare.rest_seq

    @rest_seq.setter
    def rest_seq(self, value: int) -> None:
        if value or self.rare is not None:
            self._rare().rest_seq = value

    def _rare(self) -> RareFields:
        rare = self.rare
        if rare is None:
            rare = self.rare = RareFields()
        return rare

    @property
    def is_tip_or_notice(self) -> bool:
        return self.type == TIP_ELEM or self.type == NOTICE_ELEM

    def conversation_id_for(self, viewer: str) -> str:
        if self.conversation_type == C2C:
            return C2C + (self.to if viewer == self.sender else self.sender)
        if self.conversation_type == GROUP:
            return GROUP + self.to
        return SYSTEM_CONVERSATION_ID

    def dedup_key(self) -> DedupKey:
        """MSG-6's key of this message, as ``App.dedup`` holds it for a send that gave ``random``."""
        return dedup_key(self.sender, self.to, self.conversation_type, self.random, self.client_time)

    @property
    def msg_key(self) -> str:
        """C2C ``MsgKey`` as TIM's server API writes it: ``{MsgSeq}_{MsgRandom}_{MsgTime}`` (REST-4)."""
        return f"{self.rest_seq or self.sequence}_{self.random}_{self.time}"

    def view(self, viewer: str, conversation_id: str = "") -> dict[str, Any]:
        """TIM's Message fields (MSG-4) as ``viewer`` sees them. ``conversation_id``: the caller
        already knows it (a page of one conversation passes it instead of recomputing it per message).
        """
        sender = self.sender
        body = self.body
        rare = self.rare
        if body.__class__ is not bytes:
            payload, custom = body, "" if rare is None else rare.cloud_custom_data
        elif body and body[-1] >= DATA_MARK:  # custom_data.carries_data, inlined: a text with its data
            payload, custom = _text(text_of(body)), data_of(body, sender)
        else:
            payload, custom = {"text": body.decode("utf-8", "surrogatepass")}, ""
            if rare is not None:
                custom = rare.cloud_custom_data
        data = {
            # message_id_of, inlined: a page renders 15 of these
            "ID": f"{sender}-{self.time}-{(key := self.key) >> KEY_RANDOM_BITS}-{key & KEY_RANDOM_MASK}",
            "type": self.type,
            "payload": payload,
            "conversationID": conversation_id or self.conversation_id_for(viewer),
            "conversationType": self.conversation_type,
            "to": self.to,
            "from": sender,
            "flow": "out" if viewer == sender else "in",
            "time": self.time,
            "sequence": (packed := self.seq_random) >> _RANDOM_BITS,
            "random": packed & _RANDOM_MASK,
            "status": "success",
            "isRevoked": self.revoked,
            "priority": self.priority,
            "nick": (card := self.card)[0],
            "avatar": card[1],
            "cloudCustomData": custom,
        }
        if rare is not None and rare.elements is not None:
            data["elements"] = rare.elements
        return data


class RareFields:
    """What few messages set (``Message.rare``): one object for them, none for the rest."""

    __slots__ = ("cloud_custom_data", "elements", "rest_seq")

    def __init__(self) -> None:
        self.elements: list[dict[str, Any]] | None = None
        self.rest_seq = 0
        self.cloud_custom_data = ""


class MessageIndex:
    """Every accepted message of an app, found by its ID string (REV-3, MSG-6, MSG-9, GRP-8).

    Keyed by the message's key int, which the message itself holds (one int object shared by both),
    not by the ID string: an ID is parsed back to its key and the found message must spell the
    very same ID (the key alone names neither the sender nor the time)."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[int, Message] = {}

    def add(self, message: Message) -> None:
        self._by_key[message.key] = message

    def discard(self, message: Message) -> None:
        if self._by_key.get(message.key) is message:
            del self._by_key[message.key]

    def holds(self, message: Message) -> bool:
        return self._by_key.get(message.key) is message

    def get(self, message_id: object) -> Message | None:
        if message_id.__class__ is not str:
            return None
        assert isinstance(message_id, str)
        key = message_key_of(message_id)
        message = self._by_key.get(key) if key is not None else None
        if message is None or message_id_of(message.sender, message.time, message.key) != message_id:
            return None
        return message

    def __getitem__(self, message_id: str) -> Message:
        message = self.get(message_id)
        if message is None:
            raise KeyError(message_id)
        return message

    def __contains__(self, message_id: object) -> bool:
        return self.get(message_id) is not None

    def __len__(self) -> int:
        return len(self._by_key)

    def values(self) -> ValuesView[Message]:
        """In arrival order."""
        return self._by_key.values()

    def newest_first(self) -> Iterator[Message]:
        return reversed(self._by_key.values())

    # a snapshot pickles the messages once; loading rebuilds the keys from them, so the index
    # and each message share one int again (pickle does not memoize ints)
    def __getstate__(self) -> list[Message]:
        return list(self._by_key.values())

    def __setstate__(self, messages: list[Message]) -> None:
        self._by_key = {message.key: message for message in messages}


class App:
    """One SDKAppID: its key, config, clock and everything stored under it."""

    __slots__ = (
        "accounts",
        "clock",
        "config",
        "dedup",
        "disabled",
        "evicted",
        "groups",
        "held",
        "login_counter",
        "messages",
        "order",
        "rate_counts",
        "rest_dedup",
        "sdkappid",
        "secret_key",
        "threads",
    )

    def __init__(self, sdkappid: int, secret_key: str, config: AppConfig, clock: Clock) -> None:
        self.sdkappid = sdkappid
        self.secret_key = secret_key
        self.config = config
        self.disabled = False
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.threads: dict[tuple[str, str], Thread] = {}  # C2C threads keyed by sorted pair
        self.messages = MessageIndex()  # every accepted message by ID (REV-3, MSG-9)
        self.dedup: DedupTable[Message] = DedupTable()  # MSG-6
        self.groups: dict[str, Group] = {}
        self.order = 0
        self.login_counter = 0
        self.rate_counts: dict[str, tuple[int, int]] = {}  # MSG-7: group -> (second, count)
        self.rest_dedup: dict[tuple[Any, ...], Message] = {}  # REST-4/REST-8: a backend's own dedup keys
        self.held = 0  # messages in history threads now (PAGE-2: what --max-messages bounds)
        self.evicted = {"retention": 0, "cap": 0}  # PAGE-2: messages dropped from history, by cause

    def next_order(self) -> int:
        self.order += 1
        return self.order


# --- groups (GRP-*, MBR-*, MUTE-*) ------------------------------------------------------------
class Member:
    __slots__ = ("custom_fields", "join_order", "join_time", "name_card", "role", "user_id")

    def __init__(self, user_id: str, role: str, join_time: int, join_order: int) -> None:
        self.user_id = user_id
        self.role = role
        self.name_card = ""
        self.join_time = join_time
        self.join_order = join_order  # PAGE-2: history visibility starts here
        self.custom_fields: dict[str, str] = {}


class Application:
    """A pending join request (GRP-7); replaced when the user applies again."""

    __slots__ = ("applicant", "apply_message", "handled")

    def __init__(self, applicant: str, apply_message: str) -> None:
        self.applicant = applicant
        self.apply_message = apply_message
        self.handled = False


class Group:
    __slots__ = (
        "applications",
        "avatar",
        "create_time",
        "custom_fields",
        "group_id",
        "introduction",
        "join_option",
        "max_member_num",
        "members",
        "mute_all",
        "mute_until",
        "name",
        "notices",
        "notification",
        "owner",
        "thread",
        "type",
    )

    def __init__(self, group_id: str, group_type: str, create_time: int) -> None:
        self.group_id = group_id
        self.type = group_type
        self.name = ""
        self.introduction = ""
        self.notification = ""
        self.avatar = ""
        self.join_option = "FreeAccess"
        self.max_member_num: int | None = None
        self.custom_fields: dict[str, str] = {}
        self.owner = ""
        self.members: dict[str, Member] = {}  # insertion order is join order (MBR-3)
        self.thread = Thread("GROUP" + group_id)
        self.mute_until: dict[str, int] = {}  # MUTE-2: survives quit and rejoin
        self.applications: dict[str, Application] = {}
        self.notices: dict[str, Application] = {}  # notice-1 message ID -> application (GRP-8)
        self.create_time = create_time
        self.mute_all = False

    def profile(self, viewer: str | None = None) -> dict[str, Any]:
        """TIM's Group object; ``selfInfo`` only for a member viewer."""
        data: dict[str, Any] = {
            "groupID": self.group_id,
            "name": self.name,
            "avatar": self.avatar,
            "type": self.type,
            "introduction": self.introduction,
            "notification": self.notification,
            "ownerID": self.owner,
            "createTime": self.create_time,
            "joinOption": self.join_option,
            "memberNum": len(self.members),
            "maxMemberNum": self.max_member_num if self.max_member_num is not None else 0,
            "groupCustomField": [{"key": k, "value": v} for k, v in self.custom_fields.items()],
            "muteAllMembers": self.mute_all,
        }
        member = self.members.get(viewer) if viewer is not None else None
        if member is not None:
            data["selfInfo"] = {
                "role": member.role,
                "nameCard": member.name_card,
                "joinTime": member.join_time,
            }
        return data
