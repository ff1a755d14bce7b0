"""Where ifctester 0.9.0 disagrees with the IDS 1.0 standard and its official test cases, and our
corrections, applied to a parsed `ifctester.ids.Ids` without patching the library globally.

1. Real-number tolerance (`Documentation/tolerance.md`): equality of floating-point values is
   `(v - |v|·ε - ε) ≤ x ≤ (v + |v|·ε + ε)` with ε = 1e-6; ifctester has only the relative term
   (IfcOpenShell#9263). The edges count as equal: the official cases put their `pass-` values exactly
   on them (for example 0.999998 for v = 1). Arithmetic is decimal on the shortest repr of each
   double, so an edge written in the IDS or the IFC is not lost to binary rounding. Bounds
   (min/max Inclusive/Exclusive) use the same band, as the official cases at the snapshot expect:
   `x > v` holds only above the band of v, `x ≥ v` anywhere from its lower edge. The standard's later
   text says tolerance does not apply to ranges (buildingSMART/IDS#315, #354, #418 dispute it); we
   follow the test suite, which is what conformance is measured against.
2. Robustness: a facet that raises on an odd instance (ifctester asserts on, e.g., a bounded value
   without values) fails for that instance with reason UNREADABLE instead of stopping the check.
3. Optional facets: a facet with cardinality "optional" passes when the item is absent or empty (null
   attribute, empty string, logical UNKNOWN, no relation); only a present value is checked. ifctester
   fails an optional attribute that is null, which also breaks specification/facet optionality combined.
4. IDS validity beyond the XSD (`audit`): a property value, enumeration or bound that is not a valid
   literal of the XSD base type of the property's `dataType` (xs:integer for IfcInteger, xs:double for
   reals and measures, xs:boolean for IfcBoolean) makes the IDS invalid ("42." for an IFCINTEGER);
   so does a prohibited specification (maxOccurs 0) that has requirements.

Must not: change ifctester's module state (other callers in the process keep its behaviour), read
files, or know about reports.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from xml.etree import ElementTree as ET

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper as wrapper
from ifctester import facet as ids_facet
from ifctester.ids import Ids

FIXES_VERSION = 1  # raise whenever a fix can change an outcome
EPSILON = Decimal("1e-6")
IDS_NS = "{http://standards.buildingsmart.org/IDS}"
XS_NS = "{http://www.w3.org/2001/XMLSchema}"
BOUNDS = ("minInclusive", "minExclusive", "maxInclusive", "maxExclusive")
ABSENT_REASONS = frozenset({"NOVALUE", "NOPSET", "FALSEY"})  # "not provided" in ifctester's reasons

_LEXICAL = {
    "integer": re.compile(r"[+-]?[0-9]+"),
    "double": re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN"),
    "boolean": re.compile(r"true|false|1|0"),
}
_SIMPLE_TO_XSD = {"integer": "integer", "real": "double", "number": "double", "boolean": "boolean"}


# --- 1. tolerance --------------------------------------------------------------------------------


def _decimal(value: object) -> Decimal | None:
    """A number as a Decimal: strings as written, floats by their shortest repr (what the file says)."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, str):
            result = Decimal(value.strip())
            return result if result.is_finite() else None
    except InvalidOperation:
        return None
    return None


def band(expected: Decimal) -> tuple[Decimal, Decimal]:
    """The values equal to `expected` under the IDS tolerance, edges included."""
    spread = abs(expected) * EPSILON + EPSILON
    return expected - spread, expected + spread


def real_equals(expected: object, observed: object) -> bool:
    """IDS equality of a real value in the model with a value written in the IDS."""
    v, x = _decimal(expected), _decimal(observed)
    if v is None or x is None:
        return False
    low, high = band(v)
    return low <= x <= high


def within_bound(constraint: str, bound: object, observed: object) -> bool:
    """One xs bound checked on a real value with the tolerance band of the bound (see module text)."""
    v, x = _decimal(bound), _decimal(observed)
    if v is None or x is None:
        return False
    low, high = band(v)
    if constraint == "minInclusive":
        return x >= low
    if constraint == "minExclusive":
        return x > high
    if constraint == "maxInclusive":
        return x <= high
    return x < low  # maxExclusive


class SimpleValue:
    """A `simpleValue` of an attribute or property facet, compared the way ifctester casts values
    (booleans from "true"/"false"/"1"/"0", integers numerically) but reals with the IDS tolerance.

    ifctester compares `observed != facet.value`; a non-str object makes Python use our `__ne__`."""

    __slots__ = ("raw",)

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def matches(self, observed: object) -> bool:
        if isinstance(observed, bool):
            return {"true": True, "1": True, "false": False, "0": False}.get(self.raw) is observed
        if isinstance(observed, float):
            return real_equals(self.raw, observed)
        if isinstance(observed, int):
            try:
                return float(self.raw) == observed
            except ValueError:
                return False
        if isinstance(observed, str):
            return observed == self.raw
        return False

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SimpleValue):
            return other.raw == self.raw
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(self.raw)

    def __str__(self) -> str:
        return self.raw

    def __repr__(self) -> str:
        return f"SimpleValue({self.raw!r})"


class TolerantRestriction(ids_facet.Restriction):  # type: ignore[misc]
    """An xs:restriction whose bounds and real enumerations use the IDS tolerance; the other
    constraints (pattern, length, string enumerations) keep ifctester's implementation."""

    def __eq__(self, other: object) -> bool:
        if other is None:
            return False
        for constraint, value in self.options.items():
            if constraint in BOUNDS and isinstance(other, float):
                if not within_bound(constraint, value, other):
                    return False
            elif constraint == "enumeration" and isinstance(other, float):
                values = value if isinstance(value, list) else [value]
                if not any(real_equals(v, other) for v in values):
                    return False
            elif not ids_facet.Restriction(options={constraint: value}, base=self.base) == other:
                return False
        return True

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


# --- 2./3. robustness and optional facets ----------------------------------------------------


def _checked(facet: Any, inst: ifcopenshell.entity_instance, result: Any) -> Any:
    """The optional-facet fix; and, for requirement facets, the reason of each failure kept by STEP
    id (`failure_reasons`) so the report need not evaluate the facet a second time."""
    if not result and getattr(facet, "cardinality", "required") == "optional":
        reason = getattr(result, "reason", None) or {}
        if reason.get("type") in ABSENT_REASONS:
            return type(result)(True)
    if not result:
        reasons = getattr(facet, "failure_reasons", None)
        if reasons is not None:
            reasons[inst.id()] = getattr(result, "reason", None)
    return result


class UnreadableResult(ids_facet.Result):  # type: ignore[misc]
    def to_string(self) -> str:
        return f"The facet could not be evaluated ({(self.reason or {}).get('actual')})"


class _Guarded:
    """Runs the facet; an odd instance that makes it raise fails this facet instead of stopping the
    whole check (reason UNREADABLE). Mixed in before each ifctester facet class."""

    unreadable: Any = UnreadableResult

    def __call__(self, inst: ifcopenshell.entity_instance, logger: Any = None) -> Any:
        try:
            result = super().__call__(inst, logger)  # type: ignore[misc]
        except Exception as exc:
            result = self.unreadable(False, {"type": "UNREADABLE", "actual": type(exc).__name__})
        return _checked(self, inst, result)


class FixedEntity(_Guarded, ids_facet.Entity):  # type: ignore[misc]
    pass


class FixedAttribute(_Guarded, ids_facet.Attribute):  # type: ignore[misc]
    pass


class FixedProperty(_Guarded, ids_facet.Property):  # type: ignore[misc]
    pass


class FixedClassification(_Guarded, ids_facet.Classification):  # type: ignore[misc]
    unreadable = ids_facet.ClassificationResult


class FixedMaterial(_Guarded, ids_facet.Material):  # type: ignore[misc]
    pass


class FixedPartOf(_Guarded, ids_facet.PartOf):  # type: ignore[misc]
    pass


_FIXED: dict[type, type] = {
    ids_facet.Entity: FixedEntity,
    ids_facet.Attribute: FixedAttribute,
    ids_facet.Property: FixedProperty,
    ids_facet.Classification: FixedClassification,
    ids_facet.Material: FixedMaterial,
    ids_facet.PartOf: FixedPartOf,
}
_VALUE_PARAMETERS = ("value", "name", "predefinedType", "system", "propertySet", "baseName")


def apply(ids: Ids) -> Ids:
    """Swap the parsed facets and restrictions of `ids` for the corrected classes (in place)."""
    for specification in ids.specifications:
        for facet in [*specification.applicability, *specification.requirements]:
            fixed = _FIXED.get(type(facet))
            if fixed is not None:
                facet.__class__ = fixed
            for parameter in _VALUE_PARAMETERS:
                value = getattr(facet, parameter, None)
                if type(value) is ids_facet.Restriction:
                    value.__class__ = TolerantRestriction
            if isinstance(facet, (ids_facet.Attribute, ids_facet.Property)) and isinstance(facet.value, str):
                facet.value = SimpleValue(facet.value)
        for facet in specification.requirements:
            facet.failure_reasons = {}
    return ids


def reset_failure_reasons(ids: Ids) -> None:
    """Forget the failure reasons of the previous run (call before each validation)."""
    for specification in ids.specifications:
        for facet in specification.requirements:
            facet.failure_reasons = {}


# --- 4. IDS validity beyond the XSD --------------------------------------------------------------


@cache
def xsd_base(data_type: str) -> str | None:
    """The XSD base ("integer", "double", "boolean") of an IFC data type name in any IFC schema the
    IDS may target, or None when it is not one of those (strings, enumerations, unknown names)."""
    for schema_name in ("IFC4", "IFC4X3_ADD2", "IFC2X3"):
        try:
            declaration: Any = wrapper.schema_by_name(schema_name).declaration_by_name(data_type)
        except (RuntimeError, KeyError):
            continue
        current: Any = declaration
        for _ in range(16):  # defined types chain to a simple type in a few steps
            if isinstance(current, str):
                return _SIMPLE_TO_XSD.get(current)
            declared = getattr(current, "declared_type", None)
            if declared is None:
                return None
            current = declared()
        return None
    return None


def _text_values(value_element: ET.Element) -> list[str]:
    """The literals a facet value holds: its simpleValue, enumerations and bounds (not patterns)."""
    values = [v.text or "" for v in value_element.findall(f"{IDS_NS}simpleValue")]
    for restriction in value_element.findall(f"{XS_NS}restriction"):
        for child in restriction:
            name = child.tag.removeprefix(XS_NS)
            if name == "enumeration" or name in BOUNDS:
                values.append(child.get("value", ""))
    return values


def audit(root: Any) -> list[str]:
    """Problems that make a schema-valid IDS invalid (Chinese, one per problem, document order)."""
    problems: list[str] = []
    for s_index, spec in enumerate(root.iter(f"{IDS_NS}specification"), start=1):
        spec_name = spec.get("name", "")
        applicability = spec.find(f"{IDS_NS}applicability")
        requirements = spec.find(f"{IDS_NS}requirements")
        prohibited = applicability is not None and applicability.get("maxOccurs") == "0"
        if prohibited and requirements is not None and len(requirements):
            problems.append(
                f"规范 {s_index}「{spec_name}」为禁止（maxOccurs=0），不得再规定要求（requirements）"
            )
        for prop in spec.iter(f"{IDS_NS}property"):
            data_type = (prop.get("dataType") or "").strip()
            if not data_type:
                continue
            base = xsd_base(data_type)
            value_element = prop.find(f"{IDS_NS}value")
            if base is None or value_element is None:
                continue
            for literal in _text_values(value_element):
                if not _LEXICAL[base].fullmatch(literal.strip()):
                    problems.append(
                        f"规范 {s_index}「{spec_name}」：属性值 “{literal}” 不是数据类型 {data_type} "
                        f"要求的 xs:{base} 取值"
                    )
    return problems
