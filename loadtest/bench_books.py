"""Generation time of the PDF books and certificates (`docgen.pdf`), printed as one table.

Measures: the 荷载计算书 of about 50 pages (sample filling with enough load rows), and each certificate
template with its sample data; each is generated `--repeat` times after one warm-up (which pays for
registering the font), and the table shows the pages, size, median and best time.

    .venv/bin/python -m loadtest.bench_books [--repeat 5] [--loads 230]

Must not: write files, touch the network or database, or time anything below the public generators
(what is measured is what the issuing service gets: PDF bytes plus the page-1 PNG preview).
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version

from docgen import pdf
from docgen.output import Rendered
from docgen.samples import filling
from docgen.stamp import Stamp

STAMP = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")
BOOK_LOADS = 230  # load rows that make the sample calculation book 50 pages


def _time(generate: Callable[[], Rendered], repeat: int) -> tuple[Rendered, list[float]]:
    result = generate()  # warm-up: font registration and template loading are one-off costs
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = generate()
        times.append(time.perf_counter() - started)
    return result, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--loads", type=int, default=BOOK_LOADS)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, reportlab {version('reportlab')}, pymupdf {version('pymupdf')}"
    )
    content = filling(loads=args.loads)
    cases: list[tuple[str, Callable[[], Rendered]]] = [
        (f"荷载计算书 ({args.loads} load rows)", lambda: pdf.load_calculation(content, STAMP)),
    ]
    for kind in sorted(pdf.templates()):
        data = pdf.sample_data(kind)
        cases.append((kind, functools.partial(pdf.render_template, kind, data, STAMP)))
    print(f"{'document':<34} {'pages':>5} {'KiB':>6} {'median s':>9} {'best s':>7}")
    for name, generate in cases:
        result, times = _time(generate, args.repeat)
        size = len(result.files["pdf"]) / 1024
        print(
            f"{name:<34} {result.pages:>5} {size:>6.0f} {statistics.median(times):>9.3f} {min(times):>7.3f}"
        )


if __name__ == "__main__":
    main()
