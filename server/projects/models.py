"""Project request/response models."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(
        min_length=4,
        max_length=40,
        pattern=r"^[0-9A-Za-z-]+$",
        description="项目代码 (digits, letters, hyphens)",
    )
    name: str = Field(min_length=2, max_length=200, description="项目名称")


class ProjectOut(BaseModel):
    id: UUID
    code: str
    name: str
    owner_org_id: UUID
    status: str
    status_label: str
    archive_no: str | None
    seq: int


class ProjectRow(BaseModel):
    id: UUID
    code: str
    name: str
    owner_org_name: str
    created_at: datetime
    archive_no: str | None


class ProjectList(BaseModel):
    items: list[ProjectRow]
