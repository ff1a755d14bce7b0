"""PJS000/PJS001/PJS002/PJS003/PJS101 and TB100 on small in-memory models."""

from __future__ import annotations

import math

import ifcopenshell
import ifcopenshell.api.root
import ifcopenshell.guid

from bim.rules.project import guid_problems
from tests.bim.models import add_storey, add_wall, new_model, project, run, verdict


def test_a_well_formed_model_passes_every_project_rule():
    model = new_model()
    add_wall(model, add_storey(model))
    for code in ("PJS000", "PJS003", "PJS101", "TB100"):
        assert verdict(code, model) == "pass", code


def test_guid_format_problems_are_each_named():
    assert guid_problems("0" * 22) == []
    assert len(guid_problems("0" * 21)) == 1
    assert "首字符" in guid_problems("4" + "0" * 21)[0]
    assert "字符集" in guid_problems("0" * 21 + "!")[0]


def test_a_malformed_global_id_is_an_error_on_that_instance():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    wall.GlobalId = "ZZZ"
    result = run("PJS003", model)
    errors = [o for o in result.outcomes if o.severity.name == "ERROR"]
    assert [o.instance.step_id for o in errors] == [wall.id()]
    assert "长度应为 22" in errors[0].message
    assert "首字符" in errors[0].message


def test_duplicate_global_ids_are_reported_on_every_holder():
    model = new_model()
    storey = add_storey(model)
    first, second = add_wall(model, storey), add_wall(model, storey)
    second.GlobalId = first.GlobalId
    result = run("TB100", model)
    assert sorted(o.instance.step_id for o in result.outcomes if o.severity.name == "ERROR") == sorted(
        [first.id(), second.id()]
    )


def test_exactly_one_project_is_required():
    model = new_model()
    assert verdict("PJS101", model) == "pass"
    ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="Second")
    assert verdict("PJS101", model) == "fail"
    assert verdict("PJS101", ifcopenshell.file(schema="IFC4")) == "fail"
    assert verdict("PJS000", ifcopenshell.file(schema="IFC4")) == "na"


def test_a_project_may_declare_types_but_not_elements():
    model = new_model()
    wall_type = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWallType")
    model.createIfcRelDeclares(ifcopenshell.guid.new(), None, None, None, project(model), [wall_type])
    assert verdict("PJS002", model) == "pass"
    wall = add_wall(model)
    model.createIfcRelDeclares(ifcopenshell.guid.new(), None, None, None, project(model), [wall])
    assert verdict("PJS002", model) == "fail"


def _conversion_unit(model, unit_type, name, factor, si_name, prefix=None):
    si = model.createIfcSIUnit(None, unit_type, prefix, si_name)
    measure = model.createIfcMeasureWithUnit(model.create_entity("IfcReal", factor), si)
    exponents = model.createIfcDimensionalExponents(1, 0, 0, 0, 0, 0, 0)
    unit = model.createIfcConversionBasedUnit(exponents, unit_type, name, measure)
    assignment = project(model).UnitsInContext
    assignment.Units = [u for u in assignment.Units if u.UnitType != unit_type] + [unit]
    return unit


def test_conversion_based_units_need_a_recommended_name_factor_and_si_base():
    model = new_model()
    assert verdict("PJS001", model) == "na"  # only SI units: nothing to check
    _conversion_unit(model, "LENGTHUNIT", "foot", 304.8, "METRE", "MILLI")
    _conversion_unit(model, "PLANEANGLEUNIT", "degree", math.pi / 180, "RADIAN")
    assert verdict("PJS001", model) == "pass"
    _conversion_unit(model, "LENGTHUNIT", "furlong", 201.168, "METRE")
    assert verdict("PJS001", model) == "fail"
    _conversion_unit(model, "LENGTHUNIT", "foot", 0.3, "METRE")
    assert verdict("PJS001", model) == "fail"
    _conversion_unit(model, "LENGTHUNIT", "foot", 0.3048, "GRAM")
    assert verdict("PJS001", model) == "fail"
