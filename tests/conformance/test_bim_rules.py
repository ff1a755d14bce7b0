"""Every implemented normative rule against the Validation Service's own test files for it
(`ifc/validation-service/<PART>/<rule>/`): `pass-` → activated with no error, `fail-` → at least one
error (a warning for the industry-practice rules, which never error), `na-` → not activated. A rule
whose folder exists must agree with 100 % of its files."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import pytest

from bim.outcomes import Severity
from bim.rules import load_all
from bim.rules.runner import activated, has_error, run_rule

RULES = load_all()


def _fixtures(corpus: Path, code: str) -> list[Path]:
    folder = corpus / "ifc" / "validation-service" / code[:3] / code.lower()
    return sorted(folder.glob("*.ifc"))


@pytest.mark.parametrize("code", sorted(c for c in RULES if not c.startswith("TB")))
def test_each_rule_agrees_with_every_one_of_its_validation_service_files(corpus: Path, code: str):
    files = _fixtures(corpus, code)
    assert files, f"no Validation Service files for {code}"
    wrong = []
    for path in files:
        verdict = path.name.split("-", 1)[0]
        try:
            model = ifcopenshell.open(str(path))
        except Exception as exc:  # a file the parser rejects is a syntax finding, not this rule's
            wrong.append(f"{path.name}: does not open ({exc})")
            continue
        result = run_rule(RULES[code], model)
        # industry-practice rules (PSE002 …) report warnings only: a warning is their "fail"
        got = (
            "fail"
            if has_error(result) or result.severity == Severity.WARNING
            else "pass"
            if activated(result)
            else "na"
        )
        if got != verdict:
            wrong.append(f"{path.name}: expected {verdict}, got {got}")
    assert not wrong, "\n".join(wrong)
