"""Sheet previews: one A1 PDF page per sheet, white paper and black ink, and a QR that scans."""

from __future__ import annotations

import numpy as np
import pymupdf
import pytest
import zxingcpp

from docgen import preview, samples
from docgen.output import Rendered
from docgen.sheets import frame, notes
from docgen.stamp import Stamp, parse_payload

STAMP = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")
POINTS_PER_MM = 72 / 25.4


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return notes.structure_notes(samples.filling(notes_repeat=8), STAMP)


def pixels(png: bytes) -> np.ndarray:
    pixmap = pymupdf.Pixmap(png)
    return np.frombuffer(pixmap.samples, dtype=np.uint8).reshape(pixmap.height, pixmap.width, pixmap.n)


def test_the_preview_pdf_has_one_a1_landscape_page_per_sheet(rendered: Rendered) -> None:
    with pymupdf.open(stream=rendered.files["pdf"], filetype="pdf") as pdf:
        assert pdf.page_count == rendered.pages == 2
        for page in pdf:
            assert page.rect.width == pytest.approx(frame.PAPER_W * POINTS_PER_MM, abs=1)
            assert page.rect.height == pytest.approx(frame.PAPER_H * POINTS_PER_MM, abs=1)


def test_the_qr_on_every_preview_decodes_to_the_stamp_payload(rendered: Rendered) -> None:
    for png in rendered.previews:
        found = [
            code.text
            for code in zxingcpp.read_barcodes(pixels(png))
            if code.format == zxingcpp.BarcodeFormat.QRCode
        ]
        assert found == [STAMP.payload]
        assert parse_payload(found[0]) == (STAMP.doc_id, STAMP.digest)


def test_the_preview_is_white_paper_with_black_ink_and_drawn_to_scale(rendered: Rendered) -> None:
    image = pixels(rendered.previews[0])[:, :, :3]
    height, width, _ = image.shape
    px_per_mm = preview.PNG_DPI / 25.4  # the backend rounds the page to whole points: ±2 px
    assert abs(width - frame.PAPER_W * px_per_mm) <= 2
    assert abs(height - frame.PAPER_H * px_per_mm) <= 2
    assert image[5, width // 2].min() == 255  # the margin outside the frame is white paper
    frame_x = int(frame.FRAME_X0 * px_per_mm)  # the 1.4 mm frame line, 25 mm from the left edge
    column = image[height // 2, frame_x - 3 : frame_x + 4]
    assert column.min() < 60
    ink = (image.min(axis=2) < 128).mean()
    assert 0.01 < ink < 0.5


def test_a_dxf_renders_to_the_same_number_of_pages_as_it_has_layouts(rendered: Rendered) -> None:
    pdf, pngs = preview.render(rendered.files["dxf"], dpi=30)
    assert len(pngs) == 2
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        assert document.page_count == 2
