"""Turns a story of flowables into the PDF bytes and the `Rendered` result: one layout pass on the
deferred canvas, then a PNG preview of the first page rasterised by PyMuPDF.

Must not: decide content, or write files (bytes only: the issuing service stores them).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass

import pymupdf
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from docgen.output import Rendered
from docgen.pdf.pages import DeferredCanvas, Furniture
from docgen.pdf.style import styles
from docgen.stamp import Stamp

PREVIEW_DPI = 100


@dataclass(frozen=True)
class Page:
    """Paper and margins in points; the left margin is the binding edge of bound books."""

    size: tuple[float, float]
    left: float = 25 * mm
    right: float = 20 * mm
    top: float = 25 * mm
    bottom: float = 22 * mm

    @property
    def frame(self) -> tuple[float, float, float, float]:
        width, height = self.size
        return self.left, self.bottom, width - self.left - self.right, height - self.top - self.bottom


def footer_identity(stamp: Stamp) -> str:
    return f"文件编号 {stamp.doc_id} · 第 {stamp.revision} 版"


def build_pdf(
    story: Sequence[Flowable],
    page: Page,
    furniture: Furniture,
    title: str,
    stamp: Stamp,
    frames: Sequence[Frame] = (),
) -> bytes:
    """One layout pass; `frames` default to the page's single body frame."""
    buffer = io.BytesIO()
    x, y, width, height = page.frame
    doc = BaseDocTemplate(
        buffer,
        pagesize=page.size,
        title=title,
        author="同办平台",
        subject=stamp.doc_id,
        creator="tongban docgen",
        invariant=1,  # same input, same bytes: no creation timestamp or random id in the file
        initialFontName=styles().font,  # else reportlab's preamble names non-embedded Helvetica
        leftMargin=page.left,
        rightMargin=page.right,
        topMargin=page.top,
        bottomMargin=page.bottom,
    )
    body = Frame(x, y, width, height, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=list(frames) or [body])])
    doc.build(list(story), canvasmaker=functools.partial(DeferredCanvas, furniture=furniture))
    return buffer.getvalue()


def rendered(pdf: bytes) -> Rendered:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:  # type: ignore[no-untyped-call]
        preview = document[0].get_pixmap(dpi=PREVIEW_DPI).tobytes("png")
        return Rendered(files={"pdf": pdf}, previews=[preview], pages=document.page_count)
