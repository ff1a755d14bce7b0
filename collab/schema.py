"""Form schemas: what a collaborative filling form (填报表单) holds and which rules its data must meet.

A form is a list of sections, each one root shared type of the document, named by the section key:
`fields` → Y.Map (field key → value), `table` → Y.Array of Y.Map (one per row), `richtext` →
Y.XmlFragment edited with ProseMirror through y-prosemirror. Values are primitives: strings for text,
select and date ("YYYY-MM-DD") fields, numbers for number and integer fields, booleans.

Cross-field rules are data too (`Rule`), checked by `collab.validation`. Schemas are the forms'
published versions (`collab.catalogue`); a document records the form id and version it was made with.
Must not: read documents (`collab.content`) or validate values (`collab.validation`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FieldType = Literal["text", "number", "integer", "date", "select", "boolean"]
Op = Literal["<", "<=", "==", "!=", ">=", ">"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormField(Strict):
    key: Key
    label: str
    type: FieldType = "text"
    required: bool = False
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, ge=1)
    pattern: str | None = None
    pattern_hint: str | None = None  # how the format reads in Chinese, for the error message
    options: tuple[str, ...] | None = None
    help: str | None = None

    @model_validator(mode="after")
    def _options_for_select(self) -> FormField:
        if (self.type == "select") != bool(self.options):
            raise ValueError(f"field {self.key}: options belong to select fields, and every select has some")
        return self


class FieldsSection(Strict):
    kind: Literal["fields"] = "fields"
    key: Key
    title: str
    fields: tuple[FormField, ...]


class TableSection(Strict):
    kind: Literal["table"] = "table"
    key: Key
    title: str
    columns: tuple[FormField, ...]
    min_rows: int = Field(default=0, ge=0)
    max_rows: int = Field(default=500, ge=1)


class RichTextSection(Strict):
    kind: Literal["richtext"] = "richtext"
    key: Key
    title: str
    required: bool = False


Section = Annotated[FieldsSection | TableSection | RichTextSection, Field(discriminator="kind")]


class Condition(Strict):
    """`when <op> value`, `when` a field path of a fields section ("project.height")."""

    when: str
    op: Op
    value: float | str


class SumEquals(Strict):
    """target = the sum of terms (field paths), within `tolerance`, when all of them are filled in."""

    kind: Literal["sum_equals"] = "sum_equals"
    target: str
    terms: tuple[str, ...]
    tolerance: float = 0.01
    message: str


class ColumnSumAtMost(Strict):
    """The sum of a table column is at most a field's value (plus `tolerance`)."""

    kind: Literal["column_sum_at_most"] = "column_sum_at_most"
    table: str
    column: str
    limit: str
    tolerance: float = 0.01
    message: str


class RequiredIf(Condition):
    kind: Literal["required_if"] = "required_if"
    field: str
    message: str


class AllowedIf(Condition):
    """When the condition holds, `field` must be one of `allowed`."""

    kind: Literal["allowed_if"] = "allowed_if"
    field: str
    allowed: tuple[str, ...]
    message: str


class RowMinimum(Strict):
    """In each row of `table`, `column` is at least `minimums[row[by]]` (a code's minimum values)."""

    kind: Literal["row_minimum"] = "row_minimum"
    table: str
    column: str
    by: str
    minimums: dict[str, float]
    message: str


Rule = Annotated[
    SumEquals | ColumnSumAtMost | RequiredIf | AllowedIf | RowMinimum, Field(discriminator="kind")
]


class FormSchema(Strict):
    id: Key
    version: int = Field(ge=1)
    title: str
    description: str = ""
    sections: tuple[Section, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _unique_keys_and_known_paths(self) -> FormSchema:
        keys = [s.key for s in self.sections]
        if len(set(keys)) != len(keys):
            raise ValueError(f"form {self.id}: section keys repeat")
        for section in self.sections:
            fields = section.fields if isinstance(section, FieldsSection) else ()
            columns = section.columns if isinstance(section, TableSection) else ()
            names = [f.key for f in (*fields, *columns)]
            if len(set(names)) != len(names):
                raise ValueError(f"form {self.id}: field keys repeat in section {section.key}")
        for rule in self.rules:
            for path in rule_fields(rule):
                self.field(path)  # raises for an unknown path
        return self

    def section(self, key: str) -> FieldsSection | TableSection | RichTextSection:
        for section in self.sections:
            if section.key == key:
                return section
        raise ValueError(f"form {self.id} has no section {key!r}")

    def field(self, path: str) -> FormField:
        """The field at "section.field" (a fields section) or "table.column" (a table's column)."""
        section_key, _, name = path.partition(".")
        section = self.section(section_key)
        fields = (
            section.fields
            if isinstance(section, FieldsSection)
            else section.columns
            if isinstance(section, TableSection)
            else ()
        )
        for field in fields:
            if field.key == name:
                return field
        raise ValueError(f"form {self.id} has no field {path!r}")


def rule_fields(rule: SumEquals | ColumnSumAtMost | RequiredIf | AllowedIf | RowMinimum) -> list[str]:
    """The field paths a rule reads (table columns as "table.column")."""
    match rule:
        case SumEquals():
            return [rule.target, *rule.terms]
        case ColumnSumAtMost():
            return [f"{rule.table}.{rule.column}", rule.limit]
        case RequiredIf() | AllowedIf():
            return [rule.field, rule.when]
        case RowMinimum():
            return [f"{rule.table}.{rule.column}", f"{rule.table}.{rule.by}"]
