"""居民身份证号码 (GB 11643-1999): layout, birth date and the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.identity.validators import InvalidIdCardNumber, id_card_check_char, validate_id_card

PURE = settings(database=None, max_examples=300)
TODAY = date(2026, 11, 28)

# The two examples printed in GB 11643-1999, then synthetic numbers whose check characters were computed
# by hand with the standard's weights (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) and table.
VALID = [
    "11010519491231002X",
    "440524188001010014",
    "310115199003071239",
    "310104200002294568",  # 29 February of a leap year
    "31011519950610010X",
    "110101198001010010",
    "310115202401010081",
]


@pytest.mark.parametrize("number", VALID)
def test_numbers_with_the_right_check_character_validate_unchanged(number: str) -> None:
    assert validate_id_card(number, today=TODAY) == number


def test_a_lowercase_x_is_stored_as_uppercase() -> None:
    assert validate_id_card("11010519491231002x", today=TODAY) == "11010519491231002X"


def test_full_width_digits_and_spaces_are_normalised() -> None:
    assert validate_id_card("３１０１１５ １９９００３０７ １２３９", today=TODAY) == "310115199003071239"


def test_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidIdCardNumber, match="第 18 位校验码不正确") as caught:
        validate_id_card("310115199003071238", today=TODAY)
    assert (caught.value.status, caught.value.code) == (422, "invalid_id_card_number")


def test_the_error_message_never_contains_the_number() -> None:
    with pytest.raises(InvalidIdCardNumber) as caught:
        validate_id_card("310115199003071238", today=TODAY)
    assert "3101151990" not in caught.value.detail


@pytest.mark.parametrize(
    "number",
    [
        "310115199002301231",  # 30 February (check character computed for it)
        "310104190002294561",  # 29 February 1900: not a leap year
        "310115199013011236",
        "310115199000011234",
    ],
)
def test_a_birth_date_that_is_not_a_calendar_day_is_refused(number: str) -> None:
    with pytest.raises(InvalidIdCardNumber, match="第 7–14 位不是有效的出生日期"):
        validate_id_card(number, today=TODAY)


def test_a_birth_date_after_today_is_refused() -> None:
    with pytest.raises(InvalidIdCardNumber, match="出生日期晚于今天"):
        validate_id_card("310115209912311232", today=TODAY)


def test_someone_born_today_is_accepted_and_tomorrow_is_not() -> None:
    born_today = "310115" + TODAY.strftime("%Y%m%d") + "123"
    assert validate_id_card(born_today + id_card_check_char(born_today), today=TODAY)
    tomorrow = "310115" + (TODAY + timedelta(days=1)).strftime("%Y%m%d") + "123"
    with pytest.raises(InvalidIdCardNumber, match="晚于今天"):
        validate_id_card(tomorrow + id_card_check_char(tomorrow), today=TODAY)


def test_without_a_date_the_check_uses_today_in_shanghai() -> None:
    assert validate_id_card("310115199003071239") == "310115199003071239"
    with pytest.raises(InvalidIdCardNumber, match="晚于今天"):
        validate_id_card("310115209912311232")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", "应为 18 位，当前为 0 位"),
        ("31011519900307123", "应为 18 位，当前为 17 位"),
        ("3101151990030712390", "应为 18 位，当前为 19 位"),
        ("310115900307123", "15 位的第一代身份证号码已停止使用"),
        ("31011519900307123A", "第 18 位应为数字或 X"),
        ("3101151990030X1239", "前 17 位应为数字"),
        ("31011519900307123٩", "第 18 位应为数字或 X"),
        ("010115199003071236", "前 6 位地址码不正确"),
    ],
)
def test_a_malformed_number_says_what_is_wrong(number: str, reason: str) -> None:
    with pytest.raises(InvalidIdCardNumber, match=reason):
        validate_id_card(number, today=TODAY)


@st.composite
def id_card_numbers(draw: st.DrawFn) -> str:
    region = str(draw(st.integers(min_value=110000, max_value=999999)))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = f"{draw(st.integers(min_value=0, max_value=999)):03d}"
    first17 = region + born.strftime("%Y%m%d") + sequence
    return first17 + id_card_check_char(first17)


@PURE
@given(id_card_numbers())
def test_any_number_built_with_the_computed_check_character_validates(number: str) -> None:
    assert validate_id_card(number.lower(), today=TODAY) == number


@PURE
@given(id_card_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_changing_any_one_character_of_a_valid_number_is_caught(number: str, position: int, new: str) -> None:
    changed = number[:position] + new + number[position + 1 :]
    if changed != number:
        with pytest.raises(InvalidIdCardNumber):
            validate_id_card(changed, today=TODAY)
