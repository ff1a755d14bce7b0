"""The schema stage: schema errors and EXPRESS WHERE / global rule violations as outcomes with the
instance, in STEP-id order, without pytest; a valid model is clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ifcopenshell

from bim.outcomes import Severity
from bim.schema import check_schema, open_for_validation
from bim.syntax import check_syntax
from tests.bim.test_syntax import build_model


def test_a_valid_model_is_clean(tmp_path: Path):
    path = build_model(tmp_path / "valid.ifc")
    syntax = check_syntax(path)
    result = check_schema(syntax.model, path, parse_log=syntax.parse_log)
    assert [o.severity for o in result.outcomes] == [Severity.PASSED]
    assert result.verdict == "pass"


def test_schema_errors_and_rule_violations_name_the_instance(tmp_path: Path):
    model = ifcopenshell.file(schema="IFC4")
    model.createIfcDirection((0.0, 0.0, 0.0))  # IfcDirection.MagnitudeGreaterZero
    model.createIfcExtrudedAreaSolid(None, None, model.createIfcDirection((0.0, 0.0, 1.0)), -1.0)
    model.createIfcWall("0" * 22)  # GlobalId ok, OwnerHistory optional in IFC4
    model.createIfcWall("0" * 22)  # duplicate GlobalId
    path = tmp_path / "bad.ifc"
    model.write(str(path))
    result = check_schema(open_for_validation(path), path)
    messages = [o.message for o in result.outcomes]
    assert result.errors == len(result.outcomes)
    assert any("IfcDirection.MagnitudeGreaterZero" in m and "#1" in m for m in messages)
    assert any("IfcPositiveLengthMeasure" in m for m in messages)  # Depth -1.0
    assert any("必填属性 IfcExtrudedAreaSolid.SweptArea 未赋值" in m for m in messages)
    assert any("GlobalId 重复" in m for m in messages)
    ids = [o.instance.step_id if o.instance else 0 for o in result.outcomes]
    assert ids == sorted(ids)
    rule = next(o for o in result.outcomes if "MagnitudeGreaterZero" in o.message)
    assert rule.instance is not None
    assert rule.instance.ifc_class == "IfcDirection"
    assert rule.observed["kind"] == "entity_rule"
    assert "SIZEOF" in rule.observed["detail"] or "MagnitudeGreaterZero" in rule.expected


def test_the_same_model_gives_the_same_outcomes(tmp_path: Path):
    model = ifcopenshell.file(schema="IFC4")
    model.createIfcDirection((0.0, 0.0, 0.0))
    path = tmp_path / "m.ifc"
    model.write(str(path))
    first = check_schema(open_for_validation(path), path).outcomes
    second = check_schema(open_for_validation(path), path).outcomes
    assert first == second


def test_express_rules_run_without_pytest_installed(tmp_path: Path):
    """The product has no pytest: block its import in a fresh interpreter and run the rules."""
    model = ifcopenshell.file(schema="IFC4")
    model.createIfcDirection((0.0, 0.0, 0.0))
    path = tmp_path / "m.ifc"
    model.write(str(path))
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pytest', '_pytest'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from pathlib import Path\n"
        "from bim.schema import check_schema, open_for_validation\n"
        f"p = Path({str(path)!r})\n"
        "r = check_schema(open_for_validation(p), p)\n"
        "assert any('MagnitudeGreaterZero' in o.message for o in r.outcomes), r.outcomes\n"
        "assert '_pytest' not in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
