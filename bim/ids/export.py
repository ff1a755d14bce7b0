"""Exports of a completeness report: canonical JSON, an XLSX workbook (汇总, 待补充清单, one sheet per
specification) and a BCF 3.0 archive with one topic per (specification, element) that fails, whose
viewpoint selects the element by IfcGuid. All three are byte-identical for the same report: keys
sorted, zip entries in a fixed order with a fixed timestamp, workbook times fixed, topic and viewpoint
GUIDs derived with uuid5 from (model digest, IDS digest, specification, element).

Must not: read the clock, random sources or paths, or change the report.
"""

from __future__ import annotations

import io
import json
import math
import re
import uuid
import zipfile
from collections import defaultdict
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from bim.ids.report import CompletenessReport, FillInRow, Rate

FIXED_TIME = datetime(2000, 1, 1)  # workbook created/modified and BCF dates: the report has no clock
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
BCF_NAMESPACE = uuid.UUID("6f1d3a52-1c4e-5b8e-9a57-2f0d7c3b8e11")  # ours; never change it
FILL_IN_HEADERS = [
    "GlobalId", "类别", "名称", "楼层", "缺失数据项", "要求（类型/取值）", "实际值", "原因", "规范", "STEP 编号",
]  # fmt: skip
RATE_HEADERS = ["分组", "适用（构件,要求）对", "满足对", "对完整率", "适用构件", "完整构件", "构件完整率"]
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# --- JSON -------------------------------------------------------------------------------------------


def to_json(report: CompletenessReport) -> bytes:
    """Canonical JSON: UTF-8, sorted keys, no insignificant whitespace, trailing newline."""
    text = json.dumps(
        report.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return (text + "\n").encode("utf-8")


# --- zip normalisation ------------------------------------------------------------------------------


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()


def _normalise_zip(data: bytes) -> bytes:
    """The same archive with fixed entry timestamps and attributes (entry order kept)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    return _zip(entries)


# --- XLSX -------------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _rate_row(rate: Rate) -> list[Any]:
    return [
        rate.key, rate.applicable_pairs, rate.satisfied_pairs, _percent(rate.pair_rate),
        rate.applicable_elements, rate.complete_elements, _percent(rate.element_rate),
    ]  # fmt: skip


def _fill_in_row(row: FillInRow) -> list[Any]:
    return [
        row.global_id, row.ifc_class, row.name, row.storey, row.missing_item, row.expected, row.observed,
        row.reason, f"{row.specification_index}. {row.specification}", row.step_id,
    ]  # fmt: skip


def _sheet_title(index: int, name: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", f"{index}-{name}")[:31].strip("'") or str(index)
    title, n = base, 1
    while title in used:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(title)
    return title


def _header(sheet: Any, values: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def to_xlsx(report: CompletenessReport) -> bytes:
    """The workbook: 汇总 (identity, verdict, rates and their definitions), 待补充清单 (the fill-in list),
    then one sheet per specification (its requirements, then its rows of the fill-in list)."""
    workbook = Workbook(write_only=True)  # streams rows: the fill-in list of a 100 MB model has ~10⁴ rows
    summary = workbook.create_sheet("汇总")
    summary.append(["IDS 数据完整性检查报告"])
    for label, value in (
        ("IDS", report.ids_title), ("IDS 摘要(SHA-256)", report.ids_digest), ("模型摘要", report.model_digest),
        ("模型 Schema", report.model_schema), ("检查引擎", report.engine),
        ("结论", "通过" if report.status == "passed" else "未通过"), ("待补充条目数", len(report.fill_in)),
    ):  # fmt: skip
        summary.append([label, value])
    for key in sorted(report.rate_definitions):
        summary.append([f"定义：{key}", report.rate_definitions[key]])
    for title, rates in (
        ("总体", [report.rates.overall]), ("按规范", report.rates.by_specification),
        ("按类别", report.rates.by_class), ("按楼层", report.rates.by_storey),
    ):  # fmt: skip
        summary.append([])
        summary.append([title])
        summary.append(_header(summary, RATE_HEADERS))
        for rate in rates:
            summary.append(_rate_row(rate))

    fill_in = workbook.create_sheet("待补充清单")
    fill_in.freeze_panes = "A2"
    fill_in.append(_header(fill_in, FILL_IN_HEADERS))
    by_spec: dict[int, list[FillInRow]] = defaultdict(list)
    for row in report.fill_in:
        fill_in.append(_fill_in_row(row))
        by_spec[row.specification_index].append(row)

    used = {"汇总", "待补充清单"}
    for spec in report.specifications:
        sheet = workbook.create_sheet(_sheet_title(spec.index, spec.name, used))
        sheet.append(["规范", spec.name])
        sheet.append(["标识", spec.identifier])
        sheet.append(["适用范围", spec.applicability])
        sheet.append(["使用方式", spec.usage])
        sheet.append(["结论", "通过" if spec.status == "passed" else "未通过", spec.message])
        sheet.append([])
        sheet.append(_header(sheet, ["序号", "数据项", "对象", "要求", "满足", "不满足"]))
        for requirement in spec.requirements:
            sheet.append([
                requirement.index, requirement.label, requirement.item, requirement.expected,
                requirement.passed, requirement.failed,
            ])  # fmt: skip
        sheet.append([])
        sheet.append(_header(sheet, FILL_IN_HEADERS))
        for row in by_spec.get(spec.index, []):
            sheet.append(_fill_in_row(row))

    workbook.properties.creator = "tongban"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    workbook.properties.lastModifiedBy = "tongban"
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook stamps `modified` with the current time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _normalise_zip(buffer.getvalue())


# --- BCF 3.0 ----------------------------------------------------------------------------------------


def topic_guid(report: CompletenessReport, specification_index: int, element_key: str) -> str:
    name = f"{report.model_digest}|{report.ids_digest}|{specification_index}|{element_key}"
    return str(uuid.uuid5(BCF_NAMESPACE, name))


def _camera(location: tuple[float, float, float] | None) -> str:
    """A perspective camera looking down at the element from 10 m south-east and above (or at the
    origin when the element's place is unknown)."""
    x, y, z = location or (0.0, 0.0, 0.0)
    d = 1 / math.sqrt(3)
    u = 1 / math.sqrt(6)

    def point(tag: str, px: float, py: float, pz: float) -> str:
        return f"<{tag}><X>{px:.6f}</X><Y>{py:.6f}</Y><Z>{pz:.6f}</Z></{tag}>"

    return (
        "<PerspectiveCamera>"
        + point("CameraViewPoint", x + 10, y - 10, z + 10)
        + point("CameraDirection", -d, d, -d)
        + point("CameraUpVector", -u, u, 2 * u)
        + "<FieldOfView>60.0</FieldOfView><AspectRatio>1.0</AspectRatio></PerspectiveCamera>"
    )


def _element_locations(model: Any, step_ids: set[int]) -> dict[int, tuple[float, float, float]]:
    """World position (metres) of each element's placement origin; elements without one are left out."""
    import ifcopenshell.util.placement
    import ifcopenshell.util.unit

    scale = ifcopenshell.util.unit.calculate_unit_scale(model)
    found = {}
    for step_id in sorted(step_ids):
        try:
            placement = model.by_id(step_id).ObjectPlacement
            if placement is None:
                continue
            matrix = ifcopenshell.util.placement.get_local_placement(placement)
            found[step_id] = (
                float(matrix[0][3]) * scale,
                float(matrix[1][3]) * scale,
                float(matrix[2][3]) * scale,
            )
        except Exception:  # noqa: S112 - an odd placement (cyclic, dangling) only loses the aimed camera
            continue
    return found


def to_bcf(report: CompletenessReport, model: Any = None, author: str = "tongban@bim.check") -> bytes:
    """BCF 3.0 zip: bcf.version, extensions.xml, project.bcfp, and per failing (specification,
    element) a topic folder with markup.bcf (the missing items in the description) and viewpoint.bcfv
    (the element selected by IfcGuid, others visible). With `model`, cameras aim at the elements."""
    groups: dict[tuple[int, int], list[FillInRow]] = defaultdict(list)
    for row in report.fill_in:
        groups[(row.specification_index, row.step_id)].append(row)
    locations = _element_locations(model, {step for _, step in groups}) if model is not None else {}
    date = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    project_id = str(uuid.uuid5(BCF_NAMESPACE, f"{report.model_digest}|{report.ids_digest}"))
    labels = sorted({f"{spec.index}. {spec.name}" for spec in report.specifications})
    entries: list[tuple[str, bytes]] = [
        ("bcf.version", b'<?xml version="1.0" encoding="UTF-8"?>\n<Version VersionId="3.0"/>\n'),
        ("extensions.xml", _xml(
            "<Extensions><TopicTypes><TopicType>Error</TopicType></TopicTypes>"
            "<TopicStatuses><TopicStatus>Open</TopicStatus><TopicStatus>Closed</TopicStatus></TopicStatuses>"
            "<TopicLabels>" + "".join(f"<TopicLabel>{escape(label)}</TopicLabel>" for label in labels)
            + "</TopicLabels></Extensions>"
        )),
        ("project.bcfp", _xml(
            f"<ProjectInfo><Project ProjectId={quoteattr(project_id)}>"
            f"<Name>{escape(report.ids_title or 'IDS')}</Name></Project></ProjectInfo>"
        )),
    ]  # fmt: skip
    topics = []
    for (spec_index, step_id), rows in groups.items():
        first = rows[0]
        element_key = first.global_id or f"#{step_id}"
        guid = topic_guid(report, spec_index, element_key)
        viewpoint_guid = str(uuid.uuid5(BCF_NAMESPACE, f"{guid}|viewpoint"))
        items = "、".join(row.missing_item for row in rows)
        title = f"{first.ifc_class} {first.name or element_key}：缺少或不符 {len(rows)} 项数据"
        summary = f"{first.storey} / {first.ifc_class} / {element_key}：{items}"
        description = "\n".join(f"{row.missing_item}：{row.reason}（要求 {row.expected}）" for row in rows)
        markup = (
            f"<Markup><Topic Guid={quoteattr(guid)} TopicType=\"Error\" TopicStatus=\"Open\">"
            f"<ReferenceLinks/><Title>{escape(title[:250])}</Title>"
            f"<Labels><Label>{escape(f'{spec_index}. {first.specification}')}</Label></Labels>"
            f"<CreationDate>{date}</CreationDate><CreationAuthor>{escape(author)}</CreationAuthor>"
            f"<Description>{escape(summary + chr(10) + description)}</Description>"
            f"<Viewpoints><ViewPoint Guid={quoteattr(viewpoint_guid)}><Viewpoint>viewpoint.bcfv</Viewpoint>"
            f"</ViewPoint></Viewpoints></Topic></Markup>"
        )  # fmt: skip
        selection = ""
        if first.global_id:
            selection = f"<Selection><Component IfcGuid={quoteattr(first.global_id)}/></Selection>"
        visinfo = (
            f"<VisualizationInfo Guid={quoteattr(viewpoint_guid)}><Components>{selection}"
            f"<Visibility DefaultVisibility=\"true\"/></Components>"
            f"{_camera(locations.get(step_id))}</VisualizationInfo>"
        )  # fmt: skip
        topics.append((guid, markup, visinfo))
    for guid, markup, visinfo in sorted(topics):
        entries.append((f"{guid}/markup.bcf", _xml(markup)))
        entries.append((f"{guid}/viewpoint.bcfv", _xml(visinfo)))
    return _zip(entries)


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
