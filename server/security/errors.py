"""Errors of the crypto module, as part of the one `TongbanError` hierarchy.

Messages are user-facing Chinese and say what failed, never with key material, plaintext or ciphertext.
Must not: carry `data` fields (they would reach the HTTP response).
"""

from __future__ import annotations

from server.errors import TongbanError


class CryptoError(TongbanError):
    """A cryptographic operation could not be carried out (bad length, unsupported input, library error)."""

    status, code, message = 500, "crypto_error", "密码运算失败"


class IntegrityError(CryptoError):
    """Decryption or verification found data that was tampered with, truncated or made with another key."""

    code, message = "integrity_check_failed", "数据完整性校验失败：数据可能被篡改或密钥不匹配"


class InvalidKey(CryptoError):
    """A key (PEM, DER, raw bytes or hex) is malformed, of the wrong algorithm or not on the SM2 curve."""

    status, code, message = 422, "invalid_key", "密钥格式无效"


class UnknownKey(CryptoError):
    """Sealed data names a key id that the caller's key ring does not hold."""

    code, message = "unknown_key", "找不到加密该数据所用的密钥"
