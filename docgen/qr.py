"""QR codes as module matrices, so each output draws them as vector geometry (a DXF HATCH, PDF
rectangles): exact at any scale, no raster, no fonts.

Error correction level M, ASCII payloads only (`docgen.stamp`), a quiet zone of 4 modules around.
Must not: choose where or how large the code is drawn (the layouts do).
"""

from __future__ import annotations

from collections.abc import Iterator

import segno

QUIET_ZONE = 4


def matrix(payload: str) -> list[list[bool]]:
    """Rows of dark (True) / light modules, without the quiet zone."""
    if not payload.isascii():
        raise ValueError("QR payloads must be ASCII")
    code = segno.make_qr(payload, error="m", boost_error=False)
    return [[bool(cell) for cell in row] for row in code.matrix]


def dark_runs(rows: list[list[bool]]) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules: the rectangles to fill."""
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1
