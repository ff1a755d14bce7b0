"""The one form (一张表单) of a project: the applicable items of a catalogue (in topological order), the
union of their fields without duplicates, each with its provenance (the items that need it) and
required when any of them requires it, and the union of their materials; then the validation of the
values typed in (required, format, range, options, cross-field and cross-item rules), cheap enough to
run on every keystroke.

Field checks and collab's rule kinds are `collab.validation`'s, run on a one-section collab schema
built from the merged fields; `compare` rules (`server.approval.catalogue`) are checked here. A rule
takes part when its item applies and every field it reads is in the form, so a cross-item rule (a
road-works end date within the construction period) is checked only when both items apply.
Values of fields that are not in the form are ignored (the browser may still hold values of an item
that stopped applying). Must not: do IO, or decide who may fill in or see a form.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from collab.schema import AllowedIf, FieldsSection, FormSchema, RequiredIf, SumEquals
from collab.validation import OPS, FieldError
from collab.validation import validate as collab_validate
from server.approval import applicability
from server.approval.catalogue import Catalogue, CatalogueField, Compare, ItemRule, Material, rule_keys
from server.errors import InvalidInput

SECTION: Final = "form"  # the one section of the collab schema the merged fields are checked in


@dataclass(frozen=True)
class MergedField:
    field: CatalogueField
    items: tuple[str, ...]  # the applicable items that need it, in form order
    required: bool


@dataclass(frozen=True)
class MergedMaterial:
    material: Material
    items: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MergedForm:
    project_type: str
    items: tuple[str, ...]  # applicable item codes, predecessors first
    fields: tuple[MergedField, ...]
    materials: tuple[MergedMaterial, ...]
    rules: tuple[tuple[str, ItemRule], ...]  # (the item that states it, rule), each rule once
    schema: FormSchema

    def field(self, key: str) -> MergedField | None:
        return next((f for f in self.fields if f.field.key == key), None)


def merged_form(catalogue: Catalogue, facts: applicability.Facts, bundle: str | None = None) -> MergedForm:
    """The form of a project with `facts`, over the items of `bundle` (all items when None). The
    project type is `facts["project_type"]` or else recognised by the catalogue's type table."""
    content = catalogue.content
    if bundle is not None and bundle not in content.bundles:
        raise InvalidInput(f"事项目录中没有事项组合“{bundle}”", fields=[
            {"field": "bundle", "message": "没有该事项组合", "type": "unknown_bundle"}
        ])  # fmt: skip
    in_bundle = set(content.bundles[bundle].items) if bundle is not None else None
    project_type = catalogue.recognise_type(facts)
    derived = {**applicability.derive(facts), "project_type": project_type}
    chosen = [
        c
        for c in catalogue.items
        if (in_bundle is None or c.item.code in in_bundle)
        and applicability.evaluate(c.applicability, derived)
    ]
    shared = catalogue.fields
    needs: dict[str, list[str]] = {}
    required: dict[str, bool] = {}
    materials: dict[str, tuple[Material, list[str], bool]] = {}
    for compiled in chosen:
        item = compiled.item
        for ref in item.fields:
            needs.setdefault(ref.key, []).append(item.code)
            own = shared[ref.key].required if ref.required is None else ref.required
            required[ref.key] = required.get(ref.key, False) or own
        for material, when in compiled.materials:
            if not applicability.evaluate(when, derived):
                continue
            first, codes, needed = materials.get(material.code, (material, [], False))
            materials[material.code] = (first, [*codes, item.code], needed or material.required)
    fields = tuple(
        MergedField(field=shared[key], items=tuple(codes), required=required[key])
        for key, codes in needs.items()
    )
    rules: list[tuple[str, ItemRule]] = []
    for compiled in chosen:
        for rule in compiled.item.rules:
            if all(key in needs for _, key in rule_keys(rule)) and all(r != rule for _, r in rules):
                rules.append((compiled.item.code, rule))
    return MergedForm(
        project_type=project_type,
        items=tuple(c.item.code for c in chosen),
        fields=fields,
        materials=tuple(MergedMaterial(m, tuple(codes), req) for m, codes, req in materials.values()),
        rules=tuple(rules),
        schema=_schema(content.title, fields, [r for _, r in rules]),
    )


def _prefixed(key: str) -> str:
    return f"{SECTION}.{key}"


def _schema(title: str, fields: tuple[MergedField, ...], rules: list[ItemRule]) -> FormSchema:
    collab_rules: list[SumEquals | RequiredIf | AllowedIf] = []
    for rule in rules:
        match rule:
            case SumEquals():
                collab_rules.append(rule.model_copy(update={
                    "target": _prefixed(rule.target), "terms": tuple(_prefixed(t) for t in rule.terms),
                }))  # fmt: skip
            case RequiredIf() | AllowedIf():
                update = {"field": _prefixed(rule.field), "when": _prefixed(rule.when)}
                collab_rules.append(rule.model_copy(update=update))
    section = FieldsSection(
        key=SECTION,
        title=title,
        fields=tuple(f.field.model_copy(update={"required": f.required}) for f in fields),
    )
    return FormSchema(
        id="merged_form", version=1, title=title, sections=(section,), rules=tuple(collab_rules)
    )


def validate(merged: MergedForm, values: Mapping[str, object]) -> list[FieldError]:
    """Every problem of `values` (field key → value), each at its field key; field checks first, in
    form order, then the rules in form order. A rule is not checked on a value that already failed."""
    known = {f.field.key: values.get(f.field.key) for f in merged.fields}
    errors = [
        FieldError(e.path.removeprefix(f"{SECTION}."), e.code, e.message)
        for e in collab_validate(merged.schema, {"sections": {SECTION: known}})
    ]
    failed = {e.path for e in errors}
    for _, rule in merged.rules:
        if isinstance(rule, Compare):
            errors += _compare(merged, rule, known, failed)
    return errors


def _comparable(value: object, kind: str) -> float | date | None:
    if kind == "date":
        try:
            return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None  # type: ignore[arg-type]  # checked just above


def _compare(
    merged: MergedForm, rule: Compare, values: Mapping[str, object], failed: set[str]
) -> list[FieldError]:
    if rule.left in failed or rule.right in failed:
        return []
    left_field, right_field = merged.field(rule.left), merged.field(rule.right)
    assert left_field is not None
    assert right_field is not None
    left = _comparable(values.get(rule.left), left_field.field.type)
    right = _comparable(values.get(rule.right), right_field.field.type)
    if left is None or right is None or OPS[rule.op](left, right):
        return []
    return [FieldError(rule.left, "compare_failed", rule.message)]


def item_values(merged: MergedForm, values: Mapping[str, object], item_code: str) -> dict[str, object]:
    """The part of the form one item's department receives: the values of the fields that item needs."""
    return {
        f.field.key: values[f.field.key]
        for f in merged.fields
        if item_code in f.items and values.get(f.field.key) not in (None, "")
    }
