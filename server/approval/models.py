"""Request and response bodies of the 开工一件事 API (the one form, applications, cases, queues)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseOut(BaseModel):
    id: UUID
    application_id: UUID
    item_code: str
    item_name: str
    dept_org_id: UUID
    dept_name: str
    predecessors: list[str]
    state: str
    state_label: str
    statutory_wd: int
    committed_wd: int
    accepted_on: date | None
    due_on: date | None
    pauses: list[dict[str, Any]]
    extensions: list[dict[str, Any]]
    deadline_state: str
    deadline_label: str
    claimed_by: UUID | None
    decided_on: date | None
    used_wd: int | None
    last_action: str | None
    last_reason: str


class ActionIn(Strict):
    action: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=1000)


class QueueItem(BaseModel):
    id: UUID
    project_id: UUID
    project_name: str
    project_code: str
    applicant_name: str
    item_code: str
    item_name: str
    state: str
    state_label: str
    accepted_on: date | None
    due_on: date | None
    deadline_state: str
    deadline_label: str
    claimed_by: UUID | None
    submitted_at: datetime


class QueueOut(BaseModel):
    items: list[QueueItem]


class NoticeOut(BaseModel):
    id: int
    project_id: UUID
    case_id: UUID
    item_name: str
    kind: str
    message: str
    at: datetime
    read_at: datetime | None


class NoticeList(BaseModel):
    items: list[NoticeOut]


class ProgressOut(BaseModel):
    project_id: UUID
    project_code: str | None = None
    baojian_no: str | None = None
    lianshen_no: str | None = None
    bundle_state: str
    bundle_label: str
    cases: list[CaseOut]


class StatsQuery(Strict):
    since: date | None = None
    until: date | None = None


class StatsRow(BaseModel):
    item_code: str
    item_name: str
    dept_org_id: UUID
    dept_name: str
    total: int
    open: int
    approved: int
    refused: int
    withdrawn: int
    overdue_open: int
    decided_late: int
    mean_wd: float | None
    p90_wd: float | None


class StatsOut(BaseModel):
    rows: list[StatsRow]
    cases: int
    elapsed_ms: float


class FormOut(BaseModel):
    """The one form of a project: the merged items, fields and materials for `values`, their errors."""

    catalogue_version_id: UUID
    catalogue_version: int
    bundle: str
    project_type: str
    items: list[dict[str, Any]]
    fields: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    facts: list[dict[str, Any]] = Field(
        default_factory=list, description="决定适用事项的项目情况（占路、临时排水…）"
    )
    values: dict[str, Any] = Field(default_factory=dict)
    draft_revision: int = 0
    prefilled: list[str] = Field(default_factory=list, description="由项目登记信息或本单位历次申报预填的字段")
    certificates: list[dict[str, Any]] = Field(default_factory=list, description="本单位的签名证书")


class ValuesIn(Strict):
    values: dict[str, Any] = Field(max_length=300)


class DraftIn(Strict):
    values: dict[str, Any] = Field(max_length=300)
    revision: int = Field(ge=0)


class DraftOut(BaseModel):
    revision: int


class SubmitIn(Strict):
    signed: str = Field(min_length=2, max_length=400_000, description="签名的规范 JSON（base64）")
    signature: str = Field(min_length=8, max_length=400, description="SM2 签名（DER，base64）")
    certificate_id: UUID


class SubmittedOut(ProgressOut):
    application_id: UUID | None = None


class ExtensionIn(Strict):
    days: int = Field(ge=1, le=30, description="延长的工作日数")
    reason: str = Field(min_length=2, max_length=500, description="延期理由（告知申请人）")


class CaseFormOut(BaseModel):
    """The part of the signed one form that one item's department receives."""

    case_id: UUID
    item_code: str
    item_name: str
    lianshen_no: str | None
    applicant: str
    submitted_at: datetime
    catalogue_version: int
    fields: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    signature: dict[str, Any]
