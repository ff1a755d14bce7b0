"""The certificates rendered from JSON templates: 施工许可证, 消防验收备案凭证, 联合报装服务单 — Chinese
content, page numbering, embedded fonts, the QR, long values kept inside the border, bad input refused."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest

from docgen import pdf
from docgen.errors import DataInvalid
from docgen.pdf.engine import CERTIFICATE_MARGIN
from docgen.pdf.template import template
from tests.docgen.pdf_support import STAMP, decoded_qr_codes, font_dicts, is_embedded, page_texts, text_boxes

GENERATORS = {
    "construction_permit": pdf.construction_permit,
    "fire_acceptance_record": pdf.fire_acceptance_record,
    "utility_service_sheet": pdf.utility_service_sheet,
}
TITLES = {
    "construction_permit": "建筑工程施工许可证",
    "fire_acceptance_record": "建设工程消防验收备案凭证",
    "utility_service_sheet": "联合报装服务单",
}


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def issued(request: pytest.FixtureRequest) -> tuple[str, pdf.Rendered]:  # type: ignore[name-defined]
    kind: str = request.param
    return kind, GENERATORS[kind](pdf.sample_data(kind), STAMP)


def test_each_certificate_is_one_numbered_page_with_its_title(issued: tuple[str, Any]) -> None:
    kind, rendered = issued
    texts = page_texts(rendered.files["pdf"])
    assert rendered.pages == len(texts) == 1
    assert TITLES[kind] in texts[0]
    assert "第 1 页 共 1 页" in texts[0]
    assert STAMP.doc_id in texts[0]
    assert STAMP.short_digest in texts[0]


def test_each_certificate_embeds_every_font(issued: tuple[str, Any]) -> None:
    fonts = font_dicts(issued[1].files["pdf"])
    assert fonts
    assert all(is_embedded(font) for font in fonts)


def test_each_certificate_qr_decodes_to_the_verification_url(issued: tuple[str, Any]) -> None:
    assert decoded_qr_codes(issued[1].files["pdf"]) == [STAMP.payload]


def test_each_certificate_has_a_png_preview(issued: tuple[str, Any]) -> None:
    assert issued[1].previews[0].startswith(b"\x89PNG")


def test_the_permit_carries_every_particular_of_the_national_form() -> None:
    text = page_texts(pdf.construction_permit(pdf.sample_data("construction_permit"), STAMP).files["pdf"])[0]
    for label in (
        "编号", "建设单位", "工程名称", "建设地址", "建设规模", "合同价格", "勘察单位", "设计单位", "施工单位",
        "监理单位", "勘察单位项目负责人", "设计单位项目负责人", "施工单位项目负责人", "总监理工程师", "合同工期",
        "备注", "发证机关", "注意事项",
    ):  # fmt: skip
        assert label in text
    assert "310115202611290101" in text
    assert "18650.5 万元" in text
    assert "2026年11月28日" in text  # the permit's own date, not the stamp's
    assert "928 日历天（2026年12月15日 至 2029年6月30日）" in text


def test_the_service_sheet_prints_its_code_and_every_requested_service() -> None:
    data = pdf.sample_data("utility_service_sheet")
    text = page_texts(pdf.utility_service_sheet(data, STAMP).files["pdf"])[0]
    assert "报装服务编码" in text
    assert "BZ31011520261129" in text
    for item in data["items"]:
        assert item["provider"] in text.replace("\n", "")


def test_the_fire_record_fills_the_statement_with_the_project() -> None:
    text = page_texts(
        pdf.fire_acceptance_record(pdf.sample_data("fire_acceptance_record"), STAMP).files["pdf"]
    )[0]
    assert "沪浦建消竣备字〔2026〕第 0158 号" in text
    assert "消防验收备案材料收悉" in text.replace("\n", "")
    assert "该工程未被确定为检查对象" in text.replace("\n", "")


def _longest(kind: str) -> dict[str, Any]:
    """The sample with every free-text field filled to its maximum length."""
    data = pdf.sample_data(kind)
    for field in template(kind)["fields"]:
        if field["type"] == "text" and "pattern" not in field:
            data[field["key"]] = ("上海浦江工程建设管理有限公司" * 20)[: field["max_length"]]
        if field["type"] == "table":
            for row in data[field["key"]]:
                for column in field["columns"]:
                    if column["type"] == "text":
                        row[column["key"]] = ("国网上海市电力公司浦东供电公司" * 10)[: column["max_length"]]
    return data


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_values_of_the_maximum_length_wrap_inside_the_border(kind: str) -> None:
    rendered = GENERATORS[kind](_longest(kind), STAMP)
    boxes = text_boxes(rendered.files["pdf"])
    inside = CERTIFICATE_MARGIN - 5.4 * 72 / 25.4  # the inner rule of the double border
    for page, text, box, rect in boxes:
        if ("页 共" in text and text.startswith("第 ")) or text.startswith("文件编号 "):
            continue  # the footer line sits below the border
        border = pymupdf.Rect(rect.x0 + inside, rect.y0 + inside, rect.x1 - inside, rect.y1 - inside)
        assert border.contains(box), (page, text)
    if kind != "utility_service_sheet":  # its list of services may run onto more pages
        assert rendered.pages == 1
    assert any(text.startswith("上海浦江工程建设管理") and len(text) < 40 for _, text, _, _ in boxes)


def test_a_long_list_of_services_continues_with_its_header_repeated() -> None:
    data = pdf.sample_data("utility_service_sheet")
    data["items"] = [dict(data["items"][i % 5], request=f"第 {i + 1} 项报装申请内容") for i in range(30)]
    texts = page_texts(pdf.utility_service_sheet(data, STAMP).files["pdf"])
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页 共 {len(texts)} 页" in text
        if "项报装申请内容" in text:
            assert "申请内容" in text.replace("项报装申请内容", "")
            assert "承办单位" in text
    assert "第 30 项报装申请内容" in "".join(texts)


def test_bad_input_is_refused_with_a_problem_for_every_field() -> None:
    data = pdf.sample_data("utility_service_sheet")
    del data["applicant"]
    data["service_code"] = "BZ-1"
    data["accepted_on"] = "2026-02-30"
    data["project_name"] = "项" * 61
    data["items"][1]["utility"] = "供暖"
    data["items"][2]["promised_days"] = "十"
    with pytest.raises(DataInvalid) as raised:
        pdf.utility_service_sheet(data, STAMP)
    assert {p.field: p.type for p in raised.value.problems} == {
        "applicant": "missing",
        "service_code": "invalid",
        "accepted_on": "invalid",
        "project_name": "too_long",
        "items.1.utility": "invalid",
        "items.2.promised_days": "invalid",
    }
    messages = " ".join(p.message for p in raised.value.problems)
    assert "请填写申请单位" in messages
    assert "报装事项第 2 行报装类别" in messages


def test_a_permit_without_data_lists_every_required_field() -> None:
    with pytest.raises(DataInvalid) as raised:
        pdf.construction_permit({}, STAMP)
    required = [f["key"] for f in template("construction_permit")["fields"] if f.get("required")]
    assert [p.field for p in raised.value.problems] == required
