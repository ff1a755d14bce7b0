"""Collaborative document request/response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from actors.document.messages import VersionSaved
from collab.catalogue import DEFAULT_FORM
from collab.schema import FormSchema


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200, description="文档标题")
    form: str = Field(
        default=DEFAULT_FORM, max_length=40, description="表单（GET /api/v1/forms），默认为富文本文档"
    )


class DocumentOut(BaseModel):
    id: UUID
    project_id: UUID
    title: str
    form: str
    form_version: int
    created_by: UUID
    created_at: datetime
    ws_path: str = Field(description="协同编辑的 websocket 地址（y-websocket 协议）")


class DocumentList(BaseModel):
    items: list[DocumentOut]


class DocumentDetail(BaseModel):
    id: UUID
    project_id: UUID
    title: str
    form: FormSchema
    can_edit: bool
    created_at: datetime
    ws_path: str


class FormList(BaseModel):
    items: list[FormSchema]


class ContentOut(BaseModel):
    seq: int = Field(description="内容对应的文档日志序号")
    sm3: str = Field(description="规范 JSON 的 SM3 摘要")
    content: dict[str, Any] = Field(description="规范 JSON（资料目录数据）")


class FieldErrorOut(BaseModel):
    path: str
    code: str
    message: str


class ValidationOut(BaseModel):
    valid: bool
    errors: list[FieldErrorOut]


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, description="版本名称，如“2026-11-28 提交”")
    submit: bool = Field(default=False, description="作为提交保存：数据须通过校验")


class VersionOut(VersionSaved):
    created_by: UUID
    created_by_login: str


class VersionList(BaseModel):
    items: list[VersionOut]


class VersionDetail(VersionOut):
    content: dict[str, Any]
    update: str = Field(description="该版本的完整 Yjs 状态（base64），供只读查看")


class RestoreOut(BaseModel):
    seq: int = Field(description="恢复操作在文档日志中的序号（0：内容本已相同）")
