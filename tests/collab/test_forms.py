"""Forms on the CRDT without a server: the shipped schemas load, a document's content reads as
canonical JSON in schema order, validation reports each problem at its field path, and restoring a
version rewrites fields, rows and rich text as edits that other replicas converge on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText
from pydantic import ValidationError

from collab.catalogue import UnknownForm, form, forms
from collab.content import canonical_bytes, content_of, fill, restore
from collab.schema import FormSchema
from collab.validation import validate
from docgen import samples

BIM = form("bim_building")

VALID_PROJECT = {
    "project_name": "张江科学城人才公寓",
    "project_code": "2611-310115-04-01-123456",
    "construction_unit": "上海浦江置业有限公司",
    "design_unit": "上海市建筑设计研究院",
    "building_category": "住宅建筑",
    "total_area": 52000.0,
    "above_ground_area": 40000.0,
    "below_ground_area": 12000.0,
    "height": 79.8,
    "above_floors": 26.0,  # Yjs numbers are floats
    "below_floors": 2.0,
    "fire_resistance": "一级",
    "design_life": "50年",
}
VALID_STRUCTURE = {"structure_type": "剪力墙结构", "safety_grade": "二级", "seismic_intensity": "7度"}


def filled(project: dict[str, Any] | None = None, units: list[dict[str, Any]] | None = None) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.get("project", type=Map).update(project if project is not None else VALID_PROJECT)
    doc.get("structure", type=Map).update(VALID_STRUCTURE)
    rows = doc.get("units", type=Array)
    for row in units if units is not None else [{"name": "1号楼", "floors": 26.0, "area": 26000.0}]:
        rows.append(Map(row))
    return doc


def paths(doc: Doc[Any]) -> dict[str, str]:
    return {e.path: e.code for e in validate(BIM, content_of(doc, BIM))}


def test_the_shipped_forms_load_and_name_only_fields_they_declare():
    assert {"rich_text", "bim_building"} <= set(forms())
    assert [s.kind for s in BIM.sections].count("richtext") == 2
    with pytest.raises(UnknownForm):
        form("no_such_form")
    with pytest.raises(UnknownForm):
        form("bim_building", 99)


def test_a_schema_whose_rule_names_an_unknown_field_is_refused():
    schema = json.loads(BIM.model_dump_json())
    schema["rules"][0]["terms"] = ["project.no_such_field"]
    with pytest.raises(ValidationError, match="no field"):
        FormSchema.model_validate(schema)


def test_a_complete_form_validates_and_reads_as_canonical_json_in_schema_order():
    doc = filled()
    assert paths(doc) == {}
    content = content_of(doc, BIM)
    assert list(content["sections"]) == [s.key for s in BIM.sections]
    project = content["sections"]["project"]
    assert list(project)[:3] == ["project_name", "project_code", "construction_unit"]
    assert project["above_floors"] == 26
    assert isinstance(project["above_floors"], int)
    assert project["design_date"] is None  # declared, not filled
    assert content["sections"]["units"] == [
        {"name": "1号楼", "use": None, "floors": 26, "height": None, "area": 26000}
    ]
    assert content["sections"]["architecture_notes"] == {"type": "doc", "content": []}
    assert canonical_bytes(content) == canonical_bytes(content_of(filled(), BIM))  # same data, same bytes


def test_each_problem_is_reported_at_its_field_path():
    project = {
        **VALID_PROJECT,
        "project_name": "",
        "project_code": "2611-310115",
        "height": -1.0,
        "above_floors": 2.5,
        "fire_resistance": "特级",
        "design_date": "2026-02-30",
        "total_area": "很大",
    }
    units = [{"name": "1号楼", "floors": 0.0, "area": 100.0}, {"floors": 3.0, "area": 100.0}]
    assert paths(filled(project, units)) == {
        "project.project_name": "required",
        "project.project_code": "bad_format",
        "project.total_area": "not_a_number",
        "project.height": "too_small",
        "project.above_floors": "not_an_integer",
        "project.fire_resistance": "not_an_option",
        "project.design_date": "not_a_date",
        "units[0].floors": "too_small",
        "units[1].name": "required",
    }


def test_a_table_needs_its_minimum_rows_and_rich_text_is_not_required_unless_declared():
    assert paths(filled(units=[])) == {"units": "too_few_rows"}


def test_cross_field_rules_report_at_the_field_they_concern():
    wrong_sum = {**VALID_PROJECT, "total_area": 50000.0}
    assert paths(filled(wrong_sum, [{"name": "1号楼", "floors": 26.0, "area": 1000.0}])) == {
        "project.total_area": "sum_mismatch"
    }
    messages = {e.path: e.message for e in validate(BIM, content_of(filled(wrong_sum), BIM))}
    assert messages["project.total_area"] == "总建筑面积应等于地上与地下建筑面积之和（52000）"
    too_much = [
        {"name": "1号楼", "floors": 26.0, "area": 30000.0},
        {"name": "2号楼", "floors": 26.0, "area": 30000.0},
    ]
    assert paths(filled(units=too_much)) == {"units": "sum_too_large"}
    basement = {k: v for k, v in VALID_PROJECT.items() if k not in ("below_ground_area", "total_area")}
    assert paths(filled({**basement, "total_area": 40000.0})) == {"project.below_ground_area": "required"}
    tall = {**VALID_PROJECT, "height": 120.0, "fire_resistance": "二级"}
    assert paths(filled(tall)) == {"project.fire_resistance": "not_allowed"}
    assert paths(filled({**tall, "fire_resistance": "一级"})) == {}


def test_live_loads_below_the_code_minimum_of_their_category_are_reported_per_row():
    doc = filled()
    loads = doc.get("loads", type=Array)
    loads.append(Map({"room": "办公室", "category": "办公楼", "live_load": 2.0}))
    loads.append(Map({"room": "楼梯间", "category": "楼梯", "live_load": 3.5}))
    loads.append(Map({"room": "车库", "category": "汽车通道及停车库", "live_load": 2.5}))
    errors = {e.path: e.message for e in validate(BIM, content_of(doc, BIM))}
    assert errors == {
        "loads[0].live_load": "办公楼的活荷载标准值不应小于 2.5 kN/m²（GB 55001）",
        "loads[2].live_load": "汽车通道及停车库的活荷载标准值不应小于 4 kN/m²（GB 55001）",
    }


def rich(fragment: XmlFragment, *paragraphs: tuple[str, dict[str, Any] | None]) -> None:
    for text, marks in paragraphs:
        node = XmlText()
        fragment.children.append(XmlElement("paragraph", None, [node]))
        node.insert(0, text, marks)


def test_rich_text_reads_as_prosemirror_json_with_marks_and_attributes():
    doc: Doc[Any] = Doc()
    notes = doc.get("architecture_notes", type=XmlFragment)
    heading = XmlText()
    notes.children.append(XmlElement("heading", {"level": 2}, [heading]))
    heading.insert(0, "一、设计依据")
    rich(notes, ("本工程耐火等级为一级。", {"strong": {}}))
    assert content_of(doc, BIM)["sections"]["architecture_notes"] == {
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "一、设计依据"}]},
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "本工程耐火等级为一级。", "marks": [{"type": "strong"}]}
                ],
            },
        ],
    }


def test_restoring_a_version_rewrites_fields_rows_and_rich_text_as_edits_others_converge_on():
    version = filled()
    rich(version.get("structure_notes", type=XmlFragment), ("结构安全等级为二级。", {"em": {}}))
    wanted = content_of(version, BIM)

    current: Doc[Any] = Doc()
    current.apply_update(version.get_update())
    project = current.get("project", type=Map)
    project["height"] = 99.0
    project["design_date"] = "2026-11-28"  # not in the version: removed by the restore
    current.get("units", type=Array).append(Map({"name": "2号楼", "floors": 3.0, "area": 10.0}))
    rich(current.get("structure_notes", type=XmlFragment), ("后加的段落", None))
    replica: Doc[Any] = Doc()
    replica.apply_update(current.get_update())
    assert content_of(current, BIM) != wanted

    before = current.get_state()
    assert restore(current, version, BIM) is True
    assert content_of(current, BIM) == wanted
    replica.apply_update(current.get_update(before))  # only the restore's edits travel
    assert content_of(replica, BIM) == wanted


def test_restoring_what_the_document_already_holds_changes_nothing():
    doc = filled()
    rich(doc.get("architecture_notes", type=XmlFragment), ("不变的说明", None))
    copy: Doc[Any] = Doc()
    copy.apply_update(doc.get_update())
    before = doc.get_state()
    assert restore(doc, copy, BIM) is False
    assert doc.get_update(before) == b"\x00\x00"


def test_canonical_content_filled_into_an_empty_document_reads_back_identical():
    content = samples.filling(notes_repeat=2, loads=12)
    content["sections"]["structure_notes"]["content"].append({"type": "bullet_list", "content": [
        {"type": "list_item", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "列表项"}]}]},
    ]})  # fmt: skip
    doc: Doc[Any] = Doc()
    fill(doc, content)
    assert content_of(doc, BIM) == content
