"""Small IFC models built in memory for tests (ifcopenshell.api), shared by the bim test modules.

Each builder returns the entity it made so tests can break exactly one thing afterwards.
Must not: read files from ../shared or anywhere else; tests stay self-contained.
"""

from __future__ import annotations

from typing import Any

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit
import numpy as np


def new_model(schema: str = "IFC4", units: str = "MILLIMETRE") -> Any:
    """A model with one project, metric units (length in `units`), and a 3D 'Model' context."""
    model = ifcopenshell.file(schema=schema)
    if schema == "IFC2X3":  # IFC2X3 requires owner histories: give the api a user and application
        _owner_settings(model)
    project = ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="Test project")
    prefix = "MILLI" if units == "MILLIMETRE" else None
    length = model.createIfcSIUnit(None, "LENGTHUNIT", prefix, "METRE")
    area = model.createIfcSIUnit(None, "AREAUNIT", None, "SQUARE_METRE")
    volume = model.createIfcSIUnit(None, "VOLUMEUNIT", None, "CUBIC_METRE")
    angle = model.createIfcSIUnit(None, "PLANEANGLEUNIT", None, "RADIAN")
    project.UnitsInContext = model.createIfcUnitAssignment([length, area, volume, angle])
    ifcopenshell.api.context.add_context(model, context_type="Model")
    return model


def _owner_settings(model: Any) -> None:
    import ifcopenshell.api.owner.settings as owner

    person = model.createIfcPerson(None, "Test", None)
    organisation = model.createIfcOrganization(None, "Test")
    user = model.createIfcPersonAndOrganization(person, organisation)
    application = model.createIfcApplication(organisation, "1", "tongban tests", "tongban-tests")
    previous_user, previous_application = owner.get_user, owner.get_application
    owner.get_user = lambda f: user if f is model else previous_user(f)
    owner.get_application = lambda f: application if f is model else previous_application(f)


def project(model: Any) -> Any:
    return model.by_type("IfcProject")[0]


def add_spatial(model: Any, ifc_class: str, parent: Any, name: str | None = None) -> Any:
    """A spatial element aggregated into `parent`, placed at the parent's origin."""
    element = ifcopenshell.api.root.create_entity(model, ifc_class=ifc_class, name=name or ifc_class)
    ifcopenshell.api.aggregate.assign_object(model, products=[element], relating_object=parent)
    place(model, element)
    return element


def add_storey(model: Any, name: str = "1F") -> Any:
    """Site → building → storey under the project (reusing the ones that exist); returns the storey."""
    sites = model.by_type("IfcSite")
    site = sites[0] if sites else add_spatial(model, "IfcSite", project(model), "Site")
    buildings = model.by_type("IfcBuilding")
    building = buildings[0] if buildings else add_spatial(model, "IfcBuilding", site, "Building")
    return add_spatial(model, "IfcBuildingStorey", building, name)


def add_element(
    model: Any,
    ifc_class: str,
    container: Any | None = None,
    name: str | None = None,
    predefined_type: str | None = None,
) -> Any:
    """An element (contained in `container` when given) with a local placement at the origin."""
    element = ifcopenshell.api.root.create_entity(
        model, ifc_class=ifc_class, name=name or ifc_class, predefined_type=predefined_type
    )
    if container is not None:
        ifcopenshell.api.spatial.assign_container(model, products=[element], relating_structure=container)
    place(model, element)
    return element


def add_wall(model: Any, storey: Any | None = None, name: str = "Wall") -> Any:
    return add_element(model, "IfcWall", storey, name)


def add_type(model: Any, ifc_class: str, occurrences: list[Any], predefined_type: str | None = None) -> Any:
    element_type = ifcopenshell.api.root.create_entity(
        model, ifc_class=ifc_class, name=ifc_class, predefined_type=predefined_type
    )
    ifcopenshell.api.type.assign_type(model, related_objects=occurrences, relating_type=element_type)
    return element_type


def place(model: Any, product: Any, x: float = 0.0, y: float = 0.0, z: float = 0.0) -> Any:
    """Place `product` at the absolute position (x, y, z) in model units (the api writes it relative
    to the placement of the product's container)."""
    matrix = np.eye(4)
    matrix[:3, 3] = (x, y, z)
    ifcopenshell.api.geometry.edit_object_placement(model, product=product, matrix=matrix, is_si=False)
    return product.ObjectPlacement


def run(code: str, model: Any, **params: Any) -> Any:
    """The RuleResult of rule `code` on `model` (with parameter overrides)."""
    from bim.rules import load_all
    from bim.rules.runner import run_rule

    return run_rule(load_all()[code], model, params)


def verdict(code: str, model: Any, **params: Any) -> str:
    """'fail', 'pass' or 'na', as the conformance suite reads a rule's result."""
    from bim.rules.runner import activated, has_error

    result = run(code, model, **params)
    return "fail" if has_error(result) else "pass" if activated(result) else "na"
