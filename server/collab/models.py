"""Collaborative document request/response models."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200, description="文档标题")


class DocumentOut(BaseModel):
    id: UUID
    project_id: UUID
    title: str
    created_by: UUID
    created_at: datetime
    ws_path: str = Field(description="协同编辑的 websocket 地址（y-websocket 协议）")
