"""Project request/response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from server.approval.models import CaseOut


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(
        min_length=4,
        max_length=40,
        pattern=r"^[0-9A-Za-z-]+$",
        description="项目代码（GB/T 40058-2021，形如 2026-310115-47-01-000123）",
    )
    name: str = Field(min_length=2, max_length=200, description="项目名称")
    project_type: Literal["房建", "市政", "交通", "水务", "绿化", "工业", "其他"] = Field(
        default="其他", description="项目分类"
    )
    tags: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=10, description="自定义标签"
    )


class TaskOut(BaseModel):
    dept_org_id: UUID
    dept_name: str
    item: str
    limit_workdays: int
    accepted_on: date
    due_on: date
    status: str
    status_label: str
    note: str
    deadline_state: str = Field(
        description="on_time 正常 · due_soon 即将到期（黄）· overdue 已超期（红）· done 已办结"
    )
    deadline_label: str


class ProjectOut(BaseModel):
    id: UUID
    code: str
    name: str
    owner_org_id: UUID
    baojian_no: str | None = Field(default=None, description="报建编号")
    project_type: str = "其他"
    tags: list[str] = Field(default_factory=list)
    lianshen_no: str | None = Field(default=None, description="最近一次开工一件事申报的联审编号")
    status: str
    status_label: str
    archive_no: str | None
    tasks: list[TaskOut]
    cases: list[CaseOut] = Field(default_factory=list, description="开工一件事的事项办件")
    bundle_state: str = Field(default="draft", description="开工一件事总状态（由各办件状态推导）")
    bundle_label: str = "未提交"
    seq: int


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dept_org_id: UUID = Field(description="审批部门（机构类型须为 department）")
    item: str = Field(min_length=1, max_length=100, description="审批事项，如 施工许可")
    limit_workdays: int = Field(ge=1, le=120, description="办理时限（工作日）")


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[TaskIn] = Field(min_length=1, max_length=12)
    accepted_on: date | None = Field(default=None, description="受理日期；缺省为今日（上海时间）")


class TaskUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["in_review", "approved", "rejected", "returned"]
    note: str = Field(default="", max_length=500)


class ProjectRow(BaseModel):
    id: UUID
    code: str
    name: str
    owner_org_name: str
    created_at: datetime
    archive_no: str | None


class ProjectList(BaseModel):
    items: list[ProjectRow]


class ArchiveEntryOut(BaseModel):
    kind: str
    title: str
    ref: str
    sm3: str | None
    at: datetime
    by_login: str | None


class ArchiveStageOut(BaseModel):
    stage: str
    entries: list[ArchiveEntryOut]


class ArchiveOut(BaseModel):
    archive_no: str | None
    stages: list[ArchiveStageOut]


class ProjectDataOut(BaseModel):
    form: dict[str, Any] = Field(description="项目基本信息的表单定义（用地、规划、施工许可）")
    sections: dict[str, Any]
    revision: int


class ProjectDataIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sections: dict[str, Any] = Field(max_length=10)
    revision: int = Field(ge=0)
