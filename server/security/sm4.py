"""SM4 (GB/T 32907) in the three modes the platform uses: GCM, CTR and CBC, via pyca/cryptography.

* GCM (RFC 8998) is authenticated: use it for anything we store (`fields` builds on it).
* CTR is the bulk cipher of sealed files, always paired with HMAC-SM3 (encrypt-then-MAC) by its caller.
* CBC with PKCS#7 exists for systems that mandate it. Its unpadding is checked and raises, so a wrong
  key or tampered tail is refused about 255 times in 256; only a MAC or GCM refuses it every time.
IVs, counters and nonces come from `secrets` (`random_iv`, `random_nonce`, `random_key`).
Must not: return unchecked plaintext, accept keys other than 16 bytes or GCM nonces other than 12 bytes,
or be offered as a CBC decryption service for untrusted input (a padding oracle).
"""

from __future__ import annotations

import secrets
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from server.security.errors import CryptoError, IntegrityError, InvalidKey

KEY_SIZE = 16
BLOCK_SIZE = 16
GCM_NONCE_SIZE = 12  # RFC 8998 §3.1; other lengths would go through GHASH
GCM_TAG_SIZE = 16

_Mode = TypeVar("_Mode", bound=modes.Mode)


def random_key() -> bytes:
    return secrets.token_bytes(KEY_SIZE)


def random_iv() -> bytes:
    """A fresh 16-byte IV (CBC) or initial counter block (CTR)."""
    return secrets.token_bytes(BLOCK_SIZE)


def random_nonce() -> bytes:
    """A fresh 12-byte GCM nonce; random nonces are safe for up to 2^32 messages under one key."""
    return secrets.token_bytes(GCM_NONCE_SIZE)


def sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """SM4-CBC with PKCS#7 padding, as `openssl enc -sm4-cbc -K key -iv iv` writes it."""
    padder = padding.PKCS7(BLOCK_SIZE * 8).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = _cipher(key, modes.CBC(_block(iv))).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def sm4_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """Inverse of `sm4_cbc_encrypt`; raises `IntegrityError` on a bad length or bad padding."""
    if not ciphertext or len(ciphertext) % BLOCK_SIZE:
        raise IntegrityError("SM4-CBC 密文长度不是分组长度的整数倍")
    decryptor = _cipher(key, modes.CBC(_block(iv))).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(BLOCK_SIZE * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise IntegrityError("SM4-CBC 解密失败：填充无效（密钥错误或密文被篡改）") from exc


def sm4_ctr_encrypt(key: bytes, counter: bytes, data: bytes) -> bytes:
    """SM4-CTR from a 16-byte initial counter block (big-endian increment, as OpenSSL). Never reuse
    (key, counter): fresh keys per file or `random_iv()` counters."""
    encryptor = _cipher(key, modes.CTR(_block(counter))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def sm4_ctr_decrypt(key: bytes, counter: bytes, data: bytes) -> bytes:
    """CTR decryption is the same keystream XOR; it proves nothing about integrity (check the MAC first)."""
    return sm4_ctr_encrypt(key, counter, data)


class Sm4CtrStream:
    """SM4-CTR over a stream of chunks of any size (for files too large to hold in memory)."""

    def __init__(self, key: bytes, counter: bytes) -> None:
        self._context: CipherContext = _cipher(key, modes.CTR(_block(counter))).encryptor()

    def update(self, chunk: bytes) -> bytes:
        return self._context.update(chunk)


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM (RFC 8998): ciphertext followed by the 16-byte tag. `nonce` must never repeat under `key`."""
    encryptor = _cipher(key, modes.GCM(_nonce(nonce))).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """Inverse of `sm4_gcm_encrypt`; raises `IntegrityError` unless key, nonce, data and AAD all match."""
    if len(sealed) < GCM_TAG_SIZE:
        raise IntegrityError("SM4-GCM 密文过短")
    body, tag = sealed[:-GCM_TAG_SIZE], sealed[-GCM_TAG_SIZE:]
    decryptor = _cipher(key, modes.GCM(_nonce(nonce), tag, min_tag_length=GCM_TAG_SIZE)).decryptor()
    decryptor.authenticate_additional_data(aad)
    plaintext = decryptor.update(body)
    try:
        decryptor.finalize()
    except InvalidTag as exc:
        raise IntegrityError("SM4-GCM 认证失败（密钥错误或数据被篡改）") from exc
    return plaintext


def _cipher(key: bytes, mode: _Mode) -> Cipher[_Mode]:
    if len(key) != KEY_SIZE:
        raise InvalidKey("SM4 密钥应为 16 字节")
    return Cipher(algorithms.SM4(key), mode)


def _block(iv: bytes) -> bytes:
    if len(iv) != BLOCK_SIZE:
        raise CryptoError("SM4 的 IV 或初始计数器应为 16 字节")
    return iv


def _nonce(nonce: bytes) -> bytes:
    if len(nonce) != GCM_NONCE_SIZE:
        raise CryptoError("SM4-GCM 的 nonce 应为 12 字节")
    return nonce
