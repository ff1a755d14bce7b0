"""Typography of every generated PDF: one embedded CJK font, paragraph styles, rules and page sizes.

All text uses the face `docgen.fonts.register_reportlab()` returns (embedded TrueType subsets), so no
PDF ever names a font the reader has to supply. Sizes follow Chinese practice: 小四 (12 pt) body text,
四号 (14 pt) section headings, 小五 (9 pt) in tables, 二号 (22 pt) titles.
Must not: know about any particular document's content.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from docgen import cjk, fonts

PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "A3": A3}
INK = colors.black
RULE = colors.Color(0.25, 0.25, 0.25)
SHADE = colors.Color(0.93, 0.93, 0.93)  # header rows and label cells: prints as a light grey on any printer
GRID_WIDTH = 0.5  # pt, table cell rules
FRAME_WIDTH = 1.2  # pt, outer border of tables and certificates


def _kinsoku() -> None:
    """reportlab's CJK wrapping keeps only Japanese half-width marks off line starts: add the Chinese
    closing punctuation (，。、；：？！）》」…) of `docgen.cjk` to the set both of its wrapping paths read at
    wrap time (plain paragraphs: `textsplit`; paragraphs with markup: `paragraph`)."""
    from reportlab.lib import textsplit
    from reportlab.platypus import paragraph

    for module in (textsplit, paragraph):
        module.ALL_CANNOT_START += "".join(sorted(set(cjk.CLOSING) - set(module.ALL_CANNOT_START)))


_kinsoku()


def page_size(name: str, orientation: str) -> tuple[float, float]:
    size = PAGE_SIZES[name]
    return landscape(size) if orientation == "landscape" else size


@dataclass(frozen=True)
class Styles:
    font: str
    title: ParagraphStyle  # cover and certificate titles
    subtitle: ParagraphStyle
    h1: ParagraphStyle  # numbered sections: "1 设计资料"
    h2: ParagraphStyle  # "4.1 组合汇总"
    h3: ParagraphStyle  # one room's combination
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle  # table cells: CJK wrap anywhere, kinsoku kept by reportlab
    cell_center: ParagraphStyle
    cell_right: ParagraphStyle
    head_cell: ParagraphStyle
    toc1: ParagraphStyle
    toc2: ParagraphStyle
    center: ParagraphStyle
    right: ParagraphStyle


@functools.cache
def styles() -> Styles:
    font = fonts.register_reportlab()

    def style(name: str, size: float, **kw: object) -> ParagraphStyle:
        kw.setdefault("leading", size * 1.5)
        return ParagraphStyle(name, fontName=font, fontSize=size, wordWrap="CJK", textColor=INK, **kw)

    return Styles(
        font=font,
        title=style("tb-title", 26, leading=36, alignment=TA_CENTER, spaceAfter=6 * mm),
        subtitle=style("tb-subtitle", 15, leading=24, alignment=TA_CENTER),
        h1=style("tb-h1", 14, spaceBefore=5 * mm, spaceAfter=3 * mm, keepWithNext=1),
        h2=style("tb-h2", 12, spaceBefore=3 * mm, spaceAfter=2 * mm, keepWithNext=1),
        h3=style("tb-h3", 10.5, spaceBefore=2 * mm, spaceAfter=1 * mm, keepWithNext=1),
        body=style("tb-body", 10.5, leading=19, alignment=TA_JUSTIFY, firstLineIndent=21, spaceAfter=1 * mm),
        small=style("tb-small", 8, leading=11),
        cell=style("tb-cell", 9, leading=12.5, alignment=TA_LEFT),
        cell_center=style("tb-cell-c", 9, leading=12.5, alignment=TA_CENTER),
        cell_right=style("tb-cell-r", 9, leading=12.5, alignment=TA_RIGHT),
        head_cell=style("tb-head", 9, leading=12.5, alignment=TA_CENTER),
        toc1=style("tb-toc1", 11, leading=22),
        toc2=style("tb-toc2", 10.5, leading=19, leftIndent=8 * mm),
        center=style("tb-center", 10.5, leading=18, alignment=TA_CENTER),
        right=style("tb-right", 10.5, leading=18, alignment=TA_RIGHT),
    )


def text(value: object) -> str:
    """Paragraph markup for a plain value: XML-escaped, line breaks kept."""
    return escape(str(value)).replace("\n", "<br/>")
