"""The numbers a project is known by: its 项目代码 (GB/T 40058-2021, issued by the investment-project online
platform), its 报建编号 (given when it registers here) and each application's 联审编号 (given when it is
submitted). The 项目代码's structure is checked (4-digit year, 6-digit region, 2-digit department, 2-digit
type, 6 digits: domain.md §1.6; its check digit is not published, so the platform's interface stays the
authority); codes of the old layout are accepted only by an operator's `TONGBAN_PROJECT_CODE_LEGACY_PATTERN`.
报建编号 and 联审编号 formats are settings (templates over {year}, {month}, {day}, {seq}) because no
authoritative public definition exists.
Must not: invent a check digit, or accept a format template with other placeholders.
"""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Final

from server.errors import InvalidInput
from server.identity.validators import validate_project_code

PROJECT_CODE: Final = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")
PLACEHOLDERS: Final = frozenset({"year", "month", "day", "seq"})
NUMBER: Final = re.compile(r"^[A-Z0-9-]{4,40}$")


def check_project_code(code: str, legacy_pattern: str | None = None) -> str:
    """`code` (normalised) when it has the GB/T 40058-2021 structure (`validate_project_code` says which part
    is wrong, else), with a plausible year and region; or `code` when it matches the configured legacy layout."""
    if legacy_pattern and re.fullmatch(legacy_pattern, code):
        return code
    try:
        normal = validate_project_code(code)
        match = PROJECT_CODE.match(normal)
        if match is None or not 2000 <= int(match.group(1)) <= 2100 or match.group(2)[:2] == "00":
            raise InvalidInput("项目代码的年份或地区码不正确，应为投资项目在线审批监管平台赋予的 24 位代码")
    except InvalidInput as exc:
        raise InvalidInput("项目代码格式不正确", fields=[
            {"field": "code", "type": "bad_format", "message": f"{exc.detail}（24 位，形如 2026-310115-47-01-000123）"}
        ]) from exc  # fmt: skip
    return normal


def check_template(template: str) -> str:
    """A number template, e.g. `BJ{year}{seq:06d}`: only {year}, {month}, {day}, {seq} (with a format)."""
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    if not names <= PLACEHOLDERS or "seq" not in names:
        raise ValueError(
            f"number template {template!r}: use {{year}}, {{month}}, {{day}} and {{seq}} only, with {{seq}}"
        )
    sample = number(template, 1, date(2026, 1, 1))
    if not NUMBER.match(sample):
        raise ValueError(f"number template {template!r} makes {sample!r}: use A-Z, 0-9 and '-' only (4-40)")
    return template


def number(template: str, seq: int, today: date) -> str:
    return template.format(year=today.year, month=today.month, day=today.day, seq=seq)
