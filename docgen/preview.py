"""Previews of a DXF drawing: a PDF with one page per paperspace layout (sheet) and a PNG of each.

Rendered with ezdxf's drawing add-on and its PyMuPDF backend (the matplotlib backend mis-fills CJK
glyphs with inner contours, docgen.md §1) on white paper with black lines, each layout 1:1 on a page
of its paper size; the PNGs are rasterised from that PDF with PyMuPDF (the backend's own pixmap
came out blank, docgen.md §2 item 5). Text becomes vector outlines: exact, but not searchable.
Must not: change the drawing, or be used as the deliverable (the DXF is).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pymupdf
from ezdxf.addons.drawing import layout
from ezdxf.addons.drawing import pymupdf as mupdf_backend
from ezdxf.addons.drawing.backend import BkPath2d
from ezdxf.addons.drawing.config import BackgroundPolicy, ColorPolicy, Configuration, LineweightPolicy
from ezdxf.addons.drawing.frontend import Frontend
from ezdxf.addons.drawing.properties import BackendProperties, RenderContext
from ezdxf.document import Drawing
from ezdxf.filemanagement import read
from ezdxf.math import BoundingBox2d
from ezdxf.path.commands import Curve3To, Curve4To, LineTo, MoveTo

from docgen import fonts

_pymupdf: Any = pymupdf

PNG_DPI = 100  # A1 at 100 dpi: 3311 × 2339 px, about 1 mm per 4 px (the QR stays decodable)
CONFIG = Configuration(
    background_policy=BackgroundPolicy.WHITE,
    color_policy=ColorPolicy.BLACK,
    lineweight_policy=LineweightPolicy.ABSOLUTE,
)


class _PathWriter(mupdf_backend.PyMuPdfRenderBackend):
    """The PyMuPDF render backend, with paths written straight into the content stream.

    The stock backend adds every segment through `pymupdf.Shape.draw_line/draw_bezier`, which builds
    several Python objects per segment: an A1 sheet of notes (≈250 000 glyph segments) took 6–7 s.
    Writing the same PDF operators as text takes a fraction of that; colours, line widths and
    fills still go through the backend's own `finish_line`/`finish_filling`."""

    def _operators(self, path: BkPath2d, close: bool) -> str:
        height = self.content_shape.height
        start = path.start
        ops = [f"{start.x:.2f} {height - start.y:.2f} m"]
        for command in path.commands():
            end = command.end
            if isinstance(command, MoveTo):
                if close:
                    ops.append("h")
                ops.append(f"{end.x:.2f} {height - end.y:.2f} m")
            elif isinstance(command, LineTo):
                ops.append(f"{end.x:.2f} {height - end.y:.2f} l")
            elif isinstance(command, Curve3To):  # quadratic (TrueType) → cubic
                ctrl = command.ctrl
                c1 = start + (ctrl - start) * (2 / 3)
                c2 = end + (ctrl - end) * (2 / 3)
                ops.append(
                    f"{c1.x:.2f} {height - c1.y:.2f} {c2.x:.2f} {height - c2.y:.2f} {end.x:.2f} {height - end.y:.2f} c"
                )
            elif isinstance(command, Curve4To):
                c1, c2 = command.ctrl1, command.ctrl2
                ops.append(
                    f"{c1.x:.2f} {height - c1.y:.2f} {c2.x:.2f} {height - c2.y:.2f} {end.x:.2f} {height - end.y:.2f} c"
                )
            start = end
        if close:
            ops.append("h")
        return "\n".join(ops) + "\n"

    def draw_path(self, path: BkPath2d, properties: BackendProperties) -> None:
        if len(path) == 0:
            return
        self.content_shape.draw_cont += self._operators(path, close=False)
        self.finish_line(self.content_shape, properties, close=False)

    def draw_filled_paths(self, paths: Iterable[BkPath2d], properties: BackendProperties) -> None:
        text = "".join(self._operators(path, close=True) for path in paths if len(path))
        if text:
            self.content_shape.draw_cont += text
            self.finish_filling(self.content_shape, properties)


class _Backend(mupdf_backend.PyMuPdfBackend):
    @staticmethod
    def make_backend(page: layout.Page, settings: layout.Settings) -> mupdf_backend.PyMuPdfRenderBackend:
        return _PathWriter(page, settings)


def render(dxf: bytes, dpi: int = PNG_DPI) -> tuple[bytes, list[bytes]]:
    """(PDF bytes, PNG per sheet) for the paperspace layouts of a DXF, in tab order."""
    fonts.setup_ezdxf()
    doc = read(io.StringIO(dxf.decode("utf-8")))
    return render_document(doc, dpi)


def render_document(doc: Drawing, dpi: int = PNG_DPI) -> tuple[bytes, list[bytes]]:
    fonts.setup_ezdxf()
    book: Any = _pymupdf.open()  # PyMuPDF's own annotations are partial
    context = RenderContext(doc)
    for name in doc.layout_names_in_taborder():
        if name == "Model":
            continue
        sheet = doc.paperspace(name)
        width, height = sheet.dxf.paper_width, sheet.dxf.paper_height
        backend = _Backend()
        Frontend(context, backend, config=CONFIG).draw_layout(sheet, finalize=True)
        page = layout.Page(width, height, layout.Units.mm, margins=layout.Margins.all(0))
        pdf = backend.get_pdf_bytes(
            page,
            settings=layout.Settings(fit_page=False, scale=1.0),
            render_box=BoundingBox2d([(0, 0), (width, height)]),
        )
        with _pymupdf.open(stream=pdf, filetype="pdf") as single:
            book.insert_pdf(single)
    pngs = [page.get_pixmap(dpi=dpi).tobytes("png") for page in book]
    data = book.tobytes()  # streams come compressed from the backend
    book.close()
    return data, pngs
