"""IDS completeness (issue 7): a 10-specification tender IDS with the fill-in report, on a real IFC4
model and on an N-times replicated copy of it (the 100 MB class).

    .venv/bin/python -m loadtest.bench_ids [--model ../shared/data/ifc/models/AC20-FZK-Haus.ifc]
        [--copies 25] [--repeat 3]

The IDS is written here: typical Shanghai bid data items per element class (墙 板 柱 梁 门 窗 楼梯
屋面 空间 幕墙) — material (material facet), 材料名称, 耐火极限, 长度/宽度/高度/厚度 in a Chinese-named
property set as a real tender writes them, plus a standard-pset item and a bounded quantity per class.
The copy is built in a temporary directory the way research/bim.md did its x10/x25 models: the DATA
section repeated N times with instance ids shifted, fresh GlobalIds in every copy, one IfcProject.

Timed per model (median of --repeat, each in a fresh process for a clean RSS): open the IFC (lazy=True,
as the IDS stage can: it needs only the instances the specifications reach; --full-open to compare;
the report is byte-identical either way), load and
validate the IDS, the check with the fill-in report (`build_report`), canonical JSON; then XLSX and BCF
once. "check" = open + IDS + report + JSON, the figure the issue's target (≤ 10 s) is about
(ifctester with its Json reporter: 11.8 s at 113 MB, research/bim.md §7). Prints a table and one
JSON line. Exit status 1 when the replicated model misses the target.

Must not: write outside its temporary directory, or need the server.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TARGET_S = 10.0
DEFAULT_MODEL = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ifc" / "models" / "AC20-FZK-Haus.ifc"
)
PSET = "SH_招标数据项"
L, LB, B, A = "IFCLENGTHMEASURE", "IFCLABEL", "IFCBOOLEAN", "IFCAREAMEASURE"
CLASSES: list[tuple[str, str, list[str], list[tuple[str, str, str]], tuple[str, str, str]]] = [
    # code, label, entities, Chinese-named properties in PSET (label, name, type), standard item
    ("WALL", "墙", ["IFCWALL", "IFCWALLSTANDARDCASE"],
     [("材料名称", "材料名称", LB), ("耐火极限", "耐火极限", LB), ("长度", "长度", L), ("厚度", "厚度", L),
      ("高度", "高度", L)], ("是否外墙", "Pset_WallCommon", "IsExternal")),
    ("SLAB", "板", ["IFCSLAB", "IFCSLABSTANDARDCASE"],
     [("材料名称", "材料名称", LB), ("耐火极限", "耐火极限", LB), ("厚度", "厚度", L), ("面积", "面积", A)],
     ("是否承重", "Pset_SlabCommon", "LoadBearing")),
    ("COLUMN", "柱", ["IFCCOLUMN", "IFCCOLUMNSTANDARDCASE"],
     [("材料名称", "材料名称", LB), ("耐火极限", "耐火极限", LB), ("截面尺寸", "截面尺寸", LB), ("高度", "高度", L)],
     ("是否承重", "Pset_ColumnCommon", "LoadBearing")),
    ("BEAM", "梁", ["IFCBEAM", "IFCBEAMSTANDARDCASE"],
     [("材料名称", "材料名称", LB), ("耐火极限", "耐火极限", LB), ("截面尺寸", "截面尺寸", LB), ("长度", "长度", L)],
     ("是否承重", "Pset_BeamCommon", "LoadBearing")),
    ("DOOR", "门", ["IFCDOOR"],
     [("门类型", "门类型", LB), ("防火等级", "防火等级", LB), ("宽度", "宽度", L), ("高度", "高度", L)],
     ("是否外门", "Pset_DoorCommon", "IsExternal")),
    ("WINDOW", "窗", ["IFCWINDOW"],
     [("窗框材料", "窗框材料", LB), ("玻璃类型", "玻璃类型", LB),
      ("传热系数", "传热系数", "IFCTHERMALTRANSMITTANCEMEASURE"), ("宽度", "宽度", L), ("高度", "高度", L)],
     ("是否外窗", "Pset_WindowCommon", "IsExternal")),
    ("STAIR", "楼梯", ["IFCSTAIR", "IFCSTAIRFLIGHT"],
     [("材料名称", "材料名称", LB), ("耐火极限", "耐火极限", LB), ("踏步高度", "踏步高度", L),
      ("踏步宽度", "踏步宽度", L)],
     ("踏步数", "Pset_StairCommon", "NumberOfRiser")),
    ("ROOF", "屋面", ["IFCROOF"],
     [("防水等级", "防水等级", LB), ("保温材料", "保温材料", LB), ("耐火极限", "耐火极限", LB)],
     ("是否外部构件", "Pset_RoofCommon", "IsExternal")),
    ("SPACE", "空间", ["IFCSPACE"],
     [("房间名称", "房间名称", LB), ("功能分区", "功能分区", LB), ("净高", "净高", L), ("面积", "面积", A)],
     ("是否室外", "Pset_SpaceCommon", "IsExternal")),
    ("COVERING", "幕墙及饰面", ["IFCCURTAINWALL", "IFCCOVERING", "IFCRAILING", "IFCMEMBER", "IFCPLATE"],
     [("材料名称", "材料名称", LB), ("耐火极限", "耐火极限", LB), ("厚度", "厚度", L)],
     ("是否外部构件", "Pset_CoveringCommon", "IsExternal")),
]  # fmt: skip


def bench_ids_xml() -> str:
    """The 10-specification tender IDS (deterministic)."""
    from bim.ids.seed import DataItem, DataItemList, ElementClass

    classes = []
    for code, label, entities, props, (std_label, std_pset, std_name) in CLASSES:
        items = [DataItem(label="材质", facet="material")]
        items += [
            DataItem(label=p, facet="property", property_set=PSET, name=n, data_type=t) for p, n, t in props
        ]
        items.append(DataItem(label=std_label, facet="property", property_set=std_pset, name=std_name))
        classes.append(ElementClass(code=code, label=label, entities=entities, items=items))
    from bim.ids.seed import to_ids_xml

    return to_ids_xml(DataItemList(title="上海某项目投标 BIM 数据项（基准测试）", version="1", ifc_versions=["IFC4"],
                                   classes=classes))  # fmt: skip


_GUID = re.compile(rb"^(#\d+\s*=\s*IFC\w+\s*\(\s*')([0-9A-Za-z_$]{22})(')")
_REF = re.compile(rb"#(\d+)")


def replicate(source: Path, target: Path, copies: int) -> None:
    """Write `copies` copies of the DATA section of `source` into `target` (see module text)."""
    import ifcopenshell.guid

    text = source.read_bytes()
    head, rest = text.split(b"DATA;", 1)
    data, tail = rest.rsplit(b"ENDSEC;", 1)
    lines = [line.strip() for line in re.split(rb";\s*\r?\n", data) if line.strip()]
    max_id = max(int(m.group(1)) for m in _REF.finditer(data))
    projects = [re.match(rb"#(\d+)\s*=\s*IFCPROJECT\b", line) for line in lines]
    project = next(int(m.group(1)) for m in projects if m)
    with target.open("wb") as out:
        out.write(head + b"DATA;\n")
        for k in range(copies):
            offset = k * max_id

            def shift(match: re.Match[bytes], offset: int = offset) -> bytes:
                n = int(match.group(1))
                return b"#%d" % (n if n == project else n + offset)

            for line in lines:
                if k and re.match(rb"#%d\s*=" % project, line):
                    continue
                if k:
                    line = _REF.sub(shift, line)
                    guid = _GUID.match(line)
                    if guid:
                        fresh = ifcopenshell.guid.compress(
                            uuid.uuid5(uuid.NAMESPACE_OID, f"{k}:{guid.group(2)!r}").hex
                        )
                        line = guid.group(1) + fresh.encode() + guid.group(3) + line[guid.end() :]
                out.write(line + b";\n")
        out.write(b"ENDSEC;" + tail)


def _measure(model_path: str, ids_xml: str, lazy: bool, queue: Any) -> None:
    """One run in a fresh process: times of each step, counts, peak RSS."""
    import ifcopenshell

    from bim.ids import export
    from bim.ids.engine import load_ids
    from bim.ids.report import build_report

    times = {}
    t = time.perf_counter()
    open_ifc: Any = ifcopenshell.open  # its overloads do not declare `lazy`
    model = open_ifc(model_path, lazy=lazy)
    times["open_s"] = time.perf_counter() - t
    t = time.perf_counter()
    document = load_ids(ids_xml.encode("utf-8"))
    times["ids_s"] = time.perf_counter() - t
    t = time.perf_counter()
    report = build_report(document, model, model_digest="bench")
    times["report_s"] = time.perf_counter() - t
    t = time.perf_counter()
    data = export.to_json(report)
    times["json_s"] = time.perf_counter() - t
    times["check_s"] = times["open_s"] + times["ids_s"] + times["report_s"] + times["json_s"]
    t = time.perf_counter()
    xlsx = export.to_xlsx(report)
    times["xlsx_s"] = time.perf_counter() - t
    t = time.perf_counter()
    bcf = export.to_bcf(report, model)
    times["bcf_s"] = time.perf_counter() - t
    queue.put({
        **times, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "applicable": report.rates.overall.applicable_elements, "fill_in_rows": len(report.fill_in),
        "element_rate": report.rates.overall.element_rate, "pair_rate": report.rates.overall.pair_rate,
        "json_bytes": len(data), "xlsx_bytes": len(xlsx), "bcf_bytes": len(bcf),
    })  # fmt: skip


def run(model_path: Path, ids_xml: str, repeat: int, lazy: bool) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    runs = []
    for _ in range(repeat):
        queue = context.Queue()
        process = context.Process(target=_measure, args=(str(model_path), ids_xml, lazy, queue))
        process.start()
        runs.append(queue.get(timeout=600))
        process.join(timeout=60)
    result = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key.endswith(("_s", "_mb"))}
    result.update({k: v for k, v in runs[0].items() if not k.endswith(("_s", "_mb"))})
    result["model_mb"] = model_path.stat().st_size / 1e6
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL.resolve())
    parser.add_argument("--copies", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full-open", action="store_true", help="ifcopenshell.open without lazy=True")
    args = parser.parse_args(argv)
    ids_xml = bench_ids_xml()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_ids_") as tmp:
        results["real"] = run(args.model, ids_xml, args.repeat, not args.full_open)
        scaled = Path(tmp) / f"x{args.copies}.ifc"
        t = time.perf_counter()
        replicate(args.model, scaled, args.copies)
        build_s = time.perf_counter() - t
        results[f"x{args.copies}"] = run(scaled, ids_xml, args.repeat, not args.full_open)
        results[f"x{args.copies}"]["build_s"] = build_s
    columns = ["model_mb", "open_s", "ids_s", "report_s", "json_s", "check_s", "xlsx_s", "bcf_s", "rss_mb",
               "applicable", "fill_in_rows", "element_rate", "pair_rate"]  # fmt: skip
    mode = "full" if args.full_open else "lazy"
    print(
        f"IDS: {len(CLASSES)} specifications; model {args.model.name}; open {mode}; median of {args.repeat}"
    )
    print(f"{'':<8}" + "".join(f"{c:>13}" for c in columns))
    for name, result in results.items():
        cells = []
        for column in columns:
            value = result.get(column)
            cells.append(f"{value:>13.3f}" if isinstance(value, float) else f"{value!s:>13}")
        print(f"{name:<8}" + "".join(cells))
    scaled_check = results[f"x{args.copies}"]["check_s"]
    print(
        f"check (open + IDS + report + JSON) on x{args.copies}: {scaled_check:.2f} s (target ≤ {TARGET_S:.0f} s)"
    )
    line = {"bench": "ids", "copies": args.copies, "open": mode, "results": results}
    print(json.dumps(line, ensure_ascii=False, sort_keys=True))
    return 0 if scaled_check <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
