"""The actor runtime: one mailbox per actor, processed one message at a time, on exactly one node.

An actor is event-sourced: its state is rebuilt from its latest snapshot plus the journal's later
events, changes are events appended in a transaction (fenced by the node's lease token), applied and
published only after commit, and a snapshot is written every `snapshot_every` events. `ask` finds
the actor wherever it runs: on this node, on the node that owns its lease (forwarded through Redis),
or here after claiming a free lease. Idle actors are passivated (freed) and come back on the next
message; durable timers (`actors.timers`) reach them wherever they live.

Supervision: a handler that raises a `TongbanError` has rejected the message (the asker gets the
error, state is untouched). Any other exception is a crash: it is logged, the asker gets an internal
error, and the actor is rebuilt from persistence before its next message. A refused (fenced) append
means another node owns the actor now: the cell retires and the ask is routed again.
Must not: let one actor's failure reach another, or block the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from actors import journal, timers
from actors.cluster import Cluster, NodeUnreachable
from actors.events import Address, Event
from actors.keeper import LeaseKeeper
from actors.lease import Leases
from actors.messages import (
    RUNTIME_MESSAGES,
    GetView,
    Join,
    Leave,
    Member,
    Message,
    NodesDown,
    Registry,
    UnknownMessage,
    View,
)
from server.errors import AskTimeout, BadRequest, NotFound, TongbanError, Unavailable
from server.logging import actor_var

logger = logging.getLogger(__name__)

TELL_ATTEMPTS = 3
MAX_HOPS = 4  # times one ask may be forwarded between nodes before it is refused
STAMP_S = 0.25  # how often the loop shows the lease keeper it turns
JOINED = "presence.joined"
LEFT = "presence.left"


class UnknownActor(NotFound):
    code, message = "unknown_actor", "没有这个对象"


@dataclass(frozen=True)
class RuntimeConfig:
    lease_ttl_s: float = 3.0
    idle_s: float = 300.0  # an actor without messages this long is passivated
    timer_poll_s: float = 0.5
    mailbox_size: int = 10_000  # a mailbox this full means the actor cannot keep up: refuse, don't grow
    ask_timeout_s: float = 5.0  # of the runtime's own asks (timers, tells)
    node_id: str | None = None


class Actor(ABC):
    """Base of every actor. Subclasses set `kind` and `messages`, keep their state in `reset`,
    `apply`, `dump`/`load`, show it in `view`, and handle messages in `receive`."""

    kind: ClassVar[str]
    messages: ClassVar[tuple[type[Message], ...]] = ()
    snapshot_every: ClassVar[int] = 100
    snapshot_version: ClassVar[int] = 1  # bump when `dump`'s shape changes: older snapshots are ignored
    # Events kept in the journal behind a snapshot; None keeps them all (a journal that is a record).
    # Fewer than `actors.hub.REPLAY_LIMIT` would turn a subscriber's catch-up into a snapshot sooner.
    journal_keep: ClassVar[int | None] = None
    tracks_presence: ClassVar[bool] = False

    def __init__(self, address: Address, deps: Any, cell: ActorCell) -> None:
        self.address = address
        self.deps = deps
        self.seq = 0
        self.snapshot_seq = 0
        self.presence: dict[str, Member] = {}
        self._cell = cell
        self.reset()

    # -- state (pure: no IO) --------------------------------------------------------------------------

    @abstractmethod
    def reset(self) -> None:
        """Set the state of an actor that has no events."""

    @abstractmethod
    def apply(self, event: Event) -> None:
        """Fold one committed event into the state (at replay and after each commit)."""

    @abstractmethod
    def dump(self) -> dict[str, Any]:
        """The state as JSON, for snapshots."""

    @abstractmethod
    def load(self, data: dict[str, Any]) -> None:
        """Restore what `dump` returned."""

    @abstractmethod
    def view(self) -> dict[str, Any]:
        """What subscribers are shown (a snapshot frame)."""

    # -- behaviour ------------------------------------------------------------------------------------

    @abstractmethod
    async def receive(self, message: Message) -> Any: ...

    async def on_activate(self) -> None:  # noqa: B027 - optional hook
        """Called once state is rebuilt: reconcile work a crash may have interrupted."""

    def transaction(self) -> Transaction:
        return Transaction(self)

    async def append(self, type_: str, data: dict[str, Any]) -> Event:
        """One event and no other write: committed by one statement (one round trip, no BEGIN and
        COMMIT), then applied and published, exactly as a `transaction()` with one append."""
        async with self.deps.pool.acquire() as conn:
            event = await journal.fenced_append(
                conn, self.address, self._cell.token, self.seq + 1, type_, data
            )
        self._fold(event)
        self._cell.system.publish(event)
        return event

    def members(self) -> list[dict[str, Any]]:
        return [m.model_dump(mode="json") for m in self.presence.values()]

    def _fold(self, event: Event) -> None:
        if event.type == JOINED:
            member = Member.model_validate(event.data)
            self.presence[member.conn] = member
        elif event.type == LEFT:
            self.presence.pop(event.data["conn"], None)
        self.apply(event)
        self.seq = event.seq

    async def _rebuild(self) -> None:
        async with self.deps.pool.acquire() as conn:
            snap = await journal.load_snapshot(conn, self.address)
            if snap is not None and snap.version == self.snapshot_version:
                self.seq = self.snapshot_seq = snap.seq
                self.load(snap.state["state"])
                self.presence = {m["conn"]: Member.model_validate(m) for m in snap.state["presence"]}
            for event in await journal.events_after(conn, self.address, self.seq, limit=2**31 - 1):
                self._fold(event)

    def _snapshot(self) -> journal.Snapshot:
        state = {"state": self.dump(), "presence": self.members()}
        return journal.Snapshot(seq=self.seq, version=self.snapshot_version, state=state)

    async def _presence(self, message: Join | Leave | NodesDown) -> None:
        if not self.tracks_presence:
            return
        match message:
            case Join(member=member):
                if member.conn in self.presence:
                    return
                await self._cell.system.leases.note_presence(member.node, self.address)
                async with self.transaction() as tx:
                    await tx.append(JOINED, member.model_dump(mode="json"))
            case Leave(conn=conn):
                if conn not in self.presence:
                    return
                async with self.transaction() as tx:
                    await tx.append(LEFT, {"conn": conn})
            case NodesDown(nodes=nodes):
                await self._drop_members_of(set(nodes))

    async def _drop_members_of(self, nodes: set[str]) -> None:
        gone = [m.conn for m in self.presence.values() if m.node in nodes]
        if gone:
            async with self.transaction() as tx:
                for conn in gone:
                    await tx.append(LEFT, {"conn": conn})


class Transaction:
    """One PostgreSQL transaction of an actor: domain writes on `conn`, events, timers. After commit
    the events are applied to the actor's state and published, in order."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.events: list[Event] = []
        self.conn: Any = None
        self._lease: Any = None
        self._tx: Any = None

    async def __aenter__(self) -> Transaction:
        self._lease = self.actor.deps.pool.acquire()
        self.conn = await self._lease.__aenter__()
        try:
            self._tx = self.conn.transaction()
            await self._tx.start()
        except BaseException as exc:
            await self._lease.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def append(self, type_: str, data: dict[str, Any]) -> Event:
        actor = self.actor
        seq = actor.seq + len(self.events) + 1
        if self.events:
            event = await journal.append(self.conn, actor.address, seq, type_, data)
        else:  # the transaction's first append also checks (and locks) the fence: one round trip
            event = await journal.fenced_append(self.conn, actor.address, actor._cell.token, seq, type_, data)
        self.events.append(event)
        return event

    async def schedule(self, key: str, fire_at: datetime, message: Message) -> None:
        await timers.schedule(self.conn, self.actor.address, key, fire_at, message)

    async def cancel(self, key: str) -> None:
        await timers.cancel(self.conn, self.actor.address, key)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None:
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self._lease.__aexit__(exc_type, exc, tb)
        if exc is None:
            for event in self.events:
                self.actor._fold(event)
                self.actor._cell.system.publish(event)


class ActorCell:
    """The runtime side of one actor on this node: lease token, mailbox, processing task."""

    def __init__(self, system: ActorSystem, address: Address, actor_type: type[Actor], token: int) -> None:
        self.system = system
        self.address = address
        self.actor_type = actor_type
        self.token = token
        self.actor: Actor | None = None
        self.mailbox: asyncio.Queue[tuple[Message, asyncio.Future[Any] | None]] = asyncio.Queue(
            system.config.mailbox_size
        )
        self.busy = False
        self.retired = False
        self.snapshotting: asyncio.Task[None] | None = None
        self.last_active = asyncio.get_running_loop().time()
        self.task = asyncio.create_task(self._run(), name=f"actor:{address}")

    def post(self, message: Message, future: asyncio.Future[Any] | None) -> None:
        if self.retired:
            raise journal.StaleOwner()
        try:
            self.mailbox.put_nowait((message, future))
        except asyncio.QueueFull as exc:
            raise Unavailable("系统繁忙，请稍后重试") from exc
        self.last_active = asyncio.get_running_loop().time()

    async def ask(self, message: Message, timeout: float) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.post(message, future)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError as exc:
            future.cancel()
            raise AskTimeout() from exc

    async def _activated(self) -> Actor:
        if self.actor is None:
            actor = self.actor_type(self.address, self.system.deps, self)
            await actor._rebuild()
            if actor.tracks_presence and actor.presence:
                nodes = {m.node for m in actor.presence.values()}
                await actor._drop_members_of(nodes - await self.system.leases.alive(nodes))
            await actor.on_activate()
            self.actor = actor  # only once all of it succeeded: a failure is retried at the next message
        return self.actor

    async def _handle(self, actor: Actor, message: Message) -> Any:
        match message:
            case GetView():
                return View(seq=actor.seq, data=actor.view())
            case Join() | Leave() | NodesDown():
                await actor._presence(message)
                return None
        return await actor.receive(message)

    async def _run(self) -> None:
        actor_var.set(str(self.address))
        while True:
            message, future = await self.mailbox.get()
            if future is not None and future.done():
                continue  # the asker gave up (timeout); don't do work nobody waits for
            self.busy = True
            try:
                actor = await self._activated()
                result = await self._handle(actor, message)
            except asyncio.CancelledError:
                raise
            except journal.StaleOwner as exc:
                logger.warning("actor.fenced", extra={"token": self.token})
                self._fail(future, exc)
                self.system.retire(self, release=False)
                return
            except TongbanError as exc:
                self._fail(future, exc)
            except Exception as exc:
                transient = isinstance(exc, self.system.transient)
                if transient:
                    logger.warning("actor.dependency_unavailable", extra={"error": type(exc).__name__})
                else:
                    logger.exception("actor.crashed", extra={"message_type": type(message).__name__})
                self.actor = None  # rebuilt from persisted state before the next message
                self._fail(future, Unavailable() if transient else TongbanError())
            else:
                if future is not None and not future.done():
                    future.set_result(result)
                if actor.seq - actor.snapshot_seq >= actor.snapshot_every:
                    self._snapshot_soon(actor)
            finally:
                self.busy = False
                self.last_active = asyncio.get_running_loop().time()

    def _snapshot_soon(self, actor: Actor) -> None:
        """Snapshot the actor's state now (in memory, consistent) and write it in the background, after
        the reply: the next messages do not wait for it. One write at a time per actor."""
        if self.snapshotting is not None and not self.snapshotting.done():
            return
        snapshot = actor._snapshot()
        actor.snapshot_seq = snapshot.seq
        self.snapshotting = asyncio.create_task(
            self._write_snapshot(actor, snapshot), name=f"snapshot:{self.address}"
        )

    async def _write_snapshot(self, actor: Actor, snapshot: journal.Snapshot) -> None:
        try:
            async with actor.deps.pool.acquire() as conn:
                await journal.save_snapshot(conn, self.address, snapshot, actor.journal_keep)
        except Exception as exc:  # the journal has everything; the next snapshot catches up
            logger.warning("actor.snapshot_failed", extra={"error": type(exc).__name__})

    @staticmethod
    def _fail(future: asyncio.Future[Any] | None, exc: BaseException) -> None:
        if future is not None and not future.done():
            future.set_exception(exc)

    def stop(self) -> None:
        """Retire: refuse new messages, send the waiting ones elsewhere, stop the task."""
        self.retired = True
        while not self.mailbox.empty():
            _, future = self.mailbox.get_nowait()
            self._fail(future, journal.StaleOwner())
        if self.task is not asyncio.current_task():
            self.task.cancel()


class ActorRef:
    """A handle on one actor, wherever it runs."""

    def __init__(self, system: ActorSystem, address: Address) -> None:
        self.system = system
        self.address = address

    async def ask(self, message: Message, timeout: float) -> Any:
        return await self.system.ask(self.address, message, timeout)

    def tell(self, message: Message) -> None:
        self.system.tell(self.address, message)


class ActorSystem:
    """The actor kinds, the actors this node runs, and the ways to reach the others."""

    def __init__(
        self,
        deps: Any,
        redis: Redis,
        prefix: str,
        config: RuntimeConfig | None = None,
        transient: tuple[type[BaseException], ...] = (),
    ) -> None:
        """`transient`: exceptions that mean a service the actors need is down (database, Redis).
        A handler failing with one answers `Unavailable` (503) instead of an internal error."""
        self.deps = deps
        self.config = config or RuntimeConfig()
        self.transient = transient
        self.node_id = self.config.node_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.leases = Leases(redis, prefix, self.node_id, int(self.config.lease_ttl_s * 1000))
        self.keeper = LeaseKeeper(
            redis,
            self.leases.alive_prefix + self.node_id,
            self.node_id,
            self.config.lease_ttl_s,
            self._on_lapse,
        )
        self._reregistering = False
        self.cluster = Cluster(redis, prefix, self.node_id)
        self.cluster.on_ask = self._answer_forwarded
        self.cluster.node_alive = self._node_alive
        self.registry = Registry()
        self.registry.add(RUNTIME_MESSAGES)
        self._kinds: dict[str, type[Actor]] = {}
        self._cells: dict[Address, ActorCell] = {}
        self._claims: dict[Address, asyncio.Future[ActorCell | str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._event_listeners: list[Any] = []
        self.timers = TimerServiceHandle(self)

    # -- kinds ----------------------------------------------------------------------------------------

    def register(self, actor_type: type[Actor]) -> None:
        self._kinds[actor_type.kind] = actor_type
        self.registry.add(actor_type.messages)

    def kind(self, name: str) -> type[Actor]:
        actor_type = self._kinds.get(name)
        if actor_type is None:
            raise UnknownActor()
        return actor_type

    # -- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.leases.register(await self._fence_floor())
        await self.cluster.start()
        self.keeper.start()
        self._spawn(self._stamp(), "actors-stamp")
        self._spawn(self._heartbeat(), "actors-heartbeat")
        self._spawn(self._sweep(), "actors-passivate")
        self._spawn(self.timers.service.run(), "actors-timers")

    async def stop(self) -> None:
        await asyncio.to_thread(self.keeper.stop)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.timers.service.stop()
        cells = list(self._cells.values())
        self._cells.clear()
        for cell in cells:
            cell.stop()
        for cell in cells:
            with contextlib.suppress(asyncio.CancelledError):
                await cell.task
        with contextlib.suppress(RedisError, OSError):
            for cell in cells:
                await self.leases.release(cell.address, cell.token)
            await self.leases.withdraw()
        await self.cluster.stop()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _fence_floor(self) -> int:
        async with self.deps.pool.acquire() as conn:
            try:
                floor: int = await conn.fetchval("SELECT coalesce(max(token), 0) FROM actor_fence")
            except asyncpg.UndefinedTableError:  # not migrated yet (/readyz says so): no token written
                return 0
        return floor

    async def _stamp(self) -> None:
        """The loop's sign of life for the lease keeper's thread (`actors.keeper`)."""
        while True:
            self.keeper.stamp()
            await asyncio.sleep(STAMP_S)

    def _on_lapse(self) -> None:
        """The keeper found this node's lease gone: others may own our actors now. Drop them all and
        register again (once, however often the keeper reports it meanwhile)."""
        if self._reregistering:
            return
        self._reregistering = True
        logger.warning("actors.lease_lapsed", extra={"actors": len(self._cells)})
        self._drop_all()
        self._spawn(self._register_again(), "actors-register")

    async def _register_again(self) -> None:
        try:
            await self.leases.register(await self._fence_floor())
        except Exception as exc:  # Redis or PostgreSQL down: the keeper reports the lapse again
            logger.warning("actors.register_failed", extra={"error": type(exc).__name__})
        finally:
            self._reregistering = False

    async def _heartbeat(self) -> None:
        """Once per lease TTL: reap the nodes whose lease expired; and if the keeper could not renew
        ours for a whole TTL (Redis unreachable), assume it lapsed and drop our actors."""
        while True:
            await asyncio.sleep(self.config.lease_ttl_s)
            try:
                if self._cells and time.monotonic() - self.keeper.last_ok > self.config.lease_ttl_s:
                    logger.warning("actors.lease_unconfirmed", extra={"actors": len(self._cells)})
                    self._drop_all()
                dead = await self.leases.dead_nodes()
                if dead:
                    logger.info("actors.nodes_down", extra={"nodes": dead})
                    self._tell_presence(NodesDown(nodes=dead))
                    for node in dead:  # actors not active anywhere still show the dead node's users
                        for address in await self.leases.take_presence(node):
                            if address not in self._cells:
                                self.tell(address, NodesDown(nodes=[node]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("actors.heartbeat_failed", extra={"error": type(exc).__name__})

    def _drop_all(self) -> None:
        for cell in list(self._cells.values()):
            self.retire(cell, release=False)

    def _tell_presence(self, message: Message) -> None:
        for cell in list(self._cells.values()):
            if cell.actor_type.tracks_presence:
                with contextlib.suppress(TongbanError):
                    cell.post(message, None)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        idle_s = self.config.idle_s
        while True:
            await asyncio.sleep(max(0.2, min(idle_s / 2, 5.0)))
            now = loop.time()
            for cell in list(self._cells.values()):
                if not cell.busy and cell.mailbox.empty() and now - cell.last_active >= idle_s:
                    self.retire(cell, release=True)

    def retire(self, cell: ActorCell, *, release: bool) -> None:
        if self._cells.get(cell.address) is cell:
            del self._cells[cell.address]
        cell.stop()
        if release:
            self._spawn(self._release(cell), "actors-release")

    async def _release(self, cell: ActorCell) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.leases.release(cell.address, cell.token)

    @property
    def live_count(self) -> int:
        return len(self._cells)

    # -- routing --------------------------------------------------------------------------------------

    def ref(self, address: Address) -> ActorRef:
        self.kind(address.kind)
        return ActorRef(self, address)

    async def ask(self, address: Address, message: Message, timeout: float, hops: int = 0) -> Any:
        self.kind(address.kind)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        attempt = 0
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AskTimeout()
            try:
                target = await self._route(address)
                if isinstance(target, ActorCell):
                    return await target.ask(message, remaining)
                return await self.cluster.forward(target, address, message, remaining, hops + 1)
            except (journal.StaleOwner, NodeUnreachable):
                # The owner moved or died: its lease expires within `lease_ttl_s`, then we reach the
                # new owner (or become it). Retry until the caller's deadline.
                attempt += 1
                await asyncio.sleep(min(0.05 * 2**attempt, 0.5, max(0.0, deadline - loop.time())))

    def tell(
        self, address: Address, message: Message, after: asyncio.Task[Any] | None = None
    ) -> asyncio.Task[Any]:
        """Deliver without waiting for the answer (retried while the actor is unreachable). `after`:
        a previous tell that must be delivered first (a connection's leave after its join)."""
        return self._spawn(self._tell(address, message, after), "actors-tell")

    async def _tell(self, address: Address, message: Message, after: asyncio.Task[Any] | None) -> None:
        if after is not None:
            with contextlib.suppress(Exception):
                await after
        for attempt in range(TELL_ATTEMPTS):
            try:
                await self.ask(address, message, self.config.ask_timeout_s)
                return
            except TongbanError as exc:
                if exc.status < 500 or attempt == TELL_ATTEMPTS - 1:
                    logger.warning("actors.tell_failed", extra={"to": str(address), "code": exc.code})
                    return

    async def _route(self, address: Address) -> ActorCell | str:
        cell = self._cells.get(address)
        if cell is not None and not cell.retired:
            return cell
        claim = self._claims.get(address)
        if claim is None:
            claim = self._claims[address] = asyncio.get_running_loop().create_future()
            try:
                claim.set_result(await self._claim(address))
            except BaseException as exc:
                claim.set_exception(exc)
                claim.exception()  # retrieved: the other waiters re-raise it
            finally:
                del self._claims[address]
        return await asyncio.shield(claim)

    async def _claim(self, address: Address) -> ActorCell | str:
        try:
            claim = await self.leases.acquire(address)
        except (RedisError, OSError) as exc:
            raise Unavailable() from exc
        if claim.owner is not None:
            return claim.owner
        assert claim.token is not None
        cell = self._cells[address] = ActorCell(self, address, self._kinds[address.kind], claim.token)
        return cell

    async def _node_alive(self, node: str) -> bool:
        return bool(await self.leases.alive({node}))

    async def _answer_forwarded(
        self, address: Address, data: dict[str, Any], timeout: float, hops: int
    ) -> Any:
        try:
            message = self.registry.parse(data)
        except UnknownMessage as exc:  # another version of the code, or garbage on the channel
            raise BadRequest("无法识别的消息") from exc
        if hops > MAX_HOPS:
            raise NodeUnreachable()
        return await self.ask(address, message, timeout, hops)

    # -- events ---------------------------------------------------------------------------------------

    def on_event(self, listener: Any) -> None:
        """`listener(address, seq, wire)` gets every committed event of this node's actors and every
        event of watched actors on other nodes (the subscription hub)."""
        self._event_listeners.append(listener)
        self.cluster.on_event = listener

    def publish(self, event: Event) -> None:
        """Hand a committed event to this node's subscribers and to the other nodes. The local fan-out
        runs next on the loop (in order), so the actor goes on with its next message meanwhile."""
        address = Address.parse(event.actor)
        wire = event.model_dump_json()
        loop = asyncio.get_running_loop()
        for listener in self._event_listeners:
            loop.call_soon(listener, address, event.seq, wire)
        self.cluster.publish_event(address, event.seq, wire)


class TimerServiceHandle:
    """The node's timer poller, delivering through the system's routing."""

    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        self.service = timers.TimerService(
            system.deps.pool, system.registry, self._deliver, system.config.timer_poll_s
        )

    async def _deliver(self, address: Address, message: Message) -> Any:
        return await self.system.ask(address, message, self.system.config.ask_timeout_s)
