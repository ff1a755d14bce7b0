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
from collections.abc import Callable

from actors import journal
from actors.events import Address
from actors.messages import GetView, View
from actors.runtime import ActorSystem
from server.errors import Unavailable
from server.wsframe import text_frame

logger = logging.getLogger(__name__)

REPLAY_LIMIT = 1_000  # a subscriber further behind than this gets a snapshot instead of the backlog
VIEW_FRESH_S = 1.0  # a view is reused this long (deadline colours and times online are computed in it)
VIEWS_REMEMBERED = 10_000


class Subscription:
    """One websocket's feed of one actor's events: (seq, websocket frame) in order.

    `direct(seq, frame)` is the connection's fast path: it writes the frame at once and answers True
    when the subscriber is in step and its socket takes data; otherwise the event is queued and
    `wake` starts the connection's writer."""

    __slots__ = ("address", "direct", "last_seq", "maxsize", "overflows", "queue", "resync", "since", "wake")

    def __init__(
        self,
        address: Address,
        maxsize: int,
        since: int | None,
        wake: Callable[[], None],
        direct: Callable[[int, bytes], bool] | None = None,
    ) -> None:
        self.address = address
        self.queue: list[tuple[int, bytes]] = []
        self.maxsize = maxsize
        self.since = since  # the client's last seq: catch up from the journal before anything else
        self.last_seq = -1  # unknown until caught up
        self.resync = since is None  # owed a snapshot
        self.overflows = 0
        self.wake = wake
        self.direct = direct

    @property
    def in_step(self) -> bool:
        return not self.queue and not self.resync and self.since is None and self.last_seq >= 0

    def offer(self, seq: int, frame: bytes) -> None:
        if self.direct is not None and seq == self.last_seq + 1 and self.in_step and self.direct(seq, frame):
            self.last_seq = seq
            return
        if len(self.queue) >= self.maxsize:
            self.queue.clear()
            self.resync = True
            self.since = None
            self.overflows += 1
        else:
            self.queue.append((seq, frame))
        self.wake()


class Hub:
    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        self.topics: dict[Address, set[Subscription]] = {}
        self._views: dict[Address, asyncio.Future[View]] = {}
        self._recent: dict[Address, tuple[float, int, bytes]] = {}  # (when asked, seq, snapshot frame)
        self._last: dict[Address, int] = {}  # the latest seq seen here of each watched actor
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
        subs = self.topics.get(address)
        if subs:
            if seq > self._last.get(address, 0):
                self._last[address] = seq
            frame = text_frame(wire.encode())  # encoded once, shared by every subscriber
            for sub in list(subs):
                sub.offer(seq, frame)

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
            self._recent.pop(sub.address, None)  # unwatched: later events would go unnoticed here
            self._last.pop(sub.address, None)
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

    async def snapshot(self, address: Address, timeout: float) -> tuple[int, bytes]:
        """The actor's current view as a snapshot frame (seq, frame). Concurrent callers (a mass
        reconnect) share one ask, and a snapshot stays good for VIEW_FRESH_S while no later event of
        the actor reached this node: ten subscribers of a project cost one ask and one encoding."""
        cached = self._recent.get(address)
        now = asyncio.get_running_loop().time()
        if cached is not None and now - cached[0] < VIEW_FRESH_S and cached[1] >= self._last.get(address, 0):
            return cached[1], cached[2]
        view = await self.view(address, timeout)
        frame = _snapshot_frame(view)
        if address in self.topics:  # watched: an event after this view would be noticed
            self._recent[address] = (now, view.seq, frame)
            if len(self._recent) > VIEWS_REMEMBERED:
                self._recent.pop(next(iter(self._recent)))
        return view.seq, frame

    async def view(self, address: Address, timeout: float) -> View:
        """The actor's current view; concurrent callers share one ask."""
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

    async def events_after(self, address: Address, seq: int, limit: int) -> list[tuple[int, bytes]]:
        async with self.system.deps.pool.acquire() as conn:
            events = await journal.events_after(conn, address, seq, limit)
        return [(e.seq, text_frame(e.model_dump_json().encode())) for e in events]

    async def stop(self) -> None:
        for task in list(self._unwatching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.topics.clear()


async def next_frames(hub: Hub, sub: Subscription, timeout: float) -> list[bytes]:
    """What to send this subscriber now, in order: a snapshot it is owed, events it missed (from the
    journal), then queued events. Empty when there is nothing to send."""
    frames: list[bytes] = []
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
        sub.last_seq, frame = await hub.snapshot(sub.address, timeout)
        frames.append(frame)
    queued, sub.queue = sub.queue, []
    for n, (seq, frame) in enumerate(queued):
        if seq < 0:  # a reply of the connection's own (pong, error), not an event
            frames.append(frame)
            continue
        if seq <= sub.last_seq:
            continue
        if seq > sub.last_seq + 1:  # a gap (an event lost between nodes): read it from the journal
            missed = await hub.events_after(
                sub.address, sub.last_seq, min(seq - sub.last_seq - 1, REPLAY_LIMIT)
            )
            frames.extend(_take(sub, missed))
            if seq > sub.last_seq + 1:
                sub.resync = True
                return frames + await next_frames(hub, sub, timeout)
        frames.append(frame)
        sub.last_seq = seq
        if sub.resync:  # overflowed while we were reading the journal: the snapshot covers the rest
            del queued[n + 1 :]
            return frames + await next_frames(hub, sub, timeout)
    return frames


def _take(sub: Subscription, events: list[tuple[int, bytes]]) -> list[bytes]:
    out = []
    for seq, frame in events:
        if seq == sub.last_seq + 1:
            out.append(frame)
            sub.last_seq = seq
    return out


def _snapshot_frame(view: View) -> bytes:
    text = json.dumps({"type": "snapshot", "seq": view.seq, "data": view.data}, ensure_ascii=False)
    return text_frame(text.encode())


async def _last_seq(hub: Hub, address: Address) -> int:
    async with hub.system.deps.pool.acquire() as conn:
        return await journal.last_seq(conn, address)
