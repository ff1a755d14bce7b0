"""荷载计算书 (structural load calculation book) from the canonical content of the `bim_building` form.

Order of a hand calculation book (docgen.md §5.3): cover with the signature table and the verification
QR, contents, 1 设计资料, 2 荷载分类及取值依据, 3 分项系数, 4 荷载组合 (summary table, then each room's
combinations written out), 5 风荷载与雪荷载, 6 结论. Every combined value is computed here from the
filled-in loads (`docgen.pdf.combinations`), never copied from the input.
Optional `content["signatories"]`: real names by role (审定, 审核, 校对, 设计), printed in the signature
table; the signature and date cells stay empty for the signing step.
Must not: accept data the form validation rejects, or render a partial book (all problems are raised).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, PageBreak, Paragraph, Spacer

from collab.catalogue import form
from collab.validation import validate
from docgen import signatories
from docgen.errors import DataInvalid, Problem
from docgen.output import Rendered
from docgen.pdf import combinations as combo
from docgen.pdf.flowables import ContentsLine, Heading, QrBlock, cell, ruled_table
from docgen.pdf.pages import Furniture, Registry
from docgen.pdf.render import Page, build_pdf, footer_identity, rendered
from docgen.pdf.style import page_size, styles, text
from docgen.stamp import Stamp

TITLE = "荷载计算书"
ROLES = ("审定", "审核", "校对", "设计")  # the cover's signature table (of `docgen.signatories.ROLES`)
PROBLEM_TYPES = {"required": "missing", "too_few_rows": "missing", "too_long": "too_long"}
SECTIONS = [
    ("s1", "1 设计资料"),
    ("s2", "2 荷载分类及取值依据"),
    ("s3", "3 分项系数"),
    ("s4", "4 楼面及屋面荷载组合"),
    ("s4-1", "4.1 荷载组合汇总表"),
    ("s4-2", "4.2 各部位荷载组合计算"),
    ("s5", "5 风荷载与雪荷载"),
    ("s6", "6 结论"),
]


def load_calculation(content: dict[str, Any], stamp: Stamp) -> Rendered:
    """The calculation book as a PDF; raises DataInvalid listing every missing or invalid field."""
    problems = check(content)
    if problems:
        raise DataInvalid(problems)
    book = _Book(content, stamp)
    page = Page(page_size("A4", "portrait"))
    furniture = Furniture(
        frame=page.frame,
        header_left=book.project["project_name"],
        header_right=f"{TITLE}（施工图设计）",
        footer_left=footer_identity(stamp),
        footer_right=book.project["design_unit"],
        plain_pages=frozenset({1}),
        registry=book.registry,
    )
    return rendered(
        build_pdf(book.story(), page, furniture, f"{book.project['project_name']} {TITLE}", stamp)
    )


def check(content: Any) -> list[Problem]:
    """The form's own validation (collab.validation) plus what the book needs on top of it."""
    if not isinstance(content, dict) or content.get("form") != "bim_building":
        return [Problem("form", "应为“BIM 建筑信息填报”（bim_building）表单的数据", "invalid")]
    if not isinstance(content.get("sections"), dict):
        return [Problem("sections", "缺少表单各部分的数据", "missing")]
    problems = [
        Problem(_dotted(error.path), error.message, PROBLEM_TYPES.get(error.code, "invalid"))
        for error in validate(form("bim_building"), content)
    ]
    reported = {p.field for p in problems}
    sections = content.get("sections") or {}
    found = sections.get("structure")
    structure: dict[str, Any] = found if isinstance(found, dict) else {}
    for key, label in (("basic_wind_pressure", "基本风压"), ("basic_snow_pressure", "基本雪压")):
        if structure.get(key) is None and f"structure.{key}" not in reported:
            problems.append(Problem(f"structure.{key}", f"荷载计算书需要{label}，请填写", "missing"))
    loads = sections.get("loads")
    if not isinstance(loads, list) or not loads:
        if "loads" not in reported:
            problems.append(Problem("loads", "荷载计算书至少需要一行荷载依据", "missing"))
    else:
        for index, row in enumerate(loads):
            path = f"loads.{index}.dead_load"
            if isinstance(row, dict) and row.get("dead_load") is None and path not in reported:
                problems.append(Problem(path, "荷载计算书需要附加恒荷载，请填写", "missing"))
    problems += signatories.check(content)
    return problems


def _dotted(path: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", path)


def _years(design_life: str) -> float:
    return float(design_life.rstrip("年"))


def _num(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


class _Book:
    def __init__(self, content: dict[str, Any], stamp: Stamp) -> None:
        sections = content["sections"]
        self.stamp = stamp
        self.project: dict[str, Any] = sections["project"]
        self.structure: dict[str, Any] = sections["structure"]
        self.signatories: dict[str, str] = signatories.names(content)
        self.registry = Registry()
        self.gamma_0 = combo.gamma_0(self.structure["safety_grade"])
        self.gamma_l = combo.gamma_l(_years(self.project["design_life"]))
        self.rows = [
            combo.combine(
                row["room"], row["category"], row["dead_load"], row["live_load"], self.gamma_0, self.gamma_l
            )
            for row in sections["loads"]
        ]
        self.width = Page(page_size("A4", "portrait")).frame[2]

    def story(self) -> list[Flowable]:
        return [
            *self.cover(),
            PageBreak(),
            *self.contents(),
            PageBreak(),
            *self.design_data(),
            *self.categories(),
            *self.factors(),
            *self.combinations(),
            *self.wind_and_snow(),
            *self.conclusion(),
        ]

    def heading(self, key: str) -> Heading:
        title = dict(SECTIONS)[key]
        return Heading(title, key.count("-"), key, self.registry)

    def para(self, value: str) -> Paragraph:
        return Paragraph(text(value), styles().body)

    def cover(self) -> list[Flowable]:
        s, p = styles(), self.project
        info = [
            ("工程名称", p["project_name"]),
            ("项目代码", p.get("project_code") or "—"),
            ("建设单位", p["construction_unit"]),
            ("设计单位", p["design_unit"]),
            ("结构形式", self.structure["structure_type"]),
            ("设计阶段", "施工图设计"),
        ]
        info_table = ruled_table(
            [[cell(label, "center"), cell(value)] for label, value in info],
            [30 * mm, self.width - 50 * mm],
            header_rows=0,
            label_columns=[0],
            padding=5,
        )
        signature_rows: list[Sequence[Any]] = [[cell(h, "center") for h in ("职责", "姓名", "签名", "日期")]]
        signature_rows += [
            [cell(role, "center"), cell(self.signatories.get(role, ""), "center"), "", ""] for role in ROLES
        ]
        signatures = ruled_table(signature_rows, [25 * mm, 40 * mm, 50 * mm, 35 * mm], padding=6)
        return [
            Spacer(1, 22 * mm),
            Paragraph(text(p["project_name"]), s.subtitle),
            Spacer(1, 10 * mm),
            Paragraph(TITLE, s.title),
            Paragraph("（施工图设计）", s.subtitle),
            Spacer(1, 14 * mm),
            info_table,
            Spacer(1, 10 * mm),
            signatures,
            Spacer(1, 10 * mm),
            QrBlock(self.stamp, size=30 * mm),
            Spacer(1, 6 * mm),
            Paragraph(text(f"{p['design_unit']}　{self.stamp.issued_on}"), s.center),
        ]

    def contents(self) -> list[Flowable]:
        title = Paragraph("目　　录", styles().title)
        lines = [ContentsLine(name, key.count("-"), key, self.registry) for key, name in SECTIONS]
        return [Spacer(1, 10 * mm), title, *lines]

    def design_data(self) -> list[Flowable]:
        p, st = self.project, self.structure
        pairs = [
            ("工程名称", p["project_name"]),
            ("建设地点", p.get("location") or "—"),
            ("建筑分类", p["building_category"]),
            ("结构形式", st["structure_type"]),
            ("建筑高度", f"{p['height']:g} m"),
            ("层数", f"地上 {p['above_floors']} 层，地下 {p.get('below_floors') or 0} 层"),
            ("总建筑面积", f"{p['total_area']:g} m²"),
            ("设计使用年限", p["design_life"]),
            ("结构安全等级", st["safety_grade"]),
            ("结构重要性系数 γ0", f"{self.gamma_0:g}"),
            ("抗震设防烈度", f"{st['seismic_intensity']}（{st.get('seismic_acceleration') or '—'}）"),
            ("建筑场地类别", st.get("site_class") or "—"),
            ("基础形式", st.get("foundation_type") or "—"),
            ("耐火等级", p["fire_resistance"]),
            ("基本风压 w0", f"{st['basic_wind_pressure']:g} kN/m²"),
            ("基本雪压 s0", f"{st['basic_snow_pressure']:g} kN/m²"),
        ]
        rows = [
            [cell(a, "center"), cell(b), cell(c, "center"), cell(d)]
            for (a, b), (c, d) in zip(pairs[::2], pairs[1::2], strict=True)
        ]
        half = self.width / 2
        grid = ruled_table(rows, [32 * mm, half - 32 * mm, 32 * mm, half - 32 * mm], 0, [0, 2], padding=4)
        return [
            self.heading("s1"),
            self.para(
                "本计算书依据建设单位提交并经审核的 BIM 建筑信息填报数据编制，计算楼面、屋面荷载的各项组合值，"
                "供结构构件设计采用。荷载单位为 kN/m²。"
            ),
            grid,
        ]

    def categories(self) -> list[Flowable]:
        table = combo.live_load_table()
        used = {row.category.name for row in self.rows}
        rows: list[Sequence[Any]] = [
            [cell(h, "center") for h in ("类别", "适用范围", "条文", "qk", "ψc", "ψf", "ψq", "本工程")]
        ]
        for name in table["categories"]:
            c = combo.category(name)
            assert c is not None
            rows.append([
                cell(c.name), cell(c.description), cell(c.clause), cell(_num(c.qk, 1), "center"),
                cell(f"{c.psi_c:g}", "center"), cell(f"{c.psi_f:g}", "center"), cell(f"{c.psi_q:g}", "center"),
                cell("采用" if name in used else "—", "center"),
            ])  # fmt: skip
        widths = [24 * mm, 46 * mm, 31 * mm, 11 * mm, 10 * mm, 10 * mm, 10 * mm]
        widths.append(self.width - sum(widths))
        return [
            self.heading("s2"),
            self.para(
                f"楼面和屋面均布活荷载标准值及其组合值、频遇值和准永久值系数按 {table['source']} 取用，见下表。"
            ),
            ruled_table(rows, widths),
            Paragraph(text(f"注：{table['notice']}"), styles().small),
        ]

    def factors(self) -> list[Flowable]:
        f = combo.factors()
        life = self.project["design_life"]
        rows: list[Sequence[Any]] = [[cell(h, "center") for h in ("系数", "符号", "取值", "取值依据")]]
        rows += [
            [cell("结构重要性系数"), cell("γ0", "center"), cell(f"{self.gamma_0:g}", "center"),
             cell(f"结构安全等级{self.structure['safety_grade']}")],
            [cell("永久荷载分项系数"), cell("γG", "center"), cell(f"{f['gamma_g']:g}", "center"),
             cell("GB 55001-2021 第 3.1.13 条；对结构有利时不大于 1.0")],
            [cell("可变荷载分项系数"), cell("γQ", "center"), cell(f"{f['gamma_q']:g}", "center"),
             cell("GB 55001-2021 第 3.1.13 条；对结构有利时取 0")],
            [cell("考虑设计使用年限的荷载调整系数"), cell("γL", "center"), cell(f"{self.gamma_l:g}", "center"),
             cell(f"设计使用年限 {life}（5 年 0.9，50 年 1.0，100 年 1.1，其间线性内插）")],
        ]  # fmt: skip
        return [
            self.heading("s3"),
            self.para(f"荷载分项系数及调整系数按 {f['source']} 取值。"),
            ruled_table(rows, [48 * mm, 13 * mm, 13 * mm, self.width - 74 * mm]),
            Spacer(1, 2 * mm),
            self.para("基本组合：S = γ0（γG·gk + γQ·γL·qk）；标准组合：S = gk + qk；"
                      "频遇组合：S = gk + ψf·qk；准永久组合：S = gk + ψq·qk。"),
            self.para("式中 gk 为附加恒荷载标准值（面层、吊顶及管线等，楼板自重在构件计算中另计），"
                      "qk 为楼面或屋面活荷载标准值。"),
        ]  # fmt: skip

    def combinations(self) -> list[Flowable]:
        heads = ("序号", "部位或房间", "类别", "gk", "qk")
        rows: list[Sequence[Any]] = [
            [*(cell(h, "center") for h in heads), cell("组合值（kN/m²）", "center"), "", "", ""],
            ["", "", "", "", "", *(cell(h, "center") for h in ("基本", "标准", "频遇", "准永久"))],
        ]
        for index, r in enumerate(self.rows, start=1):
            rows.append([
                str(index), cell(r.room), cell(r.category.name), _num(r.gk), _num(r.qk),
                _num(r.basic), _num(r.characteristic), _num(r.frequent), _num(r.quasi_permanent),
            ])  # fmt: skip
        widths = [10 * mm, 40 * mm, 30 * mm, 14 * mm, 14 * mm]
        widths += [(self.width - sum(widths)) / 4] * 4
        spans = [((c, 0), (c, 1)) for c in range(5)] + [((5, 0), (8, 0))]
        summary = ruled_table(rows, widths, header_rows=2, spans=spans)
        summary.setStyle([("ALIGN", (0, 2), (0, -1), "CENTER"), ("ALIGN", (3, 2), (-1, -1), "RIGHT")])
        story: list[Flowable] = [
            self.heading("s4"),
            self.para(
                f"各部位荷载组合值按第 3 章公式计算，γ0 = {self.gamma_0:g}，γL = {self.gamma_l:g}，单位 kN/m²。"
            ),
            self.heading("s4-1"),
            summary,
            CondPageBreak(40 * mm),
            self.heading("s4-2"),
        ]
        for index, r in enumerate(self.rows, start=1):
            table = ruled_table(
                [
                    [cell(h, "center") for h in ("组合", "表达式", "计算（kN/m²）")],
                    ["基本组合", "γ0(γG·gk+γQ·γL·qk)", r.basic_formula()],
                    ["标准组合", "gk+qk", r.characteristic_formula()],
                    ["频遇组合", f"gk+ψf·qk（ψf={r.category.psi_f:g}）", r.frequent_formula()],
                    ["准永久组合", f"gk+ψq·qk（ψq={r.category.psi_q:g}）", r.quasi_permanent_formula()],
                ],
                [28 * mm, 52 * mm, self.width - 80 * mm],
                padding=2,
            )
            title = f"4.2.{index} {r.room}（{r.category.name}，gk = {_num(r.gk)}，qk = {_num(r.qk)}）"
            story.append(KeepTogether([Paragraph(text(title), styles().h3), table]))
        return story

    def wind_and_snow(self) -> list[Flowable]:
        f, st = combo.factors(), self.structure
        wind, snow = f["wind"], f["snow"]
        height = float(self.project["height"])
        mu_z = combo.wind_mu_z(height)
        w0, s0 = float(st["basic_wind_pressure"]), float(st["basic_snow_pressure"])
        rows: list[Sequence[Any]] = [[cell(h, "center") for h in ("项目", "符号", "取值", "说明")]]
        rows += [
            [cell("基本风压"), cell("w0", "center"), cell(f"{w0:g} kN/m²", "center"), cell("50 年重现期")],
            [cell("风压高度变化系数"), cell("μz", "center"), cell(f"{mu_z:g}", "center"),
             cell(f"地面粗糙度 {wind['terrain']} 类，屋面高度 z = {height:g} m")],
            [cell("风荷载体型系数"), cell("μs", "center"), cell(f"{wind['mu_s']:g}", "center"),
             cell("矩形平面，迎风面 0.8、背风面 0.5")],
            [cell("屋面高度处风压（未计风振）"), cell("μs·μz·w0", "center"),
             cell(f"{wind['mu_s'] * mu_z * w0:.2f} kN/m²", "center"), cell("风振系数 βz 由结构整体分析确定")],
            [cell("风荷载组合值系数"), cell("ψc/ψf/ψq", "center"),
             cell(f"{wind['psi_c']:g}/{wind['psi_f']:g}/{wind['psi_q']:g}", "center"),
             cell("GB 50009-2012 第 8.1.4 条")],
            [cell("基本雪压"), cell("s0", "center"), cell(f"{s0:g} kN/m²", "center"), cell("50 年重现期")],
            [cell("屋面积雪分布系数"), cell("μr", "center"), cell(f"{snow['mu_r']:g}", "center"), cell("平屋面")],
            [cell("雪荷载标准值"), cell("sk = μr·s0", "center"), cell(f"{snow['mu_r'] * s0:.2f} kN/m²", "center"),
             cell("与屋面活荷载不同时组合，取二者较大值")],
            [cell("雪荷载组合值系数"), cell("ψc/ψf/ψq", "center"),
             cell(f"{snow['psi_c']:g}/{snow['psi_f']:g}/{snow['psi_q']:g}", "center"), cell(snow["clause"])],
        ]  # fmt: skip
        return [
            self.heading("s5"),
            self.para(f"风荷载与雪荷载按 {wind['clause']} 计算，数值为示意，工程应以现行规范为准。"),
            ruled_table(rows, [45 * mm, 24 * mm, 28 * mm, self.width - 97 * mm]),
        ]

    def conclusion(self) -> list[Flowable]:
        top = max(self.rows, key=lambda r: r.basic)
        quasi = max(self.rows, key=lambda r: r.quasi_permanent)
        return [
            self.heading("s6"),
            self.para(
                f"1. 本计算书共计算 {len(self.rows)} 个部位的楼面、屋面荷载组合。基本组合设计值最大为 "
                f"{top.basic:.2f} kN/m²（{top.room}），准永久组合值最大为 {quasi.quasi_permanent:.2f} kN/m²"
                f"（{quasi.room}），构件承载力计算及挠度、裂缝验算应分别采用相应组合值。"
            ),
            self.para("2. 风荷载、雪荷载及地震作用的效应由结构整体分析程序计算，本计算书仅列出取值依据。"),
            self.para(
                "3. 荷载分类及系数表为示意数据；活荷载标准值不得小于 GB 55001-2021 规定的最小值，"
                "工程设计应以现行规范条文为准。"
            ),
            self.para(
                f"4. 本计算书为电子签发文件（文件编号 {self.stamp.doc_id}），可扫描封面二维码核验真伪。"
            ),
        ]
