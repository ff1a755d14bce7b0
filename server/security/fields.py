"""Personal data at rest: sealed fields (SM4-GCM) and blind indexes (HMAC-SM3) for exact-match lookup.

A sealed field is one compact binary value, stored as `bytea`:

    version (1 byte, 0x01) ‖ key-id length (1) ‖ key id (ASCII) ‖ nonce (12) ‖ ciphertext ‖ tag (16)

The key id travels with the value, so keys rotate without a flag day: seal with the current key, open
with whichever key the value names (`sealed_key_id` finds the values still under an old key). The GCM
AAD is the header (version, key id) followed by the caller's AAD, which should name where the value
lives (`b"person|id_card|<primary key>"`), so a value copied to another row or column fails to open.
Must not: reuse a nonce (each comes from `secrets`), fetch keys (callers pass them from the key store),
return unauthenticated plaintext, or use the field key as the blind-index key (keep one key per purpose).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from server.security import sm3, sm4
from server.security.errors import IntegrityError, InvalidKey, UnknownKey

FORMAT_V1 = 0x01
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MIN_INDEX_KEY_BYTES = 16
_HEADER_FIXED = 2  # version, key-id length
_SMALLEST = _HEADER_FIXED + 1 + sm4.GCM_NONCE_SIZE + sm4.GCM_TAG_SIZE


def seal_field(key_id: str, key: bytes, plaintext: str, aad: bytes) -> bytes:
    """Encrypt and authenticate `plaintext` under `key` (16 bytes), naming `key_id` in the result."""
    header = _header(key_id)
    nonce = sm4.random_nonce()
    return header + nonce + sm4.sm4_gcm_encrypt(key, nonce, plaintext.encode("utf-8"), header + aad)


def open_field(keys: Mapping[str, bytes], sealed: bytes, aad: bytes) -> str:
    """The plaintext of a `seal_field` value, with the key its header names. Raises `UnknownKey` when
    `keys` lacks it and `IntegrityError` when the value, its key id or `aad` was altered."""
    key_id = sealed_key_id(sealed)
    key = keys.get(key_id)
    if key is None:
        raise UnknownKey()
    header_size = _HEADER_FIXED + len(key_id)
    header, nonce = sealed[:header_size], sealed[header_size : header_size + sm4.GCM_NONCE_SIZE]
    body = sealed[header_size + sm4.GCM_NONCE_SIZE :]
    plaintext = sm4.sm4_gcm_decrypt(key, nonce, body, header + aad)
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError as exc:  # authentic but not ours: sealed by something else
        raise IntegrityError("加密字段的内容不是 UTF-8 文本") from exc


def sealed_key_id(sealed: bytes) -> str:
    """The key id a sealed value names (not yet authenticated: `open_field` checks it)."""
    if len(sealed) < _SMALLEST or sealed[0] != FORMAT_V1:
        raise IntegrityError("加密字段格式无效或版本不受支持")
    size = sealed[1]
    if len(sealed) < _SMALLEST - 1 + size:
        raise IntegrityError("加密字段被截断")
    key_id = sealed[_HEADER_FIXED : _HEADER_FIXED + size].decode("ascii", "replace")
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise IntegrityError("加密字段的密钥标识无效")
    return key_id


def normalise_for_index(value: str) -> str:
    """The form two inputs meaning the same value share: NFKC (full-width digits and letters become
    ASCII), case-folded (身份证 'x' = 'X'), trimmed, inner whitespace runs collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def blind_index(key: bytes, value: str) -> str:
    """HMAC-SM3 of the normalised value as 64 hex digits: equal values give equal indexes under one key,
    and without the key the index reveals nothing but equality. Use one key per column."""
    if len(key) < MIN_INDEX_KEY_BYTES:
        raise InvalidKey("盲索引密钥至少应为 16 字节")
    return sm3.hmac_sm3(key, normalise_for_index(value).encode("utf-8")).hex()


def _header(key_id: str) -> bytes:
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise InvalidKey("密钥标识应为 1 到 64 个字母、数字或 ._:- 字符")
    return bytes((FORMAT_V1, len(key_id))) + key_id.encode("ascii")
