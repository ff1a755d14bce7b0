"""Drawing sheets (issue 8): one A1 结构设计总说明 sheet with its four columns of notes filled.

    .venv/bin/python -m loadtest.bench_sheets [--repeat 5] [--notes-repeat 6]

Times, median of --repeat runs in this process (fonts and glyph caches warm after a first
untimed run, as in a worker): the DXF build + save (`notes.build_dxf`, validation included) and the
preview (`preview.render`: DXF read, PDF through ezdxf's drawing add-on with the PyMuPDF backend,
PNG at 100 dpi). `--notes-repeat 6` is the sample notes six times: one sheet, four full columns.
Prints a table and one JSON line; exit status 1 when the preview misses its target (≤ 3 s).
Must not: write files or need the server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from docgen import preview, samples
from docgen.sheets import notes
from docgen.stamp import Stamp

TARGET_PREVIEW_S = 3.0
STAMP = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--notes-repeat", type=int, default=6)
    args = parser.parse_args()
    content = samples.filling(notes_repeat=args.notes_repeat)
    dxf, numbers = notes.build_dxf(notes.STRUCTURE, content, STAMP)  # warm-up: fonts, glyph caches
    preview.render(dxf)
    build_s, preview_s = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        dxf, numbers = notes.build_dxf(notes.STRUCTURE, content, STAMP)
        built = time.perf_counter()
        pdf, pngs = preview.render(dxf)
        build_s.append(built - started)
        preview_s.append(time.perf_counter() - built)
    result = {
        "sheets": len(numbers),
        "dxf_kib": round(len(dxf) / 1024),
        "pdf_kib": round(len(pdf) / 1024),
        "png_kib": round(sum(map(len, pngs)) / 1024),
        "dxf_build_save_s": round(statistics.median(build_s), 3),
        "preview_pdf_png_s": round(statistics.median(preview_s), 3),
        "preview_per_sheet_s": round(statistics.median(preview_s) / len(numbers), 3),
    }
    for key, value in result.items():
        print(f"{key:24} {value}")
    print(json.dumps({"bench": "sheets", **result}))
    return 0 if result["preview_per_sheet_s"] <= TARGET_PREVIEW_S else 1


if __name__ == "__main__":
    sys.exit(main())
