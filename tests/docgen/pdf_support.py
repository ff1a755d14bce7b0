"""Reading generated PDFs back for the docgen tests: text per page, fonts, QR codes, text positions."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pymupdf
import pypdf
import zxingcpp

from docgen.stamp import Stamp

STAMP = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def font_dicts(pdf: bytes) -> list[Any]:
    fonts = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"].get_object()
        for font in resources.get("/Font", {}).get_object().values():
            fonts.append(font.get_object())
    return fonts


def is_embedded(font: Any) -> bool:
    if font["/Subtype"] == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def decoded_qr_codes(pdf: bytes, page: int = 0, dpi: int = 200) -> list[str]:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        pixmap = document[page].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        image = np.frombuffer(pixmap.samples, dtype=np.uint8).reshape(pixmap.height, pixmap.width)
        return [code.text for code in zxingcpp.read_barcodes(image)]


def text_boxes(pdf: bytes) -> list[tuple[int, str, pymupdf.Rect, pymupdf.Rect]]:
    """(page index, text, bbox, page rect) of every text line."""
    boxes = []
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        for index, page in enumerate(document):
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    content = "".join(span["text"] for span in line["spans"])
                    if content.strip():
                        boxes.append((index, content, pymupdf.Rect(line["bbox"]), page.rect))
    return boxes
