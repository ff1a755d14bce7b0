"""Drawing request and response models: buildings (单体), catalogue entries (图纸目录), versions (版次),
the catalogue search and its query.

Must not: do IO or decide access.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

Kind = Literal["construction", "as_built"]
KIND_LABELS: dict[str, str] = {"construction": "施工图", "as_built": "竣工图"}
PAGE_SIZE = 10
MAX_BATCH = 1000


def _one_line(value: str) -> str:
    """Catalogue text is shown in tables and zip paths: no line breaks, tabs or other control characters."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("不能含有换行、制表符等控制字符")
    return value


def _blank_is_none(value: object) -> object:
    """A search form sends empty fields (`building_id=`): they mean "any"."""
    return None if isinstance(value, str) and not value.strip() else value


Line = Annotated[str, AfterValidator(_one_line)]
Blankable = BeforeValidator(_blank_is_none)


class BuildingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=100, description="单体名称，如 1# 住宅楼；项目内唯一")
    code: Line = Field(default="", max_length=50, description="单体编号（可空）")


class BuildingOut(BaseModel):
    id: UUID
    project_id: UUID
    name: str
    code: str
    drawings: int = Field(description="图纸目录条数")


class BuildingList(BaseModel):
    items: list[BuildingOut]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    building_id: UUID
    kind: Kind = Field(default="construction", description="construction 施工图 · as_built 竣工图")
    discipline: Line = Field(min_length=1, max_length=50, description="专业，如 建筑、结构、给排水")
    number: Line = Field(min_length=1, max_length=100, description="图号，如 建施-01；同一单体、类型内唯一")
    title: Line = Field(min_length=1, max_length=200, description="图名")


class CatalogueIn(BaseModel):
    """A batch import of catalogue entries; an entry whose (单体, 类型, 图号) exists is updated."""

    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn] = Field(min_length=1, max_length=MAX_BATCH)


class VersionOut(BaseModel):
    version: int
    file_name: str
    size: int
    media_type: str
    sm3: str
    uploaded_by: str = Field(description="上传人账号")
    created_at: datetime


class DrawingOut(BaseModel):
    id: UUID
    project_id: UUID
    building_id: UUID
    building_name: str
    kind: Kind
    kind_label: str
    discipline: str
    number: str
    title: str
    latest_version: int = Field(description="最新版次；0 表示尚无文件")
    latest: VersionOut | None


class DrawingDetail(DrawingOut):
    versions: list[VersionOut] = Field(description="全部版次，最新在前")


class DrawingList(BaseModel):
    items: list[DrawingOut]


class DrawingQuery(BaseModel):
    """The catalogue search: every filter is optional; `page` counts from 1."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: Annotated[str | None, Blankable] = Field(
        default=None, max_length=100, description="图号、图名、专业或单体名称中包含的文字"
    )
    building_id: Annotated[UUID | None, Blankable] = None
    discipline: Annotated[str | None, Blankable] = Field(default=None, max_length=50)
    kind: Annotated[Kind | None, Blankable] = None
    version: Annotated[int | None, Blankable] = Field(
        default=None, ge=1, le=2**31 - 1, description="有该版次的图纸"
    )
    page: int = Field(default=1, ge=1, le=1_000_000)


class SearchEcho(BaseModel):
    """The filters a page of results was found with, for the next page's link."""

    q: str | None
    building_id: UUID | None
    discipline: str | None
    kind: Kind | None
    version: int | None


class DrawingPage(BaseModel):
    items: list[DrawingOut]
    page: int
    pages: int = Field(description="总页数（至少 1）")
    total: int
    page_size: int = PAGE_SIZE
    query: SearchEcho
