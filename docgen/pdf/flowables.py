"""The building blocks every PDF document is made of: headings that record their page, contents lines,
the vector QR verification block, the seal area, and ruled tables with CJK-wrapping cells.

Must not: decide what a document says (the calculation book and the template engine do) or draw
page furniture (`docgen.pdf.pages`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from docgen import qr
from docgen.pdf.pages import Registry
from docgen.pdf.style import FRAME_WIDTH, GRID_WIDTH, INK, RULE, SHADE, styles, text
from docgen.stamp import Stamp

Cell = Any  # a Flowable or a plain string (reportlab is untyped)


class Heading(Paragraph):  # type: ignore[misc]  # reportlab is untyped
    """A section heading: records its page for the contents and adds a PDF outline entry."""

    def __init__(self, title: str, level: int, key: str, registry: Registry) -> None:
        style = {0: styles().h1, 1: styles().h2}.get(level, styles().h3)
        super().__init__(text(title), style)
        self.title, self.level, self.key, self.registry = title, level, key, registry

    def draw(self) -> None:
        page = self.canv.getPageNumber()
        self.registry.heading_pages.setdefault(self.key, page)
        if self.level <= 1:
            self.canv.bookmarkPage(self.key)
            self.canv.addOutlineEntry(self.title, self.key, level=self.level)
        super().draw()


class ContentsLine(Flowable):  # type: ignore[misc]
    """One line of the contents: title, dotted leader, and a slot the page number is drawn into later."""

    NUMBER_WIDTH = 12 * mm

    def __init__(self, title: str, level: int, key: str, registry: Registry) -> None:
        super().__init__()
        self.title, self.level, self.key, self.registry = title, level, key, registry
        self.style = styles().toc1 if level == 0 else styles().toc2

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.style.leading

    def draw(self) -> None:
        canvas, font, size = self.canv, self.style.fontName, self.style.fontSize
        baseline = (self.style.leading - size) / 2 + 0.2 * size
        canvas.setFont(font, size)
        canvas.drawString(self.style.leftIndent, baseline, self.title)
        start = self.style.leftIndent + canvas.stringWidth(self.title, font, size) + 2 * mm
        end = self.width - self.NUMBER_WIDTH
        dot = canvas.stringWidth("·", font, size)
        if end > start:
            canvas.drawString(start, baseline, "·" * int((end - start) / dot))
        x_page, y_page = canvas.absolutePosition(self.width, baseline)
        self.registry.add_slot(canvas.getPageNumber(), self.key, x_page, y_page)


class QrBlock(Flowable):  # type: ignore[misc]
    """The verification QR as filled rectangles (no raster, no font), with the id, revision and short
    digest printed beside it so a reader can check the document without a phone."""

    def __init__(self, stamp: Stamp, size: float = 32 * mm, note: str = "扫描二维码核验文件真伪") -> None:
        super().__init__()
        self.stamp, self.size, self.note = stamp, size, note
        self.rows = qr.matrix(stamp.payload)
        self.hAlign = "RIGHT"
        self.lines = [
            note,
            f"文件编号：{stamp.doc_id}",
            f"版　　本：第 {stamp.revision} 版",
            f"SM3 摘要：{stamp.short_digest}",
            f"签发日期：{stamp.issued_on}",
        ]
        self.text_width = max(self._string_width(line, 8.5) for line in self.lines) + 2 * mm

    @staticmethod
    def _string_width(line: str, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        width: float = stringWidth(line, styles().font, size)
        return width

    LINE_HEIGHT = 4.6 * mm
    GAP = 3 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """Text beside the code when it fits, else under it (narrow columns)."""
        self.beside = avail_width >= self.size + self.GAP + self.text_width
        if self.beside:
            return self.size + self.GAP + self.text_width, self.size
        self.width = max(self.size, self.text_width)
        return self.width, self.size + self.GAP + len(self.lines) * self.LINE_HEIGHT

    def draw(self) -> None:
        canvas = self.canv
        count = len(self.rows) + 2 * qr.QUIET_ZONE
        module = self.size / count
        text_height = len(self.lines) * self.LINE_HEIGHT
        x_code = 0.0 if self.beside else (self.width - self.size) / 2
        y_code = 0.0 if self.beside else text_height + self.GAP
        canvas.saveState()
        canvas.setFillColor(INK)
        top = y_code + self.size - qr.QUIET_ZONE * module
        path = canvas.beginPath()
        for row, col, length in qr.dark_runs(self.rows):
            path.rect(
                x_code + (qr.QUIET_ZONE + col) * module, top - (row + 1) * module, length * module, module
            )
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.setFont(styles().font, 8.5)
        if self.beside:
            x_text = self.size + self.GAP
            first = self.size / 2 + (len(self.lines) - 1) * self.LINE_HEIGHT / 2 - 1.2 * mm
        else:
            x_text = (self.width - self.text_width) / 2 + 1 * mm
            first = text_height - self.LINE_HEIGHT + 1.2 * mm
        for index, line in enumerate(self.lines):
            canvas.drawString(x_text, first - index * self.LINE_HEIGHT, line)
        canvas.restoreState()


class SealArea(Flowable):  # type: ignore[misc]
    """Where the issuing authority's seal goes: the authority and date lines, centred on a dashed circle
    the seal will cover (as a stamped paper document has its seal over the authority's name)."""

    FONT_SIZE = 12.0
    MIN_FONT_SIZE = 8.0

    def __init__(self, lines: Sequence[str], diameter: float = 38 * mm) -> None:
        super().__init__()
        self.lines, self.diameter = list(lines), diameter
        self.hAlign = "RIGHT"

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        usable = avail_width - 2 * mm
        widest = max((QrBlock._string_width(line, 1) for line in self.lines), default=1.0)
        self.font_size = max(self.MIN_FONT_SIZE, min(self.FONT_SIZE, usable / widest))
        self.shown = [part for line in self.lines for part in _split(line, usable, self.font_size)]
        widest = max((QrBlock._string_width(line, self.font_size) for line in self.shown), default=0.0)
        self.width = min(avail_width, max(self.diameter, widest + 2 * mm))
        self.height = max(self.diameter, len(self.shown) * self.font_size * 1.6 + 2 * mm)
        return self.width, self.height

    def draw(self) -> None:
        canvas, radius = self.canv, self.diameter / 2
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6)
        canvas.setDash(3, 2)
        canvas.circle(self.width / 2, self.height / 2, radius - 1, stroke=1, fill=0)
        canvas.setDash()
        canvas.setFillColor(INK)
        canvas.setFont(styles().font, self.font_size)
        line_height = self.font_size * 1.6
        first = self.height / 2 + (len(self.shown) - 1) * line_height / 2 - self.font_size * 0.35
        for index, line in enumerate(self.shown):
            canvas.drawCentredString(self.width / 2, first - index * line_height, line)
        canvas.restoreState()


def _split(line: str, width: float, size: float) -> list[str]:
    """A seal line broken between characters so each part fits `width` (names and dates only)."""
    parts, current = [], ""
    for char in line:
        if current and QrBlock._string_width(current + char, size) > width:
            parts.append(current)
            current = ""
        current += char
    return [*parts, current] if current else parts


def cell(value: object, align: str = "left") -> Paragraph:
    style = {"center": styles().cell_center, "right": styles().cell_right}.get(align, styles().cell)
    return Paragraph(text(value), style)


def ruled_table(
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[float],
    header_rows: int = 1,
    label_columns: Sequence[int] = (),
    spans: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
    padding: float = 3,
) -> Table:
    """A table ruled like an official form: thin grid, heavy outer frame, shaded header and label cells,
    header rows repeated on every page the table continues onto."""
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), styles().font),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), GRID_WIDTH, INK),
        ("BOX", (0, 0), (-1, -1), FRAME_WIDTH, INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding + 1),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE))
    for column in label_columns:
        commands.append(("BACKGROUND", (column, header_rows), (column, -1), SHADE))
    for start, end in spans:
        commands.append(("SPAN", start, end))
        commands.append(("BACKGROUND", start, end, colors.white))  # a value spanning label columns
    table = Table(
        [list(row) for row in rows],
        colWidths=list(widths),
        repeatRows=header_rows,
        hAlign="CENTER",
    )
    table.setStyle(TableStyle(commands))
    return table
