"""The standard property set and quantity set definitions of IFC2X3, IFC4 and IFC4X3, read once per
process from the buildingSMART templates that ship inside the ifcopenshell wheel
(`ifcopenshell/util/schema/Pset_IFC2X3.ifc`, `Pset_IFC4_ADD2.ifc`, `Pset_IFC4X3.ifc`, through
`ifcopenshell.util.pset`), turned into plain frozen records the rules can look up by name.

The records carry what the Validation Service's PSE001/QTY001 tables carry: the template type, the
applicable classes (with the predefined type when the definition is restricted to one), and per
property its kind (IfcPropertySingleValue, IfcQuantityLength…), data type and enumeration values.
Two repairs of the shipped data, both explained where they happen: IFC2X3 templates lack the
predefined-type restriction the IFC2x3 definitions had (`ApplicableTypeValue`), and three IFC4
property templates have their attributes shifted by one.

Must not: read anything but the templates in the installed ifcopenshell, or change at run time
(the tables are cached for the life of the process and shared by every model).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import ifcopenshell
import ifcopenshell.util.pset

Kind = Literal["pset", "qto"]

# IfcSimplePropertyTemplate.TemplateType → the class an instance of that property must be.
PROPERTY_CLASS = {
    "P_SINGLEVALUE": "IfcPropertySingleValue",
    "P_ENUMERATEDVALUE": "IfcPropertyEnumeratedValue",
    "P_BOUNDEDVALUE": "IfcPropertyBoundedValue",
    "P_LISTVALUE": "IfcPropertyListValue",
    "P_TABLEVALUE": "IfcPropertyTableValue",
    "P_REFERENCEVALUE": "IfcPropertyReferenceValue",
    "P_COMPLEX": "IfcComplexProperty",
    "Q_LENGTH": "IfcQuantityLength",
    "Q_AREA": "IfcQuantityArea",
    "Q_VOLUME": "IfcQuantityVolume",
    "Q_COUNT": "IfcQuantityCount",
    "Q_WEIGHT": "IfcQuantityWeight",
    "Q_TIME": "IfcQuantityTime",
    "Q_NUMBER": "IfcQuantityNumber",
    "Q_COMPLEX": "IfcPhysicalComplexQuantity",
}


@dataclass(frozen=True)
class PropertyDef:
    name: str
    ifc_class: str | None  # IfcPropertySingleValue, IfcQuantityArea…; None when the template does not say
    data_type: str | None  # the measure type of a single value (IfcLabel, IfcPowerMeasure…)
    enumeration: tuple[str, ...] | None  # allowed values of an enumerated property; None = not listed


@dataclass(frozen=True)
class SetDef:
    name: str
    kind: Kind
    # PSET_TYPEDRIVENOVERRIDE, PSET_OCCURRENCEDRIVEN, QTO_TYPEDRIVENONLY…; None when not known (IFC2X3)
    template_type: str | None
    applicable: tuple[str, ...]  # class names, in the order of the definition
    # (class, predefined type or None) pairs: None = any predefined type of that class
    applicable_types: tuple[tuple[str, str | None], ...]
    properties: Mapping[str, PropertyDef]


def schema_of(model: Any) -> str | None:
    """The table set for the model's schema: IFC2X3, IFC4 or IFC4X3 (any IFC4X3_… release)."""
    try:
        name = str(model.schema).upper()
    except Exception:
        return None
    if name.startswith("IFC4X3"):
        return "IFC4X3"
    return name if name in ("IFC2X3", "IFC4") else None


def definitions(schema: str, kind: Kind) -> Mapping[str, SetDef]:
    """Every standard property set (kind "pset", names Pset_…) or quantity set ("qto", Qto_…) of the
    schema, by name. Empty for an unknown schema (and for IFC2X3 quantity sets, which IFC2X3 does not
    standardise)."""
    return _load(schema).get(kind, {})


def lookup(schema: str, name: str, kind: Kind) -> SetDef | None:
    return definitions(schema, kind).get(name)


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of a and b, or limit + 1 as soon as it is known to exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@functools.lru_cache(maxsize=8192)
def closest_name(schema: str, name: str, kind: Kind) -> str | None:
    """The standard name nearest to `name` (case-insensitive edit distance at most max(2, len/5)),
    ties broken alphabetically; None when nothing is that close."""
    wanted = name.lower()
    limit = max(2, len(wanted) // 5)
    best: tuple[int, str] | None = None
    for candidate in sorted(definitions(schema, kind)):
        distance = levenshtein(wanted, candidate.lower(), limit)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


# --- loading ------------------------------------------------------------------------------------


@functools.cache
def _load(schema: str) -> dict[Kind, dict[str, SetDef]]:
    if schema not in ("IFC2X3", "IFC4", "IFC4X3"):
        return {}
    templates = ifcopenshell.util.pset.get_template(schema).templates
    tables: dict[Kind, dict[str, SetDef]] = {"pset": {}, "qto": {}}
    for template_file in templates:
        for template in template_file.by_type("IfcPropertySetTemplate"):
            definition = _set_def(schema, template)
            if definition is not None:
                tables[definition.kind].setdefault(definition.name, definition)
    return tables


def _set_def(schema: str, template: Any) -> SetDef | None:
    name = template.Name
    if not isinstance(name, str):
        return None
    if name.startswith("Pset_"):
        kind: Kind = "pset"
    elif name.startswith("Qto_"):
        kind = "qto"
    else:
        return None
    applicable_types = tuple(_parse_applicable(template.ApplicableEntity or ""))
    # The Validation Service has no template type for IFC2X3 (its IFC2x3 table has no such column),
    # and the ifcopenshell IFC2X3 templates' types are derived, not normative: don't check them there.
    template_type = None if schema == "IFC2X3" else template.TemplateType
    if schema == "IFC2X3":
        applicable_types = _ifc2x3_predefined(name, applicable_types)
    properties: dict[str, PropertyDef] = {}
    for prop in template.HasPropertyTemplates or ():
        definition = _property_def(prop)
        if definition is not None:
            properties.setdefault(definition.name, definition)
    applicable = tuple(dict.fromkeys(entity for entity, _ in applicable_types))
    return SetDef(name, kind, template_type, applicable, applicable_types, properties)


def _parse_applicable(text: str) -> list[tuple[str, str | None]]:
    """'IfcActuator/ELECTRICACTUATOR, IfcActuatorType/ELECTRICACTUATOR' → [(class, PREDEFINED)…]."""
    pairs: list[tuple[str, str | None]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        entity, _, predefined = (s.strip() for s in part.partition("/"))
        if entity.isupper() and predefined.startswith("Ifc"):
            # IFC2X3 templates sometimes prefix the class with its schema module:
            # 'IFCSHAREDBLDGELEMENTS/IfcBeam'. That is a class, not a predefined type.
            entity, predefined = predefined, ""
        pairs.append((entity, predefined.upper() or None))
    return pairs


def _property_def(prop: Any) -> PropertyDef | None:
    if prop.is_a("IfcComplexPropertyTemplate"):
        name, template_type, primary, enumeration = prop.Name, prop.TemplateType, None, None
    elif prop.is_a("IfcSimplePropertyTemplate"):
        name, template_type, primary = prop.Name, prop.TemplateType, prop.PrimaryMeasureType
        enumerators = prop.Enumerators
        enumeration = (
            tuple(str(v.wrappedValue) for v in enumerators.EnumerationValues or ())
            if enumerators is not None else None
        )  # fmt: skip
        if template_type not in PROPERTY_CLASS and isinstance(prop[1], str):
            # Pset_IFC4_ADD2.ifc has three LoadBearing templates (Pset_RampCommon, Pset_RoofCommon,
            # Pset_StairCommon) written without their OwnerHistory: every attribute sits one slot
            # early, so the name is read from the OwnerHistory slot and the measure type from the
            # TemplateType slot. They are all single values.
            name, primary, template_type = prop[1], template_type, "P_SINGLEVALUE"
    else:
        return None
    if not isinstance(name, str) or not name:
        return None
    return PropertyDef(
        name=name,
        ifc_class=PROPERTY_CLASS.get(template_type or ""),
        data_type=primary.strip() or None if isinstance(primary, str) else None,
        enumeration=enumeration or None,
    )


def _ifc2x3_predefined(
    name: str, pairs: tuple[tuple[str, str | None], ...]
) -> tuple[tuple[str, str | None], ...]:
    """Restore the predefined-type restriction of an IFC2x3 property set definition.

    The IFC2x3 definitions restrict e.g. Pset_ActuatorTypeElectricActuator to
    `IfcActuatorType.PredefinedType=ELECTRICACTUATOR` (their ApplicableTypeValue, which the Validation
    Service's IFC2x3 table keeps), but the IFC2X3 templates in the ifcopenshell wheel dropped it. The
    IFC2x3 naming convention carries it: Pset_<Class><Suffix> applicable to Ifc<Class>, where the
    suffix in upper case is one of the class's PredefinedType values. Restrict then, to every
    applicable class, as the Validation Service does.
    """
    for entity, _ in pairs:
        stem = "Pset_" + entity[3:]
        if not name.startswith(stem) or len(name) == len(stem):
            continue
        suffix = re.sub(r"[^A-Za-z0-9]", "", name[len(stem) :]).upper()
        if suffix in _predefined_values("IFC2X3", entity):
            return tuple((e, suffix) for e, _ in pairs)
    return pairs


@functools.cache
def _predefined_values(schema: str, entity: str) -> frozenset[str]:
    try:
        declaration: Any = ifcopenshell.ifcopenshell_wrapper.schema_by_name(schema).declaration_by_name(
            entity
        )
        attributes = {a.name(): a for a in declaration.all_attributes()}
        enum = attributes["PredefinedType"].type_of_attribute().declared_type()
        return frozenset(enum.enumeration_items()) - {"USERDEFINED", "NOTDEFINED"}
    except Exception:  # not an entity, no PredefinedType, not an enumeration
        return frozenset()
