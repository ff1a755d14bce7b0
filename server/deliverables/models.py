"""Request and response bodies of the deliverables API and the verification API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

KindKey = Literal[
    "architecture_notes", "structure_notes", "load_calculation",
    "utility_service_sheet", "fire_acceptance_record", "construction_permit",
]  # fmt: skip


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateIn(Strict):
    kind: KindKey
    # filling kinds: a saved version of a collaborative filling document of the project
    doc_id: UUID | None = None
    version_id: UUID | None = None
    # filling kinds: the real names printed in the signature table / 签字区, by role (审定, 审核, 项目负责人,
    # 专业负责人, 校对, 设计)
    signatories: dict[str, str] | None = Field(default=None, max_length=10)
    # template kinds: the certificate's data (fields of docgen/templates/<kind>.json)
    data: dict[str, Any] | None = None


class RevokeIn(Strict):
    reason: str = Field(min_length=2, max_length=200)


class KindOut(BaseModel):
    key: str
    title: str
    source: Literal["filling", "template"]
    formats: list[str]
    fields: list[dict[str, Any]] = Field(default_factory=list, description="模板类文件的输入字段")
    sample: dict[str, Any] = Field(default_factory=dict, description="模板类文件的示例数据")


class KindList(BaseModel):
    kinds: list[KindOut]
    dwg_available: bool
    dwg_note: str


class FileOut(BaseModel):
    ext: str
    sm3: str
    size: int
    url: str


class DeliverableOut(BaseModel):
    id: str
    kind: str
    title: str
    project_id: UUID
    source_doc_id: UUID | None
    source_version_id: UUID | None
    revision: int
    status: Literal["queued", "rendering", "draft", "failed", "issued", "revoked"]
    content_sm3: str
    files: list[FileOut]
    previews: list[str]  # URLs of the page PNGs
    pages: int | None
    sheet_numbers: list[str]
    problems: list[dict[str, Any]] | None
    created_at: datetime
    issued_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str | None
    verify_url: str
    ws_path: str


class DeliverableList(BaseModel):
    deliverables: list[DeliverableOut]


class Verdict(BaseModel):
    """What the public verification page says about one document id (and, when given, a digest or file)."""

    id: str
    found: bool
    genuine: bool  # issued, signature verifies, and (when given) the digest / file matches
    status: str | None = None  # issued · revoked · draft · …
    status_label: str  # Chinese: 有效 · 已撤销 · 未签发 · 不存在 …
    message: str  # Chinese, one sentence for the user
    title: str | None = None
    kind_title: str | None = None
    project_name: str | None = None
    revision: int | None = None
    latest_revision: int | None = None  # the newest issued revision of the same series
    issued_at: datetime | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    content_sm3: str | None = None
    digest_matches: bool | None = None  # None: no digest was given
    file_matches: bool | None = None  # None: no file was given
    signature_valid: bool | None = None  # None: not issued (nothing signed)
    statement: str | None = None  # what the SM2 signature covers, for checking it with openssl


class PublicKeyOut(BaseModel):
    algorithm: Literal["SM2"] = "SM2"
    distinguishing_id: str
    public_key_pem: str
