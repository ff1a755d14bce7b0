"""General-description sheets read back from their DXF: structure, title block, text placement."""

from __future__ import annotations

import functools
import io
import re
from collections import defaultdict
from typing import Any

import ezdxf
import pytest
from ezdxf.document import Drawing
from ezdxf.entities import Text
from ezdxf.enums import TextEntityAlignment
from ezdxf.fonts import fonts as ezdxf_fonts

from docgen import fonts, samples
from docgen.errors import DataInvalid
from docgen.sheets import architecture_notes, frame, notes
from docgen.stamp import Stamp

STAMP = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")
TOLERANCE = 0.05  # mm
Box = tuple[float, float, float, float]


def read(dxf: bytes) -> Drawing:
    fonts.setup_ezdxf()
    return ezdxf.read(io.StringIO(dxf.decode("utf-8")))


@pytest.fixture(scope="module")
def structure() -> Drawing:
    dxf, _ = notes.build_dxf(notes.STRUCTURE, samples.filling(), STAMP)
    return read(dxf)


@pytest.fixture(scope="module")
def long_structure() -> tuple[Drawing, list[str]]:
    dxf, numbers = notes.build_dxf(notes.STRUCTURE, samples.filling(notes_repeat=30, loads=40), STAMP)
    return read(dxf), numbers


def sheets(doc: Drawing) -> list[Any]:
    return [doc.paperspace(name) for name in doc.layout_names_in_taborder() if name != "Model"]


@functools.cache
def _glyph(font: str, char: str) -> tuple[float, float, float, float, float]:
    """(left, bottom, right, top, advance) of one glyph at cap height 1, by the rendering font."""
    face = ezdxf_fonts.make_font(font, 1.0)
    advance = float(face.text_width(char))
    if char.isspace():
        return (0.0, 0.0, 0.0, 0.0, advance)
    low, high = face.text_path(char).extents()
    return (low.x, low.y, high.x, high.y, advance)


def text_box(doc: Drawing, text: Text) -> Box:
    """The glyphs' extents of a left- or centre-aligned TEXT, measured as ezdxf renders it."""
    font = doc.styles.get(text.dxf.style).dxf.font
    height = text.dxf.height
    align, point, _ = text.get_placement()  # the alignment point, for LEFT the insert point
    glyphs = [_glyph(font, char) for char in text.dxf.text]
    total = sum(g[4] for g in glyphs) * height
    assert align in (TextEntityAlignment.LEFT, TextEntityAlignment.CENTER)
    x = point.x - total / 2 if align == TextEntityAlignment.CENTER else point.x
    y = point.y
    boxes, pen = [], x
    for left, bottom, right, top, advance in glyphs:
        if right > left:
            boxes.append((pen + left * height, y + bottom * height, pen + right * height, y + top * height))
        pen += advance * height
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def segments(layout: Any, layer: str) -> list[Box]:
    out: list[Box] = []
    for line in layout.query(f'LINE[layer=="{layer}"]'):
        out.append((line.dxf.start.x, line.dxf.start.y, line.dxf.end.x, line.dxf.end.y))
    for poly in layout.query(f'LWPOLYLINE[layer=="{layer}"]'):
        points = [(p[0], p[1]) for p in poly.get_points()]
        out += [(*a, *b) for a, b in zip(points, points[1:] + points[:1], strict=True)]
    return out


def crosses(box: Box, segment: Box) -> bool:
    x0, y0, x1, y1 = box
    ax, ay, bx, by = segment
    if abs(ay - by) < 1e-9:  # horizontal
        return y0 + TOLERANCE < ay < y1 - TOLERANCE and min(ax, bx) < x1 and max(ax, bx) > x0
    return x0 + TOLERANCE < ax < x1 - TOLERANCE and min(ay, by) < y1 and max(ay, by) > y0


def inside(box: Box, bounds: Box) -> bool:
    return (
        box[0] >= bounds[0] - TOLERANCE
        and box[1] >= bounds[1] - TOLERANCE
        and box[2] <= bounds[2] + TOLERANCE
        and box[3] <= bounds[3] + TOLERANCE
    )


def assert_texts_in_place(doc: Drawing) -> int:
    """Every TEXT: inside the frame; title-block text inside the strip and crossing no cell line;
    notes and table text inside one column and crossing no table line. Returns the texts checked."""
    frame_box = (frame.FRAME_X0, frame.FRAME_Y0, frame.FRAME_X1, frame.FRAME_Y1)
    strip = (frame.TITLE_BLOCK_X0, frame.FRAME_Y0, frame.FRAME_X1, frame.FRAME_Y1)
    columns = [(x, notes.NOTES_BOTTOM, x + notes.COLUMN_WIDTH, notes.NOTES_TOP) for x in notes.column_lefts()]
    checked = 0
    for layout in sheets(doc):
        cell_lines = segments(layout, frame.TITLE_BLOCK)
        table_lines = segments(layout, frame.TABLES)
        for text in layout.query("TEXT"):
            box = text_box(doc, text)
            assert inside(box, frame_box), text.dxf.text
            layer = text.dxf.layer
            if layer == frame.TITLE_BLOCK:
                assert inside(box, strip), text.dxf.text
                assert not any(crosses(box, s) for s in cell_lines), text.dxf.text
            elif text.dxf.height == notes.SHEET_TITLE_H:
                assert box[1] >= notes.NOTES_TOP, text.dxf.text
            else:
                assert any(inside(box, c) for c in columns), (text.dxf.text, box)
                assert not any(crosses(box, s) for s in table_lines), text.dxf.text
            checked += 1
    return checked


def texts(layout: Any, layer: str | None = None) -> list[str]:
    query = f'TEXT[layer=="{layer}"]' if layer else "TEXT"
    return [t.dxf.text for t in layout.query(query)]


def test_structure_notes_make_one_r2018_dxf_with_a_layout_per_sheet_named_by_its_number() -> None:
    rendered = notes.structure_notes(samples.filling(notes_repeat=8), STAMP)
    doc = read(rendered.files["dxf"])
    assert doc.dxfversion == "AC1032"
    assert rendered.sheet_numbers == ["结施-01", "结施-02"]
    assert [name for name in doc.layout_names_in_taborder() if name != "Model"] == rendered.sheet_numbers
    assert rendered.pages == len(rendered.previews) == 2
    assert rendered.files["pdf"].startswith(b"%PDF")
    assert len(doc.modelspace()) == 0


def test_the_drawing_audits_without_errors(structure: Drawing) -> None:
    auditor = structure.audit()
    assert auditor.has_errors is False, [str(e) for e in auditor.errors]


def test_text_styles_name_the_fonts_a_chinese_cad_resolves_and_layers_carry_lineweights(
    structure: Drawing,
) -> None:
    assert structure.styles.get("HZ_SONG").dxf.font == "simsun.ttc"
    assert structure.styles.get("HZ_HEI").dxf.font == "simhei.ttf"
    for name, lineweight in frame.LAYERS.items():
        assert structure.layers.get(name).dxf.lineweight == lineweight
    used = {text.dxf.style for layout in sheets(structure) for text in layout.query("TEXT")}
    assert used == {"HZ_SONG", "HZ_HEI"}
    assert not any(layout.query("MTEXT") for layout in sheets(structure))


def test_the_title_block_carries_every_field(structure: Drawing) -> None:
    block = "".join(texts(sheets(structure)[0], frame.TITLE_BLOCK))
    project = samples.PROJECT
    for expected in [
        "设计单位", "注册师签章", "注册结构工程师执业专用章", "项目经理签章", "修改记录", "首次出图", "建设单位",
        "工程名称", "图名", "结构设计总说明", "图号", "结施-01", "第 1 张 共 1 张", "设计号", project["project_code"],
        "电子签名验证区", STAMP.doc_id, STAMP.short_digest, "版次 1", "职责", "姓名", "签名", "审定", "校对",
        "会签专业", "给排水",
        str(project["design_unit"]), str(project["construction_unit"]), str(project["project_name"]),
    ]:  # fmt: skip
        assert expected.replace(" ", "") in block.replace(" ", ""), expected


def test_the_qr_is_one_solid_hatch_on_its_layer(structure: Drawing) -> None:
    hatches = list(sheets(structure)[0].query("HATCH"))
    assert len(hatches) == 1
    assert (hatches[0].dxf.layer, hatches[0].dxf.solid_fill) == (frame.QR_LAYER, 1)
    assert len(hatches[0].paths) > 100


def test_every_text_stays_inside_its_column_or_cell(structure: Drawing) -> None:
    assert assert_texts_in_place(structure) > 150


def test_a_long_note_flows_onto_numbered_sheets_without_leaving_the_frame(
    long_structure: tuple[Drawing, list[str]],
) -> None:
    doc, numbers = long_structure
    count = len(numbers)
    assert count >= 4
    assert numbers == [f"结施-{i:02d}" for i in range(1, count + 1)]
    for index, layout in enumerate(sheets(doc), start=1):
        block = "".join(texts(layout, frame.TITLE_BLOCK))
        assert f"第 {index} 张 共 {count} 张" in block
        assert f"结构设计总说明（{notes.NUMERALS[index - 1]}）" in texts(layout, frame.NOTES)
    assert assert_texts_in_place(doc) > 1000


def test_every_note_paragraph_appears_in_reading_order(long_structure: tuple[Drawing, list[str]]) -> None:
    doc, _ = long_structure
    lines: list[str] = []
    for layout in sheets(doc):
        by_column: dict[int, list[Text]] = defaultdict(list)
        for text in layout.query(f'TEXT[layer=="{frame.NOTES}"]'):
            if text.dxf.height != notes.SHEET_TITLE_H:
                column = int(
                    (text.dxf.insert.x - notes.NOTES_LEFT + 1) // (notes.COLUMN_WIDTH + notes.COLUMN_GAP)
                )
                by_column[column].append(text)
        for column in sorted(by_column):
            ordered = sorted(by_column[column], key=lambda t: (-round(t.dxf.insert.y, 2), t.dxf.insert.x))
            lines += [t.dxf.text for t in ordered]
    flowed = re.sub(r"\s", "", "".join(lines))
    position = 0
    for _, paragraphs in samples.STRUCTURE_NOTES:
        for paragraph in paragraphs:
            found = flowed.find(re.sub(r"\s", "", paragraph), position)
            assert found >= 0, paragraph
            position = found


def test_the_last_sheet_balances_its_columns(structure: Drawing) -> None:
    bottoms: dict[int, float] = {}
    for text in sheets(structure)[-1].query("TEXT"):
        x = text.dxf.insert.x
        if text.dxf.layer in (frame.NOTES, frame.TABLES) and text.dxf.height != notes.SHEET_TITLE_H:
            column = int((x - notes.NOTES_LEFT + 1) // (notes.COLUMN_WIDTH + notes.COLUMN_GAP))
            bottoms[column] = min(bottoms.get(column, 1e9), text.dxf.insert.y)
    assert len(bottoms) == notes.COLUMNS
    assert max(bottoms.values()) - min(bottoms.values()) < 30
    assert min(bottoms.values()) > notes.NOTES_BOTTOM + 100  # one page of content, not one full column


def test_long_title_block_values_wrap_and_shrink_inside_their_cells() -> None:
    content = samples.filling()
    project = content["sections"]["project"]
    project["project_name"] = "浦东新区张江科学城" * 11  # 99 characters, the form allows 100
    project["design_unit"] = "上海浦江建筑设计研究院（集团）有限公司第三设计分院" * 4
    project["construction_unit"] = "上海浦江置业有限公司" * 10
    dxf, _ = notes.build_dxf(notes.STRUCTURE, content, STAMP)
    doc = read(dxf)
    assert_texts_in_place(doc)
    name_parts = [
        t for t in sheets(doc)[0].query(f'TEXT[layer=="{frame.TITLE_BLOCK}"]') if "张江" in t.dxf.text
    ]
    assert len(name_parts) >= 4
    assert max(t.dxf.height for t in name_parts) < 5.0


def test_signatories_names_fill_the_signature_zone_inside_their_cells() -> None:
    content = samples.filling()
    content["signatories"] = {"设计": "陈思齐", "校对": "李明", "审定": "欧阳" * 10}  # 20 characters: the limit
    dxf, _ = notes.build_dxf(notes.STRUCTURE, content, STAMP)
    doc = read(dxf)
    assert_texts_in_place(doc)
    block = " ".join(t.dxf.text for t in sheets(doc)[0].query(f'TEXT[layer=="{frame.TITLE_BLOCK}"]'))
    assert "陈思齐" in block
    assert "李明" in block
    assert "欧阳" in block


def test_architecture_notes_list_units_walls_and_the_users_notes() -> None:
    dxf, numbers = notes.build_dxf(notes.ARCHITECTURE, samples.filling(), STAMP)
    doc = read(dxf)
    assert numbers == ["建施-01"]
    everything = "".join(texts(sheets(doc)[0]))
    for expected in [
        "建筑设计总说明",
        "注册建筑师执业专用章",
        "蒸压加气混凝土砌块",
        "地下车库",
        "一、设计依据",
        "八、节能设计",
    ]:
        assert expected in everything, expected
    assert "建筑" not in [t for t in texts(sheets(doc)[0], frame.TITLE_BLOCK) if t == "建筑"]
    assert_texts_in_place(doc)


def test_rich_text_lists_get_markers_and_hanging_lines() -> None:
    content = samples.filling()

    def item(text: str) -> dict[str, Any]:
        return {
            "type": "list_item",
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
        }

    long = (
        "外墙保温材料的燃烧性能为 A 级，保温系统应采用不燃材料在每层楼板处设置防火隔离带，隔离带高度不小于 300 mm。"
        * 2
    )
    content["sections"]["architecture_notes"] = {"type": "doc", "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "九、其他"}]},
        {"type": "bullet_list", "content": [item("室外台阶踏步高度不大于 150 mm。"), item(long)]},
        {"type": "ordered_list", "attrs": {"order": 1}, "content": [item("施工中应执行国家各项施工验收规范。")]},
    ]}  # fmt: skip
    dxf, _ = notes.build_dxf(notes.ARCHITECTURE, content, STAMP)
    doc = read(dxf)
    layout = sheets(doc)[0]
    markers = [t for t in layout.query(f'TEXT[layer=="{frame.NOTES}"]') if t.dxf.text in ("•", "1.")]
    assert {t.dxf.text for t in markers} == {"•", "1."}
    bullet_x = next(t.dxf.insert.x for t in markers if t.dxf.text == "•")
    continuation = [
        t for t in layout.query(f'TEXT[layer=="{frame.NOTES}"]') if t.dxf.text.startswith("隔离带")
    ]
    assert all(t.dxf.insert.x > bullet_x + 2 for t in continuation)
    assert_texts_in_place(doc)


def test_missing_and_invalid_fields_are_all_reported_and_nothing_is_drawn() -> None:
    content = samples.filling()
    sections = content["sections"]
    del sections["project"]["project_name"]
    sections["structure"]["structure_type"] = "木结构"
    sections["loads"] = []
    sections["structure_notes"] = {"type": "doc", "content": []}
    sections["units"][1]["area"] = -5
    content["signatories"] = {"总工": "张三", "设计": "王" * 21}
    with pytest.raises(DataInvalid) as caught:
        notes.structure_notes(content, STAMP)
    fields = {problem["field"] for problem in caught.value.data["fields"]}  # type: ignore[attr-defined]
    assert {
        "project.project_name",
        "structure.structure_type",
        "loads",
        "structure_notes",
        "units.1.area",
        "signatories.总工",
        "signatories.设计",
    } <= fields
    assert (caught.value.status, caught.value.code) == (422, "document_data_invalid")


def test_content_of_another_form_is_refused() -> None:
    with pytest.raises(DataInvalid) as caught:
        architecture_notes({"form": "fire_acceptance", "sections": {}}, STAMP)
    assert [p.field for p in caught.value.problems] == ["form"]
