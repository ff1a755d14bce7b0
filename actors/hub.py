"""Subscriptions of this node's websockets to actors, wherever the actors run.

The hub receives every event of this node's actors in-process and, for actors some local websocket
watches, the events of other nodes through Redis. It hands each event, encoded once, to every
subscription of that actor. A subscription is a bounded queue: when it overflows, the backlog is
dropped and the subscriber is owed a snapshot instead (coalescing), so a slow client never slows the
actor or other clients. Subscriptions track the last sequence they delivered: duplicates are dropped,
gaps are filled from the journal. Must not: block on a subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable

from actors import journal
from actors.events import Address
from actors.messages import GetView, View
from actors.runtime import ActorSystem
from server.errors import Unavailable

logger = logging.getLogger(__name__)

REPLAY_LIMIT = 1_000  # a subscriber further behind than this gets a snapshot instead of the backlog


class Subscription:
    """One websocket's feed of one actor's events (seq, encoded JSON)."""

    __slots__ = ("address", "last_seq", "maxsize", "overflows", "queue", "resync", "since", "wake")

    def __init__(self, address: Address, maxsize: int, since: int | None, wake: Callable[[], None]) -> None:
        self.address = address
        self.queue: deque[tuple[int, str]] = deque()
        self.maxsize = maxsize
        self.since = since  # the client's last seq: catch up from the journal before anything else
        self.last_seq = -1  # unknown until caught up
        self.resync = since is None  # owed a snapshot
        self.overflows = 0
        self.wake = wake

    def offer(self, seq: int, wire: str) -> None:
        if len(self.queue) >= self.maxsize:
            self.queue.clear()
            self.resync = True
            self.since = None
            self.overflows += 1
        else:
            self.queue.append((seq, wire))
        self.wake()


class Hub:
    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        self.topics: dict[Address, set[Subscription]] = {}
        self._views: dict[Address, asyncio.Future[View]] = {}
        self._unwatching: set[asyncio.Task[None]] = set()
        system.on_event(self.deliver)
        system.cluster.on_gap = self.recheck

    def recheck(self) -> None:
        """Events from other nodes may have been lost (Redis reconnected): every subscriber reads what
        it missed from the journal before anything else."""
        for subs in self.topics.values():
            for sub in subs:
                if sub.since is None and sub.last_seq >= 0:
                    sub.since = sub.last_seq
                    sub.wake()

    def deliver(self, address: Address, seq: int, wire: str) -> None:
        for sub in self.topics.get(address, ()):
            sub.offer(seq, wire)

    async def add(self, sub: Subscription) -> None:
        subs = self.topics.get(sub.address)
        if subs is None:
            subs = self.topics[sub.address] = set()
        subs.add(sub)
        try:
            await self.system.cluster.watch(sub.address)
        except Unavailable:
            self.remove(sub)
            raise

    def remove(self, sub: Subscription) -> None:
        subs = self.topics.get(sub.address)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self.topics[sub.address]
            task = asyncio.create_task(self._unwatch(sub.address), name="hub-unwatch")
            self._unwatching.add(task)
            task.add_done_callback(self._unwatching.discard)

    async def _unwatch(self, address: Address) -> None:
        if address not in self.topics:  # nobody subscribed again meanwhile
            await self.system.cluster.unwatch(address)

    def watchers(self, address: Address) -> int:
        return len(self.topics.get(address, ()))

    @property
    def subscription_count(self) -> int:
        return sum(len(s) for s in self.topics.values())

    async def view(self, address: Address, timeout: float) -> View:
        """The actor's current view; concurrent callers (a mass reconnect) share one ask."""
        future = self._views.get(address)
        if future is None:
            future = self._views[address] = asyncio.get_running_loop().create_future()
            try:
                future.set_result(await self.system.ask(address, GetView(), timeout))
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()
            finally:
                del self._views[address]
        return await asyncio.shield(future)

    async def events_after(self, address: Address, seq: int, limit: int) -> list[tuple[int, str]]:
        async with self.system.deps.pool.acquire() as conn:
            events = await journal.events_after(conn, address, seq, limit)
        return [(e.seq, e.model_dump_json()) for e in events]

    async def stop(self) -> None:
        for task in list(self._unwatching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.topics.clear()


async def next_frames(hub: Hub, sub: Subscription, timeout: float) -> list[str]:
    """What to send this subscriber now, in order: a snapshot it is owed, events it missed (from the
    journal), then queued events. Empty when there is nothing to send."""
    frames: list[str] = []
    if sub.since is not None:  # first catch-up after (re)connecting with `since`
        since, sub.since = sub.since, None
        missed = await hub.events_after(sub.address, since, REPLAY_LIMIT + 1)
        if len(missed) > REPLAY_LIMIT or (not missed and since > await _last_seq(hub, sub.address)):
            sub.resync = True  # too far behind, or ahead of the journal (another database): start over
        else:
            sub.last_seq = since
            frames.extend(_take(sub, missed))
    if sub.resync:
        sub.resync = False
        view = await hub.view(sub.address, timeout)
        sub.last_seq = view.seq
        frames.append(_snapshot_frame(view))
    while sub.queue:
        seq, wire = sub.queue.popleft()
        if seq <= sub.last_seq:
            continue
        if seq > sub.last_seq + 1:  # a gap (an event lost between nodes): read it from the journal
            missed = await hub.events_after(
                sub.address, sub.last_seq, min(seq - sub.last_seq - 1, REPLAY_LIMIT)
            )
            frames.extend(_take(sub, missed))
            if seq > sub.last_seq + 1:
                sub.queue.clear()
                sub.resync = True
                return frames + await next_frames(hub, sub, timeout)
        frames.append(wire)
        sub.last_seq = seq
    return frames


def _take(sub: Subscription, events: list[tuple[int, str]]) -> list[str]:
    out = []
    for seq, wire in events:
        if seq == sub.last_seq + 1:
            out.append(wire)
            sub.last_seq = seq
    return out


def _snapshot_frame(view: View) -> str:
    return json.dumps({"type": "snapshot", "seq": view.seq, "data": view.data}, ensure_ascii=False)


async def _last_seq(hub: Hub, address: Address) -> int:
    async with hub.system.deps.pool.acquire() as conn:
        return await journal.last_seq(conn, address)
