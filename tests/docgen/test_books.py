"""The 荷载计算书: contents, computed combinations, page numbering, repeated table headers, embedded
fonts, the cover QR, and refusal of incomplete data (all problems at once)."""

from __future__ import annotations

import pytest

from docgen.errors import DataInvalid
from docgen.pdf import load_calculation
from docgen.pdf.combinations import gamma_l
from docgen.samples import filling
from tests.docgen.pdf_support import STAMP, decoded_qr_codes, font_dicts, is_embedded, page_texts, text_boxes


@pytest.fixture(scope="module")
def book() -> bytes:
    return load_calculation(filling(), STAMP).files["pdf"]


@pytest.fixture(scope="module")
def long_book() -> tuple[int, bytes]:
    rendered = load_calculation(filling(loads=230), STAMP)
    return rendered.pages, rendered.files["pdf"]


def test_the_book_has_a_cover_contents_and_the_six_numbered_sections(book: bytes) -> None:
    text = "".join(page_texts(book))
    assert "荷载计算书" in text
    assert "浦东新区张江科学城人才公寓项目 1号楼" in text
    for role in ("审定", "审核", "校对", "设计"):
        assert role in page_texts(book)[0]
    assert "目" in page_texts(book)[1]
    for section in (
        "1 设计资料",
        "2 荷载分类及取值依据",
        "3 分项系数",
        "4 楼面及屋面荷载组合",
        "5 风荷载与雪荷载",
        "6 结论",
    ):
        assert section in text


def test_every_page_says_which_page_it_is_of_how_many(book: bytes) -> None:
    texts = page_texts(book)
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页 共 {len(texts)} 页" in text


def test_the_contents_gives_the_page_each_section_starts_on(book: bytes) -> None:
    texts = page_texts(book)
    contents = [(text, box) for page, text, box, _ in text_boxes(book) if page == 1]
    for title in ("1 设计资料", "3 分项系数", "4.2 各部位荷载组合计算", "6 结论"):
        line = next(box for text, box in contents if text.startswith(title))
        number = next(
            t for t, box in contents if t.isdigit() and abs(box.y1 - line.y1) < 2 and box.x0 > line.x1
        )
        assert title in texts[int(number) - 1]


def test_combinations_are_computed_from_the_filled_in_loads() -> None:
    content = filling()
    content["sections"]["project"]["design_life"] = "100年"
    content["sections"]["structure"]["safety_grade"] = "一级"
    content["sections"]["loads"][0].update(dead_load=2.0, live_load=3.0)
    text = "".join(page_texts(load_calculation(content, STAMP).files["pdf"]))
    basic = 1.1 * (1.3 * 2.0 + 1.5 * 1.1 * 3.0)  # γ0 = 1.1 (一级), γL = 1.1 (100 年)
    assert f"1.1×(1.3×2.00+1.5×1.1×3.00) = {basic:.2f}" in text
    assert f"2.00+0.4×3.00 = {2.0 + 0.4 * 3.0:.2f}" in text  # quasi-permanent, ψq = 0.4 for 住宅


def test_gamma_l_is_interpolated_for_design_lives_between_the_tabulated_ones() -> None:
    assert (gamma_l(5), gamma_l(50), gamma_l(100)) == (0.9, 1.0, 1.1)
    assert gamma_l(25) == pytest.approx(0.944, abs=0.001)


def test_a_fifty_page_book_repeats_the_summary_header_on_every_continuation_page(
    long_book: tuple[int, bytes],
) -> None:
    pages, pdf = long_book
    texts = page_texts(pdf)
    assert pages == len(texts) >= 50
    first = next(i for i, t in enumerate(texts) if "4.1 荷载组合汇总表" in t and "序号" in t)
    last = next(i for i, t in enumerate(texts) if "4.2.1 " in t)
    assert last - first >= 3
    for text in texts[first : last + 1]:
        if "层住宅套内" in text.split("4.2")[0]:
            assert "组合值（kN/m²）" in text
            assert "准永久" in text
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页 共 {pages} 页" in text


def test_every_font_in_the_book_is_embedded(book: bytes) -> None:
    fonts = font_dicts(book)
    assert fonts
    assert all(is_embedded(font) for font in fonts)
    assert not any(
        "STSong" in str(font["/BaseFont"]) or "Helvetica" in str(font["/BaseFont"]) for font in fonts
    )


def test_the_cover_qr_decodes_to_the_verification_url(book: bytes) -> None:
    assert decoded_qr_codes(book, page=0) == [STAMP.payload]
    cover = page_texts(book)[0]
    assert STAMP.doc_id in cover
    assert STAMP.short_digest in cover
    assert "第 1 版" in cover


def test_long_room_names_wrap_inside_the_page() -> None:
    content = filling()
    content["sections"]["loads"][1]["room"] = (
        "地下一层人防地下室兼作汽车库战时二等人员掩蔽所及其附属设备用房区域" * 1
    )
    pdf = load_calculation(content, STAMP).files["pdf"]
    for _, _, box, page in text_boxes(pdf):
        assert page.contains(box)
    lines = [text for _, text, _, _ in text_boxes(pdf) if text.startswith("地下一层人防")]
    assert lines
    assert all(len(line) < 30 for line in lines)


def test_the_preview_is_a_png_of_the_cover_at_about_100_dpi() -> None:
    rendered = load_calculation(filling(), STAMP)
    assert rendered.previews[0].startswith(b"\x89PNG")
    assert len(rendered.previews) == 1


def test_every_problem_of_the_input_is_reported_and_no_book_is_made() -> None:
    content = filling()
    sections = content["sections"]
    del sections["project"]["project_name"]
    sections["loads"][1]["live_load"] = "很多"
    del sections["loads"][2]["dead_load"]
    sections["structure"]["basic_wind_pressure"] = None
    content["signatories"] = {"审定": "张" * 21}
    with pytest.raises(DataInvalid) as raised:
        load_calculation(content, STAMP)
    fields = {p.field: p.type for p in raised.value.problems}
    assert fields == {
        "project.project_name": "missing",
        "loads.1.live_load": "invalid",
        "loads.2.dead_load": "missing",
        "structure.basic_wind_pressure": "missing",
        "signatories.审定": "too_long",
    }
    assert raised.value.status == 422


def test_a_filling_without_load_rows_is_refused() -> None:
    content = filling()
    content["sections"]["loads"] = []
    with pytest.raises(DataInvalid) as raised:
        load_calculation(content, STAMP)
    assert [p.field for p in raised.value.problems] == ["loads"]


def test_data_of_another_form_is_refused() -> None:
    with pytest.raises(DataInvalid) as raised:
        load_calculation({"form": "fire_review", "sections": {}}, STAMP)
    assert [p.field for p in raised.value.problems] == ["form"]
