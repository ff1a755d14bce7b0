"""Property set and quantity set rules, after the Validation Service's functional parts PSE and QTY:
standard property sets (PSE001), custom property set names (PSE002), the presence of quantities
(QTY000) and standard quantity sets (QTY001) — plus the tender's own: non-standard extension
property sets (TB201, 非标准化扩展属性) and the data items required per class (TB202).

PSE001/QTY001 follow the Validation Service's step code (features/steps/.../propertysets_qtys_units.py
in buildingSMART/ifc-gherkin-rules): a set whose Name starts with 'Pset_' / 'Qto_' (case-sensitive)
activates the rule; its name must be a standard one of the model's schema, each property/quantity
must be named, typed (IfcPropertySingleValue…, IfcQuantityLength…) and, for single and enumerated
values, valued as the definition says; every object it is attached to (IfcRelDefinesByProperties,
IfcTypeObject.HasPropertySets) must be an applicable class with an applicable predefined type, and
type-driven-only sets may not sit on occurrences nor occurrence-driven ones on types. QTY001 also
wants MethodOfMeasurement = 'BaseQuantities'. The definitions come from bim.psets_tables.

Must not: modify the model, read anything but the model and params, or walk the relationships more
than once per rule (a model of 1.5 M instances has ~10⁵ property sets).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from bim.outcomes import Outcome, Severity
from bim.psets_tables import Kind, SetDef, closest_name, definitions, lookup, schema_of
from bim.rules.base import outcome, ref, rule

logger = logging.getLogger(__name__)

# Template type → what the set must not be attached to (the Validation Service's mapping).
_NOT_ON_OCCURRENCES = {"PSET_TYPEDRIVENONLY", "QTO_TYPEDRIVENONLY"}
_NOT_ON_TYPES = {"PSET_OCCURRENCEDRIVEN", "PSET_PERFORMANCEDRIVEN", "QTO_OCCURRENCEDRIVEN"}


# Attribute positions, the same in IFC2X3, IFC4 and IFC4X3 (tests/bim/test_rules_psets.py checks them
# against the schemas). ifcopenshell reads an attribute by position ~5x faster than by name, which is
# what makes 10⁵ property sets take seconds rather than tens of seconds.
NAME = 2  # IfcRoot.Name (IfcPropertySet, IfcElementQuantity)
HAS_PROPERTIES = 4  # IfcPropertySet.HasProperties
METHOD_OF_MEASUREMENT, QUANTITIES = 4, 5  # IfcElementQuantity
RELATED_OBJECTS, RELATING = 4, 5  # IfcRelDefinesByProperties / IfcRelDefinesByType
HAS_PROPERTY_SETS = 5  # IfcTypeObject.HasPropertySets
MEMBER_NAME = 0  # IfcProperty.Name, IfcPhysicalQuantity.Name
VALUES = 2  # IfcPropertySingleValue.NominalValue, IfcPropertyEnumeratedValue.EnumerationValues

_IS_A: dict[tuple[str, str], bool] = {}


def is_a(entity: Any, ifc_class: str) -> bool:
    """`entity.is_a(ifc_class)`, remembered per (schema-qualified class, class): a schema fact."""
    key = (entity.is_a(True), ifc_class)
    found = _IS_A.get(key)
    if found is None:
        found = _IS_A[key] = bool(entity.is_a(ifc_class))
    return found


def _by_type(model: Any, ifc_class: str) -> list[Any]:
    try:
        return list(model.by_type(ifc_class))
    except RuntimeError:  # not a class of this schema
        return []


def _quoted(values: Iterable[str]) -> str:
    return "、".join(values)


def _attached(model: Any, wanted: Iterable[Any]) -> dict[int, tuple[list[Any], list[Any]]]:
    """For each set in `wanted` (by STEP id): the objects it is attached to through
    IfcRelDefinesByProperties and the type objects holding it in HasPropertySets. One pass over each."""
    found: dict[int, tuple[list[Any], list[Any]]] = {s.id(): ([], []) for s in wanted}
    if not found:
        return found
    for rel in _by_type(model, "IfcRelDefinesByProperties"):
        definition = rel[RELATING]
        for target in definition if isinstance(definition, tuple) else (definition,):
            slot = found.get(target.id()) if target is not None else None
            if slot is not None:
                slot[0].extend(o for o in rel[RELATED_OBJECTS] or () if o is not None)
    for type_object in _by_type(model, "IfcTypeObject"):
        for target in type_object[HAS_PROPERTY_SETS] or ():
            slot = found.get(target.id()) if target is not None else None
            if slot is not None and type_object not in slot[1]:
                slot[1].append(type_object)
    return found


def predefined_type(obj: Any) -> str | None:
    """The object's predefined type as the Validation Service reads it: its own (ObjectType when
    USERDEFINED), else its type object's (ElementType when USERDEFINED)."""
    import ifcopenshell.util.element

    if obj.is_a("IfcTypeObject"):
        type_object = obj
    else:
        value = getattr(obj, "PredefinedType", None)
        if value:
            return getattr(obj, "ObjectType", None) if value == "USERDEFINED" else str(value)
        type_object = ifcopenshell.util.element.get_type(obj)
    value = getattr(type_object, "PredefinedType", None) if type_object is not None else None
    if value:
        return getattr(type_object, "ElementType", None) if value == "USERDEFINED" else str(value)
    return None


_DECLARED: dict[tuple[str, str], bool] = {}


def _declared(schema: str, name: str) -> bool:
    key = (schema, name)
    if key not in _DECLARED:
        import ifcopenshell

        try:
            ifcopenshell.ifcopenshell_wrapper.schema_by_name(schema).declaration_by_name(name)
            _DECLARED[key] = True
        except Exception:
            _DECLARED[key] = False
    return _DECLARED[key]


def _applicability(code: str, version: int, the_set: Any, definition: SetDef,
                   occurrences: list[Any], types: list[Any]) -> Iterator[Outcome]:  # fmt: skip
    """Whether each object the set is attached to may carry it (class, predefined type, template type)."""
    label = "数量集" if definition.kind == "qto" else "属性集"
    template = definition.template_type
    # Type objects listed in IfcRelDefinesByProperties.RelatedObjects (IFC4+) count as types.
    on_types = [o for o in occurrences if is_a(o, "IfcTypeObject")] + types
    for obj in (o for o in occurrences if not is_a(o, "IfcTypeObject")):
        if template in _NOT_ON_OCCURRENCES:
            yield outcome(code, version, Severity.ERROR,
                           f"标准{label}「{definition.name}」（模板类型 {template}）只能通过类型对象（IfcTypeObject）"
                           f"赋予，却直接关联到实例 {ref(obj)}（{label} {ref(the_set)}）",
                           obj, "IfcTypeObject", obj.is_a())  # fmt: skip
        matched = _matching(definition, obj, on_type=False)
        yield from _check_class_and_type(code, version, the_set, definition, obj, matched, label)
    for obj in on_types:
        if template in _NOT_ON_TYPES:
            yield outcome(code, version, Severity.ERROR,
                           f"标准{label}「{definition.name}」（模板类型 {template}）只能赋予实例（IfcObject），"
                           f"却关联到类型对象 {ref(obj)}（{label} {ref(the_set)}）",
                           obj, "IfcObject", obj.is_a())  # fmt: skip
        matched = _matching(definition, obj, on_type=True)
        yield from _check_class_and_type(code, version, the_set, definition, obj, matched, label)


_MATCHING: dict[tuple[str, str, str, bool], list[str]] = {}


def _matching(definition: SetDef, obj: Any, on_type: bool) -> list[str]:
    """The applicable classes `obj` is an instance of; for a type object also those whose type
    (Ifc<Class>Type, or Ifc<Class>Style for IFC4's doors and windows) it is. Remembered per class."""
    qualified = obj.is_a(True)
    key = (qualified, definition.kind, definition.name, on_type)
    found = _MATCHING.get(key)
    if found is None:
        schema = qualified.split(".", 1)[0]
        found = [
            e for e in definition.applicable
            if obj.is_a(e)
            or (on_type and _declared(schema, e + "Type") and obj.is_a(e + "Type"))
            or (on_type and _declared(schema, e + "Style") and obj.is_a(e + "Style"))
        ]  # fmt: skip
        _MATCHING[key] = found
    return found


def _check_class_and_type(code: str, version: int, the_set: Any, definition: SetDef, obj: Any,
                          matched: list[str], label: str) -> Iterator[Outcome]:  # fmt: skip
    if not matched:
        yield outcome(code, version, Severity.ERROR,
                       f"标准{label}「{definition.name}」不适用于 {ref(obj)}：只适用于 "
                       f"{_quoted(definition.applicable) or '（无）'}（{label} {ref(the_set)}）",
                       obj, list(definition.applicable), obj.is_a())  # fmt: skip
        return
    lowered = {m.lower() for m in matched}
    allowed = [p for e, p in definition.applicable_types if e.lower() in lowered]
    if None in allowed:
        return
    observed = predefined_type(obj)
    observed = observed.upper() if isinstance(observed, str) else observed
    if observed not in allowed:
        expected = sorted({p for p in allowed if p})
        yield outcome(code, version, Severity.ERROR,
                       f"标准{label}「{definition.name}」只适用于预定义类型为 {_quoted(expected)} 的 "
                       f"{_quoted(matched)}，而 {ref(obj)} 的预定义类型为 {observed or '（未定义）'}"
                       f"（{label} {ref(the_set)}）",
                       obj, expected[0] if len(expected) == 1 else expected, observed)  # fmt: skip


def _members(the_set: Any, kind: Kind) -> list[Any]:
    members = the_set[QUANTITIES] if kind == "qto" else the_set[HAS_PROPERTIES]
    return [m for m in members or () if m is not None]


def _member_checks(code: str, version: int, the_set: Any, definition: SetDef) -> Iterator[Outcome]:
    """Names, classes and (single/enumerated) values of the set's properties or quantities."""
    label, member = ("数量集", "数量") if definition.kind == "qto" else ("属性集", "属性")
    for prop in _members(the_set, definition.kind):
        name = prop[MEMBER_NAME]
        spec = definition.properties.get(name) if isinstance(name, str) else None
        if spec is None:
            yield outcome(code, version, Severity.ERROR,
                           f"标准{label}「{definition.name}」{ref(the_set)} 中的{member} {ref(prop)}「{name}」"
                           f"不是该{label}的标准{member}",
                           the_set, sorted(definition.properties), name)  # fmt: skip
            continue
        if spec.ifc_class and not is_a(prop, spec.ifc_class):
            yield outcome(code, version, Severity.ERROR,
                           f"标准{label}「{definition.name}」{ref(the_set)} 中的{member}「{name}」应为 "
                           f"{spec.ifc_class}，实际为 {prop.is_a()}（{ref(prop)}）",
                           the_set, spec.ifc_class, prop.is_a())  # fmt: skip
            continue
        if definition.kind != "pset":
            continue  # the Validation Service checks data types of property sets only
        if is_a(prop, "IfcPropertySingleValue"):
            value = prop[VALUES]
            if value is not None and spec.data_type and not is_a(value, spec.data_type):
                yield outcome(code, version, Severity.ERROR,
                               f"标准属性集「{definition.name}」{ref(the_set)} 中的属性「{name}」的值类型应为 "
                               f"{spec.data_type}，实际为 {value.is_a()}（{ref(prop)}）",
                               the_set, spec.data_type, value.is_a())  # fmt: skip
        elif is_a(prop, "IfcPropertyEnumeratedValue") and spec.enumeration is not None:
            for value in prop[VALUES] or ():
                raw = value[0] if hasattr(value, "is_a") else value  # wrappedValue
                if raw not in spec.enumeration:
                    yield outcome(code, version, Severity.ERROR,
                                   f"标准属性集「{definition.name}」{ref(the_set)} 中的属性「{name}」的枚举值"
                                   f"「{raw}」不在标准取值 {_quoted(spec.enumeration)} 中（{ref(prop)}）",
                                   the_set, list(spec.enumeration), raw)  # fmt: skip


def _standard_sets(code: str, version: int, model: Any, kind: Kind) -> Iterator[Outcome]:
    schema = schema_of(model)
    if schema is None or not definitions(schema, kind):
        return
    prefix, entity, label = ("Qto_", "IfcElementQuantity", "数量集") if kind == "qto" else (
        "Pset_", "IfcPropertySet", "属性集")  # fmt: skip
    sets = sorted(
        ((s, n) for s in _by_type(model, entity) if isinstance(n := s[NAME], str) and n.startswith(prefix)),
        key=lambda pair: pair[0].id(),
    )
    if not sets:
        return
    known = [lookup(schema, name, kind) for _, name in sets]
    attached = _attached(model, (s for (s, _), d in zip(sets, known, strict=True) if d is not None))
    errors = 0
    for (the_set, name), definition in zip(sets, known, strict=True):
        try:
            if definition is None:
                errors += 1
                suggestion = closest_name(schema, name, kind)
                hint = f"，是否应为「{suggestion}」？" if suggestion else ""
                yield outcome(code, version, Severity.ERROR,
                               f"{label} {ref(the_set)} 的名称「{name}」以 {prefix} 开头，但不是 "
                               f"{schema} 的标准{label}{hint}（自定义{label}不得使用 {prefix} 前缀）",
                               the_set, suggestion or f"{schema} 标准{label}名称", name)  # fmt: skip
                continue
            found = list(_member_checks(code, version, the_set, definition))
            method = the_set[METHOD_OF_MEASUREMENT] if kind == "qto" else "BaseQuantities"
            if method != "BaseQuantities":
                found.append(outcome(code, version, Severity.ERROR,
                                      f"标准数量集「{name}」{ref(the_set)} 的 MethodOfMeasurement 应为 "
                                      f"'BaseQuantities'，实际为 {method!r}",
                                      the_set, "BaseQuantities", method))  # fmt: skip
            occurrences, types = attached.get(the_set.id(), ([], []))
            found.extend(_applicability(code, version, the_set, definition, occurrences, types))
        except Exception:  # an odd model (wrong attribute types…): this set cannot be evaluated
            logger.debug(
                "bim.set_not_evaluated", extra={"rule": code, "step_id": the_set.id()}, exc_info=True
            )
            continue
        errors += bool(found)
        yield from found
    message = f"检查了 {len(sets)} 个以 {prefix} 开头的{label}（{schema}）"
    if errors:
        yield outcome(code, version, Severity.EXECUTED, f"{message}，其中 {errors} 个不符合标准定义")
    else:
        yield outcome(code, version, Severity.PASSED, f"{message}，均符合标准定义")


# --- PSE001 / QTY001 ----------------------------------------------------------------------------


@rule("PSE001", 3, "属性集：以 Pset_ 开头的属性集必须符合 IFC 标准定义")
def check_pse001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    yield from _standard_sets("PSE001", 3, model, "pset")


@rule("QTY001", 1, "数量集：以 Qto_ 开头的数量集必须符合 IFC 标准定义")
def check_qty001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    yield from _standard_sets("QTY001", 1, model, "qto")


# --- PSE002 -------------------------------------------------------------------------------------

_PSET_LIKE = re.compile(r"^[Pp][Ss][Ee][Tt]")


@rule("PSE002", 1, "属性集：自定义属性集名称不得模仿 Pset_ 前缀")
def check_pse002(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """@industry-practice in the Validation Service: a finding is a WARNING, never an ERROR. Every
    property set whose name does not start with 'Pset_' activates the rule; one PASSED outcome sums
    up the well-named ones."""
    checked = warned = 0
    for the_set in sorted(_by_type(model, "IfcPropertySet"), key=lambda s: s.id()):
        name = str(the_set[NAME])  # the Validation Service reads a missing Name as 'None'
        if name.startswith("Pset_"):
            continue
        checked += 1
        if _PSET_LIKE.match(name):
            warned += 1
            yield outcome("PSE002", 1, Severity.WARNING,
                           f"自定义属性集 {ref(the_set)} 的名称「{name}」模仿了标准前缀 Pset_，"
                           "易与 IFC 标准属性集混淆：自定义属性集名称不应以任何大小写形式的 'Pset' 开头",
                           the_set, "不以 Pset（任意大小写）开头的名称", name)  # fmt: skip
    if checked > warned:
        yield outcome("PSE002", 1, Severity.PASSED,
                       f"{checked - warned} 个自定义属性集的名称没有模仿 Pset_ 前缀")  # fmt: skip


# --- QTY000 -------------------------------------------------------------------------------------


@rule("QTY000", 1, "数量：模型包含构件的数量信息（IfcElementQuantity）")
def check_qty000(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """Activation only: an IfcObject defined by an IfcRelDefinesByProperties whose relating
    definition is an IfcElementQuantity. One PASSED outcome, for the first such object."""
    for rel in sorted(_by_type(model, "IfcRelDefinesByProperties"), key=lambda r: r.id()):
        definition = rel[RELATING]
        if definition is None or isinstance(definition, tuple) or definition.is_a() != "IfcElementQuantity":
            continue
        for obj in rel[RELATED_OBJECTS] or ():
            if obj is not None and is_a(obj, "IfcObject"):
                yield outcome("QTY000", 1, Severity.PASSED,
                               f"模型包含构件的数量信息：{ref(obj)} 带有数量集 {ref(definition)}"
                               f"「{definition[NAME]}」", obj)  # fmt: skip
                return


# --- TB201 --------------------------------------------------------------------------------------

# A prefix that looks like Pset_/Qto_ but is not exactly it: any case, any separator or none
# (a prefix followed by a lower-case letter, like 'Qtopia', is a word, not a prefix).
_IMITATION = {
    "pset": re.compile(r"^[Pp][Ss][Ee][Tt](?:[\W_]+|(?=[A-Z0-9])|$)"),
    "qto": re.compile(r"^[Qq][Tt][Oo](?:[\W_]+|(?=[A-Z0-9])|$)"),
}
_PREFIX: dict[Kind, str] = {"pset": "Pset_", "qto": "Qto_"}


def _tb201_finding(schema: str | None, the_set: Any, name: str, whitelist: frozenset[str]) -> Outcome | None:
    is_qto = the_set.is_a("IfcElementQuantity")
    for kind, prefix in _PREFIX.items():
        wanted_entity = "IfcElementQuantity" if kind == "qto" else "IfcPropertySet"
        label = "数量集" if kind == "qto" else "属性集"
        if name.startswith(prefix):
            if (kind == "qto") != is_qto:
                return outcome("TB201", 1, Severity.ERROR,
                                f"{ref(the_set)}「{name}」使用了 {prefix} 前缀，但该前缀只用于 {wanted_entity}",
                                the_set, wanted_entity, the_set.is_a())  # fmt: skip
            if schema is None or not definitions(schema, kind) or lookup(schema, name, kind) is not None:
                return None
            suggestion = closest_name(schema, name, kind)
            hint = (
                f"，应为标准名称「{suggestion}」"
                if suggestion
                else "，自定义扩展须去掉该前缀并列入招标白名单"
            )
            return outcome("TB201", 1, Severity.ERROR,
                            f"非标准化扩展属性：{ref(the_set)} 的名称「{name}」以 {prefix} 开头，"
                            f"但不是 {schema} 标准{label}{hint}",
                            the_set, suggestion or f"{schema} 标准{label}名称", name)  # fmt: skip
        match = _IMITATION[kind].match(name)
        if match:
            normalised = prefix + name[match.end() :]
            suggestion = closest_name(schema, normalised, kind) if schema else None
            hint = f"，应为标准名称「{suggestion}」" if suggestion else f"，不得模仿 {prefix} 前缀"
            return outcome("TB201", 1, Severity.ERROR,
                            f"非标准化扩展属性：{ref(the_set)} 的名称「{name}」模仿了标准前缀 {prefix}{hint}",
                            the_set, suggestion or f"不模仿 {prefix} 前缀的名称", name)  # fmt: skip
    if whitelist and name not in whitelist:
        return outcome("TB201", 1, Severity.ERROR,
                        f"非标准化扩展属性：自定义{'数量集' if is_qto else '属性集'} {ref(the_set)}「{name}」"
                        "不在招标文件允许的扩展属性集白名单中",
                        the_set, sorted(whitelist), name)  # fmt: skip
    return None


@rule("TB201", 1, "非标准化扩展属性：自定义属性集须在白名单内且不得模仿 Pset_/Qto_ 前缀", stage="tender",
      pset_whitelist=[])  # fmt: skip
def check_tb201(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """Every IfcPropertySet / IfcElementQuantity: a Pset_/Qto_ name must be standard, a name that
    imitates those prefixes ('PSet_', 'pset-', 'QTO_'…) is an error with the standard name it
    probably meant, and when the tender lists allowed custom sets (`pset_whitelist`, empty = any
    custom name allowed) every other name must be in the list."""
    whitelist = frozenset(str(n) for n in params.get("pset_whitelist") or () if n)
    schema = schema_of(model)
    sets = sorted(
        _by_type(model, "IfcPropertySet") + _by_type(model, "IfcElementQuantity"), key=lambda s: s.id()
    )
    checked = errors = 0
    for the_set in sets:
        name = the_set[NAME]
        if not isinstance(name, str) or not name:
            continue
        checked += 1
        finding = _tb201_finding(schema, the_set, name, whitelist)
        if finding is not None:
            errors += 1
            yield finding
    if checked:
        scope = "白名单与前缀" if whitelist else "前缀（未设白名单）"
        severity = Severity.EXECUTED if errors else Severity.PASSED
        yield outcome("TB201", 1, severity, f"按{scope}检查了 {checked} 个属性集/数量集，{errors} 个不符合")


# --- TB202 --------------------------------------------------------------------------------------


def _requirements(params: Mapping[str, Any]) -> list[tuple[str, str, str, str | None]]:
    """(ifc_class, pset, property, data_type) from the tender's data-item list; bad rows skipped."""
    rows = []
    for item in params.get("required_properties") or ():
        if not isinstance(item, Mapping):
            continue
        cls, pset, prop = item.get("ifc_class"), item.get("pset"), item.get("property")
        data_type = item.get("data_type") or None
        if isinstance(cls, str) and isinstance(pset, str) and isinstance(prop, str) and cls and pset and prop:
            rows.append((cls, pset, prop, str(data_type) if data_type else None))
    return rows


def _sets_by_object(
    model: Any, names: set[str]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Property/quantity sets named in `names`, per occurrence and per type object (by STEP id)."""
    on_objects: dict[int, dict[str, Any]] = {}
    for rel in _by_type(model, "IfcRelDefinesByProperties"):
        definition = rel[RELATING]
        for target in definition if isinstance(definition, tuple) else (definition,):
            name = target[NAME] if target is not None else None
            if name in names:
                for obj in rel[RELATED_OBJECTS] or ():
                    if obj is not None:
                        on_objects.setdefault(obj.id(), {}).setdefault(name, target)
    on_types: dict[int, dict[str, Any]] = {}
    for type_object in _by_type(model, "IfcTypeObject"):
        for target in type_object[HAS_PROPERTY_SETS] or ():
            name = target[NAME] if target is not None else None
            if name in names:
                on_types.setdefault(type_object.id(), {}).setdefault(name, target)
    return on_objects, on_types


def _types_by_object(model: Any) -> dict[int, Any]:
    """The type object of every typed occurrence (by STEP id), from one pass over IfcRelDefinesByType."""
    types: dict[int, Any] = {}
    for rel in _by_type(model, "IfcRelDefinesByType"):
        type_object = rel[RELATING]
        for obj in rel[RELATED_OBJECTS] or ():
            if obj is not None and type_object is not None:
                types.setdefault(obj.id(), type_object)
    return types


def _find_property(sets: Iterable[Any], prop: str) -> Any:
    for the_set in sets:
        members = the_set[QUANTITIES] if is_a(the_set, "IfcElementQuantity") else the_set[HAS_PROPERTIES]
        for member in members or ():
            if member is not None and member[MEMBER_NAME] == prop:
                return member
    return None


def _value_problem(member: Any, data_type: str | None) -> tuple[str, Any] | None:
    """(what is wrong, observed) for a present property whose value is empty or of the wrong type."""
    if member.is_a("IfcPropertySingleValue"):
        value = member.NominalValue
        if value is None:
            return "值为空", None
        if data_type and not value.is_a(data_type):
            return f"值类型应为 {data_type}，实际为 {value.is_a()}", value.is_a()
    elif member.is_a("IfcPropertyEnumeratedValue"):
        values = member.EnumerationValues or ()
        if not values:
            return "值为空", None
        wrong = [v.is_a() for v in values if data_type and not v.is_a(data_type)]
        if wrong:
            return f"值类型应为 {data_type}，实际为 {wrong[0]}", wrong[0]
    elif (
        member.is_a("IfcPhysicalQuantity")
        and data_type
        and data_type.startswith("IfcQuantity")
        and not member.is_a(data_type)
    ):
        return f"数量类型应为 {data_type}，实际为 {member.is_a()}", member.is_a()
    return None


@rule("TB202", 1, "招标数据项：指定构件类必须具备的属性", stage="tender", required_properties=[])
def check_tb202(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """Each element of a listed class (subclasses included) must carry the listed property in the
    listed set, on itself or on its type (the occurrence's value wins), non-empty and, when a data
    type is given, of that type. A deliberately small subset of what the IDS stage checks (no value
    restrictions, no cardinality): the quick tender gate; the IDS report is the full one."""
    requirements = _requirements(params)
    if not requirements:
        return
    on_objects, on_types = _sets_by_object(model, {r[1] for r in requirements})
    type_of = _types_by_object(model)
    elements: dict[int, Any] = {}
    wanted: dict[int, list[tuple[str, str, str, str | None]]] = {}
    for requirement in requirements:
        for element in _by_type(model, requirement[0]):
            elements[element.id()] = element
            wanted.setdefault(element.id(), []).append(requirement)
    checked = errors = 0
    for element_id in sorted(elements):
        element = elements[element_id]
        type_object = type_of.get(element_id)
        own = on_objects.get(element_id, {})
        inherited = on_types.get(type_object.id(), {}) if type_object is not None else {}
        for cls, pset, prop, data_type in wanted[element_id]:
            checked += 1
            sets = [s for s in (own.get(pset), inherited.get(pset)) if s is not None]
            member = _find_property(sets, prop)
            where = "" if member is not None else f"{ref(element)}「{element[NAME] or ''}」"
            if member is None:
                errors += 1
                missing = f"属性集 {pset}" if not sets else f"属性 {pset}.{prop}"
                yield outcome("TB202", 1, Severity.ERROR,
                               f"招标数据项缺失：{cls} 构件 {where} 缺少{missing}（要求 {pset}.{prop}"
                               f"{'，类型 ' + data_type if data_type else ''}）",
                               element, {"pset": pset, "property": prop, "data_type": data_type}, None)  # fmt: skip
                continue
            problem = _value_problem(member, data_type)
            if problem is not None:
                errors += 1
                where = f"{ref(element)}「{element[NAME] or ''}」"
                yield outcome("TB202", 1, Severity.ERROR,
                               f"招标数据项不合格：{cls} 构件 {where} 的 {pset}.{prop} {problem[0]}",
                               element, {"pset": pset, "property": prop, "data_type": data_type},
                               problem[1])  # fmt: skip
    if checked:
        severity = Severity.EXECUTED if errors else Severity.PASSED
        yield outcome("TB202", 1, severity,
                       f"检查了 {len(elements)} 个构件的 {checked} 项招标数据项，{errors} 项缺失或不合格")  # fmt: skip
