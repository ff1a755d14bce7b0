"""The A1 sheet: paper, frame and the right-side title block (图签) per GB/T 50001, and the DXF
document's text styles and layers.

Paper A1 landscape 841 × 594 mm; frame a = 25 mm on the binding (left) edge, c = 10 mm elsewhere
(GB/T 50001 §3.1.1). Line widths for A0/A1 with b = 1.4 mm: frame b, title block outline 0.7b,
its dividing lines 0.35b (§3.1.5 table). The title block is a 60 mm strip (40–70 mm, §3.2.2) with,
top to bottom: 设计单位, 注册师签章, 项目经理, 修改记录, 建设单位, 工程名称, 图名, 图号, 电子签名
验证区 (the vector QR: ONE solid HATCH, with document id, short SM3 and revision), 签字区 (实名 and
签名 columns) and 会签区. Every value is fitted into its cell (`measure.fit`).
Must not: lay out the notes (`flow`) or decide the sheet's content (`notes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ezdxf.document import Drawing
from ezdxf.enums import TextEntityAlignment
from ezdxf.filemanagement import new
from ezdxf.layouts.layout import Paperspace

from docgen import qr, signatories
from docgen.sheets import measure
from docgen.sheets.measure import HEI, SONG
from docgen.stamp import Stamp

PAPER_W, PAPER_H = 841.0, 594.0  # A1 landscape, mm
BINDING, MARGIN = 25.0, 10.0  # a and c
FRAME_X0, FRAME_Y0 = BINDING, MARGIN
FRAME_X1, FRAME_Y1 = PAPER_W - MARGIN, PAPER_H - MARGIN
TITLE_BLOCK_W = 60.0
TITLE_BLOCK_X0 = FRAME_X1 - TITLE_BLOCK_W
QR_SIZE = 42.0  # mm including the quiet zone: about 0.9 mm per module for version 6–7

FRAME, TITLE_BLOCK, NOTES, TABLES, QR_LAYER = "图框", "图签", "说明", "表格", "二维码"
LAYERS = {FRAME: 140, TITLE_BLOCK: 50, NOTES: 25, TABLES: 25, QR_LAYER: 0}  # lineweight, 1/100 mm
LW_OUTLINE = 100  # 0.7b: title block outline
LW_DIVIDER = 50  # 0.35b: title block dividing lines
LW_TRIM = 18  # paper trimming line

PAD = 1.5  # mm between a cell's border and its text
LABEL_H = 2.5  # title block labels (黑体)


class Pen:
    """Drawing on one paperspace layout in mm: lines, rectangles, single-line TEXT, the QR hatch."""

    def __init__(self, layout: Paperspace) -> None:
        self.layout = layout

    def line(self, x0: float, y0: float, x1: float, y1: float, layer: str, lineweight: int = -1) -> None:
        self.layout.add_line((x0, y0), (x1, y1), dxfattribs={"layer": layer, "lineweight": lineweight})

    def rect(self, x0: float, y0: float, x1: float, y1: float, layer: str, lineweight: int = -1) -> None:
        self.layout.add_lwpolyline(
            [(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
            close=True,
            dxfattribs={"layer": layer, "lineweight": lineweight},
        )

    def text(
        self,
        x: float,
        baseline: float,
        value: str,
        style: str,
        height: float,
        layer: str,
        centre: bool = False,
    ) -> None:
        """One TEXT, left-aligned at (x, baseline), or centred on x."""
        entity = self.layout.add_text(value, height=height, dxfattribs={"style": style, "layer": layer})
        align = TextEntityAlignment.CENTER if centre else TextEntityAlignment.LEFT
        entity.set_placement((x, baseline), align=align)

    def fitted(
        self, box: tuple[float, float, float, float], value: str, style: str, largest: float,
        smallest: float, layer: str, centre: bool = False,
    ) -> None:  # fmt: skip
        """`value` wrapped and shrunk into the box (x0, y0, x1, y1), centred vertically."""
        x0, y0, x1, y1 = box
        fit = measure.fit(value, style, x1 - x0 - 2 * PAD, y1 - y0 - 2 * PAD, largest, smallest)
        top = (y0 + y1) / 2 + fit.block_height / 2
        for i, line in enumerate(fit.lines):
            baseline = top - measure.GLYPH_TOP * fit.height - i * fit.pitch
            x = (x0 + x1) / 2 if centre else x0 + PAD
            self.text(x, baseline, line, style, fit.height, layer, centre)

    def qr(self, x0: float, y0: float, size: float, payload: str) -> None:
        """The QR code as one solid HATCH with a boundary path per dark run, quiet zone included
        in `size` (the square at x0, y0)."""
        rows = qr.matrix(payload)
        module = size / (len(rows) + 2 * qr.QUIET_ZONE)
        hatch = self.layout.add_hatch(color=7, dxfattribs={"layer": QR_LAYER})
        hatch.set_solid_fill(color=7)
        top = y0 + size - qr.QUIET_ZONE * module
        left = x0 + qr.QUIET_ZONE * module
        for row, col, length in qr.dark_runs(rows):
            ya, yb = top - (row + 1) * module, top - row * module
            xa, xb = left + col * module, left + (col + length) * module
            hatch.paths.add_polyline_path([(xa, ya), (xb, ya), (xb, yb), (xa, yb)], is_closed=True)


def new_document() -> Drawing:
    """An empty R2018 drawing in mm with our text styles and layers."""
    doc = new("R2018", setup=False, units=4)  # 4 = millimetres
    for style, font in measure.STYLE_FONTS.items():
        doc.styles.add(style, font=font)
    for name, lineweight in LAYERS.items():
        doc.layers.add(name, color=7, lineweight=lineweight)
    return doc


@dataclass(frozen=True)
class TitleBlock:
    """What the title block says on one sheet."""

    design_unit: str
    construction_unit: str
    project_name: str
    sheet_title: str  # 图名
    sheet_number: str  # 图号
    sheet_index: int  # 1-based
    sheet_count: int
    design_number: str  # 设计号 (the project code)
    dated: str
    registrant: str  # 注册建筑师 / 注册结构工程师
    discipline: str  # 建筑 / 结构: its row is left out of the 会签区
    stamp: Stamp
    signatories: dict[str, str] = field(default_factory=dict)  # role → real name (docgen.signatories)


ROLES = list(signatories.ROLES)
COUNTERSIGN = ["建筑", "结构", "给排水", "暖通", "电气", "智能化"]
ROW_H = 7.0
SIGN_COLUMNS = [20.0, 18.0, 22.0]  # 职责 | 实名 | 签名


def draw_sheet_border(pen: Pen) -> None:
    pen.rect(0, 0, PAPER_W, PAPER_H, FRAME, LW_TRIM)
    pen.rect(FRAME_X0, FRAME_Y0, FRAME_X1, FRAME_Y1, FRAME)


def draw_title_block(pen: Pen, block: TitleBlock) -> None:
    x0, x1 = TITLE_BLOCK_X0, FRAME_X1
    pen.rect(x0, FRAME_Y0, x1, FRAME_Y1, TITLE_BLOCK, LW_OUTLINE)
    zones: list[tuple[float, Callable[[Pen, TitleBlock, float, float], None]]] = [
        (34, _design_unit),
        (0, _seals),  # takes what the others leave
        (20, _manager),
        (7 + ROW_H * 6, _revisions),
        (22, _construction_unit),
        (36, _project_name),
        (24, _sheet_title),
        (36, _sheet_number),
        (QR_SIZE + 30, _verification),
        (ROW_H * 7, _signatures),
        (ROW_H * 6, _countersign),
    ]
    flexible = (FRAME_Y1 - FRAME_Y0) - sum(height for height, _ in zones)
    top = FRAME_Y1
    for i, (height, draw) in enumerate(zones):
        height = height or flexible
        bottom = top - height
        if i:
            pen.line(x0, top, x1, top, TITLE_BLOCK, LW_DIVIDER)
        draw(pen, block, top, bottom)
        top = bottom


def _label(pen: Pen, text: str, top: float) -> float:
    """A zone's label in the top-left corner; returns the y below it."""
    pen.text(TITLE_BLOCK_X0 + PAD, top - PAD - measure.GLYPH_TOP * LABEL_H, text, HEI, LABEL_H, TITLE_BLOCK)
    return top - 2 * PAD - (measure.GLYPH_TOP + measure.GLYPH_BOTTOM) * LABEL_H


def _design_unit(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    below = _label(pen, "设计单位", top)
    pen.fitted((TITLE_BLOCK_X0, bottom, FRAME_X1, below), b.design_unit, HEI, 5.0, 2.5, TITLE_BLOCK, True)


def _seals(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    below = _label(pen, "注册师签章", top)
    half = (below - bottom) / 2
    for i, caption in enumerate([f"{b.registrant}执业专用章", "出图专用章"]):
        cell_top = below - i * half
        side = min(half - 12, TITLE_BLOCK_W - 14)
        cx = (TITLE_BLOCK_X0 + FRAME_X1) / 2
        pen.rect(cx - side / 2, cell_top - 2 - side, cx + side / 2, cell_top - 2, TITLE_BLOCK, 13)
        caption_box = (TITLE_BLOCK_X0, cell_top - 2 - side - 8, FRAME_X1, cell_top - 2 - side)
        pen.fitted(caption_box, caption, SONG, 2.5, 2.5, TITLE_BLOCK, True)


def _manager(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    _label(pen, "项目经理签章", top)


def _grid(
    pen: Pen, top: float, widths: list[float], rows: list[list[str]], header_style: str = HEI
) -> None:  # fmt: skip
    """A table of ROW_H rows across the title block, first row as header; all lines dividers."""
    y = top
    for r, row in enumerate(rows):
        x = TITLE_BLOCK_X0
        for c, (w, value) in enumerate(zip(widths, row, strict=True)):
            if c:
                pen.line(x, y, x, y - ROW_H, TITLE_BLOCK, LW_DIVIDER)
            if value:
                style = header_style if r == 0 else SONG
                pen.fitted((x, y - ROW_H, x + w, y), value, style, 2.5, 2.0, TITLE_BLOCK, centre=True)
            x += w
        y -= ROW_H
        if r < len(rows) - 1:
            pen.line(TITLE_BLOCK_X0, y, FRAME_X1, y, TITLE_BLOCK, LW_DIVIDER)


def _revisions(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    _label(pen, "修改记录", top)
    grid_top = bottom + ROW_H * 6
    pen.line(TITLE_BLOCK_X0, grid_top, FRAME_X1, grid_top, TITLE_BLOCK, LW_DIVIDER)
    content = "首次出图" if b.stamp.revision == 1 else "按修改后数据重新出图"
    rows = [["版次", "日期", "修改内容"], [str(b.stamp.revision), b.stamp.issued_on, content]]
    rows += [["", "", ""]] * 4
    _grid(pen, grid_top, [10, 20, 30], rows)


def _construction_unit(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    below = _label(pen, "建设单位", top)
    pen.fitted(
        (TITLE_BLOCK_X0, bottom, FRAME_X1, below), b.construction_unit, SONG, 3.5, 2.5, TITLE_BLOCK, True
    )


def _project_name(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    below = _label(pen, "工程名称", top)
    pen.fitted((TITLE_BLOCK_X0, bottom, FRAME_X1, below), b.project_name, HEI, 5.0, 2.5, TITLE_BLOCK, True)


def _sheet_title(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    below = _label(pen, "图名", top)
    pen.fitted((TITLE_BLOCK_X0, bottom, FRAME_X1, below), b.sheet_title, HEI, 5.0, 2.5, TITLE_BLOCK, True)


def _sheet_number(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    rows = [
        ("图号", b.sheet_number, HEI, 5.0),
        ("张次", f"第 {b.sheet_index} 张 共 {b.sheet_count} 张", SONG, 3.0),
        ("设计号", b.design_number, SONG, 3.0),
        ("日期", b.dated, SONG, 3.0),
    ]
    height = (top - bottom) / len(rows)
    split = TITLE_BLOCK_X0 + 14
    pen.line(split, top, split, bottom, TITLE_BLOCK, LW_DIVIDER)
    for i, (label, value, style, size) in enumerate(rows):
        y1 = top - i * height
        if i:
            pen.line(TITLE_BLOCK_X0, y1, FRAME_X1, y1, TITLE_BLOCK, LW_DIVIDER)
        pen.fitted((TITLE_BLOCK_X0, y1 - height, split, y1), label, HEI, LABEL_H, LABEL_H, TITLE_BLOCK, True)
        pen.fitted((split, y1 - height, FRAME_X1, y1), value, style, size, 2.5, TITLE_BLOCK, True)


def _verification(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    below = _label(pen, "电子签名验证区", top)
    cx = (TITLE_BLOCK_X0 + FRAME_X1) / 2
    qr_top = below - 0.5
    pen.qr(cx - QR_SIZE / 2, qr_top - QR_SIZE, QR_SIZE, b.stamp.payload)
    lines = [
        f"编号 {b.stamp.doc_id}",
        f"SM3 {b.stamp.short_digest}",
        f"版次 {b.stamp.revision}  {b.stamp.issued_on}",
    ]
    pitch = (qr_top - QR_SIZE - bottom) / len(lines)
    for i, text in enumerate(lines):
        y1 = qr_top - QR_SIZE - i * pitch
        pen.fitted((TITLE_BLOCK_X0, y1 - pitch, FRAME_X1, y1), text, SONG, 2.5, 2.0, TITLE_BLOCK, True)


def _signatures(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    rows = [[role, b.signatories.get(role, ""), ""] for role in ROLES]
    _grid(pen, top, SIGN_COLUMNS, [["职责", "姓名", "签名"], *rows])


def _countersign(pen: Pen, b: TitleBlock, top: float, bottom: float) -> None:
    others = [d for d in COUNTERSIGN if d != b.discipline]
    _grid(pen, top, SIGN_COLUMNS, [["会签专业", "姓名", "签名"], *[[d, "", ""] for d in others[:5]]])
