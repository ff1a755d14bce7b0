"""Page furniture drawn once the whole document is laid out: header, footer with "第 x 页 共 y 页",
certificate borders and the page numbers of the contents.

Pages are built in one platypus pass on a canvas that keeps each finished page (`DeferredCanvas`); at
`save()` the page total and every heading's page are known, so the footer and the contents are filled
in without a second layout pass (a 50-page book is laid out once).
Must not: lay out body content (the document's story does) or know what a document is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from docgen.pdf.style import FRAME_WIDTH, INK, RULE, styles

HEADER_GAP = 8 * mm  # header baseline above the frame's top
FOOTER_GAP = 10 * mm  # footer baseline below the frame's bottom


@dataclass
class Registry:
    """Where headings landed and where the contents wants their page numbers, filled while drawing."""

    heading_pages: dict[str, int] = field(default_factory=dict)
    slots: dict[int, list[tuple[str, float, float]]] = field(default_factory=dict)  # page → (key, x, y)

    def add_slot(self, page: int, key: str, x_right: float, y: float) -> None:
        self.slots.setdefault(page, []).append((key, x_right, y))


@dataclass(frozen=True)
class Furniture:
    """What each page carries around the body frame (coordinates in points)."""

    frame: tuple[float, float, float, float]  # x, y, width, height of the body frame
    header_left: str = ""
    header_right: str = ""
    footer_left: str = ""  # document id and revision
    footer_right: str = ""
    border: bool = False  # certificates: a double rule around the page
    plain_pages: frozenset[int] = frozenset()  # pages without header (the cover)
    registry: Registry = field(default_factory=Registry)

    def draw(self, canvas: Canvas, page: int, total: int) -> None:
        x, y, width, height = self.frame
        font = styles().font
        canvas.saveState()
        canvas.setFillColor(INK)
        canvas.setStrokeColor(RULE)
        if self.border:
            self._draw_border(canvas)
        if page not in self.plain_pages and (self.header_left or self.header_right):
            canvas.setFont(font, 9)
            canvas.drawString(x, y + height + HEADER_GAP, self.header_left)
            canvas.drawRightString(x + width, y + height + HEADER_GAP, self.header_right)
            canvas.setLineWidth(0.8)
            canvas.line(x, y + height + HEADER_GAP - 2.5 * mm, x + width, y + height + HEADER_GAP - 2.5 * mm)
        canvas.setFont(font, 9)
        canvas.drawCentredString(x + width / 2, y - FOOTER_GAP, f"第 {page} 页 共 {total} 页")
        canvas.setFont(font, 7.5)
        canvas.drawString(x, y - FOOTER_GAP, self.footer_left)
        canvas.drawRightString(x + width, y - FOOTER_GAP, self.footer_right)
        canvas.setFont(font, 10.5)
        for key, x_right, baseline in self.registry.slots.get(page, []):
            canvas.drawRightString(x_right, baseline, str(self.registry.heading_pages.get(key, "")))
        canvas.restoreState()

    def _draw_border(self, canvas: Canvas) -> None:
        x, y, width, height = self.frame
        outer = 7 * mm
        inner = outer - 1.6 * mm
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(FRAME_WIDTH * 2)
        canvas.rect(x - outer, y - outer, width + 2 * outer, height + 2 * outer)
        canvas.setLineWidth(FRAME_WIDTH / 2)
        canvas.rect(x - inner, y - inner, width + 2 * inner, height + 2 * inner)


class DeferredCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
    """Holds finished pages until `save()`, then draws the furniture with the page total."""

    def __init__(self, *args: Any, furniture: Furniture, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._finished: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._finished.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._finished)
        for number, state in enumerate(self._finished, start=1):
            self.__dict__.update(state)
            self._furniture.draw(self, number, total)
            Canvas.showPage(self)
        Canvas.save(self)
