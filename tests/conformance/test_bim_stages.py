"""The first stages of a BIM check (intake, header syntax and policy, STEP syntax, schema with EXPRESS
rules) over the corpus:

- `ifc/header-policy/<field>/{pass,fail}/`: the Validation Service's header policy tests, 100 %:
  pass → no error for that field, fail → an error for it; `syntax_error/` → HEADER_SYNTAX error.
- `ifc/malformed/`: each file rejected or flagged with a located outcome, by the stage written down
  in MALFORMED (the cyclic placement parses and is valid schema: the normative placement rule owns it).
- `ifc/ifcopenshell-validate/`: every fail- caught by some stage, every pass- clean in syntax and
  schema (these fixtures test the schema checks, so EXPRESS rules are not applied to pass- files).
- `ifc/ifcopenshell-rules/`: every fail- has at least one EXPRESS rule violation, no pass- has one
  (other schema errors in these minimal files are counted and shown, not held against them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bim.header import check_header
from bim.intake import intake
from bim.outcomes import Outcome, Severity
from bim.schema import check_schema
from bim.syntax import check_syntax

RULE_KINDS = {"global_rule", "simpletype_rule", "entity_rule"}
# Which stage rejects each malformed file (None: not one of these stages).
MALFORMED = {"unterminated-string.ifc": "HEADER_SYNTAX", "missing-placement.ifc": "SCHEMA",
             "cyclic-placement.ifc": None}  # fmt: skip


def _errors(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.severity == Severity.ERROR]


def run_stages(path: Path, work: Path, express: bool = True) -> dict[str, list[Outcome]]:
    """Errors per stage, running each stage only when the earlier ones did not block."""
    found: dict[str, list[Outcome]] = {}
    taken = intake(path, path.name, 256 * 1024 * 1024, work)
    found["INTAKE"] = _errors(taken.outcomes)
    if taken.blocked or taken.ifc_path is None:
        return found
    header = check_header(taken.ifc_path, allowed_schemas=["IFC2X3", "IFC4", "IFC4X3_ADD2"])
    found["HEADER_SYNTAX"] = [o for o in _errors(header.outcomes) if o.rule == "HEADER_SYNTAX"]
    # Header attribute types (what ifcopenshell.validate checks in the header); the view definition and
    # originating-system policy is not what these fixtures are about.
    found["HEADER"] = [c.outcome for c in header.checks if c.kind == "type" and c.outcome.severity == 4]
    if header.blocked:
        return found
    syntax = check_syntax(taken.ifc_path)
    found["SYNTAX"] = _errors(syntax.outcomes)
    if syntax.blocked:
        return found
    schema = check_schema(syntax.model, taken.ifc_path, parse_log=syntax.parse_log, express=express)
    found["SCHEMA"] = _errors(schema.outcomes)
    return found


def test_header_policy_agrees_with_every_validation_service_header_file(corpus: Path):
    root = corpus / "ifc" / "header-policy"
    files = sorted(root.rglob("*.ifc"))
    assert files
    wrong = []
    for path in files:
        result = check_header(path)
        if path.parent.name == "syntax_error":
            if not (
                result.blocked and result.outcomes[0].rule == "HEADER_SYNTAX" and result.outcomes[0].location
            ):
                wrong.append(f"{path.name}: expected a located HEADER_SYNTAX error")
            continue
        field, verdict = path.parent.parent.name, path.parent.name
        failed = {c.field for c in result.checks if c.outcome.severity == Severity.ERROR}
        if result.header is None or (field in failed) != (verdict == "fail"):
            wrong.append(f"{field}/{verdict}/{path.name}: errors on {sorted(failed)}")
    print(f"\nheader-policy: {len(files) - len(wrong)}/{len(files)} agree")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_each_malformed_file_is_rejected_with_a_clear_outcome_by_its_stage(
    corpus: Path, tmp_path: Path, name: str
):
    path = corpus / "ifc" / "malformed" / name
    found = {stage: errors for stage, errors in run_stages(path, tmp_path).items() if errors}
    stage = MALFORMED[name]
    if stage is None:
        assert not found, f"{name} was expected to pass these stages (a later rule owns it): {found}"
        return
    assert list(found) == [stage], found
    if stage in ("HEADER_SYNTAX", "SYNTAX"):
        assert found[stage][0].location is not None


def test_the_syntax_stage_alone_locates_the_unterminated_string_file(corpus: Path):
    [error] = _errors(check_syntax(corpus / "ifc" / "malformed" / "unterminated-string.ifc").outcomes)
    assert error.rule == "SYNTAX"
    assert error.location == {"line": 1, "column": 1}


def test_ifcopenshell_validate_fixtures_fail_caught_pass_clean(corpus: Path, tmp_path: Path):
    files = sorted((corpus / "ifc" / "ifcopenshell-validate").glob("*.ifc"))
    assert files
    wrong, caught_by = [], {}
    for path in files:
        verdict = path.name.split("-", 1)[0]
        found = run_stages(path, tmp_path / path.stem, express=verdict == "fail")
        stages = [stage for stage, errors in found.items() if errors]
        caught_by[path.name] = stages
        if verdict == "fail" and not stages:
            wrong.append(f"{path.name}: not caught")
        if verdict == "pass" and (found.get("SYNTAX") or found.get("SCHEMA") or "SCHEMA" not in found):
            wrong.append(
                f"{path.name}: {[o.message for o in found.get('SYNTAX', []) + found.get('SCHEMA', [])]}"
            )
    print(f"\nifcopenshell-validate: {len(files) - len(wrong)}/{len(files)} agree; caught by: {caught_by}")
    assert not wrong, "\n".join(wrong)


def test_ifcopenshell_rule_fixtures_every_fail_caught_and_no_rule_error_on_pass(corpus: Path, tmp_path: Path):
    files = sorted((corpus / "ifc" / "ifcopenshell-rules").glob("*.ifc"))
    assert files
    wrong, other = [], {}
    for path in files:
        found = run_stages(path, tmp_path / path.stem)
        schema = found.get("SCHEMA")
        if schema is None:
            wrong.append(f"{path.name}: blocked before the schema stage: {found}")
            continue
        rules = [o for o in schema if o.observed["kind"] in RULE_KINDS]
        if path.name.startswith("fail-") and not rules:
            wrong.append(f"{path.name}: no EXPRESS rule violation")
        if path.name.startswith("pass-"):
            if rules:
                wrong.append(f"{path.name}: {[o.message for o in rules]}")
            if len(schema) > len(rules):
                other[path.name] = sorted({o.message for o in schema if o not in rules})
    print(f"\nifcopenshell-rules: {len(files) - len(wrong)}/{len(files)} agree; "
          f"other schema errors in pass- files (minimal fixtures, not rule errors): {other}")  # fmt: skip
    assert not wrong, "\n".join(wrong)
