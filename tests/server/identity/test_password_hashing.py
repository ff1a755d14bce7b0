"""argon2id password hashes: verify, rehash when the parameters change, and never block the event loop."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from server.identity.passwords import (
    ASVS_L2,
    MLPS_LEVEL2,
    Verification,
    WeakPassword,
    check_not_reused,
    hash_password,
    hash_password_async,
    verify_password,
    verify_password_async,
)

PASSWORD = "Tongban#2026"
MATCH = Verification(matches=True, needs_rehash=False)
NO_MATCH = Verification(matches=False, needs_rehash=False)


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def test_a_hash_is_argon2id_with_the_declared_parameters(stored: str) -> None:
    assert stored.startswith("$argon2id$v=19$m=32768,t=2,p=1$")
    assert PASSWORD not in stored


def test_the_right_password_matches_and_needs_no_rehash(stored: str) -> None:
    assert verify_password(stored, PASSWORD) == MATCH


@pytest.mark.parametrize("attempt", ["tongban#2026", "Tongban#2026 ", "", "Tongban#202"])
def test_any_other_password_does_not_match(stored: str, attempt: str) -> None:
    assert verify_password(stored, attempt) == NO_MATCH


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_a_password_typed_in_full_width_mode_matches_its_half_width_form(stored: str) -> None:
    assert verify_password(stored, "Ｔｏｎｇｂａｎ＃２０２６") == MATCH


def test_a_hash_made_with_older_parameters_matches_and_asks_to_be_rehashed() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=2).hash(PASSWORD)
    assert verify_password(old, PASSWORD) == Verification(matches=True, needs_rehash=True)
    assert verify_password(old, "wrong password") == NO_MATCH


def test_an_account_that_does_not_exist_never_matches() -> None:
    assert verify_password(None, PASSWORD) == NO_MATCH
    assert verify_password(None, "") == NO_MATCH


@pytest.mark.parametrize(
    "broken", ["", "not a hash", "$argon2id$v=19$m=32768,t=2,p=1$AAAA$BBBB", "$2b$12$abc"]
)
def test_an_unreadable_stored_hash_never_matches_and_does_not_raise(broken: str) -> None:
    assert verify_password(broken, PASSWORD) == NO_MATCH


async def test_the_async_variants_hash_and_verify_in_a_worker_thread() -> None:
    stored = await hash_password_async(PASSWORD)
    assert await verify_password_async(stored, PASSWORD) == MATCH
    assert await verify_password_async(stored, "other") == NO_MATCH
    assert await verify_password_async(None, PASSWORD) == NO_MATCH


async def test_none_of_the_last_five_passwords_may_be_reused_under_mlps() -> None:
    history = [await hash_password_async(f"Earlier#{n}pass") for n in range(6)]  # newest first
    for n in range(5):
        with pytest.raises(WeakPassword, match="不能与最近 5 次使用过的密码相同") as caught:
            await check_not_reused(MLPS_LEVEL2, f"Earlier#{n}pass", history)
        assert caught.value.data == {"rules": ["reused"]}
    await check_not_reused(MLPS_LEVEL2, "Earlier#5pass", history)
    await check_not_reused(MLPS_LEVEL2, "Brand#New2026", history)


async def test_the_asvs_preset_keeps_no_password_history() -> None:
    await check_not_reused(ASVS_L2, PASSWORD, [await hash_password_async(PASSWORD)])
