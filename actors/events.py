"""The event envelope every actor publishes: what crosses the journal, Redis and websockets.

Must not: carry objects that are not JSON (payloads are plain JSON values).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Address(BaseModel):
    """Which actor: its kind and the id of the thing it owns."""

    model_config = ConfigDict(frozen=True)

    kind: str
    id: UUID

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        kind, _, ident = text.partition(":")
        return cls(kind=kind, id=UUID(ident))


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: str  # str(Address)
    seq: int
    type: str  # dotted wire name, e.g. "project.created"
    at: datetime
    data: dict[str, Any]
