"""PAGE-2 in memory: messages past retention, or past a cap, leave the store for good.

Retention was only a read-time filter (an expired message is not in history, CLOCK-1), so
a long run kept every message forever. Now the clock sweep (every second on a real clock,
every clock step on a fake one) also drops them from memory, and two optional caps of
``AppConfig`` bound the store: ``max_messages_per_conversation`` (exact: the newest N of a
conversation are kept) and ``max_messages`` (per app, over every conversation; when passed,
the oldest 1/64 of the cap go at once so the cost per message stays constant). An evicted
message is gone as if it had expired: not in history, not found by ID (revoke, delete,
resend, REST reads), no longer a paging cursor. AVChatRoom messages are in no history: they
stay identifiable by ID (REV-3's 10033) and are not bounded here. Counts per cause are in
``App.evicted`` (admin ``snapshot``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from simtim.model.entities import App, Message, Thread

GLOBAL_CAP_SLACK = 64  # max_messages: evict down to cap - cap // 64 at once


def stored(app: App, thread: Thread) -> None:
    """Call right after a message joined ``thread``: counts it and applies the caps (PAGE-2)."""
    app.held += 1
    config = app.config
    per_conversation = config.max_messages_per_conversation
    if per_conversation and len(thread.messages) > per_conversation:
        _evict(app, thread, len(thread.messages) - per_conversation, "cap")
    if config.max_messages and app.held > config.max_messages:
        _evict_oldest(app, app.held - config.max_messages + config.max_messages // GLOBAL_CAP_SLACK)


def retained(app: App, message: Message | None) -> Message | None:
    """The message if it is still within retention, else None: a message past retention is gone
    (PAGE-2) whether or not the sweep has dropped it yet, so lookups by ID agree before and after."""
    if message is None or app.clock.now() - message.time > app.config.retention_seconds:
        return None
    return message


def sweep(app: App) -> int:
    """PAGE-2 on the clock: drop every message past the app's retention; returns how many."""
    now = app.clock.now()
    retention = app.config.retention_seconds
    dropped = 0
    for thread in threads_of(app):
        messages = thread.messages
        count = 0
        while count < len(messages) and now - messages[count].time > retention:
            count += 1
        if count:
            _evict(app, thread, count, "retention")
            dropped += count
    if dropped and app.rest_dedup:
        live = app.messages
        app.rest_dedup = {key: m for key, m in app.rest_dedup.items() if live.holds(m)}
    return dropped


def due(app: App) -> bool:
    """Whether ``sweep`` now would drop anything (a read: a journaled server records a sweep only
    when it has work, and an unrecorded sweep would make a replay hold messages the live server
    had dropped)."""
    now = app.clock.now()
    retention = app.config.retention_seconds
    return any(thread.messages and now - thread.messages[0].time > retention for thread in threads_of(app))


def threads_of(app: App) -> Iterator[Thread]:
    """Every history thread of the app: C2C pairs, groups, each account's system conversation."""
    yield from app.threads.values()
    for group in app.groups.values():
        yield group.thread
    for account in app.accounts.values():
        yield account.system_thread


def _evict_oldest(app: App, count: int) -> None:
    """The ``count`` oldest messages of the whole app, by arrival (``order``), across threads."""
    fronts = [(t.messages[0].order, i, t) for i, t in enumerate(threads_of(app)) if t.messages]
    heapq.heapify(fronts)
    taken: dict[int, tuple[Thread, int]] = {}
    while count > 0 and fronts:
        _, index, thread = fronts[0]
        done = taken.get(index, (thread, 0))[1] + 1
        taken[index] = (thread, done)
        count -= 1
        if done < len(thread.messages):
            heapq.heapreplace(fronts, (thread.messages[done].order, index, thread))
        else:
            heapq.heappop(fronts)
    for thread, done in taken.values():
        _evict(app, thread, done, "cap")


def _evict(app: App, thread: Thread, count: int, cause: str) -> None:
    gone = thread.evict_front(count)
    app.held -= len(gone)
    app.evicted[cause] += len(gone)
    for message in gone:
        _forget(app, message)


def _forget(app: App, message: Message) -> None:
    """Every index that could still reach the message lets go of it (MSG-6 dedup, MSG-9 deletions)."""
    app.messages.discard(message)
    app.dedup.discard(message.dedup_key(), message)
    for party in (message.sender, message.to):
        account = app.accounts.get(party)
        if account is not None:
            account.deleted.discard(message.key)


__all__ = ["GLOBAL_CAP_SLACK", "retained", "stored", "sweep", "threads_of"]
