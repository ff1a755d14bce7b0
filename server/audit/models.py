"""Audit entries as written, read and reported."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["success", "failure"]


class AuditRecord(BaseModel):
    """What a caller records: who did what to which object, from where, and how it ended."""

    model_config = ConfigDict(frozen=True)

    action: str  # dotted, e.g. "identity.login", "project.create"
    outcome: Outcome = "success"
    actor_id: UUID | None = None
    actor_login: str | None = None
    org_id: UUID | None = None
    ip: str | None = None
    target: str | None = None  # e.g. "project:<uuid>"
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditEntry(AuditRecord):
    seq: int
    at: datetime
    prev_mac: str
    mac: str


class AuditPage(BaseModel):
    items: list[AuditEntry]


class ChainBreak(BaseModel):
    """The first place the chain does not hold."""

    seq: int
    problem: Literal["altered", "removed", "reordered"]
    message: str


class VerifyReport(BaseModel):
    entries: int
    ok: bool
    first_break: ChainBreak | None = None
