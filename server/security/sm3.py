"""SM3 hashing (GB/T 32905) and HMAC-SM3, one-shot and streamed.

Backed by pyca/cryptography, whose wheel bundles its own OpenSSL with SM3, so it works even where the
system OpenSSL (and with it `hashlib.new("sm3")`) lacks SM3 (FIPS builds, some distributions); the
streamed `Sm3` prefers hashlib when it has SM3 (see there).
Must not: be used to store passwords (that needs a slow KDF) or compare MACs with `==` (use `macs_equal`).
"""

from __future__ import annotations

import hashlib
import hmac as _stdlib_hmac
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

DIGEST_SIZE = 32


def sm3(data: bytes) -> bytes:
    hasher = hashes.Hash(hashes.SM3())
    hasher.update(data)
    return hasher.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = _hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def macs_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two MACs or digests."""
    return _stdlib_hmac.compare_digest(a, b)


def _hashlib_sm3() -> bool:
    """Whether the interpreter's OpenSSL has SM3 (and computes it right: the GB/T 32905 example)."""
    try:
        return hashlib.new("sm3", b"abc").hexdigest() == ABC_DIGEST
    except ValueError:
        return False


ABC_DIGEST = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
HASHLIB_SM3 = _hashlib_sm3()


class Sm3:
    """Incremental SM3 for inputs too large to hold in memory (files, streams). Backed by `hashlib`
    where its OpenSSL has SM3: it releases the GIL while hashing (cryptography's does not), so
    uploads hashed in worker threads leave the event loop free. Otherwise by cryptography."""

    def __init__(self, data: bytes = b"") -> None:
        self._hasher: Any = hashlib.new("sm3") if HASHLIB_SM3 else hashes.Hash(hashes.SM3())
        self._hasher.update(data)

    def update(self, data: bytes) -> None:
        self._hasher.update(data)

    def digest(self) -> bytes:
        """The digest of everything fed so far; the hasher can keep being fed afterwards."""
        if HASHLIB_SM3:
            return bytes(self._hasher.digest())
        return bytes(self._hasher.copy().finalize())

    def hexdigest(self) -> str:
        return self.digest().hex()


class HmacSm3:
    """Incremental HMAC-SM3, e.g. over a ciphertext being written (encrypt-then-MAC)."""

    def __init__(self, key: bytes) -> None:
        self._mac = _hmac.HMAC(key, hashes.SM3())

    def update(self, data: bytes) -> None:
        self._mac.update(data)

    def digest(self) -> bytes:
        return self._mac.copy().finalize()

    def verify(self, expected: bytes) -> bool:
        """Whether the MAC of everything fed so far equals `expected`, compared in constant time."""
        return macs_equal(self.digest(), expected)
