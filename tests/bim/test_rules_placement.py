"""LOP000 and TB101–TB104 (placements and directions) on small in-memory models."""

from __future__ import annotations

import pytest

from bim.rules.placement import absolute_placements
from tests.bim.models import add_storey, add_wall, new_model, place, run, verdict


def test_a_sound_model_passes_the_placement_rules():
    model = new_model()
    add_wall(model, add_storey(model))
    for code in ("LOP000", "TB101", "TB102", "TB103", "TB104"):
        assert verdict(code, model) == "pass", code


def test_a_self_referencing_placement_is_a_cycle():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    placement = wall.ObjectPlacement
    placement.PlacementRelTo = placement
    result = run("TB101", model)
    errors = [o for o in result.outcomes if o.severity.name == "ERROR"]
    assert {o.instance.step_id for o in errors} == {placement.id(), wall.id()}
    assert "引用了自身" in errors[0].message or "引用了自身" in errors[1].message


def test_a_two_placement_loop_is_a_cycle_and_never_hangs_the_far_coordinate_check():
    model = new_model()
    storey = add_storey(model)
    wall = add_wall(model, storey)
    storey.ObjectPlacement.PlacementRelTo = wall.ObjectPlacement
    assert verdict("TB101", model) == "fail"
    assert wall.ObjectPlacement.id() not in absolute_placements(model)
    assert verdict("TB103", model) == "pass"


def test_a_placement_without_relative_placement_is_dangling():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    wall.ObjectPlacement = model.createIfcLocalPlacement(None, None)
    assert verdict("TB102", model) == "fail"


def test_a_placement_relative_to_a_non_placement_is_dangling():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    wall.ObjectPlacement = model.createIfcLocalPlacement(
        None, model.createIfcAxis2Placement3D(model.createIfcCartesianPoint((0.0, 0.0, 0.0)), None, None)
    )
    assert verdict("TB102", model) == "pass"


@pytest.mark.parametrize(
    ("units", "offset", "expected"),
    [
        ("MILLIMETRE", 9_000_000.0, "pass"),  # 9 km
        ("MILLIMETRE", 11_000_000.0, "warning"),  # 11 km
        ("METRE", 11_000.0, "warning"),
    ],
)
def test_far_coordinates_are_measured_in_metres_through_the_placement_chain(units, offset, expected):
    model = new_model(units=units)
    storey = add_storey(model)
    place(model, storey, x=offset / 2)
    wall = add_wall(model, storey)
    place(model, wall, x=offset)
    assert wall.ObjectPlacement.PlacementRelTo == storey.ObjectPlacement  # a chain of two offsets
    result = run("TB103", model)
    assert (result.severity.name == "WARNING") == (expected == "warning")


def test_far_coordinates_can_be_made_an_error_with_a_smaller_limit():
    model = new_model(units="METRE")
    wall = add_wall(model, add_storey(model))
    place(model, wall, x=1500.0)
    assert verdict("TB103", model) == "pass"
    assert verdict("TB103", model, max_distance_m=1000.0, severity="error") == "fail"


def test_a_zero_length_direction_is_an_error_naming_its_user():
    model = new_model()
    wall = add_wall(model, add_storey(model))
    axis = model.createIfcDirection((0.0, 0.0, 0.0))
    wall.ObjectPlacement.RelativePlacement.Axis = axis
    result = run("TB104", model)
    assert result.severity.name == "ERROR"
    assert "IfcAxis2Placement3D" in result.outcomes[0].message
