"""IFC102 and OJT001 on small in-memory models."""

from __future__ import annotations

import ifcopenshell.api.root
import ifcopenshell.guid

from tests.bim.models import add_storey, add_type, add_wall, new_model, run, verdict


def test_a_clean_ifc4_model_has_no_deprecated_constructs():
    model = new_model()
    add_wall(model, add_storey(model))
    assert verdict("IFC102", model) == "pass"


def test_a_deprecated_entity_is_an_error_but_its_supertype_use_elsewhere_is_not():
    model = new_model()
    storey = add_storey(model)
    proxy = model.createIfcWallStandardCase(ifcopenshell.guid.new())
    result = run("IFC102", model)
    assert result.severity.name == "ERROR"
    assert [o.instance.step_id for o in result.outcomes] == [proxy.id()]
    assert storey  # the spatial structure itself is fine


def test_deprecated_enumerators_and_property_sets_are_errors():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    wall.PredefinedType = "STANDARD"
    assert verdict("IFC102", model) == "fail"
    wall.PredefinedType = "SOLIDWALL"
    assert verdict("IFC102", model) == "pass"
    model.createIfcPropertySet(ifcopenshell.guid.new(), None, "Pset_Draughting", None, [])
    assert verdict("IFC102", model) == "fail"


def test_userdefined_occurrence_needs_an_object_type():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    assert verdict("OJT001", model) == "na"
    wall.PredefinedType = "USERDEFINED"
    assert verdict("OJT001", model) == "fail"
    wall.ObjectType = "挡土墙"
    assert verdict("OJT001", model) == "pass"


def test_userdefined_type_needs_an_element_type():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    wall_type = add_type(model, "IfcWallType", [wall], "USERDEFINED")
    assert verdict("OJT001", model) == "fail"
    wall_type.ElementType = "挡土墙"
    assert verdict("OJT001", model) == "pass"


def test_an_occurrence_of_a_typed_element_leaves_its_predefined_type_unset():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    add_type(model, "IfcWallType", [wall], "SOLIDWALL")
    wall.PredefinedType = "NOTDEFINED"
    assert verdict("OJT001", model) == "pass"
    wall.PredefinedType = "PARAPET"
    result = run("OJT001", model)
    assert result.severity.name == "ERROR"
    assert "PARAPET" in result.outcomes[0].message
