"""What actors receive: the `Message` base every actor message extends, the runtime's own messages
(view, presence), and the registry that turns a message's wire form back into its class (messages
cross nodes through Redis and wait in PostgreSQL as durable timers).

A message names its wire `type` and, when it is asked, the model of its `reply`, so an answer that
crossed nodes is parsed back into what a local ask would have returned.
Must not: carry large payloads (ids and small values: they travel through Redis).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal, TypeAlias
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

Reply: TypeAlias = type[BaseModel] | None  # the class body's `type` field hides the builtin


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    reply: ClassVar[Reply] = None


class View(BaseModel):
    """What a subscriber is shown of an actor: its public state as of event `seq`."""

    seq: int
    data: dict[str, Any]


class GetView(Message):
    type: Literal["runtime.get_view"] = "runtime.get_view"
    reply: ClassVar[Reply] = View


class Member(BaseModel):
    """One connection present at an actor."""

    model_config = ConfigDict(frozen=True)

    conn: str  # connection id, unique per websocket
    node: str  # the node holding the websocket
    user_id: UUID
    name: str


class Join(Message):
    type: Literal["runtime.join"] = "runtime.join"
    member: Member


class Leave(Message):
    type: Literal["runtime.leave"] = "runtime.leave"
    conn: str


class NodesDown(Message):
    """These nodes are dead: their connections left without saying so."""

    type: Literal["runtime.nodes_down"] = "runtime.nodes_down"
    nodes: list[str]


RUNTIME_MESSAGES: tuple[type[Message], ...] = (GetView, Join, Leave, NodesDown)


class UnknownMessage(ValueError):
    """A wire message whose type no registered actor accepts, or whose fields are wrong."""


class Registry:
    """Wire type → message class, for everything any registered actor kind accepts."""

    def __init__(self) -> None:
        self._types: dict[str, type[Message]] = {}

    def add(self, types: Iterable[type[Message]]) -> None:
        for cls in types:
            wire = cls.model_fields["type"].default
            if not isinstance(wire, str):
                raise ValueError(f"{cls.__name__} has no default wire type")
            known = self._types.setdefault(wire, cls)
            if known is not cls:
                raise ValueError(f"wire type {wire!r} is claimed by {known.__name__} and {cls.__name__}")

    def parse(self, data: dict[str, Any]) -> Message:
        cls = self._types.get(str(data.get("type")))
        if cls is None:
            raise UnknownMessage(f"unknown message type {data.get('type')!r}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise UnknownMessage(str(exc)) from exc


def encode_reply(result: Any) -> Any:
    """A reply as JSON-ready data (a model is dumped; plain JSON values pass)."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def decode_reply(message: Message, data: Any) -> Any:
    model = type(message).reply
    if model is None or data is None:
        return data
    return model.model_validate(data)
