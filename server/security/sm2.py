"""SM2 (GB/T 32918) signatures, key wrapping and key generation, through GmSSL (gmssl-pyx, C).

Formats are OpenSSL 3's, so a third party checks our work with the `openssl` command line alone:
signatures are DER `SEQ{r, s}` over SM3(Z‖M) with the distinguishing ID (default 1234567812345678;
pass `-pkeyopt distid:...` to OpenSSL, whose own default ID is empty), and ciphertexts are GM/T 0009
DER `SEQ{x, y, C3, C2}` (C1C3C2). GmSSL reads every k from /dev/urandom and checks C3 on decryption,
which answers gmssl 3.2.2's defects 1 and 3 (shared/research/crypto.md §4). GmSSL prints a source-line
trace to stderr when a verification or decryption fails: noise, the outcome is what we return or raise.
Must not: expose the library's own types or errors, accept malformed DER, or sign in bulk inside a
request handler (a few hundred signatures/s per core: batch work goes to arq).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gmssl_pyx

from server.security import asn1, sm2_curve
from server.security.errors import CryptoError, IntegrityError
from server.security.sm2_keys import Sm2PrivateKey, Sm2PublicKey

DEFAULT_DISTINGUISHING_ID = b"1234567812345678"  # GM/T 0009 default; OpenSSL's default is empty
MAX_DISTINGUISHING_ID_BYTES = 8191 // 8  # ENTL is a 16-bit count of bits
MAX_WRAP_PLAINTEXT_BYTES = 255  # GmSSL's SM2_MAX_PLAINTEXT_SIZE: enough for keys, not for data
C3_SIZE = 32


def sm2_generate_keypair() -> Sm2PrivateKey:
    """A fresh key pair from GmSSL's CSPRNG."""
    with _library_errors():
        xy, d = gmssl_pyx.sm2_key_generate()
    return Sm2PrivateKey(d, Sm2PublicKey(xy))


def sm2_sign(
    private_key: Sm2PrivateKey, message: bytes, *, distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID
) -> bytes:
    """DER signature of SM3(Z‖message); two signatures of one message differ (k is random)."""
    _check_id(distinguishing_id)
    with _library_errors():
        signature: bytes = gmssl_pyx.sm2_sign(
            private_key.d, private_key.public_key.xy, message, distinguishing_id
        )
    return signature


def sm2_verify(
    public_key: Sm2PublicKey,
    message: bytes,
    signature: bytes,
    *,
    distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID,
) -> bool:
    """Whether `signature` (strict DER) is `public_key`'s over `message`; malformed input is False."""
    _check_id(distinguishing_id)
    try:
        signature_to_raw(signature)
        valid: bool = gmssl_pyx.sm2_verify(public_key.xy, message, signature, distinguishing_id)
    except (CryptoError, gmssl_pyx.GmsslInnerError):
        return False
    return valid is True


def sm2_encrypt(public_key: Sm2PublicKey, plaintext: bytes) -> bytes:
    """GM/T 0009 DER ciphertext of 1..255 bytes (a data key, not data), as `openssl pkeyutl -encrypt`."""
    if not 1 <= len(plaintext) <= MAX_WRAP_PLAINTEXT_BYTES:
        raise CryptoError("SM2 加密只用于包装密钥：明文应为 1 到 255 字节")
    with _library_errors():
        ciphertext: bytes = gmssl_pyx.sm2_encrypt(public_key.xy, plaintext)
    return ciphertext


def sm2_decrypt(private_key: Sm2PrivateKey, ciphertext: bytes) -> bytes:
    """Inverse of `sm2_encrypt`; raises `IntegrityError` when the DER is malformed, C1 is not on the
    curve or C3 does not match (tampered, truncated, or made for another key)."""
    try:
        body = asn1.read_single(ciphertext)
        x, y = body.read_unsigned(), body.read_unsigned()
        c3, c2 = body.read(asn1.OCTET_STRING), body.read(asn1.OCTET_STRING)
        body.done()
    except asn1.Asn1Error as exc:
        raise IntegrityError("SM2 密文不是有效的 GM/T 0009 结构") from exc
    if len(c3) != C3_SIZE or not c2 or not sm2_curve.is_on_curve(x, y):
        raise IntegrityError("SM2 密文不是有效的 GM/T 0009 结构")
    try:
        plaintext: bytes = gmssl_pyx.sm2_decrypt(private_key.d, ciphertext)
    except gmssl_pyx.GmsslInnerError as exc:
        raise IntegrityError("SM2 解密失败（密文被篡改或不是用该密钥加密的）") from exc
    return plaintext


def signature_to_raw(signature: bytes) -> bytes:
    """r‖s (64 bytes) from a strict DER signature, for systems that exchange raw signatures."""
    try:
        body = asn1.read_single(signature)
        r, s = body.read_unsigned(), body.read_unsigned()
        body.done()
    except asn1.Asn1Error as exc:
        raise CryptoError("SM2 签名不是有效的 DER 结构") from exc
    if not (0 < r < sm2_curve.N and 0 < s < sm2_curve.N):
        raise CryptoError("SM2 签名的 r 或 s 超出范围")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def signature_from_raw(raw: bytes) -> bytes:
    """DER `SEQ{r, s}` from r‖s (64 bytes)."""
    if len(raw) != 64:
        raise CryptoError("SM2 原始签名应为 64 字节 r‖s")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return asn1.sequence(asn1.integer(r), asn1.integer(s))


def _check_id(distinguishing_id: bytes) -> None:
    if not 1 <= len(distinguishing_id) <= MAX_DISTINGUISHING_ID_BYTES:
        raise CryptoError("SM2 用户标识（distinguishing ID）应为 1 到 1023 字节")


@contextmanager
def _library_errors() -> Iterator[None]:
    try:
        yield
    except gmssl_pyx.GmsslInnerError as exc:
        raise CryptoError("SM2 运算失败") from exc
