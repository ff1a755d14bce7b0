"""The flowchart SVG, parsed back as XML: one box per item in columns by predecessor depth, an arrow per
predecessor link, limits and (for cases) the state and deadline written as text, everything escaped,
and an accessible image (role, label, title, description)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from server.approval import catalogue
from server.approval.catalogue_service import SEED_PATH
from server.approval.flowchart import Node, case_nodes, catalogue_nodes, depths, flowchart_svg

SVG = "{http://www.w3.org/2000/svg}"
DEPTS = {"DEPT-ZJW": "上海市住房和城乡建设管理委员会", "DEPT-SW": "上海市水务局", "DEPT-JT": "上海市交通委员会",
         "DEPT-MF": "上海市民防办公室", "DEPT-LHSR": "上海市绿化和市容管理局"}  # fmt: skip


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def boxes(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-code", ""): g for g in root.iter(f"{SVG}g") if g.get("class") == "item"}


def texts(box: ET.Element) -> list[str]:
    return [t.text or "" for t in box.iter(f"{SVG}text")]


def x_of(box: ET.Element) -> float:
    rect = box.find(f"{SVG}rect")
    assert rect is not None
    return float(rect.get("x", "0"))


def seed() -> catalogue.Catalogue:
    return catalogue.load(json.loads(SEED_PATH.read_text(encoding="utf-8")))


def test_the_catalogue_flowchart_has_a_box_per_item_with_department_and_limits_and_an_arrow_per_predecessor() -> (
    None
):
    nodes = catalogue_nodes(seed(), DEPTS)
    root = parse(flowchart_svg(nodes, title="开工一件事办理流程图"))
    found = boxes(root)
    assert set(found) == {"XFSJ", "MFJS", "SGXK", "LSZYLD", "JLZL", "LSPS", "JZLJ"}
    sgxk = " ".join(texts(found["SGXK"]))
    assert "建筑工程施工许可证核发" in sgxk
    assert "上海市住房和城乡建设管理委员会" in sgxk
    assert "法定 7 个工作日 · 承诺 5 个工作日" in sgxk
    assert "状态" not in sgxk  # no case, no state
    edges = {
        (p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path") if p.get("class") == "edge"
    }
    assert edges == {("XFSJ", "SGXK"), ("MFJS", "SGXK")}
    assert x_of(found["SGXK"]) > x_of(found["XFSJ"]) == x_of(found["MFJS"]) == x_of(found["LSPS"])


def test_a_project_flowchart_writes_each_state_and_deadline_as_text_and_colours_only_repeat_it() -> None:
    cases = [
        {"item_code": "XFSJ", "item_name": "特殊建设工程消防设计审查", "dept_name": "住建", "statutory_wd": 15,
         "committed_wd": 10, "predecessors": [], "state": "approved", "state_label": "已办结",
         "deadline_state": "done", "deadline_label": "已办结", "due_on": "2026-05-20"},
        {"item_code": "LSPS", "item_name": "临时排水", "dept_name": "水务", "statutory_wd": 20, "committed_wd": 7,
         "predecessors": [], "state": "correction", "state_label": "补正中", "deadline_state": "paused",
         "deadline_label": "计时暂停（补正中）", "due_on": None},
        {"item_code": "SGXK", "item_name": "施工许可", "dept_name": "住建", "statutory_wd": 7, "committed_wd": 5,
         "predecessors": ["XFSJ", "MFJS"], "state": "reviewing", "state_label": "审查中",
         "deadline_state": "overdue", "deadline_label": "已超期", "due_on": "2026-06-01"},
    ]  # fmt: skip
    root = parse(flowchart_svg(case_nodes(cases), title="某项目"))
    found = boxes(root)
    assert "状态：补正中" in texts(found["LSPS"])
    assert "时限：计时暂停（补正中）" in texts(found["LSPS"])
    assert "时限：已超期（截止 2026-06-01）" in texts(found["SGXK"])
    assert "时限：已办结" in texts(found["XFSJ"])  # a finished case shows no due date
    assert found["SGXK"].get("data-state") == "reviewing"
    fills = {code: box.find(f"{SVG}rect").get("fill") for code, box in found.items()}  # type: ignore[union-attr]
    assert len(set(fills.values())) == 3
    # MFJS does not apply to this project: no box, no arrow from nowhere, SGXK one column after XFSJ
    edges = [
        (p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path") if p.get("class") == "edge"
    ]
    assert edges == [("XFSJ", "SGXK")]
    legend = [
        t.text for g in root.iter(f"{SVG}g") if g.get("class") == "legend" for t in g.iter(f"{SVG}text")
    ]
    assert legend == ["已办结", "补正中", "审查中"]


def test_the_last_case_of_an_item_wins_when_a_bundle_was_submitted_again() -> None:
    base = {
        "item_name": "临时排水",
        "dept_name": "水务",
        "statutory_wd": 20,
        "committed_wd": 7,
        "item_code": "LSPS",
    }
    nodes = case_nodes([{**base, "state": "withdrawn"}, {**base, "state": "submitted"}])
    assert [n.state for n in nodes] == ["submitted"]


def test_the_svg_is_an_accessible_image_with_a_title_and_a_description_of_every_item() -> None:
    root = parse(flowchart_svg(catalogue_nodes(seed(), DEPTS), title="开工一件事办理流程图"))
    assert root.get("role") == "img"
    assert "共 7 个事项" in (root.get("aria-label") or "")
    assert root.findtext(f"{SVG}title") == "开工一件事办理流程图"
    description = root.findtext(f"{SVG}desc") or ""
    assert "建筑工程施工许可证核发（上海市住房和城乡建设管理委员会；法定 7 个工作日" in description
    assert "前置事项：XFSJ、MFJS" in description


def test_every_text_is_escaped_so_markup_in_names_stays_text() -> None:
    evil = Node(code='X"><script>', name="<script>alert(1)</script>&", dept="部门\x01<b>", statutory_wd=5,
                committed_wd=3, predecessors=("NONE",), state="submitted", state_label="<i>已提交</i>")  # fmt: skip
    svg = flowchart_svg([evil], title='标题 "</title><script>')
    for tag in ("<script>", "<b>", "<i>"):
        assert tag not in svg
    root = parse(svg)  # still well-formed XML: the control character is dropped
    (box,) = boxes(root).values()
    assert box.get("data-code") == 'X"><script>'
    assert "<script>alert(1)</script>&" in "".join(texts(box))  # wrapped over two lines
    assert "部门<b>" in texts(box)
    assert root.findtext(f"{SVG}title") == '标题 "</title><script>'


def test_depths_put_an_item_one_column_after_its_deepest_predecessor_and_survive_a_cycle() -> None:
    def node(code: str, *preds: str) -> Node:
        return Node(code=code, name=code, dept="d", statutory_wd=1, committed_wd=1, predecessors=preds)

    assert depths([node("A"), node("B", "A"), node("C", "A", "B"), node("D")]) == {
        "A": 0,
        "B": 1,
        "C": 2,
        "D": 0,
    }
    assert set(depths([node("A", "B"), node("B", "A")])) == {"A", "B"}  # cut, not an endless loop
    root = parse(flowchart_svg([], title="空"))
    assert boxes(root) == {}
    assert "没有事项" in [t.text for t in root.iter(f"{SVG}text")]
