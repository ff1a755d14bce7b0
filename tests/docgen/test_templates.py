"""The template engine: shipped templates are well-formed with valid samples, a new document is just a
JSON template, broken templates are refused, and input is checked field by field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docgen import pdf
from docgen.errors import DataInvalid
from docgen.pdf.template import check_data, check_template, template
from tests.docgen.pdf_support import STAMP, decoded_qr_codes, page_texts

NOTICE: dict[str, Any] = {
    "kind": "review_notice",
    "title": "施工图审查意见告知书",
    "version": 1,
    "page": {"size": "A4", "orientation": "portrait", "border": False},
    "fields": [
        {"key": "project_name", "label": "工程名称", "type": "text", "required": True, "max_length": 50},
        {"key": "opinions", "label": "审查意见", "type": "table", "required": True, "min_rows": 1,
         "columns": [{"key": "text", "label": "意见", "type": "text", "required": True, "max_length": 200}]},
    ],
    "blocks": [
        {"type": "title", "text": "施工图审查意见告知书"},
        {"type": "paragraph", "text": "{project_name}的施工图经审查，意见如下（文件编号 {doc_id}）："},
        {"type": "table", "field": "opinions"},
        {"type": "qr"},
    ],
    "sample": {"project_name": "示例工程", "opinions": [{"text": "疏散楼梯净宽不足 1.1 m。"}]},
}  # fmt: skip


def test_the_shipped_templates_are_the_three_certificates() -> None:
    assert set(pdf.templates()) == {"construction_permit", "fire_acceptance_record", "utility_service_sheet"}


@pytest.mark.parametrize("kind", sorted(pdf.templates()))
def test_each_shipped_template_is_well_formed_and_its_sample_is_valid(kind: str) -> None:
    assert check_template(template(kind)) == []
    assert check_data(template(kind), pdf.sample_data(kind)) == []


def test_templates_and_samples_are_copies_the_caller_may_change() -> None:
    pdf.templates()["construction_permit"]["title"] = "改动"
    pdf.sample_data("construction_permit")["permit_no"] = "改动"
    assert template("construction_permit")["title"] == "建筑工程施工许可证"
    assert pdf.sample_data("construction_permit")["permit_no"] == "310115202611290101"


def test_a_new_document_needs_only_a_template() -> None:
    rendered = pdf.render(NOTICE, NOTICE["sample"], STAMP)
    text = page_texts(rendered.files["pdf"])[0]
    assert "施工图审查意见告知书" in text
    assert "示例工程的施工图经审查" in text
    assert f"文件编号 {STAMP.doc_id}" in text
    assert "疏散楼梯净宽不足" in text
    assert decoded_qr_codes(rendered.files["pdf"]) == [STAMP.payload]


def test_a_template_naming_an_undeclared_field_is_refused() -> None:
    broken = copy.deepcopy(NOTICE)
    broken["blocks"].append({"type": "paragraph", "text": "建设单位：{owner}"})
    broken["blocks"].append({"type": "table", "field": "project_name"})
    broken["blocks"].append({"type": "chart"})
    broken["fields"].append({"key": "doc_id", "label": "编号", "type": "text"})
    problems = check_template(broken)
    assert any("{owner}" in p for p in problems)
    assert any("project_name is not a table field" in p for p in problems)
    assert any("'chart' is unknown" in p for p in problems)
    assert any("doc_id: the name is taken" in p for p in problems)
    with pytest.raises(pdf.TemplateInvalid):
        pdf.render(broken, NOTICE["sample"], STAMP)


def test_an_unknown_kind_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        pdf.render_template("no_such_document", {}, STAMP)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("permit_no", None, "missing"),
        ("permit_no", "  ", "missing"),
        ("permit_no", "第123号", "invalid"),
        ("project_name", "名" * 51, "too_long"),
        ("project_name", 42, "invalid"),
        ("contract_price", "一千万", "invalid"),
        ("contract_price", True, "invalid"),
        ("contract_price", -1, "invalid"),
        ("duration_days", 12.5, "invalid"),
        ("start_on", "2026-02-30", "invalid"),
        ("start_on", "20261215", "invalid"),
    ],
)
def test_each_kind_of_bad_value_is_reported_at_its_field(field: str, value: Any, problem: str) -> None:
    data = pdf.sample_data("construction_permit")
    data[field] = value
    with pytest.raises(DataInvalid) as raised:
        pdf.construction_permit(data, STAMP)
    assert [(p.field, p.type) for p in raised.value.problems] == [(field, problem)]
    assert raised.value.problems[0].message


def test_select_options_and_table_rows_are_checked() -> None:
    data = pdf.sample_data("fire_acceptance_record")
    data["inspection"] = "合格"
    problems = check_data(template("fire_acceptance_record"), data)
    assert [(p.field, p.type) for p in problems] == [("inspection", "invalid")]
    notice = copy.deepcopy(NOTICE["sample"])
    notice["opinions"] = [{"text": "好"}, "不是对象", {}]
    problems = check_data(NOTICE, notice)
    assert [(p.field, p.type) for p in problems] == [
        ("opinions.1", "invalid"),
        ("opinions.2.text", "missing"),
    ]
    assert [(p.field, p.type) for p in check_data(NOTICE, {"project_name": "示例"})] == [
        ("opinions", "missing")
    ]
    assert [p.field for p in check_data(NOTICE, ["不是对象"])] == [""]
