"""The password policy: 等保 level-2 values by default, the ASVS preset as the documented alternative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from server.errors import InvalidInput
from server.identity.passwords import (
    ASVS_L2,
    MLPS_LEVEL2,
    PRESETS,
    PasswordPolicy,
    WeakPassword,
    character_classes,
    check_password,
    password_expired,
)

LOGIN = "zhangsan"
NAME = "张三"


def broken_rules(policy: PasswordPolicy, password: str, *, login: str = LOGIN, name: str = NAME) -> list[str]:
    try:
        check_password(policy, password, login=login, display_name=name)
    except WeakPassword as exc:
        rules = exc.data["rules"]
        assert isinstance(rules, list)
        return rules
    return []


def test_the_default_policy_carries_the_mlps_level_2_values() -> None:
    assert PasswordPolicy() == MLPS_LEVEL2 == PRESETS["mlps_level2"]
    assert (MLPS_LEVEL2.min_length, MLPS_LEVEL2.min_character_classes) == (8, 3)
    assert (MLPS_LEVEL2.max_age_days, MLPS_LEVEL2.history_size) == (90, 5)
    assert MLPS_LEVEL2.max_length >= 64


def test_the_asvs_preset_asks_for_length_only() -> None:
    assert PRESETS["asvs_l2"] == ASVS_L2
    assert (ASVS_L2.min_length, ASVS_L2.min_character_classes) == (12, 0)
    assert (ASVS_L2.max_age_days, ASVS_L2.history_size, ASVS_L2.reject_common) == (None, 0, True)


def test_a_good_password_passes_both_presets() -> None:
    assert broken_rules(MLPS_LEVEL2, "Tongban#2026") == []
    assert broken_rules(ASVS_L2, "Tongban#2026") == []


def test_a_short_simple_password_lists_every_broken_rule_in_one_chinese_message() -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password(MLPS_LEVEL2, "abc", login=LOGIN, display_name=NAME)
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert (error.status, error.code) == (422, "weak_password")
    assert error.data == {"rules": ["too_short", "too_few_classes"]}
    assert (
        error.detail == "密码不符合要求：长度至少 8 位；须包含大写字母、小写字母、数字、特殊字符中的至少 3 类"
    )


def test_a_long_passphrase_of_lowercase_words_shows_the_conflict_between_the_presets() -> None:
    passphrase = "correct horse battery staple"
    assert broken_rules(MLPS_LEVEL2, passphrase) == ["too_few_classes"]
    assert broken_rules(ASVS_L2, passphrase) == []


def test_a_complex_but_short_password_passes_mlps_and_is_too_short_for_asvs() -> None:
    assert broken_rules(MLPS_LEVEL2, "Xq7#vb2K") == []
    assert broken_rules(ASVS_L2, "Xq7#vb2K") == ["too_short"]


@pytest.mark.parametrize("password", ["P@ssw0rd", "Admin@123", "Aa123456", "qwertyuiop123", "Password1234"])
def test_common_passwords_are_refused_even_when_they_meet_the_composition_rules(password: str) -> None:
    assert "common" in broken_rules(MLPS_LEVEL2, password)
    assert "common" in broken_rules(ASVS_L2, password)


def test_the_common_password_check_can_be_switched_off() -> None:
    assert broken_rules(MLPS_LEVEL2.model_copy(update={"reject_common": False}), "P@ssw0rd") == []


def test_passwords_of_64_characters_are_allowed_and_beyond_the_maximum_are_not() -> None:
    assert broken_rules(MLPS_LEVEL2, "Aa1#" * 16) == []
    assert broken_rules(ASVS_L2, "Aa1#" * 16) == []
    too_long = "Aa1#" * 32 + "x"
    assert broken_rules(MLPS_LEVEL2, too_long) == ["too_long"]
    with pytest.raises(WeakPassword, match="长度不能超过 128 位"):
        check_password(MLPS_LEVEL2, too_long, login=LOGIN, display_name=NAME)


@pytest.mark.parametrize("password", ["Zhangsan#2026", "my-ZHANGSAN-pw1", "１zhangsan＃Ｘ"])
def test_a_password_containing_the_login_name_is_refused_whatever_its_case_or_width(password: str) -> None:
    assert broken_rules(MLPS_LEVEL2, password) == ["contains_login"]
    with pytest.raises(WeakPassword, match="不能包含登录名"):
        check_password(MLPS_LEVEL2, password, login="ZhangSan", display_name=NAME)


def test_a_password_containing_the_persons_name_is_refused() -> None:
    assert broken_rules(MLPS_LEVEL2, "张三Abc#2026") == ["contains_name"]
    assert broken_rules(MLPS_LEVEL2, "Smith#2026x", name="John Smith") == ["contains_name"]
    with pytest.raises(WeakPassword, match="不能包含姓名"):
        check_password(ASVS_L2, "我是张三的长密码啊啊啊啊", login=LOGIN, display_name=NAME)


def test_very_short_latin_logins_and_names_are_not_forbidden_substrings() -> None:
    assert broken_rules(MLPS_LEVEL2, "Police#2026x", login="li", name="Li") == []


def test_a_password_breaking_every_rule_lists_them_all_in_order() -> None:
    assert broken_rules(ASVS_L2, "zhangsan", login="zhangsan", name="zhangsan") == [
        "too_short",
        "contains_login",
        "contains_name",
    ]


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("abc", 1),
        ("abcABC", 2),
        ("abcABC123", 3),
        ("abcABC123!", 4),
        ("密码Abc", 3),
        ("a b", 2),
        ("ＡＢｃ１", 3),
    ],
)
def test_character_classes_count_upper_lower_digits_and_everything_else_after_normalising(
    password: str, classes: int
) -> None:
    assert character_classes(password) == classes


def test_full_width_characters_count_as_their_half_width_forms_in_the_policy() -> None:
    assert broken_rules(MLPS_LEVEL2, "Ｔｏｎｇｂａｎ＃２０２６") == []


def test_mlps_forces_a_change_after_90_days_and_asvs_never_does() -> None:
    changed = datetime(2026, 1, 1, tzinfo=UTC)
    assert not password_expired(MLPS_LEVEL2, changed, changed + timedelta(days=89, hours=23))
    assert password_expired(MLPS_LEVEL2, changed, changed + timedelta(days=90))
    assert not password_expired(ASVS_L2, changed, changed + timedelta(days=3650))


def test_expiry_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        password_expired(MLPS_LEVEL2, datetime(2026, 1, 1), datetime(2026, 6, 1))


@pytest.mark.parametrize(
    "settings",
    [
        {"max_length": 63},
        {"min_length": 0},
        {"min_character_classes": 5},
        {"min_length": 64, "max_length": 64, "history_size": -1},
        {"max_age_days": 0},
        {"rotate": True},
    ],
)
def test_a_policy_that_contradicts_asvs_length_or_itself_cannot_be_configured(
    settings: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        PasswordPolicy.model_validate(settings)


def test_a_policy_is_frozen() -> None:
    with pytest.raises(ValidationError):
        MLPS_LEVEL2.min_length = 4  # type: ignore[misc]
