"""The kinds of document tongban issues, and the one way to validate and render each.

Two sources: `filling` kinds are made from a saved version of a collaborative filling form (the
canonical JSON of `collab.content`, form `bim_building`); `template` kinds from the data a module hands
over (the JSON templates of `docgen/templates/`). A new certificate is a new template file plus one
entry here. Renderers are imported when first used (a worker process pays for ezdxf or reportlab only
when it renders that kind).
Must not: know where data or files are stored, or sign.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from collab.catalogue import form
from docgen.errors import DataInvalid, Problem
from docgen.output import Rendered
from docgen.stamp import Stamp

Source = Literal["filling", "template"]


@dataclass(frozen=True)
class Kind:
    key: str
    title: str  # Chinese, shown to users and printed on the verification page
    source: Source
    formats: tuple[str, ...]  # the deliverable's files, the first is the primary one
    renderer: str  # "module:function", called as function(data, stamp) -> Rendered
    checker: str | None = None  # "module:function", function(data) -> list[Problem] (`filling` kinds)
    form: str | None = None  # the filling form a `filling` kind reads
    subject: str | None = None  # a `template` kind's own number field: its revisions count per number


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("architecture_notes", "建筑设计总说明", "filling", ("dxf", "pdf"), "docgen.sheets:architecture_notes",
             "docgen.sheets.notes:architecture_problems", "bim_building"),
        Kind("structure_notes", "结构设计总说明", "filling", ("dxf", "pdf"), "docgen.sheets:structure_notes",
             "docgen.sheets.notes:structure_problems", "bim_building"),
        Kind("load_calculation", "荷载计算书", "filling", ("pdf",), "docgen.pdf:load_calculation",
             "docgen.pdf.calcbook:check", "bim_building"),
        Kind("utility_service_sheet", "联合报装服务单", "template", ("pdf",), "docgen.pdf:utility_service_sheet",
             subject="service_code"),
        Kind("fire_acceptance_record", "消防验收备案凭证", "template", ("pdf",),
             "docgen.pdf:fire_acceptance_record", subject="filing_no"),
        Kind("construction_permit", "施工许可证", "template", ("pdf",), "docgen.pdf:construction_permit",
             subject="permit_no"),
    )
}  # fmt: skip


def template_fields(kind: Kind) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A template kind's input fields and valid sample data (for forms that collect them)."""
    if kind.source != "template":
        return [], {}
    from docgen.pdf.template import sample_data, template

    return list(template(kind.key)["fields"]), sample_data(kind.key)


def kind_of(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise DataInvalid([Problem("kind", f"不支持的文件类型：{key[:40]}", "invalid")])
    return kind


def validate(kind: Kind, data: dict[str, Any]) -> list[Problem]:
    """Every problem of `data` for `kind` that can be told without rendering (the renderers check the
    rest and raise `DataInvalid` themselves)."""
    if kind.source == "filling":
        assert kind.form is not None
        assert kind.checker is not None
        if data.get("form") != kind.form:
            return [Problem("form", f"{kind.title}须由“{form(kind.form).title}”表单的数据生成", "invalid")]
        problems: list[Problem] = _function(kind.checker)(data)
        return problems
    from docgen.pdf.template import check_data, template

    return check_data(template(kind.key), data)


def render(kind: Kind, data: dict[str, Any], stamp: Stamp) -> Rendered:
    """The document, or `DataInvalid` listing every problem (nothing half made)."""
    problems = validate(kind, data)
    if problems:
        raise DataInvalid(problems)
    rendered: Rendered = _function(kind.renderer)(data, stamp)
    return rendered


def _function(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
