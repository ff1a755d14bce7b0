"""Rule-library request and response models: a rule set's content as an administrator edits it, its
versions, their history, and the version pinned to a bid session.

The content's shape is checked here (types, bounds, params as JSON objects); whether its rule codes
exist and its IDS is valid is checked by `server.bim.rulesets` against the rule registry.
Must not: do IO or know the rule registry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

Schema = Literal["IFC2X3", "IFC4", "IFC4X3", "IFC4X3_ADD2"]
Status = Literal["draft", "published"]

MAX_MODEL_BYTES: Final = (
    2 * 1024**3
)  # the largest cap a rule set may set (intake refuses larger files anyway)
DEFAULT_MAX_MODEL_BYTES: Final = 512 * 1024**2
# Per pipeline stage (bim.report.STAGES), in seconds: a stage that runs longer is stopped and reported.
# The same values as bim.pipeline.DEFAULT_TIMEOUTS_S (a test holds them together).
DEFAULT_STAGE_TIMEOUTS_S: Final[dict[str, int]] = {
    "intake": 60, "header": 10, "syntax": 120, "schema": 240, "normative": 240, "tender": 120, "ids": 120,
}  # fmt: skip
DEFAULT_OUTCOME_CAP: Final = 100  # bim.rules.runner.DEFAULT_CAP: outcomes kept per rule, the rest counted
STATUS_LABELS: Final[dict[str, str]] = {"draft": "草稿", "published": "已发布"}


class RuleConfig(BaseModel):
    """One rule in a rule set: whether it runs, and its parameters (a JSON object; missing keys are
    filled with the rule's defaults when the draft is saved)."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = Field(description="是否启用该规则")
    params: dict[str, Any] = Field(default_factory=dict, description="规则参数（JSON 对象）")


class IdsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="IDS 文件名称")
    xml: str = Field(min_length=1, max_length=5 * 1024 * 1024, description="IDS 1.0 XML 文本")


class RuleSetContentIn(BaseModel):
    """A draft's content as an administrator saves it."""

    model_config = ConfigDict(extra="forbid")

    allowed_schemas: list[Schema] = Field(
        min_length=1, max_length=4, description="允许提交的 IFC 版本（文件头 FILE_SCHEMA）"
    )
    max_model_bytes: int = Field(gt=0, le=MAX_MODEL_BYTES, description="模型文件大小上限（字节）")
    stage_timeouts_s: dict[str, int] = Field(
        default_factory=dict, description="各检查阶段的超时（秒，1–3600）；未给出的阶段取默认值"
    )
    rules: dict[str, RuleConfig] = Field(description="规则代码 → 启用状态与参数")
    stage_memory_bytes: dict[str, int] = Field(
        default_factory=dict,
        description="各检查阶段的内存上限（字节，256 MB 至 8 GB）；未给出的阶段只受整个检查的上限约束",
    )
    outcome_cap: int = Field(
        default=DEFAULT_OUTCOME_CAP, ge=1, le=10_000, description="每条规则最多保留的检查结果条数，其余只计数"
    )
    ids: IdsDocument | None = Field(
        default=None, description="数据完整性检查所用的 IDS（招标文件数据项清单）"
    )

    @field_validator("allowed_schemas")
    @classmethod
    def _distinct(cls, schemas: list[str]) -> list[str]:
        if len(set(schemas)) != len(schemas):
            raise ValueError("IFC 版本不得重复")
        return schemas

    @field_validator("stage_timeouts_s")
    @classmethod
    def _timeouts(cls, timeouts: dict[str, int]) -> dict[str, int]:
        for stage, seconds in timeouts.items():
            if stage not in DEFAULT_STAGE_TIMEOUTS_S:
                raise ValueError(f"未知的检查阶段：{stage}")
            if not 1 <= seconds <= 3600:
                raise ValueError(f"阶段 {stage} 的超时须在 1–3600 秒之间")
        return timeouts

    @field_validator("stage_memory_bytes")
    @classmethod
    def _memory(cls, limits: dict[str, int]) -> dict[str, int]:
        for stage, limit in limits.items():
            if stage not in DEFAULT_STAGE_TIMEOUTS_S:
                raise ValueError(f"未知的检查阶段：{stage}")
            if not 256 * 1024**2 <= limit <= 8 * 1024**3:
                raise ValueError(f"阶段 {stage} 的内存上限须在 256 MB 至 8 GB 之间")
        return limits


class RuleSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=100, description="规则集名称（唯一）")
    description: str = Field(default="", max_length=2000, description="说明")


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    content: RuleSetContentIn
    summary: str = Field(min_length=1, max_length=500, description="本次修改说明")
    expected_revision: int = Field(ge=0, description="编辑所基于的修订号（历史条数）；已被他人修改时返回 409")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    expected_revision: int = Field(ge=0, description="发布所基于的修订号；草稿在此后又被修改时返回 409")
    note: str = Field(default="", max_length=2000, description="发布说明")


class PinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version_id: UUID = Field(description="已发布的规则集版本 id")


class RuleOut(BaseModel):
    code: str
    version: int
    title: str
    stage: str
    params: dict[str, Any] = Field(description="参数默认值")


class RuleRegistryOut(BaseModel):
    items: list[RuleOut]


class VersionSummary(BaseModel):
    id: UUID
    rule_set_id: UUID
    rule_set_name: str
    version: int
    status: Status
    content_sm3: str | None = Field(description="内容（规范 JSON）的 SM3 摘要；发布时生成")
    note: str
    created_by_login: str
    created_at: datetime
    published_by_login: str | None
    published_at: datetime | None


class ChangeOut(BaseModel):
    id: UUID
    at: datetime
    by_login: str
    summary: str
    changed: list[str] = Field(description="改动的内容项，如 rules.PJS003.params、ids")


class VersionDetail(VersionSummary):
    # As stored, not re-validated: a published version is read back as it was, whatever the rules of
    # the content's shape are today. A published one also has "rule_versions" ({code: version}).
    content: dict[str, Any] = Field(
        description="规则集内容；已发布版本另含 rule_versions（发布时冻结的规则版本）"
    )
    revision: int = Field(description="修订号（历史条数）；保存草稿时作为 expected_revision 交回")
    history: list[ChangeOut] = Field(description="保存记录，最新的在前")


class RuleSetOut(BaseModel):
    id: UUID
    name: str
    description: str
    created_by_login: str
    created_at: datetime
    latest_published: int | None = Field(description="最新已发布版本号")
    draft_version: int | None = Field(description="草稿的版本号（没有草稿时为 null）")


class RuleSetList(BaseModel):
    items: list[RuleSetOut]


class RuleSetDetail(RuleSetOut):
    versions: list[VersionSummary] = Field(description="全部版本，最新的在前")


class BidRuleSetOut(BaseModel):
    bid_id: UUID
    version: VersionSummary | None = Field(description="该评标会议锁定的规则集版本；未锁定时为 null")
