"""统一社会信用代码 (GB 32100-2015) and the 组织机构代码 (GB 11714) inside it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import InvalidInput
from server.identity.validators import (
    CREDIT_CODE_CHARS,
    InvalidCreditCode,
    InvalidOrgCode,
    credit_code_check_char,
    org_code_check_char,
    validate_credit_code,
    validate_org_code,
)

PURE = settings(database=None, max_examples=300)

# Published codes of real organisations, copied from public pages (licence footers, invoices, bank details).
REAL_CODES = [
    "12100000425006117P",  # 复旦大学 (事业单位, national registry)
    "12310000425022547M",  # 上海工程技术大学 (事业单位, Shanghai)
    "91310000332725243Y",  # 上海倾信互联网金融信息服务有限公司, 组织机构代码 332725243 published with it
    "9131011877976576X6",  # 上海南特克实业有限公司: its organisation code's check character is X
    "91310115MA1K427762",  # 享道出行(上海)科技股份有限公司 (Pudong, an MA… body issued after 2015)
    "91310000MAK7RM1U9D",  # 伊登优格(上海)咨询管理有限公司
    "51310110501144395U",  # a 社会团体 registered with 杨浦区民政局
    "53100000500019795A",  # a 基金会 registered with 民政部
    "92140727MAE8C7WN66",  # a 个体工商户
    "91330100470102706G",  # 杭州市 company named in a public record
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_codes_of_real_organisations_validate_unchanged(code: str) -> None:
    assert validate_credit_code(code) == code


def test_the_worked_example_of_the_standard_computes_check_character_3() -> None:
    # GB 32100-2015's worked example: the sum over 91350100M000100Y4 is 1640, MOD 31 is 28, so the check
    # character is 31 - 28 = 3 and the example's 91350100M000100Y4Z is refused (Z is never a code character).
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(InvalidCreditCode, match="请检查其中的 Z"):
        validate_credit_code("91350100M000100Y4Z")


def test_weights_are_powers_of_three_modulo_31() -> None:
    from server.identity.validators import CREDIT_CODE_WEIGHTS

    assert CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_lowercase_full_width_and_spaced_input_is_normalised_to_the_printed_code() -> None:
    assert validate_credit_code(" 91310115ma1k427762 ") == "91310115MA1K427762"
    assert validate_credit_code("９１３１０１１５ＭＡ１Ｋ４２７７６２") == "91310115MA1K427762"
    assert validate_credit_code("9131 0115 MA1K 4277 62") == "91310115MA1K427762"


def test_a_wrong_final_check_character_is_refused_with_its_position() -> None:
    with pytest.raises(InvalidCreditCode, match="第 18 位校验码不正确") as caught:
        validate_credit_code("91310115MA1K427763")
    assert (caught.value.status, caught.value.code) == (422, "invalid_credit_code")
    assert isinstance(caught.value, InvalidInput)


def test_a_wrong_organisation_code_check_character_is_refused_before_the_final_check() -> None:
    with pytest.raises(InvalidCreditCode, match="第 9–17 位（组织机构代码）的校验码不正确"):
        validate_credit_code("91310000332725244Y")


def test_early_pilot_codes_that_break_the_final_check_are_refused() -> None:
    # Some Fujian pilot codes of 2015 were issued with a non-conforming final character (reported in
    # aarioai/id-rule and on codeshelper.com); we refuse them like a typo and say where to look.
    with pytest.raises(InvalidCreditCode, match="请核对营业执照"):
        validate_credit_code("91350100M0001TGQXM")


@pytest.mark.parametrize(
    ("code", "length"), [("", 0), ("91310115MA1K42776", 17), ("91310115MA1K4277622", 19)]
)
def test_a_code_of_the_wrong_length_says_how_long_it_was(code: str, length: int) -> None:
    with pytest.raises(InvalidCreditCode, match=f"应为 18 位，当前为 {length} 位"):
        validate_credit_code(code)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_the_letters_i_o_z_s_v_are_named_when_they_appear(letter: str) -> None:
    with pytest.raises(InvalidCreditCode, match=f"不使用字母 I、O、Z、S、V，请检查其中的 {letter}"):
        validate_credit_code("91310115MA1K4277" + letter + "2")


@pytest.mark.parametrize("code", ["91310115MA1K4277_2", "91310115MA1K4277-2", "91310115MA1K4277中2"])
def test_characters_that_are_not_digits_or_letters_are_refused(code: str) -> None:
    with pytest.raises(InvalidCreditCode, match="只能由数字和大写英文字母组成"):
        validate_credit_code(code)


def test_the_administrative_division_must_be_six_digits() -> None:
    with pytest.raises(InvalidCreditCode, match="第 3–8 位（登记管理机关行政区划码）应为 6 位数字"):
        validate_credit_code("9131A115MA1K427762")


def test_the_error_message_never_contains_the_code_itself() -> None:
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code("91310115MA1K427763")
    assert "91310115" not in caught.value.detail


body_chars = st.sampled_from(CREDIT_CODE_CHARS)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    """Any code built by the standard's rules: 2 code characters, 6 digits, an 8-character body with its
    GB 11714 check character, and the GB 32100 check character."""
    head = "".join(draw(st.lists(body_chars, min_size=2, max_size=2)))
    division = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=6, max_size=6)))
    body = "".join(draw(st.lists(body_chars, min_size=8, max_size=8)))
    first17 = head + division + body + org_code_check_char(body)
    return first17 + credit_code_check_char(first17)


@PURE
@given(credit_codes())
def test_any_code_built_with_both_check_characters_validates(code: str) -> None:
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code


@PURE
@given(credit_codes(), st.integers(min_value=0, max_value=17), body_chars)
def test_changing_any_one_character_of_a_valid_code_is_caught(code: str, position: int, new: str) -> None:
    changed = code[:position] + new + code[position + 1 :]
    if changed != code:
        with pytest.raises(InvalidCreditCode):
            validate_credit_code(changed)


@pytest.mark.parametrize("code", ["332725243", "77976576X", "MA1K42776", "425006117"])
def test_organisation_codes_inside_real_credit_codes_validate(code: str) -> None:
    assert validate_org_code(code) == code


def test_an_organisation_code_printed_with_its_hyphen_is_accepted_without_it() -> None:
    assert validate_org_code("33272524-3") == "332725243"
    assert validate_org_code("77976576-x") == "77976576X"


@pytest.mark.parametrize(
    ("code", "reason"),
    [("332725244", "第 9 位校验码不正确"), ("33272524", "应为 9 位"), ("3327_5243", "前 8 位只能是")],
)
def test_a_bad_organisation_code_says_what_is_wrong(code: str, reason: str) -> None:
    with pytest.raises(InvalidOrgCode, match=reason):
        validate_org_code(code)


@PURE
@given(st.lists(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=8, max_size=8))
def test_any_organisation_body_with_its_computed_check_character_validates(body: list[str]) -> None:
    code = "".join(body) + org_code_check_char("".join(body))
    assert validate_org_code(code) == code
