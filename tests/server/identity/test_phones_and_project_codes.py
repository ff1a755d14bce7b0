"""Mainland mobile numbers and 投资项目代码 (GB/T 40058-2021)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.identity.validators import (
    InvalidMobileNumber,
    InvalidProjectCode,
    validate_id_card,
    validate_mobile,
    validate_project_code,
)
from server.security.masking import mask_id_card, mask_name, mask_phone

PURE = settings(database=None, max_examples=300)


@pytest.mark.parametrize(
    "typed",
    [
        "13812341234",
        " 13812341234 ",
        "138 1234 1234",
        "138-1234-1234",
        "+86 138 1234 1234",
        "+8613812341234",
        "+86-138-1234-1234",
        "0086 13812341234",
        "(+86) 13812341234",
        "１３８１２３４１２３４",
    ],
)
def test_a_mobile_number_typed_in_any_common_way_is_stored_as_11_digits(typed: str) -> None:
    assert validate_mobile(typed) == "13812341234"


@pytest.mark.parametrize("prefix", [str(n) for n in range(13, 20)])
def test_every_mobile_prefix_from_13_to_19_is_accepted(prefix: str) -> None:
    assert validate_mobile(prefix + "812341234") == prefix + "812341234"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12812341234",
        "10812341234",
        "23812341234",
        "1381234123",
        "138123412345",
        "1381234123a",
        "+85213812341234",
        "+1 13812341234",
        "021-62345678",
        "1381234123٤",
    ],
)
def test_anything_else_is_refused_with_the_expected_form(typed: str) -> None:
    with pytest.raises(InvalidMobileNumber, match="应为以 13–19 开头的 11 位数字") as caught:
        validate_mobile(typed)
    assert (caught.value.status, caught.value.code) == (422, "invalid_mobile_number")


@PURE
@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_11_digit_number_starting_13_to_19_round_trips_with_a_country_prefix(
    second: str, rest: str
) -> None:
    number = "1" + second + rest
    assert validate_mobile(number) == number
    assert validate_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number


def test_validated_numbers_mask_as_the_portal_shows_them() -> None:
    assert mask_phone(validate_mobile("+86 138-1234-1234")) == "138****1234"
    assert mask_id_card(validate_id_card("11010519491231002x")) == "110***********002X"
    assert (mask_name("张三"), mask_name("李小明")) == ("张*", "李**")


@pytest.mark.parametrize(
    "typed",
    [
        "2026-310115-47-01-000123",
        " 2026-310115-47-01-000123 ",
        "2026 - 310115 - 47 - 01 - 000123",
        "2026－310115－47－01－000123",
        "20263101154701000123",
    ],
)
def test_a_project_code_is_stored_with_its_dashes(typed: str) -> None:
    assert validate_project_code(typed) == "2026-310115-47-01-000123"


@pytest.mark.parametrize(
    ("code", "parts", "reason"),
    [
        ("26-310115-47-01-000123", ["time"], "第 1 段时间代码应为 4 位数字"),
        ("2026-31011-47-01-000123", ["region"], "第 2 段地区代码应为 6 位数字"),
        ("2026-310115-4A-01-000123", ["department"], "第 3 段中央业务指导部门代码应为 2 位数字"),
        ("2026-310115-47-1-000123", ["project_type"], "第 4 段项目类型代码应为 2 位数字"),
        ("2026-310115-47-01-00012", ["serial"], "第 5 段随机码和校验码应为 6 位数字"),
        ("2026-3101-4-01-12", ["region", "department", "serial"], "第 2 段地区代码应为 6 位数字；第 3 段"),
        ("2026-310115-47-01-٠٠٠١٢٣", ["serial"], "第 5 段随机码和校验码应为 6 位数字"),
    ],
)
def test_a_project_code_with_a_malformed_part_names_every_such_part(
    code: str, parts: list[str], reason: str
) -> None:
    with pytest.raises(InvalidProjectCode, match=reason) as caught:
        validate_project_code(code)
    assert caught.value.data == {"parts": parts}
    assert (caught.value.status, caught.value.code) == (422, "invalid_project_code")


@pytest.mark.parametrize(
    "code", ["", "2026/310115/47/01/000123", "2026-310115-47-01-000123-9", "P2026310115"]
)
def test_a_project_code_without_five_dashed_parts_shows_an_example(code: str) -> None:
    with pytest.raises(
        InvalidProjectCode, match="应为用“-”连接的 5 段，如 2026-310115-47-01-000123"
    ) as caught:
        validate_project_code(code)
    assert caught.value.data == {"parts": ["layout"]}


@PURE
@given(st.text(alphabet="0123456789", min_size=20, max_size=20))
def test_any_20_digits_laid_out_4_6_2_2_6_validate(digits: str) -> None:
    dashed = "-".join([digits[:4], digits[4:10], digits[10:12], digits[12:14], digits[14:]])
    assert validate_project_code(dashed) == dashed
    assert validate_project_code(digits) == dashed
