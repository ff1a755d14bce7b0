"""A small IFC4 building model made with ifcopenshell for the demo data (`tongban seed`): a project
with site, building and two storeys, walls, a slab, a door and a window, with their standard property
sets partly filled in, so that a demo check has findings to show (two walls without a fire rating for
the data-item list, one element with a copied GlobalId).

Must not: be used as a conformance fixture (it is ours, made to show findings, not a verdict).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api

HEADER_VIEW = "ViewDefinition [ReferenceView_V1.2]"


def sample_model() -> Any:
    """The demo model, in memory."""
    run = ifcopenshell.api.run
    model = run("project.create_file", version="IFC4")
    model.header.file_description.description = (HEADER_VIEW,)
    model.header.file_name.originating_system = "Tongban - DemoModel - 1.0"
    model.header.file_name.author = ("张工",)
    model.header.file_name.organization = ("上海华东建筑设计有限公司",)
    project = run("root.create_entity", model, ifc_class="IfcProject", name="张江科学城人才公寓 投标模型")
    run("unit.assign_unit", model)
    context = run("context.add_context", model, context_type="Model")
    run("context.add_context", model, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW",
        parent=context)  # fmt: skip
    site = run("root.create_entity", model, ifc_class="IfcSite", name="张江地块")
    building = run("root.create_entity", model, ifc_class="IfcBuilding", name="1号楼")
    run("aggregate.assign_object", model, products=[site], relating_object=project)
    run("aggregate.assign_object", model, products=[building], relating_object=site)
    storeys: list[Any] = []
    for index, name in enumerate(("一层", "二层")):
        storey = run("root.create_entity", model, ifc_class="IfcBuildingStorey", name=name)
        storey.Elevation = 3.3 * index
        run("aggregate.assign_object", model, products=[storey], relating_object=building)
        storeys.append(storey)
    walls: list[Any] = []
    for storey in storeys:
        for number in range(1, 5):
            wall = run("root.create_entity", model, ifc_class="IfcWall", name=f"{storey.Name}外墙-{number:02d}",
                       predefined_type="SOLIDWALL")  # fmt: skip
            run("spatial.assign_container", model, products=[wall], relating_structure=storey)
            properties: dict[str, Any] = {"IsExternal": True, "LoadBearing": number % 2 == 1}
            if len(walls) not in (1, 6):  # two walls are left without a fire rating (the data-item list)
                properties["FireRating"] = "2.00h"
            pset = run("pset.add_pset", model, product=wall, name="Pset_WallCommon")
            run("pset.edit_pset", model, pset=pset, properties=properties)
            walls.append(wall)
    slab = run("root.create_entity", model, ifc_class="IfcSlab", name="二层楼板", predefined_type="FLOOR")
    run("spatial.assign_container", model, products=[slab], relating_structure=storeys[1])
    door = run("root.create_entity", model, ifc_class="IfcDoor", name="入户门", predefined_type="DOOR")
    window = run(
        "root.create_entity", model, ifc_class="IfcWindow", name="南向外窗", predefined_type="WINDOW"
    )
    run("spatial.assign_container", model, products=[door, window], relating_structure=storeys[0])
    window.GlobalId = door.GlobalId  # a copied GlobalId: what a careless export does
    return model


def write_sample(path: Path) -> Path:
    sample_model().write(str(path))
    return path
