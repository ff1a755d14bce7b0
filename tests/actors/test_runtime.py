"""The actor runtime against real PostgreSQL and Redis: one message at a time, supervision, snapshots,
passivation, durable timers, and several nodes (in one process here: each `ActorSystem` is a node with
its own lease; tests/server/test_cluster.py kills real server processes)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from actors.cluster import RemoteError
from actors.events import Address
from actors.hub import Hub, Subscription, next_frames
from actors.keeper import sync_client
from actors.messages import GetView, Join, Leave, Member, Message, NodesDown, View
from actors.runtime import ActorSystem, RuntimeConfig, UnknownActor
from server.errors import Conflict, TongbanError
from server.wsframe import frame_text
from tests.actors.counter import (
    Add,
    Boom,
    Counter,
    Deps,
    Get,
    Refuse,
    Room,
    SetTimer,
    Total,
    counter_address,
    room_address,
)  # fmt: skip

Node = Callable[..., Awaitable[ActorSystem]]


@pytest.fixture
async def node(pool, redis, redis_prefix) -> AsyncIterator[Node]:
    """Start nodes sharing one database and one Redis namespace (fresh per test)."""
    prefix = f"{redis_prefix}rt:{uuid.uuid4().hex[:8]}:"
    started: list[ActorSystem] = []

    async def start(name: str = "a", **config: float) -> ActorSystem:
        settings = {"lease_ttl_s": 1.0, "timer_poll_s": 0.1, "ask_timeout_s": 5.0, **config}
        system = ActorSystem(
            Deps(pool=pool, node=name), redis, prefix, RuntimeConfig(node_id=name, **settings)
        )
        system.register(Counter)
        system.register(Room)
        await system.start()
        started.append(system)
        return system

    yield start
    for system in started:
        await system.stop()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110 - the state polled lives in Redis/the runtime
            await asyncio.sleep(0.05)


async def test_concurrent_asks_are_processed_one_at_a_time_and_each_gets_its_answer(node):
    system = await node()
    address = counter_address(uuid.uuid4())
    answers = await asyncio.gather(*(system.ask(address, Add(by=1), 5) for _ in range(50)))
    assert sorted(a.total for a in answers) == list(range(1, 51))  # no lost update, no two alike
    assert [a.seq for a in sorted(answers, key=lambda a: a.seq)] == list(range(1, 51))


async def test_a_crashing_handler_answers_an_error_and_the_actor_is_rebuilt_from_its_journal(node):
    system = await node()
    address = counter_address(uuid.uuid4())
    await system.ask(address, Add(by=7), 5)
    with pytest.raises(TongbanError) as crash:
        await system.ask(address, Boom(), 5)
    assert crash.value.status == 500
    assert (await system.ask(address, Get(), 5)).total == 7  # not the -1000 left in memory
    with pytest.raises(Conflict):
        await system.ask(address, Refuse(), 5)  # a refusal is not a crash: state kept, same actor
    assert (await system.ask(address, Add(by=1), 5)).total == 8


async def test_an_unknown_actor_kind_is_refused_as_not_found(node):
    system = await node()
    with pytest.raises(UnknownActor) as refused:
        await system.ask(Address(kind="nope", id=uuid.uuid4()), Get(), 5)
    assert refused.value.status == 404


async def test_activation_starts_from_the_latest_snapshot_and_replays_only_later_events(node, pool):
    system = await node(idle_s=0.3)
    ident = uuid.uuid4()
    address = counter_address(ident)
    for _ in range(7):
        await system.ask(address, Add(by=2), 5)
    snapshot_seq = "SELECT seq FROM actor_snapshot WHERE actor_id = $1"
    await wait_for(lambda: _fetch_equals(pool, snapshot_seq, ident, 5))  # written in the background
    async with pool.acquire() as conn:
        snap = await conn.fetchrow("SELECT seq, state FROM actor_snapshot WHERE actor_id = $1", ident)
        # Events before the snapshot are no longer needed: remove them to prove they are not read.
        await conn.execute("DELETE FROM actor_event WHERE actor_id = $1 AND seq <= $2", ident, snap["seq"])
    assert snap["seq"] == 5
    assert snap["state"]["state"] == {"total": 10}
    await wait_for(lambda: _async(system.live_count == 0))  # passivated while idle
    assert (await system.ask(address, Get(), 5)).total == 14  # snapshot 10 + events 6 and 7
    assert (str(address), 5) in Counter.loads


async def _fetch_equals(pool, query: str, ident: uuid.UUID, expected: object) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval(query, ident) == expected


async def test_a_compacting_actor_deletes_the_events_its_snapshot_holds_except_the_newest_ones(
    node, pool, monkeypatch
):
    monkeypatch.setattr(Counter, "journal_keep", 2)
    system = await node()
    ident = uuid.uuid4()
    address = counter_address(ident)
    for _ in range(12):
        await system.ask(address, Add(by=1), 5)
    oldest = "SELECT min(seq) FROM actor_event WHERE actor_kind = 'counter' AND actor_id = $1"
    await wait_for(lambda: _fetch_equals(pool, oldest, ident, 9))  # snapshot at 10, keep 2 behind it
    async with pool.acquire() as conn:
        kept = await conn.fetch("SELECT seq FROM actor_event WHERE actor_id = $1 ORDER BY seq", ident)
    assert [r["seq"] for r in kept] == [9, 10, 11, 12]
    await system.stop()
    again = await node("b")
    assert (await again.ask(address, Get(), 5)).total == 12  # snapshot 10 + events 11 and 12


async def test_an_idle_actor_is_passivated_and_comes_back_with_its_state(node, redis, redis_prefix):
    system = await node(idle_s=0.3)
    address = counter_address(uuid.uuid4())
    await system.ask(address, Add(by=3), 5)
    assert system.live_count == 1
    await wait_for(lambda: _async(system.live_count == 0))
    await wait_for(lambda: _lease_gone(system, address))  # the lease is given back too
    assert (await system.ask(address, Add(by=1), 5)).total == 4


async def test_a_durable_timer_fires_after_the_node_that_set_it_is_gone(node):
    first = await node("a")
    address = counter_address(uuid.uuid4())
    await first.ask(address, SetTimer(at=datetime.now(UTC) + timedelta(seconds=1.5), by=5), 5)
    await first.stop()  # the node goes away before the timer is due
    second = await node("b")
    await wait_for(lambda: _total_is(second, address, 5))


async def test_a_message_for_an_actor_owned_by_another_node_is_forwarded_and_answered_in_kind(node):
    a, b = await node("a"), await node("b")
    address = counter_address(uuid.uuid4())
    assert (await a.ask(address, Add(by=1), 5)).node == "a"
    answer = await b.ask(address, Add(by=1), 5)
    assert isinstance(answer, Total)
    assert (answer.node, answer.total) == ("a", 2)
    view = await b.ask(address, GetView(), 5)
    assert isinstance(view, View)
    assert view.data == {"total": 2}
    with pytest.raises(RemoteError) as refused:
        await b.ask(address, Refuse(), 5)
    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert b.live_count == 0


@pytest.mark.parametrize("one_statement", [False, True], ids=["transaction", "one-statement-append"])
async def test_a_node_that_lost_its_lease_cannot_write_and_its_callers_reach_the_new_owner(
    node, redis, one_statement
):
    a = await node("a", lease_ttl_s=30.0)
    b = await node("b", lease_ttl_s=30.0)
    ident = uuid.uuid4()
    address = counter_address(ident)
    await a.ask(address, Add(by=1), 5)
    # a stalls (its lease lapses) while keeping the actor in memory; b takes the actor over.
    await redis.delete(a.leases.alive_prefix + "a")
    assert (await b.ask(address, Add(by=10), 5)).node == "b"
    # a still believes it owns the actor: its write is refused by the journal's fence, it lets the
    # actor go, and the ask is routed to b.
    await redis.set(a.leases.alive_prefix + "a", "a")
    answer = await a.ask(address, Add(by=100, one_statement=one_statement), 5)
    assert (answer.node, answer.total) == ("b", 111)
    assert a.live_count == 0
    async with a.deps.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT seq, payload FROM actor_event WHERE actor_id = $1 ORDER BY seq", ident
        )
    assert [(r["seq"], r["payload"]["by"]) for r in rows] == [(1, 1), (2, 10), (3, 100)]


async def test_a_node_whose_loop_is_stuck_longer_than_its_lease_loses_it_and_registers_again_after(
    node, redis
):
    a = await node("a", lease_ttl_s=1.0)
    address = counter_address(uuid.uuid4())
    await a.ask(address, Add(by=2), 5)
    alive = a.leases.alive_prefix + "a"
    blocking = sync_client(redis)
    try:
        time.sleep(2.5)  # noqa: ASYNC251 - the point: the node's event loop does not turn for 2.5 s
        assert blocking.exists(alive) == 0  # the keeper's thread stopped renewing: the lease lapsed
    finally:
        blocking.close()
    await wait_for(lambda: _async(a.live_count == 0))  # the keeper saw it: actors dropped …
    await wait_for(lambda: _exists(redis, alive))  # … and the node registered again
    assert (await a.ask(address, Add(by=1), 5)).total == 3  # back from the journal


async def _exists(redis, key: str) -> bool:
    return bool(await redis.exists(key))


async def test_a_busy_node_keeps_its_lease_while_its_loop_turns(node, redis):
    a = await node("a", lease_ttl_s=2.0)
    address = counter_address(uuid.uuid4())
    await a.ask(address, Add(by=2), 5)
    deadline = asyncio.get_running_loop().time() + 4.0
    while asyncio.get_running_loop().time() < deadline:  # 4 s of 0.2 s stalls with a turn in between
        time.sleep(0.2)  # noqa: ASYNC251 - a saturated loop: every turn takes long
        await asyncio.sleep(0)
    assert await redis.exists(a.leases.alive_prefix + "a") == 1
    assert a.live_count == 1  # nothing dropped
    assert (await a.ask(address, Add(by=1), 5)).total == 3


async def test_the_actors_of_a_dead_node_are_taken_over_within_the_lease_time(node):
    a = await node("a", lease_ttl_s=1.0)
    b = await node("b", lease_ttl_s=1.0)
    address = counter_address(uuid.uuid4())
    await a.ask(address, Add(by=4), 5)
    a.cluster.on_ask = None  # a stops answering, as if it hung; then it is gone
    for task in list(a._tasks):
        task.cancel()  # no more heartbeats: its lease lapses
    await a.cluster.stop()
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await b.ask(address, Add(by=1), 5)
    assert (answer.node, answer.total) == ("b", 5)
    assert loop.time() - started < 4.0  # lease 1 s, plus retry backoff (not the 5 s ask timeout)


async def test_events_reach_subscribers_on_other_nodes_in_order(node):
    a, b = await node("a"), await node("b")
    hub_b = Hub(b)
    address = counter_address(uuid.uuid4())
    await a.ask(address, Add(by=1), 5)
    woken = asyncio.Event()
    sub = Subscription(address, 100, None, woken.set)
    await hub_b.add(sub)
    first = await next_frames(hub_b, sub, 5)
    assert frame_text(first[0]).startswith('{"type": "snapshot", "seq": 1')
    for _ in range(5):
        await a.ask(address, Add(by=1), 5)
    seen: list[int] = []
    async with asyncio.timeout(5):
        while len(seen) < 5:
            await woken.wait()
            woken.clear()
            seen += [_seq(f) for f in await next_frames(hub_b, sub, 5)]
    assert seen == [2, 3, 4, 5, 6]
    hub_b.remove(sub)


async def test_a_subscriber_that_overflows_its_queue_gets_one_snapshot_instead_of_the_backlog(node):
    system = await node()
    hub = Hub(system)
    address = counter_address(uuid.uuid4())
    sub = Subscription(address, 3, None, lambda: None)
    await hub.add(sub)
    await next_frames(hub, sub, 5)  # the first snapshot
    for _ in range(10):
        await system.ask(address, Add(by=1), 5)  # the subscriber reads nothing meanwhile
    frames = await next_frames(hub, sub, 5)
    assert sub.overflows >= 1
    assert frame_text(frames[0]).startswith('{"type": "snapshot", "seq": ')
    assert '"total": 10' in frame_text(frames[0])
    assert all("snapshot" not in frame_text(f) for f in frames[1:])
    assert sub.last_seq == 10


async def test_a_subscriber_that_missed_an_event_between_nodes_gets_it_from_the_journal(node):
    system = await node()
    hub = Hub(system)
    address = counter_address(uuid.uuid4())
    sub = Subscription(address, 100, 0, lambda: None)
    await hub.add(sub)
    assert await next_frames(hub, sub, 5) == []
    await system.ask(address, Add(by=1), 5)
    await system.ask(address, Add(by=1), 5)
    sub.queue.pop(0)  # event 1 "lost" on its way
    frames = await next_frames(hub, sub, 5)
    assert [_seq(f) for f in frames] == [1, 2]


async def _async(value: bool) -> bool:
    return value


async def _lease_gone(system: ActorSystem, address: Address) -> bool:
    return not await system.leases.redis.exists(f"{system.leases.prefix}owner:{address.kind}:{address.id}")


async def _total_is(system: ActorSystem, address: Address, total: int) -> bool:
    answer: Total = await system.ask(address, Get(), 5)
    return answer.total == total


async def test_after_redis_reconnects_every_subscriber_reads_what_it_missed_from_the_journal(node):
    a, b = await node("a"), await node("b")
    hub_b = Hub(b)
    address = counter_address(uuid.uuid4())
    sub = Subscription(address, 100, 0, lambda: None)
    await hub_b.add(sub)
    await next_frames(hub_b, sub, 5)
    for _ in range(3):
        await a.ask(address, Add(by=1), 5)
    sub.queue.clear()  # published while b's pub/sub connection was down: never delivered
    assert await next_frames(hub_b, sub, 5) == []
    hub_b.recheck()  # what the cluster calls once its pub/sub connection is back
    frames = await next_frames(hub_b, sub, 5)
    assert [_seq(f) for f in frames] == [1, 2, 3]


def _member(conn: str, node: str) -> Join:
    return Join(member=Member(conn=conn, node=node, user_id=uuid.uuid4(), name=f"专家{conn}"))


async def test_presence_is_journaled_and_the_connections_of_a_dead_node_leave(node, pool):
    a = await node("a", idle_s=0.3)
    ident = uuid.uuid4()
    address = room_address(ident)
    await a.ask(address, _member("c1", "a"), 5)
    await a.ask(address, _member("c2", "ghost"), 5)  # a node that is not alive
    await a.ask(address, _member("c3", "b"), 5)
    await a.ask(address, _member("c1", "a"), 5)  # a repeated join changes nothing
    assert (await a.ask(address, GetView(), 5)).data["members"] == ["c1", "c2", "c3"]
    await a.ask(address, NodesDown(nodes=["b"]), 5)
    await a.ask(address, Leave(conn="nobody"), 5)  # unknown: ignored
    assert (await a.ask(address, GetView(), 5)).data["members"] == ["c1", "c2"]
    # Passivated, then back: members of nodes that are not alive are let go at activation.
    await wait_for(lambda: _async(a.live_count == 0))
    assert (await a.ask(address, GetView(), 5)).data["members"] == ["c1"]
    async with pool.acquire() as conn:
        types = [r["type"] for r in await conn.fetch(
            "SELECT type FROM actor_event WHERE actor_id = $1 ORDER BY seq", ident
        )]  # fmt: skip
    assert types == ["presence.joined"] * 3 + ["presence.left"] * 2


async def test_a_dead_nodes_connections_leave_even_an_actor_that_is_not_active_anywhere(node, pool):
    a = await node("a", idle_s=0.3, lease_ttl_s=0.6)
    b = await node("b", lease_ttl_s=0.6)
    ident = uuid.uuid4()
    address = room_address(ident)
    await b.ask(address, _member("on-a", "a"), 5)  # b owns the room; one connection held by a …
    await b.ask(address, _member("on-b", "b"), 5)  # … and one by b
    await b.stop()  # b goes away (cleanly here: its lease ends at once), the room with it
    await wait_for(lambda: _event_count(pool, ident, "presence.left", 1))  # a notices, without a message
    assert (await a.ask(address, GetView(), 5)).data["members"] == ["on-a"]


async def _event_count(pool, ident: uuid.UUID, type_: str, count: int) -> bool:
    async with pool.acquire() as conn:
        n = await conn.fetchval(
            "SELECT count(*) FROM actor_event WHERE actor_id = $1 AND type = $2", ident, type_
        )
    return bool(n == count)


def _seq(frame: bytes) -> int:
    return int(frame_text(frame).split('"seq":')[1].split(",")[0])


async def test_an_ask_forwarded_to_a_node_that_dies_with_it_is_retried_on_the_new_owner(node):
    a = await node("a", lease_ttl_s=1.0)
    b = await node("b", lease_ttl_s=1.0)
    address = counter_address(uuid.uuid4())
    await a.ask(address, Add(by=1), 5)

    async def hang(*_: object) -> None:
        await asyncio.Event().wait()  # a takes the ask and never answers: it is dying

    a.cluster.on_ask = hang
    for task in list(a._tasks):
        task.cancel()  # its heartbeat stops: the lease lapses within a second
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await b.ask(address, Add(by=1), 8)
    assert (answer.node, answer.total) == ("b", 2)
    assert loop.time() - started < 6.0  # lease 1 s + a liveness check: not the whole 8 s ask timeout


class Stranger(Message):
    """A message no node registered (another version of the code, or garbage)."""

    type: Literal["counter.stranger"] = "counter.stranger"


async def test_a_forwarded_message_of_an_unknown_type_is_refused_as_bad_and_the_owner_carries_on(node):
    a, b = await node("a"), await node("b")
    address = counter_address(uuid.uuid4())
    await a.ask(address, Add(by=1), 5)
    with pytest.raises(RemoteError) as refused:
        await b.cluster.forward("a", address, Stranger(), 5, 1)
    assert (refused.value.status, refused.value.code) == (400, "bad_request")
    assert (await b.ask(address, Add(by=1), 5)).total == 2


async def test_a_subscriber_keeps_receiving_across_the_passivation_of_its_actor(node):
    system = await node(idle_s=0.3)
    hub = Hub(system)
    address = counter_address(uuid.uuid4())
    await system.ask(address, Add(by=1), 5)
    woken = asyncio.Event()
    sub = Subscription(address, 100, None, woken.set)
    await hub.add(sub)
    assert _seq(next(iter(await next_frames(hub, sub, 5)))) == 1  # the snapshot at seq 1
    await wait_for(lambda: _async(system.live_count == 0))  # freed while watched
    await system.ask(address, Add(by=1), 5)  # back from its snapshot and journal
    async with asyncio.timeout(5):
        await woken.wait()
    assert [_seq(f) for f in await next_frames(hub, sub, 5)] == [2]
    hub.remove(sub)


async def test_raw_bytes_published_by_one_node_reach_the_nodes_subscribed_to_that_channel_until_they_leave(
    node,
):
    a, b = await node("a"), await node("b")
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await b.cluster.subscribe_raw("aw:doc-1", received.put_nowait)
    payload = bytes(range(256))  # not UTF-8: passed on as it is
    assert a.cluster.publish_raw("aw:doc-1", payload)
    a.cluster.publish_raw("aw:doc-2", b"another channel")
    async with asyncio.timeout(5):
        assert await received.get() == payload
    await b.cluster.unsubscribe_raw("aw:doc-1")
    a.cluster.publish_raw("aw:doc-1", b"after leaving")
    await b.cluster.subscribe_raw("aw:doc-3", received.put_nowait)  # confirmed after the publish above
    a.cluster.publish_raw("aw:doc-3", b"marker")
    async with asyncio.timeout(5):
        assert await received.get() == b"marker"  # nothing from doc-1 came before it
