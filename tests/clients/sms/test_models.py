"""SMS models: which numbers are accepted, and that a message cannot leak through its repr."""

from __future__ import annotations

import pytest

from clients.sms.models import mask_phone
from tests.clients.sms.conftest import CODE, PHONE, login_code


@pytest.mark.parametrize("phone", ["13012345678", "14512345678", "16612345678", "19912345678"])
def test_every_mainland_mobile_range_is_accepted(phone):
    assert login_code(phone=phone).phone == phone


def test_a_message_repr_shows_neither_the_phone_nor_the_code():
    shown = repr(login_code())
    assert PHONE not in shown
    assert CODE not in shown


@pytest.mark.parametrize(("phone", "masked"), [(PHONE, "138****5678"), ("not-a-phone", "***"), ("", "***")])
def test_a_phone_is_masked_to_its_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked
