"""Scale figures for the first stages of a BIM check (intake, header, STEP syntax scan + parse):
builds an N-times replicated copy of a real IFC model in a temporary directory (every copy's instance
names shifted past the previous copy's, its GlobalIds altered so they stay unique) and times the
stages on the original and on the copy.

    .venv/bin/python -m loadtest.bim_scale ../shared/data/ifc/models/AC20-FZK-Haus.ifc --copies 10

The copy is a synthetic stand-in for a large model (it repeats the project, so it is for timing
only, not for rule conformance). Must not: write outside its temporary directory.
"""

from __future__ import annotations

import argparse
import re
import resource
import tempfile
import time
from pathlib import Path

_TOKEN = re.compile(rb"'(?:[^']|'')*'|#([0-9]+)")
_GUID = re.compile(rb"'([0-9A-Za-z_$]{22})'")
_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"


def replicate(source: Path, target: Path, copies: int) -> int:
    """Write `copies` copies of the DATA section of `source` into `target`; the size written."""
    data = source.read_bytes()
    start = data.index(b"DATA;") + len(b"DATA;")
    end = data.rindex(b"ENDSEC;")
    header, body = data[:start], data[start:end]
    offset = max(int(m.group(1)) for m in re.finditer(rb"#([0-9]+)\s*=", body)) + 1
    with target.open("wb") as out:
        out.write(header)
        for k in range(copies):
            if k == 0:
                out.write(body)
                continue
            out.write(_copy(body, k, k * offset))
        out.write(data[end:])
    return target.stat().st_size


def _copy(body: bytes, k: int, shift: int) -> bytes:
    def rename(m: re.Match[bytes]) -> bytes:
        return b"#%d" % (int(m.group(1)) + shift) if m.group(1) else m.group()

    tag = bytes((_ALPHABET[k // 64 % 64], _ALPHABET[k % 64]))
    return _GUID.sub(lambda m: b"'" + m.group(1)[:-2] + tag + b"'", _TOKEN.sub(rename, body))


def measure(path: Path) -> dict[str, float]:
    from bim.header import check_header
    from bim.intake import intake
    from bim.syntax import check_syntax

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        t = time.perf_counter()
        result = intake(path, path.name, 2 * 1024**3, Path(work))
        times["intake_s"] = time.perf_counter() - t
        assert result.ifc_path is not None
        t = time.perf_counter()
        check_header(result.ifc_path)
        times["header_s"] = time.perf_counter() - t
        t = time.perf_counter()
        syntax = check_syntax(result.ifc_path)
        times["syntax_and_open_s"] = time.perf_counter() - t
        times["errors"] = sum(1 for o in syntax.outcomes if o.severity == 4)
    times["first_verdict_s"] = times["intake_s"] + times["header_s"] + times["syntax_and_open_s"]
    times["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    print(f"{args.model.name}: {args.model.stat().st_size} bytes", measure(args.model))
    with tempfile.TemporaryDirectory() as tmp:
        scaled = Path(tmp) / f"x{args.copies}.ifc"
        size = replicate(args.model, scaled, args.copies)
        print(f"x{args.copies}: {size} bytes", measure(scaled))


if __name__ == "__main__":
    main()
