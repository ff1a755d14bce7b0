"""Entity-level normative rules: deprecated entities, attributes, enumerators and property sets
per schema (IFC102, from the schemas' deprecation lists as the Validation Service encodes them) and
the use of PredefinedType / ObjectType / ElementType (OJT001, concept template Object Predefined
Type).

Must not: modify the model or flag a construct in a schema where it is not deprecated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bim.outcomes import Outcome, Severity
from bim.rules.base import by_type, outcome, ref, rule
from bim.rules.spatial import schema_key

# --- IFC102 -------------------------------------------------------------------------------------

# Entities that must not be instantiated (exact class, subtypes are fine).
DEPRECATED_ENTITIES: dict[str, tuple[str, ...]] = {
    "IFC4X3": (
        "IfcBuildingSystem",
        "IfcCivilElement",
        "IfcCivilElementType",
        "IfcDoorLiningProperties",
        "IfcDoorPanelProperties",
        "IfcElectricDistributionBoard",
        "IfcElectricDistributionBoardType",
        "IfcFaceBasedSurfaceModel",
        "IfcMaterialClassificationRelationship",
        "IfcMaterialList",
        "IfcPermeableCoveringProperties",
        "IfcPostalAddress",
        "IfcRelConnectsPortToElement",
        "IfcRelCoversBldgElements",
        "IfcRelServicesBuildings",
        "IfcRelCoversSpaces",
        "IfcTelecomAddress",
        "IfcTextLiteral",
        "IfcTrapeziumProfileDef",
        "IfcWallStandardCase",
        "IfcWindowLiningProperties",
        "IfcWindowPanelProperties",
        "IfcWindowStandardCase",
        # Abstract in spirit: only their subtypes may be instantiated.
        "IfcFlowFitting",
        "IfcFlowSegment",
        "IfcFlowTerminal",
        "IfcFlowController",
        "IfcFlowMovingDevice",
        "IfcFlowStorageDevice",
        "IfcFlowTreatmentDevice",
        "IfcEnergyConversionDevice",
    ),
    "IFC4": (
        "Ifc2DCompositeCurve",
        "IfcBeamStandardCase",
        "IfcConnectionPortGeometry",
        "IfcColumnStandardCase",
        "IfcDoorStandardCase",
        "IfcDoorStyle",
        "IfcElectricalElement",
        "IfcEquipmentElement",
        "IfcFaceBasedSurfaceModel",
        "IfcMaterialClassificationRelationship",
        "IfcMaterialList",
        "IfcMemberStandardCase",
        "IfcNullStyle",
        "IfcOpeningStandardCase",
        "IfcPlateStandardCase",
        "IfcPresentationStyleAssignment",
        "IfcProxy",
        "IfcRelCoversBldgElements",
        "IfcRelCoversSpaces",
        "IfcSlabElementedCase",
        "IfcSlabStandardCase",
        "IfcTextLiteral",
        "IfcWallElementedCase",
        "IfcWallStandardCase",
        "IfcWindowStandardCase",
        "IfcWindowStyle",
        "IfcFlowFitting",
        "IfcFlowSegment",
        "IfcFlowTerminal",
        "IfcFlowController",
        "IfcFlowMovingDevice",
        "IfcFlowStorageDevice",
        "IfcFlowTreatmentDevice",
        "IfcEnergyConversionDevice",
    ),
    "IFC2X3": (
        "Ifc2DCompositeCurve",
        "IfcConnectionPortGeometry",
        "IfcElectricalElement",
        "IfcEquipmentElement",
        "IfcTextLiteral",
        "IfcProductRepresentation",
        "IfcRepresentation",
        "IfcRepresentationContext",
        "IfcRelAssociates",
    ),
}

# (class incl. subtypes, attribute) that must be left empty.
DEPRECATED_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "IFC4X3": (
        ("IfcBuilding", "BuildingAddress"),
        ("IfcBuilding", "ElevationOfRefHeight"),
        ("IfcBuilding", "ElevationOfTerrain"),
        ("IfcBuildingStorey", "Elevation"),
        ("IfcFillAreaStyleHatching", "PointOfReferenceHatchLine"),
        ("IfcOrganization", "Addresses"),
        ("IfcPerson", "Addresses"),
        ("IfcPile", "ConstructionType"),
        ("IfcReinforcingElement", "SteelGrade"),
        ("IfcRelAssigns", "RelatedObjectsType"),
        ("IfcSite", "LandTitleNumber"),
        ("IfcSite", "SiteAddress"),
        ("IfcStairFlight", "NumberOfRisers"),
        ("IfcStairFlight", "NumberOfTreads"),
        ("IfcStairFlight", "RiserHeight"),
        ("IfcStairFlight", "TreadLength"),
        ("IfcSurfaceStyleRendering", "DiffuseTransmissionColour"),
        ("IfcSurfaceStyleRendering", "ReflectionColour"),
        ("IfcSurfaceStyleRendering", "TransmissionColour"),
        ("IfcSurfaceTexture", "Parameter"),
        ("IfcTendon", "NominalDiameter"),
        ("IfcTendon", "CrossSectionArea"),
        ("IfcTextureCoordinateGenerator", "Parameter"),
    ),
    "IFC4": (
        ("IfcDoorLiningProperties", "ShapeAspectStyle"),
        ("IfcDoorPanelProperties", "ShapeAspectStyle"),
        ("IfcFillAreaStyleHatching", "PointOfReferenceHatchLine"),
        ("IfcReinforcingElement", "SteelGrade"),
        ("IfcRelAssignsToActor", "RelatedObjectsType"),
        ("IfcRelAssignsToControl", "RelatedObjectsType"),
        ("IfcRelAssignsToGroup", "RelatedObjectsType"),
        ("IfcRelAssignsToGroupByFactor", "RelatedObjectsType"),
        ("IfcRelAssignsToProcess", "RelatedObjectsType"),
        ("IfcRelAssignsToProduct", "RelatedObjectsType"),
        ("IfcRelAssignsToResource", "RelatedObjectsType"),
        ("IfcStairFlight", "NumberOfRisers"),
        ("IfcStairFlight", "NumberOfTreads"),
        ("IfcStairFlight", "RiserHeight"),
        ("IfcStairFlight", "TreadLength"),
        ("IfcWindowPanelProperties", "ShapeAspectStyle"),
        ("IfcWindowLiningProperties", "ShapeAspectStyle"),
        ("IfcTendon", "SteelGrade"),
        ("IfcTendon", "NominalDiameter"),
        ("IfcTendon", "CrossSectionArea"),
        ("IfcTendon", "TensionForce"),
        ("IfcTendon", "PreStress"),
        ("IfcTendon", "FrictionCoefficient"),
        ("IfcTendon", "AnchorageSlip"),
        ("IfcTendon", "MinCurvatureRadius"),
        ("IfcTendonAnchor", "SteelGrade"),
        ("IfcTendonType", "NominalDiameter"),
        ("IfcTendonType", "CrossSectionArea"),
        ("IfcTendonType", "SheathDiameter"),
    ),
    "IFC2X3": (("IfcFillAreaStyleHatching", "PointOfReferenceHatchLine"),),
}

# (class incl. subtypes, attribute, deprecated values).
DEPRECATED_VALUES: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "IFC4X3": (
        ("IfcBuildingElementProxy", "PredefinedType", ("PROVISIONFORSPACE", "PROVISIONFORVOID")),
        ("IfcFireSuppressionTerminal", "PredefinedType", ("SPRINKLERDEFLECTOR",)),
        ("IfcFireSuppressionTerminalType", "PredefinedType", ("SPRINKLERDEFLECTOR",)),
        ("IfcCableCarrierFitting", "PredefinedType", ("TEE", "CROSS", "REDUCER")),
        ("IfcCableCarrierFittingType", "PredefinedType", ("TEE", "CROSS", "REDUCER")),
        ("IfcGeographicElement", "PredefinedType", ("SOIL_BORING_POINT",)),
        ("IfcGeographicElementType", "PredefinedType", ("SOIL_BORING_POINT",)),
        ("IfcSpace", "PredefinedType", ("INTERNAL", "EXTERNAL")),
        ("IfcSpaceType", "PredefinedType", ("INTERNAL", "EXTERNAL")),
        ("IfcWall", "PredefinedType", ("POLYGONAL", "STANDARD")),
        ("IfcWallType", "PredefinedType", ("POLYGONAL", "STANDARD")),
        ("IfcShapeRepresentation", "RepresentationType", ("PointCloud",)),
    ),
    "IFC4": (
        ("IfcWall", "PredefinedType", ("POLYGONAL", "STANDARD", "ELEMENTEDWALL")),
        ("IfcWallType", "PredefinedType", ("POLYGONAL", "STANDARD", "ELEMENTEDWALL")),
    ),
    "IFC2X3": (("IfcOwnerHistory", "ChangeAction", ("MODIFIEDADDED", "MODIFIEDDELETED")),),
}

DEPRECATED_PSETS = ("Pset_Draughting",)


def _empty(value: Any) -> bool:
    return value is None or value == () or value == ""


@rule("IFC102", 5, "IFC：模型中不得使用已废弃的实体、属性、枚举值或属性集")
def check_ifc102(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    schema = schema_key(model)
    if schema not in DEPRECATED_ENTITIES:
        return
    found: list[Outcome] = []
    for ifc_class in DEPRECATED_ENTITIES[schema]:
        for entity in by_type(model, ifc_class, include_subtypes=False):
            found.append(
                outcome(
                    "IFC102",
                    5,
                    Severity.ERROR,
                    f"{ref(entity)}：{ifc_class} 在 {schema} 中已废弃，不得导出",
                    entity,
                    "不使用已废弃实体",
                    ifc_class,
                )
            )
    for ifc_class, attribute in DEPRECATED_ATTRIBUTES[schema]:
        for entity in by_type(model, ifc_class):
            value = getattr(entity, attribute, None)
            if not _empty(value):
                found.append(
                    outcome(
                        "IFC102",
                        5,
                        Severity.ERROR,
                        f"{ref(entity)} 的属性 {attribute} 在 {schema} 中已废弃，应留空，实际为 {value!r}",
                        entity,
                        None,
                        repr(value),
                    )
                )
    for ifc_class, attribute, values in DEPRECATED_VALUES[schema]:
        for entity in by_type(model, ifc_class):
            value = getattr(entity, attribute, None)
            if value in values:
                found.append(
                    outcome(
                        "IFC102",
                        5,
                        Severity.ERROR,
                        f"{ref(entity)} 的 {attribute} 取值 {value} 在 {schema} 中已废弃",
                        entity,
                        f"非 {'/'.join(values)}",
                        value,
                    )
                )
    for pset in by_type(model, "IfcPropertySet"):
        if getattr(pset, "Name", None) in DEPRECATED_PSETS:
            found.append(
                outcome(
                    "IFC102",
                    5,
                    Severity.ERROR,
                    f"{ref(pset)}：属性集 {pset.Name} 已废弃，不得使用",
                    pset,
                    None,
                    pset.Name,
                )
            )
    found.sort(key=lambda o: (o.instance.step_id or 0) if o.instance else 0)
    yield from found
    if not found:
        yield outcome("IFC102", 5, Severity.PASSED, f"未发现 {schema} 中已废弃的实体、属性、枚举值或属性集")


# --- OJT001 -------------------------------------------------------------------------------------


def _typed_by(obj: Any) -> list[Any]:
    """The type objects an object is typed by (IsTypedBy in IFC4+, IsDefinedBy in IFC2X3)."""
    rels = getattr(obj, "IsTypedBy", None)
    if rels is None:
        rels = [r for r in (getattr(obj, "IsDefinedBy", None) or ()) if r.is_a("IfcRelDefinesByType")]
    return [r.RelatingType for r in rels or () if getattr(r, "RelatingType", None) is not None]


def _type_name_attribute(type_object: Any) -> str | None:
    for attribute in ("ElementType", "ProcessType", "ResourceType"):
        if hasattr(type_object, attribute):
            return attribute
    return None


@rule("OJT001", 2, "对象类型：PredefinedType 的使用须符合“对象预定义类型”概念模板")
def check_ojt001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    schema = schema_key(model)
    # Scenario 1: an occurrence without a type object, PredefinedType USERDEFINED → ObjectType given.
    for obj in sorted(by_type(model, "IfcObject"), key=lambda e: e.id()):
        if getattr(obj, "PredefinedType", None) != "USERDEFINED" or _typed_by(obj):
            continue
        if _empty(getattr(obj, "ObjectType", None)):
            yield outcome(
                "OJT001",
                2,
                Severity.ERROR,
                f"{ref(obj)} 的 PredefinedType 为 USERDEFINED，但 ObjectType 为空，应填写自定义类型名称",
                obj,
                "ObjectType 非空",
                None,
            )
        else:
            yield outcome(
                "OJT001", 2, Severity.PASSED, f"{ref(obj)} 的自定义类型 {obj.ObjectType!r} 已填写", obj
            )
    for type_object in sorted(by_type(model, "IfcTypeObject"), key=lambda e: e.id()):
        if not hasattr(type_object, "PredefinedType"):
            continue
        predefined = type_object.PredefinedType
        # Scenario 2: a type object with PredefinedType USERDEFINED → ElementType given.
        attribute = _type_name_attribute(type_object)
        if predefined == "USERDEFINED" and attribute is not None:
            if _empty(getattr(type_object, attribute, None)):
                yield outcome(
                    "OJT001",
                    2,
                    Severity.ERROR,
                    f"{ref(type_object)} 的 PredefinedType 为 USERDEFINED，但 {attribute} 为空，"
                    "应填写自定义类型名称",
                    type_object,
                    f"{attribute} 非空",
                    None,
                )
            else:
                yield outcome(
                    "OJT001", 2, Severity.PASSED, f"{ref(type_object)} 的 {attribute} 已填写", type_object
                )
        # Scenario 3 (IFC4, IFC4X3): a type object that sets the predefined type (anything but
        # NOTDEFINED) → its occurrences leave theirs unset (NOTDEFINED is read as unset).
        if schema not in ("IFC4", "IFC4X3") or str(predefined).startswith("NOTDEFINED"):
            continue
        occurrences: dict[int, Any] = {}
        for rel in getattr(type_object, "Types", None) or ():
            for obj in getattr(rel, "RelatedObjects", None) or ():
                if obj is not None:
                    occurrences[obj.id()] = obj
        for _, obj in sorted(occurrences.items()):
            value = getattr(obj, "PredefinedType", None)
            if value is None or value == "NOTDEFINED":
                yield outcome(
                    "OJT001",
                    2,
                    Severity.PASSED,
                    f"{ref(obj)} 未重复设置 PredefinedType，由类型 {ref(type_object)} 决定",
                    obj,
                )
            else:
                yield outcome(
                    "OJT001",
                    2,
                    Severity.ERROR,
                    f"{ref(obj)} 由类型 {ref(type_object)}（PredefinedType={predefined}）定义，"
                    f"实例自身的 PredefinedType 应留空，实际为 {value}",
                    obj,
                    None,
                    value,
                )
