"""The header stage: our tokenizer's syntax errors with line and column, the header policy per field,
FILE_SCHEMA against the tender's allowed list."""

from __future__ import annotations

from pathlib import Path

import pytest

from bim.header import check_header, parse_description, parse_header
from bim.outcomes import Severity

GOOD = {
    "description": "('ViewDefinition [ReferenceView_V1.2]')",
    "level": "'2;1'",
    "name": "'model.ifc'",
    "time_stamp": "'2024-01-31T09:30:00+08:00'",
    "author": "('Zhang San')",
    "organization": "('Design Institute')",
    "preprocessor": "'Exporter 2.1'",
    "originating": "'Autodesk - Revit - 24.0.4'",
    "authorization": "'none'",
    "schema": "('IFC4')",
}


def write(tmp_path: Path, **fields: str) -> Path:
    v = {**GOOD, **fields}
    text = (
        "ISO-10303-21;\nHEADER;\n"
        f"FILE_DESCRIPTION({v['description']},{v['level']});\n"
        f"FILE_NAME({v['name']},{v['time_stamp']},{v['author']},{v['organization']},{v['preprocessor']},"
        f"{v['originating']},{v['authorization']});\n"
        f"FILE_SCHEMA({v['schema']});\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"
    )
    path = tmp_path / "model.ifc"
    path.write_text(text, encoding="ascii")
    return path


def failed_fields(path: Path) -> set[str]:
    return {c.field for c in check_header(path).checks if c.outcome.severity == Severity.ERROR}


def test_a_good_header_passes_every_check_and_does_not_block(tmp_path: Path):
    result = check_header(write(tmp_path))
    assert result.verdict == "pass"
    assert result.schema == "IFC4"
    assert all(o.severity == Severity.PASSED for o in result.outcomes)
    assert {c.field for c in result.checks} >= {
        "description",
        "time_stamp",
        "author",
        "originating_system",
        "schema",
    }


@pytest.mark.parametrize(
    ("field", "value", "failing"),
    [
        ("author", "()", "author"),
        ("organization", "$", "organization"),
        ("authorization", "$", "authorization"),
        ("author", "(4, 5)", "author"),
        ("time_stamp", "'2024-01-31 09:30:00'", "time_stamp"),
        ("time_stamp", "'2024-02-30T09:30:00'", "time_stamp"),
        ("originating", "'Revit 2024'", "originating_system"),
        ("originating", "' Autodesk - Revit - 24.0'", "company_name"),
        ("originating", "'Autodesk - Re-vit - 24.0'", "application_name"),
        ("originating", "'Autodesk - Revit - 24.0-final'", "version"),
        ("originating", "'Autodesk - Revit - 24.0 '", "version"),
        ("description", "('ViewDefinition [CoordinationView_V2.0]')", "description"),
        ("description", "('ViewDefinition [ReferenceView_V1.2, QuantityTakeOffAddOnView]')", "description"),
        ("description", "('')", "description"),
    ],
)
def test_each_policy_field_fails_on_its_own_defect(tmp_path: Path, field: str, value: str, failing: str):
    fields = failed_fields(write(tmp_path, **{field: value}))
    assert failing in fields
    assert "schema" not in fields


def test_an_unofficial_or_disallowed_schema_blocks_with_expected_and_observed(tmp_path: Path):
    for schema, words in (
        ("('IFC4_ADD3')", "不是 buildingSMART 正式发布"),
        ("('IFC5')", "正式"),
        ("('IFC2X3')", "只接受"),
    ):
        result = check_header(write(tmp_path, schema=schema))
        assert result.blocked
        [check] = [c for c in result.checks if c.field == "schema"]
        assert check.outcome.severity == Severity.ERROR
        assert words in check.outcome.message
        assert check.outcome.expected == ["IFC4"]
    assert (
        check_header(write(tmp_path, schema="('IFC2X3')"), allowed_schemas=["IFC2X3", "IFC4"]).verdict
        == "pass"
    )


def test_policy_errors_other_than_the_schema_do_not_block(tmp_path: Path):
    result = check_header(write(tmp_path, author="()"))
    assert result.verdict == "pass"
    assert any(o.severity == Severity.ERROR for o in result.outcomes)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        (b"#1=IFCLABEL('unfinished", 1, 1, "ISO-10303-21"),
        (b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('a'),'2;1');\nFILE_NAME('x", 4, 11, "字符串没有结束"),
        (b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('a'),'2;1')\n", 4, 1, "文件意外结束"),
        (b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('a\xe2\x80\x93'),'2;1');", 3, 21, "非 ASCII"),
        (
            b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('a'),'2;1');\nFILE_NAME('a','b','c'.,'d');",
            4,
            22,
            "非法字符",
        ),
    ],
)
def test_a_header_that_does_not_parse_is_a_header_syntax_error_with_line_and_column(
    tmp_path: Path, text: bytes, line: int, column: int, words: str
):
    path = tmp_path / "model.ifc"
    path.write_bytes(text)
    result = check_header(path)
    assert result.blocked
    [outcome] = result.outcomes
    assert outcome.rule == "HEADER_SYNTAX"
    assert outcome.location == {"line": line, "column": column}
    assert words in outcome.message


def test_missing_header_fields_are_header_syntax_errors(tmp_path: Path):
    path = tmp_path / "model.ifc"
    path.write_text(
        "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('a'),'2;1');\nFILE_NAME('a','b',('c'),('d'),'e','f');\n"
        "FILE_SCHEMA(('IFC4'));\nENDSEC;\n"
    )
    [outcome] = check_header(path).outcomes
    assert outcome.rule == "HEADER_SYNTAX"
    assert "应为 7 个，实际为 6 个" in outcome.message
    path.write_text(
        "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('a'),'2;1');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\n"
    )
    assert "缺少 FILE_NAME" in check_header(path).outcomes[0].message


def test_strings_are_decoded_and_comments_and_line_breaks_tolerated():
    header = parse_header(
        b"ISO-10303-21;/* c */HEADER;FILE_DESCRIPTION(('View\nDef'),'2;1');"
        b"FILE_NAME('\\X2\\4E2D6587\\X0\\ it''s',$,(),(),*,'a\\\\b',$);FILE_SCHEMA(('IFC4'));ENDSEC;"
    )
    entity = header.get("FILE_NAME")
    assert entity is not None
    assert entity.params[0] == "中文 it's"
    assert entity.params[5] == "a\\b"
    description = header.get("FILE_DESCRIPTION")
    assert description is not None
    assert description.params[0] == ("ViewDef",)


def test_view_definitions_follow_the_implementation_guide_grammar():
    parsed = parse_description(
        ["ViewDefinition [CoordinationView, SpaceBoundary1stLevelAddOnView]", "Option [a: b]"]
    )
    assert parsed.view_definitions == ["CoordinationView", "SpaceBoundary1stLevelAddOnView"]
    assert parse_description(["ViewDefinition [, QuantityTakeOffAddOnView]"]).view_definitions is None
    assert parse_description([""]).view_definitions is None
    assert parse_description(["Comment [any text, even ; and :]"]).comments == ["any text, even ; and :"]
