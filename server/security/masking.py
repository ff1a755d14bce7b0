"""Masked display of personal data (phone numbers, ID card numbers, names) on pages and in documents.

The masked form keeps the characters people use to recognise their own record (the last digits, the
surname) and hides the rest with one '*' per character, so the length still shows.
Must not: be treated as protection of stored data (that is `fields`), or be used on values in logs
(personal data does not go into logs at all).
"""

from __future__ import annotations

MASK = "*"


def mask_phone(phone: str) -> str:
    """`13812341234` → `138****1234`; 8 to 10 characters keep the last 4; shorter ones are all masked."""
    value = phone.strip()
    if len(value) >= 11:
        return _keep(value, 3, 4)
    if len(value) >= 8:
        return _keep(value, 0, 4)
    return MASK * len(value)


def mask_id_card(number: str) -> str:
    """`310101199001011234` → `310***********1234`: the birth date and district never show. Other
    documents (passports, permits) of 6 to 14 characters keep the first and the last 2."""
    value = number.strip()
    if len(value) >= 15:
        return _keep(value, 3, 4)
    if len(value) >= 6:
        return _keep(value, 1, 2)
    return MASK * len(value)


def mask_name(name: str) -> str:
    """`张三` → `张*`, `欧阳娜娜` → `欧***`: only the first character shows; a one-character name is `*`."""
    value = name.strip()
    if len(value) <= 1:
        return MASK * len(value)
    return _keep(value, 1, 0)


def _keep(value: str, head: int, tail: int) -> str:
    return value[:head] + MASK * (len(value) - head - tail) + value[len(value) - tail :]
