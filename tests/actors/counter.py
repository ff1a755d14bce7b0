"""A small actor for the runtime's tests: a counter that can crash, refuse, and set timers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from actors.events import Address, Event
from actors.messages import Message, Reply
from actors.runtime import Actor
from server.errors import Conflict


class Total(BaseModel):
    total: int
    seq: int
    node: str


class Add(Message):
    type: Literal["counter.add"] = "counter.add"
    reply: ClassVar[Reply] = Total
    by: int
    one_statement: bool = False  # through `Actor.append` instead of a transaction


class Get(Message):
    type: Literal["counter.get"] = "counter.get"
    reply: ClassVar[Reply] = Total


class Boom(Message):
    type: Literal["counter.boom"] = "counter.boom"


class Refuse(Message):
    type: Literal["counter.refuse"] = "counter.refuse"


class SetTimer(Message):
    type: Literal["counter.set_timer"] = "counter.set_timer"
    at: datetime
    by: int


class Fire(Message):
    type: Literal["counter.fire"] = "counter.fire"
    by: int


@dataclass(frozen=True)
class Deps:
    pool: Any
    node: str


class Counter(Actor):
    kind = "counter"
    messages = (Add, Get, Boom, Refuse, SetTimer, Fire)
    snapshot_every = 5
    loads: ClassVar[list[tuple[str, int]]] = []  # (address, snapshot seq) of every snapshot load

    total: int

    def reset(self) -> None:
        self.total = 0

    def apply(self, event: Event) -> None:
        if event.type in ("counter.added", "counter.fired"):
            self.total += event.data["by"]

    def dump(self) -> dict[str, Any]:
        return {"total": self.total}

    def load(self, data: dict[str, Any]) -> None:
        self.total = data["total"]
        Counter.loads.append((str(self.address), self.snapshot_seq))

    def view(self) -> dict[str, Any]:
        return {"total": self.total}

    def answer(self) -> Total:
        return Total(total=self.total, seq=self.seq, node=self.deps.node)

    async def receive(self, message: Message) -> Any:
        match message:
            case Add(by=by, one_statement=True):
                await self.append("counter.added", {"by": by})
                return self.answer()
            case Add(by=by):
                async with self.transaction() as tx:
                    await tx.append("counter.added", {"by": by})
                return self.answer()
            case Get():
                return self.answer()
            case Boom():
                self.total = -1_000  # state corrupted in memory: supervision must rebuild it
                raise RuntimeError("boom")
            case Refuse():
                raise Conflict("不行")
            case SetTimer(at=at, by=by):
                async with self.transaction() as tx:
                    await tx.schedule("fire", at, Fire(by=by))
                return None
            case Fire(by=by):
                async with self.transaction() as tx:
                    await tx.append("counter.fired", {"by": by})
                return None
        raise TypeError(type(message).__name__)


def counter_address(ident: Any) -> Address:
    return Address(kind="counter", id=ident)


class Room(Counter):
    """The counter, with presence (who is connected to it)."""

    kind = "room"
    tracks_presence = True

    def view(self) -> dict[str, Any]:
        return {"total": self.total, "members": sorted(m.conn for m in self.presence.values())}


def room_address(ident: Any) -> Address:
    return Address(kind="room", id=ident)
