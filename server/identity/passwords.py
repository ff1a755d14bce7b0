"""Password hashing (argon2id) and the policy a new password must meet.

Decision: 等保 versus ASVS. GB/T 22239-2019 (MLPS 2.0) level 2, 安全计算环境 身份鉴别 a, asks that passwords
be complex and changed periodically; assessors expect at least 8 characters from 3 of the 4 classes
(upper case, lower case, digits, special characters), a 90-day maximum age and no reuse of the last 5.
OWASP ASVS 5.0 forbids exactly these: composition rules (6.2.5, L1) and forced rotation (6.2.10, L2). It
asks instead for length (at least 8, 15 recommended), room for long passphrases (at least 64 characters,
6.2.9) and a check against common passwords (6.2.4). Both are therefore settings of one `PasswordPolicy`,
not two code paths: `MLPS_LEVEL2` (the default, because the platform is assessed under 等保) and `ASVS_L2`
(min 12, no composition rules, no rotation). Both presets refuse common passwords and passwords that
contain the login name or the person's name, which neither framework forbids and both encourage.

Passwords are compared after NFKC normalisation, so a password typed in a Chinese input method's
full-width mode (ＡＢＣ１２３) equals its half-width form.
Must not: log, store or return a password; compare hashes with `==`; or hash on the event loop from async
code (use the `*_async` functions, which run argon2 in a worker thread; argon2-cffi releases the GIL).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Final, Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.errors import InvalidInput
from server.identity.common_passwords import COMMON_PASSWORDS

logger = logging.getLogger(__name__)

# argon2id, measured on the 2-core development VM (load ≈ 1.7, median of 15 hashes, single thread):
#   t=2, 19 MiB: 54 ms · t=3, 19 MiB: 79 ms · t=1, 32 MiB: 73 ms · t=2, 32 MiB: 93 ms · t=1, 46 MiB: 84 ms
#   t=2, 64 MiB: 249 ms · t=3, 64 MiB (argon2-cffi default, p=4): 202 ms
# We take t=2 with 32 MiB: within the 50-100 ms a login can afford, above OWASP's 19 MiB floor, and 32 MiB
# per concurrent login keeps a burst of logins well inside a node's memory. p=1 because the server
# parallelises across requests, not within one hash. Changing these makes old hashes `needs_rehash`.
TIME_COST: Final = 2
MEMORY_COST_KIB: Final = 32 * 1024
PARALLELISM: Final = 1
HASH_LENGTH: Final = 32  # bytes; RFC 9106 §4 recommends 256-bit tags
SALT_LENGTH: Final = 16  # bytes; RFC 9106 §3.1 recommends 128-bit salts

_HASHER: Final = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=HASH_LENGTH,
    salt_len=SALT_LENGTH,
    type=Type.ID,
)

# A login name or a person's name shorter than this (ASCII) is too common a substring to forbid.
MIN_CONTEXT_WORD_LENGTH: Final = 3
# Two Chinese characters already name a person (张三), so non-ASCII words count from this length.
MIN_CONTEXT_WORD_LENGTH_CJK: Final = 2


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether a password matched its stored hash, and whether that hash should be replaced by a new one
    made with the current parameters (only ever true when it matched)."""

    matches: bool
    needs_rehash: bool


def hash_password(password: str) -> str:
    """An argon2id PHC string (`$argon2id$v=19$m=…`) with a fresh random salt. Blocks for ~90 ms."""
    return _HASHER.hash(_normal(password))


def verify_password(stored_hash: str | None, password: str) -> Verification:
    """Checks `password` against `stored_hash` in constant time (libargon2 compares the tags so).

    `None` stands for an account that does not exist: a dummy hash is verified instead, so the time taken
    does not tell an attacker which login names exist. An unreadable stored hash never matches.
    """
    if stored_hash is None:
        _matches(_dummy_hash(), password)
        return Verification(matches=False, needs_rehash=False)
    if not _matches(stored_hash, password):
        return Verification(matches=False, needs_rehash=False)
    return Verification(matches=True, needs_rehash=_HASHER.check_needs_rehash(stored_hash))


# At most this many hashes run at once per process: each takes a core and MEMORY_COST_KIB of memory, and
# more threads than cores only make every login slower (the rest wait their turn, in order).
HASH_SLOTS: Final = max(2, os.cpu_count() or 2)
_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(HASH_SLOTS)
    return slot


async def hash_password_async(password: str) -> str:
    """`hash_password` in a worker thread, for async code; bounded by `HASH_SLOTS`."""
    async with _slot():
        return await asyncio.to_thread(hash_password, password)


async def verify_password_async(stored_hash: str | None, password: str) -> Verification:
    """`verify_password` in a worker thread, for async code; bounded by `HASH_SLOTS`."""
    async with _slot():
        return await asyncio.to_thread(verify_password, stored_hash, password)


class WeakPassword(InvalidInput):
    code, message = "weak_password", "密码不符合要求"


PolicyPreset = Literal["mlps_level2", "asvs_l2"]


class PasswordPolicy(BaseModel):
    """What a new password must satisfy. The defaults are the 等保 level-2 values (see the module's
    decision); `ASVS_L2` is the alternative preset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_length: int = Field(default=8, ge=1, le=64)
    max_length: int = Field(default=128, ge=64, le=1024, description="ASVS 6.2.9: at least 64 allowed")
    min_character_classes: int = Field(default=3, ge=0, le=4, description="of upper, lower, digit, special")
    max_age_days: int | None = Field(default=90, ge=1, description="None: never forced to change")
    history_size: int = Field(default=5, ge=0, le=24, description="the last N passwords may not be reused")
    reject_common: bool = True

    @model_validator(mode="after")
    def _lengths_in_order(self) -> PasswordPolicy:
        if self.min_length > self.max_length:
            raise ValueError("min_length must not exceed max_length")
        return self


MLPS_LEVEL2: Final = PasswordPolicy()
ASVS_L2: Final = PasswordPolicy(min_length=12, min_character_classes=0, max_age_days=None, history_size=0)
PRESETS: Final[Mapping[PolicyPreset, PasswordPolicy]] = MappingProxyType(
    {"mlps_level2": MLPS_LEVEL2, "asvs_l2": ASVS_L2}
)


def check_password(policy: PasswordPolicy, password: str, *, login: str, display_name: str) -> None:
    """Raises `WeakPassword` (422) listing, in Chinese, every rule of `policy` the password breaks; its
    `rules` field names them for clients (too_short, too_long, too_few_classes, common, contains_login,
    contains_name). Reuse is `check_not_reused`, which needs the stored hashes."""
    candidate = _normal(password)
    folded = candidate.casefold()
    broken: list[tuple[str, str]] = []
    if len(candidate) < policy.min_length:
        broken.append(("too_short", f"长度至少 {policy.min_length} 位"))
    if len(candidate) > policy.max_length:
        broken.append(("too_long", f"长度不能超过 {policy.max_length} 位"))
    if character_classes(candidate) < policy.min_character_classes:
        text = f"须包含大写字母、小写字母、数字、特殊字符中的至少 {policy.min_character_classes} 类"
        broken.append(("too_few_classes", text))
    if policy.reject_common and folded in COMMON_PASSWORDS:
        broken.append(("common", "不能使用常见的弱密码"))
    if any(word in folded for word in _context_words(login)):
        broken.append(("contains_login", "不能包含登录名"))
    if any(word in folded for word in _context_words(display_name)):
        broken.append(("contains_name", "不能包含姓名"))
    if broken:
        raise WeakPassword(
            "密码不符合要求：" + "；".join(text for _, text in broken), rules=[rule for rule, _ in broken]
        )


async def check_not_reused(policy: PasswordPolicy, password: str, previous_hashes: Sequence[str]) -> None:
    """Raises `WeakPassword` when `password` matches one of the last `policy.history_size` hashes.
    `previous_hashes` is newest first and includes the current password's hash."""
    recent = list(previous_hashes[: policy.history_size])
    reused = bool(recent) and await asyncio.to_thread(_matches_any, recent, password)
    if reused:
        raise WeakPassword(
            f"密码不符合要求：不能与最近 {policy.history_size} 次使用过的密码相同", rules=["reused"]
        )


def password_expired(policy: PasswordPolicy, changed_at: datetime, now: datetime) -> bool:
    """Whether a password set at `changed_at` must be changed at `now` (both time-zone aware)."""
    if changed_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("password_expired needs time-zone-aware datetimes")
    if policy.max_age_days is None:
        return False
    return now - changed_at >= timedelta(days=policy.max_age_days)


def character_classes(password: str) -> int:
    """How many of the 4 classes appear: ASCII upper case, ASCII lower case, ASCII digits, and anything
    else (punctuation, spaces, Chinese characters) as special characters, after NFKC normalisation."""
    password = _normal(password)
    upper = any("A" <= c <= "Z" for c in password)
    lower = any("a" <= c <= "z" for c in password)
    digit = any("0" <= c <= "9" for c in password)
    special = any(not (c.isascii() and c.isalnum()) for c in password)
    return upper + lower + digit + special


def _normal(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _context_words(value: str) -> set[str]:
    """The whole value (spaces removed) and its space-separated parts, case-folded, long enough to matter."""
    folded = _normal(value).casefold()
    words = {"".join(folded.split()), *folded.split()}
    return {
        w
        for w in words
        if len(w) >= MIN_CONTEXT_WORD_LENGTH or (len(w) >= MIN_CONTEXT_WORD_LENGTH_CJK and not w.isascii())
    }


def _matches(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, _normal(password))
    except VerificationError:
        return False
    except InvalidHashError:
        logger.warning("identity.password_hash_unreadable")
        return False


def _matches_any(stored_hashes: Sequence[str], password: str) -> bool:
    return any(_matches(h, password) for h in stored_hashes)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
