"""IDS completeness on self-made IFC4 models and IDS written here: every facet passing and failing,
the tolerance, invalid IDS refused with a clear error, the fill-in list and rates on a model with
known gaps, the seed list and its IDS, and the exports (parse back, byte-identical on re-run)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.classification
import ifcopenshell.api.material
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.unit
import ifcopenshell.guid
import openpyxl
import pytest

from bim.ids import export, fixes
from bim.ids.engine import InvalidIds, load_ids
from bim.ids.report import build_report
from bim.ids.seed import load_seed, seed_ids_xml, to_ids_xml

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ids xmlns="http://standards.buildingsmart.org/IDS" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema"><info><title>测试</title></info><specifications>'
)
FOOTER = "</specifications></ids>"


def ids_xml(requirements: str, applicability: str = "<entity><name><simpleValue>IFCWALL</simpleValue></name></entity>",
            usage: str = 'minOccurs="0" maxOccurs="unbounded"', name: str = "规范") -> str:  # fmt: skip
    return (
        f'{HEADER}<specification name="{name}" ifcVersion="IFC4"><applicability {usage}>{applicability}'
        f"</applicability><requirements>{requirements}</requirements></specification>{FOOTER}"
    )


def sv(value: str) -> str:
    return f"<simpleValue>{value}</simpleValue>"


def add_wall(model: Any, storey: Any, name: str, **data: Any) -> Any:
    wall = ifcopenshell.api.root.create_entity(
        model, ifc_class="IfcWall", name=name, predefined_type="SOLIDWALL"
    )
    ifcopenshell.api.spatial.assign_container(model, products=[wall], relating_structure=storey)
    if data.get("pset"):
        pset = ifcopenshell.api.pset.add_pset(model, product=wall, name="Pset_WallCommon")
        ifcopenshell.api.pset.edit_pset(model, pset=pset, properties=data["pset"])
    if data.get("width") is not None:
        qto = ifcopenshell.api.pset.add_qto(model, product=wall, name="Qto_WallBaseQuantities")
        ifcopenshell.api.pset.edit_qto(model, qto=qto, properties={"Width": data["width"]})
    if data.get("material"):
        material = ifcopenshell.api.material.add_material(model, name=data["material"])
        ifcopenshell.api.material.assign_material(model, products=[wall], material=material)
    return wall


@pytest.fixture(scope="module")
def model() -> Any:
    """Three walls on two storeys with known gaps, and a door.

    W1 complete (material 混凝土, FireRating 2.0h, IsExternal, Width 0.2, classified);
    W2 no material, no FireRating, Width 0.2000001 (equal under the IDS tolerance);
    W3 on 二层, material 砌块, FireRating 1.0h, Description null, Width 0.25."""
    model = ifcopenshell.file(schema="IFC4")
    project = ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="项目")
    ifcopenshell.api.unit.assign_unit(model, units=[
        ifcopenshell.api.unit.add_si_unit(model, unit_type="LENGTHUNIT"),
        ifcopenshell.api.unit.add_si_unit(model, unit_type="AREAUNIT"),
    ])  # fmt: skip
    building = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuilding", name="楼")
    ifcopenshell.api.aggregate.assign_object(model, products=[building], relating_object=project)
    storeys = []
    for name in ("一层", "二层"):
        storey = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuildingStorey", name=name)
        ifcopenshell.api.aggregate.assign_object(model, products=[storey], relating_object=building)
        storeys.append(storey)
    w1 = add_wall(
        model, storeys[0], "W1", pset={"FireRating": "2.0h", "IsExternal": True}, width=0.2, material="混凝土"
    )
    add_wall(model, storeys[0], "W2", pset={"IsExternal": False}, width=0.2000001)
    add_wall(
        model, storeys[1], "W3", pset={"FireRating": "1.0h", "IsExternal": False}, width=0.25, material="砌块"
    )
    system = ifcopenshell.api.classification.add_classification(model, classification="GB/T 51269")
    ifcopenshell.api.classification.add_reference(
        model, products=[w1], classification=system, identification="14-10.20.10", name="墙"
    )
    door = ifcopenshell.api.root.create_entity(model, ifc_class="IfcDoor", name="D1")
    door.OverallHeight = 2.1
    ifcopenshell.api.spatial.assign_container(model, products=[door], relating_structure=storeys[0])
    return model


def failing(model: Any, xml: str) -> list[str]:
    """Names of the applicable elements that fail, sorted."""
    document = load_ids(xml)
    report = build_report(document, model)
    return sorted({row.name for row in report.fill_in})


@pytest.mark.parametrize(
    ("requirement", "expected_failing"),
    [
        (
            "<entity><name>"
            + sv("IFCWALL")
            + "</name><predefinedType>"
            + sv("SOLIDWALL")
            + "</predefinedType></entity>",
            [],
        ),
        (
            "<entity><name>"
            + sv("IFCWALL")
            + "</name><predefinedType>"
            + sv("SHEAR")
            + "</predefinedType></entity>",
            ["W1", "W2", "W3"],
        ),
        (
            "<attribute><name>" + sv("Name") + "</name><value>" + sv("W1") + "</value></attribute>",
            ["W2", "W3"],
        ),
        ("<attribute><name>" + sv("Description") + "</name></attribute>", ["W1", "W2", "W3"]),
        (
            '<attribute cardinality="optional"><name>'
            + sv("Description")
            + "</name><value>"
            + sv("x")
            + "</value></attribute>",
            [],
        ),
        ('<attribute cardinality="prohibited"><name>' + sv("Description") + "</name></attribute>", []),
        (
            "<property><propertySet>"
            + sv("Pset_WallCommon")
            + "</propertySet><baseName>"
            + sv("FireRating")
            + "</baseName></property>",
            ["W2"],
        ),
        (
            '<property dataType="IFCLABEL"><propertySet>'
            + sv("Pset_WallCommon")
            + "</propertySet><baseName>"
            + sv("FireRating")
            + '</baseName><value><xs:restriction base="xs:string"><xs:pattern value="[0-9.]+h"/>'
            "</xs:restriction></value></property>",
            ["W2"],
        ),
        (
            '<property dataType="IFCBOOLEAN"><propertySet>'
            + sv("Pset_WallCommon")
            + "</propertySet><baseName>"
            + sv("IsExternal")
            + "</baseName><value>"
            + sv("true")
            + "</value></property>",
            ["W2", "W3"],
        ),
        (
            '<property dataType="IFCLENGTHMEASURE"><propertySet>'
            + sv("Qto_WallBaseQuantities")
            + "</propertySet>"
            "<baseName>" + sv("Width") + "</baseName><value>" + sv("0.2") + "</value></property>",
            ["W3"],
        ),
        (
            '<property dataType="IFCLENGTHMEASURE"><propertySet>'
            + sv("Qto_WallBaseQuantities")
            + "</propertySet>"
            "<baseName>" + sv("Width") + '</baseName><value><xs:restriction base="xs:double">'
            '<xs:minExclusive value="0.2"/></xs:restriction></value></property>',
            ["W1", "W2"],
        ),
        (
            '<property dataType="IFCREAL"><propertySet>' + sv("Qto_WallBaseQuantities") + "</propertySet>"
            "<baseName>" + sv("Width") + "</baseName></property>",
            ["W1", "W2", "W3"],
        ),
        ("<material/>", ["W2"]),
        ("<material><value>" + sv("混凝土") + "</value></material>", ["W2", "W3"]),
        ('<material cardinality="optional"><value>' + sv("混凝土") + "</value></material>", ["W3"]),
        (
            '<classification><system><xs:restriction base="xs:string"><xs:pattern value=".*"/></xs:restriction>'
            "</system></classification>",
            ["W2", "W3"],
        ),
        (
            "<classification><value>"
            + sv("14-10.20.10")
            + "</value><system>"
            + sv("GB/T 51269")
            + "</system></classification>",
            ["W2", "W3"],
        ),
        (
            '<partOf relation="IFCRELCONTAINEDINSPATIALSTRUCTURE"><entity><name>'
            + sv("IFCBUILDINGSTOREY")
            + "</name></entity></partOf>",
            [],
        ),
        (
            '<partOf relation="IFCRELAGGREGATES"><entity><name>'
            + sv("IFCBUILDING")
            + "</name></entity></partOf>",
            ["W1", "W2", "W3"],
        ),
    ],
)
def test_each_facet_passes_and_fails_where_the_model_says(
    model: Any, requirement: str, expected_failing: list[str]
):
    assert failing(model, ids_xml(requirement)) == expected_failing


def test_a_prohibited_specification_fails_on_every_applicable_element(model: Any):
    xml = ids_xml("", applicability="<entity><name>" + sv("IFCDOOR") + "</name></entity>",
                  usage='minOccurs="0" maxOccurs="0"').replace("<requirements></requirements>", "")  # fmt: skip
    report = build_report(load_ids(xml), model)
    assert report.status == "failed"
    assert [(r.name, r.requirement_index) for r in report.fill_in] == [("D1", 0)]


def test_a_required_specification_without_applicable_elements_fails(model: Any):
    xml = ids_xml("<material/>", applicability="<entity><name>" + sv("IFCROOF") + "</name></entity>",
                  usage='minOccurs="1" maxOccurs="unbounded"')  # fmt: skip
    report = build_report(load_ids(xml), model)
    assert report.status == "failed"
    assert "没有适用的构件" in report.specifications[0].message
    assert report.fill_in == []


@pytest.mark.parametrize(
    ("expected", "observed", "equal"),
    [
        ("1", 0.999998, True), ("1", 0.9999979, False), ("-1", -1.000002, True), ("-1", -1.00000200001, False),
        ("0", -0.000001, True), ("0", 0.0000011, False), ("100000", 99999.899999, True),
        ("100000", 99999.8999989, False), ("0.2", 0.2000001, True), ("abc", 1.0, False),
    ],
)  # fmt: skip
def test_real_equality_uses_the_relative_and_the_fixed_tolerance(expected: str, observed: float, equal: bool):
    assert fixes.real_equals(expected, observed) is equal


@pytest.mark.parametrize(
    ("constraint", "bound", "observed", "holds"),
    [
        ("minExclusive", "0", 0.0000009, False), ("minExclusive", "0", 0.0000011, True),
        ("maxExclusive", "0", -0.0000009, False), ("maxExclusive", "0", -0.0000011, True),
        ("minInclusive", "1", 0.999999, True), ("minInclusive", "1", 0.99999, False),
        ("maxInclusive", "1", 1.000001, True), ("maxInclusive", "1", 1.00001, False),
    ],
)  # fmt: skip
def test_bounds_use_the_tolerance_band(constraint: str, bound: str, observed: float, holds: bool):
    assert fixes.within_bound(constraint, bound, observed) is holds


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        (ids_xml("<material/>").replace("</specification>", ""), "格式正确的 XML"),
        (ids_xml("<material/>").replace("<material/>", "<colour/>"), "IDS 1.0 XSD"),
        (ids_xml("<material/>").replace('ifcVersion="IFC4"', 'ifcVersion="IFC5"'), "IDS 1.0 XSD"),
        (ids_xml("<attribute><name><xs:restriction base=\"xs:string\"><xs:pattern value=\"[unclosed\"/>"
                 "</xs:restriction></name></attribute>"), "正则表达式"),
        (ids_xml('<property dataType="IFCINTEGER"><propertySet>' + sv("P") + "</propertySet><baseName>" + sv("N")
                 + "</baseName><value>" + sv("42.") + "</value></property>"), "xs:integer"),
        (ids_xml('<property dataType="IFCREAL"><propertySet>' + sv("P") + "</propertySet><baseName>" + sv("N")
                 + '</baseName><value><xs:restriction base="xs:double"><xs:minInclusive value="1,5"/>'
                 "</xs:restriction></value></property>"), "xs:double"),
        (ids_xml("<material/>", usage='minOccurs="0" maxOccurs="0"'), "禁止"),
        ('<?xml version="1.0"?><!DOCTYPE ids [<!ENTITY a "b">]><ids/>', "DOCTYPE"),
        ("not xml at all", "格式正确的 XML"),
    ],
)  # fmt: skip
def test_an_invalid_ids_is_refused_with_a_clear_chinese_error(xml: str, says: str):
    with pytest.raises(InvalidIds) as caught:
        load_ids(xml.encode("utf-8"))
    assert says in caught.value.detail
    assert caught.value.problems


GAPS_IDS = ids_xml(
    '<property dataType="IFCLABEL" instructions="耐火极限"><propertySet>' + sv("Pset_WallCommon")
    + "</propertySet><baseName>" + sv("FireRating") + "</baseName></property>"
    + '<material instructions="材料名称"/>',
    name="墙数据项",
)  # fmt: skip


def test_the_fill_in_list_and_the_rates_on_a_model_with_known_gaps(model: Any):
    report = build_report(load_ids(GAPS_IDS), model, model_digest="sm3:demo")
    rows = [(r.storey, r.name, r.missing_item, r.reason) for r in report.fill_in]
    assert rows == [
        ("一层", "W2", "耐火极限（Pset_WallCommon.FireRating）", "未提供 Pset_WallCommon.FireRating"),
        ("一层", "W2", "材料名称（材质）", "未提供 材质"),
    ]
    row = report.fill_in[0]
    assert (row.ifc_class, len(row.global_id), row.expected) == ("IfcWall", 22, "IFCLABEL 须有值")
    spec = report.specifications[0]
    assert (spec.rate.applicable_pairs, spec.rate.satisfied_pairs, spec.rate.pair_rate) == (6, 4, 0.666667)
    assert (spec.rate.applicable_elements, spec.rate.complete_elements) == (3, 2)
    assert [(r.label, r.passed, r.failed) for r in spec.requirements] == [
        ("耐火极限", 2, 1),
        ("材料名称", 2, 1),
    ]
    storeys = {r.key: (r.pair_rate, r.element_rate) for r in report.rates.by_storey}
    assert storeys == {"一层": (0.5, 0.5), "二层": (1.0, 1.0)}
    assert [(r.key, r.element_rate) for r in report.rates.by_class] == [("IfcWall", 0.666667)]
    assert report.rates.overall.element_rate == 0.666667
    assert set(report.rate_definitions) == {"pair_rate", "element_rate"}


def test_exports_parse_back_and_are_byte_identical_across_runs(model: Any):
    runs = []
    for _ in range(2):
        report = build_report(load_ids(GAPS_IDS), model, model_digest="sm3:demo")
        runs.append((export.to_json(report), export.to_xlsx(report), export.to_bcf(report, model)))
    assert runs[0] == runs[1]
    data, xlsx, bcf = runs[0]

    parsed = json.loads(data)
    assert (parsed["type"], len(parsed["fill_in"])) == ("bim.ids_completeness", 2)
    assert (
        data
        == (json.dumps(parsed, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
    )

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert workbook.sheetnames[:2] == ["汇总", "待补充清单"]
    assert len(workbook.sheetnames) == 3
    fill_in = list(workbook["待补充清单"].iter_rows(values_only=True))
    assert fill_in[0][:5] == ("GlobalId", "类别", "名称", "楼层", "缺失数据项")
    assert [r[2] for r in fill_in[1:]] == ["W2", "W2"]
    assert (workbook.properties.created.year, workbook.properties.modified.year) == (2000, 2000)

    w2 = next(w for w in model.by_type("IfcWall") if w.Name == "W2")
    with zipfile.ZipFile(io.BytesIO(bcf)) as archive:
        names = archive.namelist()
        assert names[:3] == ["bcf.version", "extensions.xml", "project.bcfp"]
        assert {info.date_time for info in archive.infolist()} == {export.ZIP_TIME}
        topics = [n for n in names if n.endswith("markup.bcf")]
        assert len(topics) == 1  # one (specification, element) fails: W2
        guid = topics[0].split("/")[0]
        assert guid == export.topic_guid(report, 1, w2.GlobalId)
        markup = ET.fromstring(archive.read(topics[0]))  # noqa: S314 - our own output
        assert markup.find("Topic").get("Guid") == guid
        assert "耐火极限" in markup.findtext("Topic/Description")
        visinfo = ET.fromstring(archive.read(f"{guid}/viewpoint.bcfv"))  # noqa: S314 - our own output
        assert [c.get("IfcGuid") for c in visinfo.iter("Component")] == [w2.GlobalId]
        assert visinfo.find("PerspectiveCamera/CameraViewPoint/X") is not None


def test_the_seed_list_gives_a_valid_deterministic_ids_with_one_specification_per_class():
    items = load_seed()
    labels = [c.label for c in items.classes]
    assert {"墙", "板", "柱", "梁", "门", "窗", "楼梯", "屋面", "空间", "幕墙"} <= set(labels)
    xml = seed_ids_xml()
    assert xml == to_ids_xml(load_seed())
    document = load_ids(xml.encode("utf-8"))
    assert len(document.ids.specifications) == len(items.classes)
    wall = document.ids.specifications[labels.index("墙")]
    described = {(_facet_kind(f), getattr(f, "instructions", None)) for f in wall.requirements}
    assert ("Property", "耐火极限") in described
    assert ("Material", "材料名称") in described


def test_the_seed_ids_finds_the_gaps_of_the_test_model(model: Any):
    report = build_report(load_ids(seed_ids_xml().encode("utf-8")), model)
    wall_rows = [r for r in report.fill_in if r.ifc_class == "IfcWall"]
    assert {r.name for r in wall_rows} == {"W1", "W2", "W3"}  # none has LoadBearing or the heights
    assert any(r.missing_item.startswith("耐火极限") and r.name == "W2" for r in wall_rows)
    assert not any(r.missing_item.startswith("耐火极限") and r.name == "W1" for r in wall_rows)


def test_an_odd_property_fails_its_requirement_instead_of_stopping_the_check():
    model = ifcopenshell.file(schema="IFC4")
    ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="项目")
    wall = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWall", name="W")
    empty = model.create_entity("IfcPropertyBoundedValue", Name="限值")  # no bounds, no set point
    pset = model.create_entity(
        "IfcPropertySet", GlobalId=ifcopenshell.guid.new(), Name="SH_数据", HasProperties=[empty]
    )
    model.create_entity(
        "IfcRelDefinesByProperties", GlobalId=ifcopenshell.guid.new(), RelatedObjects=[wall],
        RelatingPropertyDefinition=pset,
    )  # fmt: skip
    xml = ids_xml(
        '<property dataType="IFCREAL"><propertySet>' + sv("SH_数据") + "</propertySet><baseName>" + sv("限值")
        + "</baseName></property>"
    )  # fmt: skip
    report = build_report(load_ids(xml), model)
    assert [(r.name, r.reason) for r in report.fill_in] == [
        ("W", "SH_数据.限值 的数据无法读取（AssertionError），请检查其定义")
    ]


def _facet_kind(facet: object) -> str:
    """The ifctester facet class a (fixed) facet is, e.g. "Property"."""
    return next(c.__name__ for c in type(facet).__mro__ if c.__module__ == "ifctester.facet")
