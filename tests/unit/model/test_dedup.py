"""MSG-6's dedup table: every key answers for its whole window, and the table holds only the last
windows' sends, not one entry per stored message (simtim/model/dedup.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simtim.limits import DEDUP_WINDOW_C2C_SECONDS, DEDUP_WINDOW_GROUP_SECONDS
from simtim.model.dedup import DEDUP_GENERATION_SECONDS, DedupTable, dedup_key
from simtim.model.entities import Message

LONGEST_WINDOW = max(DEDUP_WINDOW_C2C_SECONDS, DEDUP_WINDOW_GROUP_SECONDS)


@given(st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=60).map(sorted))
def test_msg_6_a_key_is_found_for_its_whole_window_whenever_the_generations_turn(times: list[int]) -> None:
    """Sends at any (monotonic) times: each key is still there for every lookup within the longest
    window after its send, however the puts in between turned the generations."""
    table = DedupTable()
    sent: list[tuple[int, tuple[str, str, int], Message]] = []
    for i, now in enumerate(times):
        for put_at, key, message in sent:
            if now - put_at <= LONGEST_WINDOW:
                assert table.get(key) is message, (put_at, now)
        key, message = dedup_key("alice", "bob", "C2C", i, now), Message()
        table.put(key, message, now)
        sent.append((now, key, message))


def test_msg_6_the_table_holds_the_last_windows_not_the_history() -> None:
    table = DedupTable()
    per_second = 10
    seconds = 10 * DEDUP_GENERATION_SECONDS
    for now in range(seconds):
        for i in range(per_second):
            table.put(dedup_key("alice", "bob", "C2C", i, now), Message(), now)
    assert len(table) <= 2 * DEDUP_GENERATION_SECONDS * per_second < seconds * per_second // 4


def test_msg_6_after_two_idle_generations_nothing_is_kept() -> None:
    table = DedupTable()
    old = dedup_key("alice", "bob", "C2C", 1, 0)
    table.put(old, Message(), 0)
    later = 2 * DEDUP_GENERATION_SECONDS
    table.put(dedup_key("alice", "bob", "C2C", 2, later), Message(), later)
    assert table.get(old) is None and len(table) == 1


@given(
    st.sampled_from(["C2C", "GROUP"]),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=2**40),
    st.sampled_from(["C2C", "GROUP"]),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=2**40),
)
def test_msg_6_the_packed_key_tells_every_type_random_and_client_time_apart(
    type_a: str, random_a: int, time_a: int, type_b: str, random_b: int, time_b: int
) -> None:
    same = (type_a, random_a, time_a) == (type_b, random_b, time_b)
    assert (
        dedup_key("a", "b", type_a, random_a, time_a) == dedup_key("a", "b", type_b, random_b, time_b)
    ) == same


def test_page_2_an_evicted_message_leaves_the_table_and_another_message_under_its_key_stays() -> None:
    table = DedupTable()
    key = dedup_key("alice", "room", "GROUP", 9, 100)
    first, second = Message(), Message()
    table.put(key, first, 100)
    table.discard(key, second)  # not the message the key names: kept
    assert table.get(key) is first
    table.discard(key, first)
    assert table.get(key) is None
