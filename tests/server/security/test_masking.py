"""Masked display of phone numbers, ID card numbers and names."""

from __future__ import annotations

import pytest

from server.security import gm


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812341234", "138****1234"),
        (" 13812341234 ", "138****1234"),
        ("021-62345678", "021*****5678"),
        ("62345678", "****5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_phone_numbers_show_at_most_the_first_three_and_last_four(phone: str, shown: str) -> None:
    assert gm.mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("310101199001011234", "310***********1234"),
        ("31010119900101123X", "310***********123X"),
        ("310101900101123", "310********1123"),
        ("E12345678", "E******78"),
        ("12345", "*****"),
    ],
)
def test_id_card_numbers_hide_district_and_birth_date(number: str, shown: str) -> None:
    assert gm.mask_id_card(number) == shown
    assert len(gm.mask_id_card(number)) == len(number)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三", "张*"),
        ("李小明", "李**"),
        ("欧阳娜娜", "欧***"),
        ("王", "*"),
        ("", ""),
        ("John Smith", "J*********"),
    ],
)
def test_names_show_only_their_first_character(name: str, shown: str) -> None:
    assert gm.mask_name(name) == shown
