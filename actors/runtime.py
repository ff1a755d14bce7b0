"""A minimal actor runtime: one mailbox per actor, processed one message at a time; `tell`, `ask`
with a timeout; actors spawned on first use through a registry of kinds; subscribers that receive
every event the actor publishes, in sequence order.

Supervision: a handler that raises a `TongbanError` has rejected the message (the asker gets the
error, state is untouched). Any other exception is a crash: it is logged, the asker gets an
internal error, and the actor is rebuilt from its persisted state before its next message.
Must not: let one actor's failure reach another, or block the event loop. Multi-node leases,
passivation and durable timers belong to the full runtime (issue 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

from actors import journal
from actors.events import Address, Event
from server.errors import AskTimeout, TongbanError, Unavailable
from server.logging import actor_var

logger = logging.getLogger(__name__)

MAILBOX_SIZE = 10_000  # a mailbox this full means the actor cannot keep up: refuse, don't grow without bound
REPLAY_LIMIT = 1_000  # a subscriber further behind than this gets a snapshot instead of the backlog

T = TypeVar("T")


class Subscription:
    """A bounded queue of one subscriber's events. When it overflows the subscriber is lagging:
    it is closed and must resubscribe (the full runtime coalesces instead)."""

    def __init__(self, address: Address, maxsize: int) -> None:
        self.address = address
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.lagging = False
        self.closed = asyncio.Event()

    def offer(self, event: Event) -> None:
        if self.closed.is_set():
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True
            self.closed.set()

    async def next(self) -> Event | None:
        """The next event, or None once the subscription is closed."""
        if not self.queue.empty():
            return self.queue.get_nowait()
        getter = asyncio.ensure_future(self.queue.get())
        closer = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({getter, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closer.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        return None


@dataclass(frozen=True)
class Subscribed:
    """The answer to a subscription: the state at `seq`, or the events after the caller's `since`."""

    seq: int
    snapshot: dict[str, Any] | None
    missed: list[Event] | None
    subscription: Subscription


class _Subscribe(BaseModel):
    since: int | None
    queue_size: int


class Actor(ABC):
    """Base of every actor. Subclasses set `kind`, rebuild state in `activate` and handle messages."""

    kind: ClassVar[str]

    def __init__(self, address: Address, deps: Any, cell: ActorCell) -> None:
        self.address = address
        self.deps = deps
        self.seq = 0
        self._cell = cell

    async def activate(self) -> None:  # noqa: B027 - optional hook: a stateless actor has nothing to load
        """Rebuild state from persistence. Called before the first message and after a crash."""

    @abstractmethod
    async def receive(self, message: BaseModel) -> Any: ...

    @abstractmethod
    def snapshot(self) -> dict[str, Any]: ...

    def tell_self_later(self, delay_s: float, message: BaseModel) -> None:
        """Deliver `message` to this actor after `delay_s`. In memory only: lost with the node, so it
        suits retries that activation also reconciles (durable timers come with the full runtime)."""
        self._cell.schedule(delay_s, message)

    def publish(self, event: Event) -> None:
        """Push a committed event to every subscriber. Call only after its transaction committed."""
        self.seq = event.seq
        self._cell.fan_out(event)

    async def events_after(self, seq: int, limit: int) -> list[Event]:
        async with self.deps.pool.acquire() as conn:
            return await journal.events_after(conn, self.address, seq, limit)


class ActorCell:
    """The runtime side of one actor: mailbox, processing task, subscribers."""

    def __init__(self, system: ActorSystem, address: Address, actor_type: type[Actor]) -> None:
        self.system = system
        self.address = address
        self.actor_type = actor_type
        self.actor: Actor | None = None
        self.mailbox: asyncio.Queue[tuple[BaseModel, asyncio.Future[Any] | None]] = asyncio.Queue(
            MAILBOX_SIZE
        )
        self.subscribers: set[Subscription] = set()
        self.timers: set[asyncio.TimerHandle] = set()
        self.task = asyncio.create_task(self._run(), name=f"actor:{address}")

    def schedule(self, delay_s: float, message: BaseModel) -> None:
        def fire() -> None:
            self.timers.discard(handle)
            try:
                self.post(message, None)
            except Unavailable:
                logger.warning("actor.timer_dropped", extra={"message_type": type(message).__name__})

        handle = asyncio.get_running_loop().call_later(delay_s, fire)
        self.timers.add(handle)

    def fan_out(self, event: Event) -> None:
        for sub in list(self.subscribers):
            sub.offer(event)
            if sub.closed.is_set():
                self.subscribers.discard(sub)

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)
        sub.closed.set()

    def post(self, message: BaseModel, future: asyncio.Future[Any] | None) -> None:
        try:
            self.mailbox.put_nowait((message, future))
        except asyncio.QueueFull as exc:
            raise Unavailable("系统繁忙，请稍后重试") from exc

    async def _activated(self) -> Actor:
        if self.actor is None:
            actor = self.actor_type(self.address, self.system.deps, self)
            await actor.activate()
            self.actor = actor
        return self.actor

    async def _subscribe(self, actor: Actor, msg: _Subscribe) -> Subscribed:
        sub = Subscription(self.address, msg.queue_size)
        missed = None
        if msg.since is not None and 0 <= msg.since <= actor.seq and actor.seq - msg.since <= REPLAY_LIMIT:
            missed = await actor.events_after(msg.since, REPLAY_LIMIT)
        self.subscribers.add(sub)
        snapshot = None if missed is not None else actor.snapshot()
        return Subscribed(seq=actor.seq, snapshot=snapshot, missed=missed, subscription=sub)

    async def _run(self) -> None:
        actor_var.set(str(self.address))
        while True:
            message, future = await self.mailbox.get()
            if future is not None and future.done():
                continue  # the asker gave up (timeout); don't do work nobody waits for
            try:
                actor = await self._activated()
                if isinstance(message, _Subscribe):
                    result: Any = await self._subscribe(actor, message)
                else:
                    result = await actor.receive(message)
            except asyncio.CancelledError:
                raise
            except TongbanError as exc:
                if future is not None and not future.done():
                    future.set_exception(exc)
            except Exception as exc:
                transient = isinstance(exc, self.system.transient)
                if transient:
                    logger.warning("actor.dependency_unavailable", extra={"error": type(exc).__name__})
                else:
                    logger.exception("actor.crashed", extra={"message_type": type(message).__name__})
                self.actor = None  # rebuilt from persisted state before the next message
                if future is not None and not future.done():
                    future.set_exception(Unavailable() if transient else TongbanError())
            else:
                if future is not None and not future.done():
                    future.set_result(result)


class ActorRef:
    def __init__(self, cell: ActorCell) -> None:
        self._cell = cell

    @property
    def address(self) -> Address:
        return self._cell.address

    def tell(self, message: BaseModel) -> None:
        self._cell.post(message, None)

    async def ask(self, message: BaseModel, timeout: float) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._cell.post(message, future)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError as exc:
            future.cancel()
            raise AskTimeout() from exc

    async def subscribe(self, since: int | None, queue_size: int, timeout: float) -> Subscribed:
        result: Subscribed = await self.ask(_Subscribe(since=since, queue_size=queue_size), timeout)
        return result

    def unsubscribe(self, sub: Subscription) -> None:
        self._cell.unsubscribe(sub)


class ActorSystem:
    """The registry of actor kinds and of the live actors of this node."""

    def __init__(self, deps: Any, transient: tuple[type[BaseException], ...] = ()) -> None:
        """`transient`: exceptions that mean a service the actors need is down (database, Redis).
        A handler failing with one answers `Unavailable` (503) instead of an internal error."""
        self.deps = deps
        self.transient = transient
        self._kinds: dict[str, type[Actor]] = {}
        self._cells: dict[Address, ActorCell] = {}

    def register(self, actor_type: type[Actor]) -> None:
        self._kinds[actor_type.kind] = actor_type

    def ref(self, address: Address) -> ActorRef:
        """The actor at `address`, spawned on first use."""
        cell = self._cells.get(address)
        if cell is None:
            actor_type = self._kinds.get(address.kind)
            if actor_type is None:
                raise ValueError(f"no actor kind {address.kind!r} is registered")
            cell = self._cells[address] = ActorCell(self, address, actor_type)
        return ActorRef(cell)

    @property
    def live_count(self) -> int:
        return len(self._cells)

    async def stop(self) -> None:
        cells = list(self._cells.values())
        self._cells.clear()
        for cell in cells:
            for sub in list(cell.subscribers):
                cell.unsubscribe(sub)
            for timer in cell.timers:
                timer.cancel()
            cell.task.cancel()
        for cell in cells:
            with contextlib.suppress(asyncio.CancelledError):
                await cell.task
