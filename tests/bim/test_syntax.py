"""The STEP syntax stage: a model built with ifcopenshell passes and opens; truncated, damaged and
duplicate-name files are errors with line and column; the fast scan and the tokenizer agree."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import pytest

from bim.outcomes import Severity
from bim.syntax import check_syntax


def build_model(path: Path) -> Path:
    """A small valid IFC4 model: project, site, building, storey and a wall, written to `path`."""
    model = ifcopenshell.file(schema="IFC4")
    run = ifcopenshell.api.run
    project = run("root.create_entity", model, ifc_class="IfcProject", name="项目")
    run("unit.assign_unit", model)
    run("context.add_context", model, context_type="Model")
    site = run("root.create_entity", model, ifc_class="IfcSite", name="Site")
    building = run("root.create_entity", model, ifc_class="IfcBuilding", name="Building")
    storey = run("root.create_entity", model, ifc_class="IfcBuildingStorey", name="1F")
    run("aggregate.assign_object", model, products=[site], relating_object=project)
    run("aggregate.assign_object", model, products=[building], relating_object=site)
    run("aggregate.assign_object", model, products=[storey], relating_object=building)
    wall = run("root.create_entity", model, ifc_class="IfcWall", name="墙 1")
    run("spatial.assign_container", model, products=[wall], relating_structure=storey)
    model.write(str(path))
    return path


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    return build_model(tmp_path / "valid.ifc")


def errors(path: Path) -> list:
    return [o for o in check_syntax(path).outcomes if o.severity == Severity.ERROR]


def test_a_valid_model_passes_and_is_opened_for_the_later_stages(valid: Path):
    result = check_syntax(valid)
    assert result.verdict == "pass"
    assert result.schema == "IFC4"
    assert result.model is not None
    assert result.model.by_type("IfcWall")[0].Name == "墙 1"


def test_the_fast_scan_and_the_structural_scan_agree_on_a_valid_model(valid: Path):
    assert check_syntax(valid, strict_limit=0).verdict == "pass"


def test_a_truncated_model_is_an_error_at_the_cut(valid: Path, tmp_path: Path):
    data = valid.read_bytes()
    cut = data.index(b"IFCWALL(") + 12
    truncated = tmp_path / "cut.ifc"
    truncated.write_bytes(data[:cut])
    for strict_limit in (0, 1 << 30):
        result = check_syntax(truncated, strict_limit=strict_limit)
        assert result.blocked
        assert result.model is None
        [error] = [o for o in result.outcomes if o.severity == Severity.ERROR]
        assert "没有结束" in error.message or "截断" in error.message
        assert error.location is not None
        assert error.location["line"] == data[:cut].count(b"\n") + 1


def test_an_unterminated_string_is_located(valid: Path, tmp_path: Path):
    data = valid.read_bytes()
    broken = tmp_path / "broken.ifc"
    at = data.rindex(b"ENDSEC;")
    broken.write_bytes(data[:at] + b"#9999=IFCLABEL('unfinished\n" + data[at:].replace(b"'", b""))
    [error] = errors(broken)
    assert error.location == {"line": data[:at].count(b"\n") + 1, "column": 16}
    assert "字符串" in error.message or "没有结束" in error.message or "“,”或“)”" in error.message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ((b"IFCWALL(", b"IFCWALL(@"), "非法字符"),
        ((b"ENDSEC;\nEND-ISO", b"END-ISO"), "ENDSEC"),
        ((b"END-ISO-10303-21;", b""), "END-ISO-10303-21"),
        ((b"END-ISO-10303-21;", b"END-ISO-10303-21;\ngarbage"), "多余内容"),
        ((b"IFCWALL(", b"IFCWALL(("), "“,”或“)”"),
        ((b"'\xe5", b"'\xe5"), ""),
    ],
)
def test_damaged_text_is_a_syntax_error_with_line_and_column(valid: Path, tmp_path: Path, change, words):
    damaged = tmp_path / "damaged.ifc"
    damaged.write_bytes(valid.read_bytes().replace(*change, 1))
    if change[0] == b"'\xe5":  # no such text: the file is unchanged and must pass
        assert not errors(damaged)
        return
    found = errors(damaged)
    assert found, change
    assert found[0].location is not None
    assert words in found[0].message


def test_duplicate_and_zero_instance_names_are_errors(valid: Path, tmp_path: Path):
    data = valid.read_bytes()
    duplicate = tmp_path / "dup.ifc"
    duplicate.write_bytes(data.replace(b"#3=", b"#2=", 1))
    [error] = errors(duplicate)
    assert "#2 重复" in error.message
    assert error.location is not None
    zero = tmp_path / "zero.ifc"
    zero.write_bytes(data.replace(b"#3=", b"#0=", 1))
    assert any("#0 无效" in e.message for e in errors(zero))


def test_raw_utf8_text_in_strings_is_accepted_as_iso_10303_21_edition_3_allows(valid: Path, tmp_path: Path):
    # Chinese exporters write names as raw UTF-8 instead of \X2\ escapes; refusing them would block
    # real bids over an encoding detail (a deliberate tolerance, see bim/syntax.py _STRING).
    escaped = "墙 1".encode("utf-16-be").hex().upper()
    data = valid.read_bytes()
    assert f"\\X2\\{escaped[:4]}\\X0\\".encode() in data
    path = tmp_path / "raw.ifc"
    path.write_bytes(data.replace(f"\\X2\\{escaped[:4]}\\X0\\".encode(), "墙".encode()))
    assert "墙 1".encode() in path.read_bytes()
    result = check_syntax(path)
    assert not result.blocked, [o.message for o in result.outcomes]
    assert result.model is not None
