"""The general-description drawing sets: 建筑设计总说明 (建施-01…) and 结构设计总说明 (结施-01…).

Output layout: ONE DXF (R2018, mm) holding every sheet of the set as its own paperspace layout
named by its 图号 (建施-01, 建施-02…), in tab order, each drawn 1:1 on an A1 paper; model space
stays empty. That is how a CAD user prints a set (one layout = one plotted sheet) and keeps the set
in one file that can be checked and signed as a whole. The PDF is the preview, one page per sheet.
Must not: store, sign or number documents (the issuing service does), or emit MTEXT for notes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docgen import fonts, preview, signatories
from docgen.errors import DataInvalid, Problem
from docgen.output import Rendered
from docgen.sheets import content as sheet_content
from docgen.sheets import flow, frame, measure
from docgen.sheets.flow import Item
from docgen.stamp import Stamp

COLUMNS = 4
COLUMN_GAP = 12.0
INSET = 10.0  # from the frame and the title block to the notes
SHEET_TITLE_H = 10.0
NOTES_TOP = frame.FRAME_Y1 - 30.0
NOTES_BOTTOM = frame.FRAME_Y0 + INSET
NOTES_LEFT = frame.FRAME_X0 + INSET
NOTES_RIGHT = frame.TITLE_BLOCK_X0 - INSET
COLUMN_WIDTH = (NOTES_RIGHT - NOTES_LEFT - (COLUMNS - 1) * COLUMN_GAP) / COLUMNS
NUMERALS = "一二三四五六七八九十"


def column_lefts() -> list[float]:
    return [NOTES_LEFT + i * (COLUMN_WIDTH + COLUMN_GAP) for i in range(COLUMNS)]


@dataclass(frozen=True)
class SetKind:
    title: str  # 建筑设计总说明
    prefix: str  # 建施
    discipline: str  # 建筑
    registrant: str  # 注册建筑师
    notes_key: str
    needs_loads: bool
    items: Callable[[dict[str, Any], float], list[Item]]


ARCHITECTURE = SetKind(
    "建筑设计总说明",
    "建施",
    "建筑",
    "注册建筑师",
    "architecture_notes",
    False,
    sheet_content.architecture_items,
)
STRUCTURE = SetKind(
    "结构设计总说明", "结施", "结构", "注册结构工程师", "structure_notes", True, sheet_content.structure_items
)


def architecture_notes(content: dict[str, Any], stamp: Stamp) -> Rendered:
    return build(ARCHITECTURE, content, stamp)


def structure_notes(content: dict[str, Any], stamp: Stamp) -> Rendered:
    return build(STRUCTURE, content, stamp)


def architecture_problems(content: dict[str, Any]) -> list[Problem]:
    return _problems(ARCHITECTURE, content)


def structure_problems(content: dict[str, Any]) -> list[Problem]:
    return _problems(STRUCTURE, content)


def _problems(kind: SetKind, content: dict[str, Any]) -> list[Problem]:
    """Every problem that stops `kind` being drawn from `content` (none: it can be drawn)."""
    try:
        sheet_content.check(content, kind.notes_key, kind.needs_loads)
    except DataInvalid as exc:
        return exc.problems
    return []


def sheet_title(kind: SetKind, index: int, count: int) -> str:
    if count == 1:
        return kind.title
    numeral = NUMERALS[index - 1] if index <= len(NUMERALS) else str(index)
    return f"{kind.title}（{numeral}）"


def build_dxf(kind: SetKind, content: dict[str, Any], stamp: Stamp) -> tuple[bytes, list[str]]:
    """The DXF bytes and the sheet numbers; raises DataInvalid before drawing anything."""
    sections = sheet_content.check(content, kind.notes_key, kind.needs_loads)
    fonts.setup_ezdxf()
    sheets = flow.paginate(kind.items(sections, COLUMN_WIDTH), NOTES_TOP - NOTES_BOTTOM, COLUMNS)
    project = sections["project"]
    doc = frame.new_document()
    numbers = [f"{kind.prefix}-{i:02d}" for i in range(1, len(sheets) + 1)]
    for index, (columns, number) in enumerate(zip(sheets, numbers, strict=True), start=1):
        if index == 1:
            doc.layouts.rename("Layout1", number)
            layout = doc.paperspace(number)
        else:
            layout = doc.layouts.new(number)
        layout.page_setup(size=(frame.PAPER_W, frame.PAPER_H), margins=(0, 0, 0, 0), units="mm", scale=(1, 1))
        pen = frame.Pen(layout)
        frame.draw_sheet_border(pen)
        title = sheet_title(kind, index, len(sheets))
        centre = (frame.FRAME_X0 + frame.TITLE_BLOCK_X0) / 2
        pen.text(centre, frame.FRAME_Y1 - 18.0, title, measure.HEI, SHEET_TITLE_H, frame.NOTES, centre=True)
        flow.draw_columns(pen, columns, column_lefts(), COLUMN_WIDTH, NOTES_TOP)
        frame.draw_title_block(
            pen,
            frame.TitleBlock(
                design_unit=str(project["design_unit"]),
                construction_unit=str(project["construction_unit"]),
                project_name=str(project["project_name"]),
                sheet_title=title,
                sheet_number=number,
                sheet_index=index,
                sheet_count=len(sheets),
                design_number=str(project.get("project_code") or "—"),
                dated=str(project.get("design_date") or stamp.issued_on),
                registrant=kind.registrant,
                discipline=kind.discipline,
                stamp=stamp,
                signatories=signatories.names(content),
            ),
        )
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode("utf-8"), numbers


def build(kind: SetKind, content: dict[str, Any], stamp: Stamp) -> Rendered:
    dxf, numbers = build_dxf(kind, content, stamp)
    pdf, pngs = preview.render(dxf)
    return Rendered(files={"dxf": dxf, "pdf": pdf}, previews=pngs, pages=len(numbers), sheet_numbers=numbers)
