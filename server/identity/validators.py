"""Checks and normal forms of the identifiers people type into the portal: 统一社会信用代码, 组织机构代码,
居民身份证号码, mainland mobile numbers and 投资项目代码.

Each `validate_*` function takes what the user typed (full-width characters from a Chinese input method,
spaces, lowercase letters) and returns the one stored form, or raises an `InvalidInput` subclass whose
Chinese message says what is wrong. The `Annotated` aliases at the bottom put the same checks on pydantic
fields, so a request model answers 422 with the field's path. Masked display is `server.security.masking`.
Must not: do IO (the clock is read only when no `today` is passed), echo a personal number in an error
message, or decide whether a code is registered: that is the issuing platform's word, not arithmetic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from server.clock import SHANGHAI
from server.errors import InvalidInput

# GB 32100-2015 §4 and table 1: digits and uppercase letters without I, O, Z, S, V; a character's value is
# its index here (A=10 … Y=30), and the check character is MOD 31 over weights 3^(i-1) mod 31.
CREDIT_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
CREDIT_CODE_LENGTH: Final = 18
FORBIDDEN_CREDIT_LETTERS: Final = "IOZSV"

# GB 11714-1997 组织机构代码: 8 body characters valued 0-9, A=10 … Z=35 over weights 3 7 9 10 5 8 4 2, then
# C9 = 11 - MOD(sum, 11), written X for 10 and 0 for 11. Within a credit code it is characters 9-17.
ORG_CODE_VALUES: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 11643-1999 §8.2: ISO 7064 MOD 11-2 over weights 2^(17-i) mod 11; the value 10 is written X.
ID_CARD_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
ID_CARD_CHECK_CHARS: Final = "10X98765432"

MOBILE_PATTERN: Final = re.compile(r"1[3-9][0-9]{9}")
COUNTRY_PREFIXES: Final = ("+86", "0086")
MOBILE_SEPARATORS: Final = re.compile(r"[\s\-()]")

# GB/T 40058-2021 §4.1: 4-digit time code, 6-digit region code, 2-digit central business guidance department
# code, 2-digit project type code, then 5 random digits and 1 check digit, dash-joined: 24 characters.
# The check-digit algorithm (§4.7) is not public, so only the layout is checked here; the online approval
# platform verifies the code itself (§6.2).
PROJECT_CODE_PARTS: Final = (
    ("time", "时间代码", 4),
    ("region", "地区代码", 6),
    ("department", "中央业务指导部门代码", 2),
    ("project_type", "项目类型代码", 2),
    ("serial", "随机码和校验码", 6),
)
PROJECT_CODE_EXAMPLE: Final = "2026-310115-47-01-000123"


class InvalidCreditCode(InvalidInput):
    code, message = "invalid_credit_code", "统一社会信用代码不正确"


class InvalidOrgCode(InvalidInput):
    code, message = "invalid_organization_code", "组织机构代码不正确"


class InvalidIdCardNumber(InvalidInput):
    code, message = "invalid_id_card_number", "居民身份证号码不正确"


class InvalidMobileNumber(InvalidInput):
    code, message = "invalid_mobile_number", "手机号码不正确"


class InvalidProjectCode(InvalidInput):
    code, message = "invalid_project_code", "项目代码不正确"


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 characters are valid `CREDIT_CODE_CHARS`."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The 9th character of an organisation code whose first 8 characters are digits or uppercase letters."""
    total = sum(ORG_CODE_VALUES.index(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def id_card_check_char(first17: str) -> str:
    """The 18th character of an ID card number whose first 17 characters are digits."""
    total = sum(int(c) * w for c, w in zip(first17, ID_CARD_WEIGHTS, strict=True))
    return ID_CARD_CHECK_CHARS[total % 11]


def validate_credit_code(value: str) -> str:
    """The 18-character 统一社会信用代码 in upper case, after checking layout and both check characters.

    Early pilot codes (some Fujian codes of 2015) break the final check and are refused like any typo: the
    message points the user at the business licence, and support can confirm it with the issuing office.
    """
    code = _compact(value).upper()
    if len(code) != CREDIT_CODE_LENGTH:
        raise InvalidCreditCode(f"统一社会信用代码应为 18 位，当前为 {len(code)} 位")
    forbidden = sorted({c for c in code if c in FORBIDDEN_CREDIT_LETTERS})
    if forbidden:
        raise InvalidCreditCode(
            f"统一社会信用代码不使用字母 I、O、Z、S、V，请检查其中的 {'、'.join(forbidden)}"
        )
    if any(c not in CREDIT_CODE_CHARS for c in code):
        raise InvalidCreditCode("统一社会信用代码只能由数字和大写英文字母组成")
    if not _is_digits(code[2:8]):
        raise InvalidCreditCode("统一社会信用代码第 3–8 位（登记管理机关行政区划码）应为 6 位数字")
    if org_code_check_char(code[8:16]) != code[16]:
        raise InvalidCreditCode("统一社会信用代码第 9–17 位（组织机构代码）的校验码不正确，请核对营业执照")
    if credit_code_check_char(code[:17]) != code[17]:
        raise InvalidCreditCode("统一社会信用代码第 18 位校验码不正确，请核对营业执照")
    return code


def validate_org_code(value: str) -> str:
    """The 9-character 组织机构代码 (GB 11714) in upper case, without the hyphen of the old certificates."""
    code = _compact(value).upper().replace("-", "")
    if len(code) != len(ORG_CODE_WEIGHTS) + 1:
        raise InvalidOrgCode(f"组织机构代码应为 9 位，当前为 {len(code)} 位")
    if any(c not in ORG_CODE_VALUES for c in code[:8]) or code[8] not in "0123456789X":
        raise InvalidOrgCode("组织机构代码前 8 位只能是数字或大写英文字母，第 9 位只能是数字或 X")
    if org_code_check_char(code[:8]) != code[8]:
        raise InvalidOrgCode("组织机构代码第 9 位校验码不正确")
    return code


def validate_id_card(value: str, *, today: date | None = None) -> str:
    """The 18-character 居民身份证号码 with an upper-case X, after checking the region code's form, the
    birth date (a real calendar day, not after `today`, by default today in Shanghai) and the check character.
    """
    number = _compact(value).upper()
    if len(number) == 15 and _is_digits(number):
        raise InvalidIdCardNumber("15 位的第一代身份证号码已停止使用，请填写 18 位号码")
    if len(number) != 18:
        raise InvalidIdCardNumber(f"居民身份证号码应为 18 位，当前为 {len(number)} 位")
    if not _is_digits(number[:17]) or not (_is_digits(number[17]) or number[17] == "X"):
        raise InvalidIdCardNumber("居民身份证号码前 17 位应为数字，第 18 位应为数字或 X")
    if number[0] == "0":
        raise InvalidIdCardNumber("居民身份证号码前 6 位地址码不正确")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdCardNumber("居民身份证号码第 7–14 位不是有效的出生日期") from None
    if born > (today or datetime.now(SHANGHAI).date()):
        raise InvalidIdCardNumber("居民身份证号码中的出生日期晚于今天")
    if id_card_check_char(number[:17]) != number[17]:
        raise InvalidIdCardNumber("居民身份证号码第 18 位校验码不正确，请核对证件")
    return number


def validate_mobile(value: str) -> str:
    """The 11-digit mainland mobile number, without "+86"/"0086", spaces, hyphens or brackets."""
    number = MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    for prefix in COUNTRY_PREFIXES:
        if number.startswith(prefix):
            number = number.removeprefix(prefix)
            break
    if not MOBILE_PATTERN.fullmatch(number):
        raise InvalidMobileNumber("手机号码应为以 13–19 开头的 11 位数字")
    return number


def validate_project_code(value: str) -> str:
    """The 24-character 项目代码 with its dashes, naming every part that has the wrong form.

    The 20 digits without dashes, as some scanners and spreadsheets give them, are accepted too.
    """
    code = _compact(value)
    widths = [width for _, _, width in PROJECT_CODE_PARTS]
    if _is_digits(code) and len(code) == sum(widths):
        starts = [sum(widths[:i]) for i in range(len(widths))]
        parts = [code[start : start + width] for start, width in zip(starts, widths, strict=True)]
    else:
        parts = code.split("-")
    if len(parts) != len(PROJECT_CODE_PARTS):
        raise InvalidProjectCode(f"项目代码应为用“-”连接的 5 段，如 {PROJECT_CODE_EXAMPLE}", parts=["layout"])
    wrong = [
        (key, f"第 {index} 段{name}应为 {width} 位数字")
        for index, ((key, name, width), part) in enumerate(zip(PROJECT_CODE_PARTS, parts, strict=True), 1)
        if len(part) != width or not _is_digits(part)
    ]
    if wrong:
        raise InvalidProjectCode(
            "项目代码" + "；".join(text for _, text in wrong), parts=[key for key, _ in wrong]
        )
    return "-".join(parts)


def _compact(value: str) -> str:
    """Full-width forms folded to ASCII (NFKC) and all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", value).split())


def _is_digits(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes "٣" and other scripts' digits."""
    return text.isascii() and text.isdigit()


def _as_field(check: Callable[[str], str]) -> AfterValidator:
    """Runs `check` inside pydantic: its `InvalidInput` becomes a field error with its code and message."""

    def run(value: str) -> str:
        try:
            return check(value)
        except InvalidInput as exc:
            raise PydanticCustomError(exc.code, exc.detail) from exc

    return AfterValidator(run)


UnifiedSocialCreditCode = Annotated[
    str,
    _as_field(validate_credit_code),
    Field(description="统一社会信用代码（GB 32100-2015）", examples=["91310000332725243Y"]),
]
OrganizationCode = Annotated[
    str, _as_field(validate_org_code), Field(description="组织机构代码（GB 11714）", examples=["332725243"])
]
IdCardNumber = Annotated[
    str,
    _as_field(validate_id_card),
    Field(description="居民身份证号码（GB 11643-1999）", examples=["11010519491231002X"]),
]
MobileNumber = Annotated[
    str, _as_field(validate_mobile), Field(description="大陆手机号码", examples=["13812341234"])
]
ProjectCode = Annotated[
    str,
    _as_field(validate_project_code),
    Field(description="投资项目代码（GB/T 40058-2021）", examples=[PROJECT_CODE_EXAMPLE]),
]
