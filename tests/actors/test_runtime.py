"""The actor runtime with a real journal in PostgreSQL: one message at a time, ask with a time limit,
supervision that rebuilds a crashed actor from what it persisted, and ordered fan-out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from actors import journal
from actors.events import Address
from actors.runtime import REPLAY_LIMIT, Actor, ActorSystem
from server.errors import AskTimeout, Conflict, TongbanError, Unavailable


class Increment(BaseModel):
    by: int = 1


class Explode(BaseModel):
    pass


class Reject(BaseModel):
    pass


class Hold(BaseModel):
    pass


class LoseDatabase(BaseModel):
    pass


@dataclass
class Deps:
    pool: Any
    gate: asyncio.Event


class CounterActor(Actor):
    """Journals `counter.incremented`; its state is the sum, rebuilt from the journal."""

    kind = "test_counter"
    activations: ClassVar[int] = 0

    async def activate(self) -> None:
        type(self).activations += 1
        self.total = 0
        async with self.deps.pool.acquire() as conn:
            for event in await journal.events_after(conn, self.address, 0, 100_000):
                self.total += event.data["by"]
                self.seq = event.seq

    def snapshot(self) -> dict[str, Any]:
        return {"total": self.total}

    async def receive(self, message: BaseModel) -> Any:
        match message:
            case Increment(by=by):
                async with self.deps.pool.acquire() as conn:
                    await asyncio.sleep(0)  # yield mid-handler: a second message must still wait its turn
                    event = await journal.append(
                        conn, self.address, self.seq + 1, "counter.incremented", {"by": by}
                    )
                self.total += by
                self.publish(event)
                return self.total
            case Explode():
                self.total = -999  # corrupt in-memory state, then crash
                raise RuntimeError("boom")
            case Reject():
                raise Conflict("拒绝")
            case LoseDatabase():
                raise ConnectionRefusedError("database went away")
            case Hold():
                await self.deps.gate.wait()
                return "released"
        raise TypeError(type(message).__name__)


@pytest.fixture
async def system(pool) -> AsyncIterator[ActorSystem]:
    s = ActorSystem(Deps(pool=pool, gate=asyncio.Event()), transient=(ConnectionRefusedError,))
    s.register(CounterActor)
    yield s
    await s.stop()


def counter() -> Address:
    return Address(kind="test_counter", id=uuid.uuid4())


async def test_concurrent_asks_are_handled_one_at_a_time_in_arrival_order(system):
    ref = system.ref(counter())
    results = await asyncio.gather(*(ref.ask(Increment(), timeout=5) for _ in range(50)))
    assert results == list(range(1, 51))


async def test_an_ask_that_is_not_answered_in_time_raises_and_the_actor_goes_on(system):
    ref = system.ref(counter())
    with pytest.raises(AskTimeout):
        await ref.ask(Hold(), timeout=0.05)
    system.deps.gate.set()
    assert await ref.ask(Increment(by=2), timeout=5) == 2


async def test_a_crashing_handler_answers_an_error_and_the_actor_is_rebuilt_from_its_journal(system):
    ref = system.ref(counter())
    await ref.ask(Increment(by=5), timeout=5)
    before = CounterActor.activations
    with pytest.raises(TongbanError) as crashed:
        await ref.ask(Explode(), timeout=5)
    assert crashed.value.status == 500
    assert await ref.ask(Increment(by=1), timeout=5) == 6  # not -998: state came back from the journal
    assert CounterActor.activations == before + 1


async def test_a_handler_failing_because_a_service_is_down_answers_503_and_the_actor_recovers(system):
    ref = system.ref(counter())
    await ref.ask(Increment(by=2), timeout=5)
    with pytest.raises(Unavailable):
        await ref.ask(LoseDatabase(), timeout=5)
    assert await ref.ask(Increment(by=1), timeout=5) == 3


async def test_a_rejected_message_leaves_state_as_it_was_without_a_restart(system):
    ref = system.ref(counter())
    await ref.ask(Increment(by=3), timeout=5)
    before = CounterActor.activations
    with pytest.raises(Conflict):
        await ref.ask(Reject(), timeout=5)
    assert await ref.ask(Increment(by=1), timeout=5) == 4
    assert CounterActor.activations == before


async def test_tell_delivers_without_waiting_and_in_order_with_asks(system):
    ref = system.ref(counter())
    for _ in range(10):
        ref.tell(Increment())
    assert await ref.ask(Increment(), timeout=5) == 11


async def test_subscribers_receive_every_event_in_sequence_order(system):
    ref = system.ref(counter())
    subscribed = await ref.subscribe(None, 100, timeout=5)
    assert (subscribed.seq, subscribed.snapshot) == (0, {"total": 0})
    for _ in range(20):
        ref.tell(Increment())
    seqs = [(await subscribed.subscription.next()).seq for _ in range(20)]  # type: ignore[union-attr]
    assert seqs == list(range(1, 21))


async def test_a_subscriber_that_falls_behind_is_closed_without_slowing_the_others(system):
    ref = system.ref(counter())
    slow = (await ref.subscribe(None, 2, timeout=5)).subscription
    fast = (await ref.subscribe(None, 100, timeout=5)).subscription
    for _ in range(10):
        await ref.ask(Increment(), timeout=5)
    assert slow.lagging
    assert slow.closed.is_set()
    assert [(await fast.next()).seq for _ in range(10)] == list(range(1, 11))  # type: ignore[union-attr]
    assert [(await slow.next()).seq for _ in range(2)] == [1, 2]  # type: ignore[union-attr]
    assert await slow.next() is None  # then it ends: the client must resubscribe with its last seq


async def test_a_resubscribing_client_gets_exactly_the_events_it_missed(system):
    ref = system.ref(counter())
    for _ in range(5):
        await ref.ask(Increment(), timeout=5)
    again = await ref.subscribe(2, 100, timeout=5)
    assert again.snapshot is None
    assert [e.seq for e in again.missed or []] == [3, 4, 5]
    live = ref.ask(Increment(), timeout=5)
    await live
    assert (await again.subscription.next()).seq == 6  # type: ignore[union-attr]


async def test_a_client_too_far_behind_gets_a_snapshot_instead_of_the_backlog(system):
    ref = system.ref(counter())
    await asyncio.gather(*(ref.ask(Increment(), timeout=30) for _ in range(REPLAY_LIMIT + 5)))
    behind = await ref.subscribe(1, 10, timeout=5)
    assert behind.missed is None
    assert behind.snapshot == {"total": REPLAY_LIMIT + 5}


async def test_an_actor_of_an_unregistered_kind_cannot_be_addressed(system):
    with pytest.raises(ValueError, match="no actor kind"):
        system.ref(Address(kind="nope", id=uuid.uuid4()))
