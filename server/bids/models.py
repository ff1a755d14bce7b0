"""Bid session request/response models."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, field_validator


class BidIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200, description="评标会议名称")
    expert_ids: list[UUID] = Field(
        min_length=1, max_length=50, description="评标专家的用户 id（须为已有的评标专家账号，不得重复）"
    )

    @field_validator("expert_ids")
    @classmethod
    def _distinct(cls, ids: list[UUID]) -> list[UUID]:
        if len(set(ids)) != len(ids):
            raise ValueError("评标专家不得重复")
        return ids


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    open: StrictBool = Field(description="true：批注未处理；false：已处理")


class ReminderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime = Field(description="提醒时间（ISO 8601，须带时区），最晚 90 天内")


class ExpertOut(BaseModel):
    user_id: UUID
    name: str = Field(description="姓名（脱敏）")
    login: str
    online: bool
    status_label: str = Field(description="在线 / 离线")
    online_since: datetime | None
    seconds_online: int = Field(description="累计在线秒数（在线时含本次）")
    open_annotations: int = Field(description="未处理批注数")


class ReminderOut(BaseModel):
    reminder_id: UUID
    expert_id: UUID
    expert_name: str
    at: datetime
    open_annotations: int
    reason: str


class PendingReminderOut(BaseModel):
    reminder_id: UUID
    at: datetime


class CheckSummaryOut(BaseModel):
    check_id: UUID
    org_name: str
    file_name: str
    status: str = Field(description="queued / running / passed / failed / error")
    stage: str | None
    percent: float
    errors: int
    warnings: int


class BidOut(BaseModel):
    id: UUID
    name: str
    org_id: UUID
    org_name: str
    created_at: datetime
    experts: list[ExpertOut]
    reminders: list[ReminderOut] = Field(description="已发送的提醒，最新的在前")
    pending_reminders: list[PendingReminderOut]
    connections: dict[str, UUID] = Field(description="在线连接 → 专家用户 id")
    checks: list[CheckSummaryOut] = Field(default=[], description="投标模型检查的实时进度，最新的在前")
    now: datetime
    seq: int


class BidRow(BaseModel):
    id: UUID
    name: str
    org_name: str
    created_at: datetime
    experts: int


class BidList(BaseModel):
    items: list[BidRow]
