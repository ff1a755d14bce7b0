"""SPS001–SPS008 on small in-memory models."""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.guid

from tests.bim.models import add_element, add_spatial, add_storey, add_wall, new_model, project, run, verdict


def test_a_building_model_passes_the_spatial_rules():
    model = new_model()
    add_wall(model, add_storey(model))
    for code in ("SPS002", "SPS005", "SPS007", "SPS008"):
        assert verdict(code, model) == "pass", code
    for code in ("SPS001", "SPS004", "SPS006"):  # IFC2X3 coordination view / IFC4X3 only
        assert verdict(code, model) == "na", code


def test_a_storey_directly_under_the_project_breaks_the_composition_table():
    model = new_model()
    add_spatial(model, "IfcBuildingStorey", project(model))
    result = run("SPS002", model)
    assert result.severity.name == "ERROR"
    assert any("IfcBuilding" in o.message for o in result.outcomes)


def test_an_unaggregated_space_is_an_error():
    model = new_model()
    add_storey(model)
    ifcopenshell.api.root.create_entity(model, ifc_class="IfcSpace")
    assert verdict("SPS002", model) == "fail"


def test_an_element_without_spatial_relationship_fails_sps005_and_sps007():
    model = new_model()
    add_storey(model)
    add_wall(model)  # not contained
    assert verdict("SPS005", model) == "fail"
    assert verdict("SPS007", model) == "fail"


def test_an_aggregated_part_must_not_also_be_contained():
    model = new_model()
    storey = add_storey(model)
    assembly = add_element(model, "IfcElementAssembly", storey)
    part = add_element(model, "IfcBeam", storey)
    model.createIfcRelAggregates(ifcopenshell.guid.new(), None, None, None, assembly, [part])
    assert verdict("SPS003", model) == "fail"
    assert verdict("SPS005", model) == "fail"  # decomposes and contained at once
    assert verdict("SPS007", model) == "fail"


def test_a_storey_with_its_own_representation_fails_sps008():
    model = new_model()
    storey = add_storey(model)
    storey.Representation = model.createIfcProductDefinitionShape(None, None, [])
    assert verdict("SPS008", model) == "fail"


def test_sps001_checks_ifc2x3_coordination_view_models():
    model = new_model("IFC2X3")
    model.header.file_description.description = ("ViewDefinition [CoordinationView_V2.0]",)
    add_storey(model)
    assert verdict("SPS001", model) == "pass"
    add_spatial(model, "IfcSite", project(model), "Second site")
    assert verdict("SPS001", model) == "fail"


def test_sps004_and_sps006_read_positioning_in_ifc4x3():
    model = new_model("IFC4X3_ADD2")
    storey = add_storey(model)
    wall = add_wall(model, storey)
    assert verdict("SPS004", model) == "pass"
    assert verdict("SPS006", model) == "pass"
    alignment = ifcopenshell.api.root.create_entity(model, ifc_class="IfcAlignment")
    model.createIfcRelPositions(ifcopenshell.guid.new(), None, None, None, alignment, [wall])
    assert verdict("SPS004", model) == "fail"  # contained and positioned
    assert verdict("SPS006", model) == "fail"  # positioned but not referenced
