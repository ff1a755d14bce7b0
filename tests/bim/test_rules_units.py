"""TB110 (project units for the tender) on small in-memory models."""

from __future__ import annotations

import math

import ifcopenshell

from tests.bim.models import new_model, project, run, verdict


def _replace(model, unit_type, unit):
    assignment = project(model).UnitsInContext
    assignment.Units = [u for u in assignment.Units if u.UnitType != unit_type] + ([unit] if unit else [])


def _conversion(model, unit_type, name, factor, si_name, prefix=None):
    si = model.createIfcSIUnit(None, unit_type, prefix, si_name)
    measure = model.createIfcMeasureWithUnit(model.create_entity("IfcReal", factor), si)
    exponents = model.createIfcDimensionalExponents(1, 0, 0, 0, 0, 0, 0)
    return model.createIfcConversionBasedUnit(exponents, unit_type, name, measure)


def test_metric_projects_pass_in_metres_and_millimetres():
    assert verdict("TB110", new_model(units="MILLIMETRE")) == "pass"
    assert verdict("TB110", new_model(units="METRE")) == "pass"


def test_a_model_without_project_is_not_this_rules_concern():
    assert verdict("TB110", ifcopenshell.file(schema="IFC4")) == "na"


def test_missing_units_and_unit_assignment_are_errors():
    model = new_model()
    _replace(model, "VOLUMEUNIT", None)
    result = run("TB110", model)
    assert result.severity.name == "ERROR"
    assert "体积" in result.outcomes[0].message
    project(model).UnitsInContext = None
    assert verdict("TB110", model) == "fail"


def test_centimetres_are_not_a_tender_length_unit_unless_allowed():
    model = new_model()
    _replace(model, "LENGTHUNIT", model.createIfcSIUnit(None, "LENGTHUNIT", "CENTI", "METRE"))
    assert verdict("TB110", model) == "fail"
    assert verdict("TB110", model, length_units=["METRE", "MILLIMETRE", "CENTIMETRE"]) == "pass"


def test_imperial_units_are_flagged_but_degrees_are_accepted():
    model = new_model()
    _replace(model, "PLANEANGLEUNIT", _conversion(model, "PLANEANGLEUNIT", "degree", math.pi / 180, "RADIAN"))
    assert verdict("TB110", model) == "pass"
    _replace(model, "LENGTHUNIT", _conversion(model, "LENGTHUNIT", "foot", 0.3048, "METRE"))
    result = run("TB110", model)
    assert result.severity.name == "ERROR"
    assert "foot" in result.outcomes[0].message
