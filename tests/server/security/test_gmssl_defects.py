"""The four defects of pure-Python gmssl 3.2.2 (shared/research/crypto.md §4), as properties of our module:
(1) SM2 nonces come from a CSPRNG, (2) every public key works whatever its leading hex digits,
(3) SM2 decryption checks C3, (4) SM4-CBC unpadding is checked."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from server.security import asn1, gm

SAMPLE_KEYS = 200
LEADING_0_OR_4_AT_LEAST = 20  # expected ≈ 200/8 = 25 in a random sample
MESSAGE = "审批意见：同意".encode()


def _r(signature: bytes) -> bytes:
    return gm.signature_to_raw(signature)[:32]


# (1) nonces


def test_two_signatures_of_one_message_use_different_nonces() -> None:
    key = gm.sm2_generate_keypair()
    first, second = gm.sm2_sign(key, MESSAGE), gm.sm2_sign(key, MESSAGE)
    # r = e + x1(k·G) mod n: with e fixed, equal r would mean a reused k and a recoverable private key.
    assert _r(first) != _r(second)
    assert gm.sm2_verify(key.public_key, MESSAGE, first)
    assert gm.sm2_verify(key.public_key, MESSAGE, second)


def test_seeding_pythons_random_does_not_reproduce_signature_or_encryption_nonces() -> None:
    key = gm.sm2_generate_keypair()
    random.seed(20240601)
    signature_a, ciphertext_a = gm.sm2_sign(key, MESSAGE), gm.sm2_encrypt(key.public_key, b"k" * 16)
    random.seed(20240601)
    signature_b, ciphertext_b = gm.sm2_sign(key, MESSAGE), gm.sm2_encrypt(key.public_key, b"k" * 16)
    assert _r(signature_a) != _r(signature_b)
    assert ciphertext_a[:68] != ciphertext_b[:68]  # C1 = k·G leads the ciphertext


def test_gcm_nonces_and_cbc_ivs_do_not_repeat_after_reseeding_random() -> None:
    random.seed(7)
    first = (gm.random_nonce(), gm.random_iv(), gm.random_key())
    random.seed(7)
    second = (gm.random_nonce(), gm.random_iv(), gm.random_key())
    assert all(a != b for a, b in zip(first, second, strict=True))


# (2) public keys with leading 0 / 4 hex digits


def _keys_with_x_starting(prefix: bytes) -> Iterator[gm.Sm2PrivateKey]:
    """Keys d = 1, 2, … whose X coordinate starts with `prefix` (small d make derivation cheap)."""
    d = 0
    while True:
        d += 1
        key = gm.Sm2PrivateKey.from_bytes(d.to_bytes(32, "big"))
        if key.public_key.xy.startswith(prefix):
            yield key


def _sample() -> list[gm.Sm2PrivateKey]:
    keys = [gm.sm2_generate_keypair() for _ in range(SAMPLE_KEYS)]
    with_04 = _keys_with_x_starting(b"\x04")
    with_00 = _keys_with_x_starting(b"\x00")
    keys += [next(with_04), next(with_04), next(with_00), next(with_00)]
    return keys


def test_two_hundred_random_keypairs_including_leading_0_and_4_digits_all_sign_and_verify() -> None:
    keys = _sample()
    leading = [k for k in keys if k.public_key.xy.hex()[0] in "04"]
    assert len(leading) >= LEADING_0_OR_4_AT_LEAST
    assert sum(k.public_key.xy.startswith(b"\x04") for k in keys) >= 2
    failures = []
    for key in keys:
        signature = gm.sm2_sign(key, MESSAGE)
        from_hex = gm.Sm2PublicKey.from_hex(key.public_key.to_hex())  # 04‖X‖Y
        from_bare = gm.Sm2PublicKey.from_bytes(key.public_key.xy)  # X‖Y
        if from_hex != key.public_key or from_bare != key.public_key:
            failures.append(("parse", key.public_key.to_hex()))
        elif not gm.sm2_verify(from_hex, MESSAGE, signature):
            failures.append(("verify", key.public_key.to_hex()))
    assert failures == []


def test_public_key_whose_x_starts_with_04_survives_every_encoding() -> None:
    key = next(_keys_with_x_starting(b"\x04"))
    public = key.public_key
    assert public.to_hex().startswith("0404")
    for again in (
        gm.Sm2PublicKey.from_bytes(public.xy),
        gm.Sm2PublicKey.from_bytes(public.to_bytes()),
        gm.Sm2PublicKey.from_hex(public.to_hex()),
        gm.Sm2PublicKey.from_pem(public.to_pem()),
        gm.Sm2PrivateKey.from_pem(key.to_pem()).public_key,
    ):
        assert again == public
    assert gm.sm2_decrypt(key, gm.sm2_encrypt(public, b"data key")) == b"data key"


# (3) C3 is checked


def _parts(ciphertext: bytes) -> tuple[int, int, bytes, bytes]:
    body = asn1.read_single(ciphertext)
    x, y = body.read_unsigned(), body.read_unsigned()
    return x, y, body.read(asn1.OCTET_STRING), body.read(asn1.OCTET_STRING)


def _ciphertext(x: int, y: int, c3: bytes, c2: bytes) -> bytes:
    return asn1.sequence(asn1.integer(x), asn1.integer(y), asn1.octet_string(c3), asn1.octet_string(c2))


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes((data[index] ^ 0x01,)) + data[index + 1 :]


def test_bit_flipped_sm2_ciphertext_is_refused_wherever_the_bit_is() -> None:
    key = gm.sm2_generate_keypair()
    plaintext = b"0123456789abcdef"  # crypto.md: gmssl returned "0123456789abcdeg" without complaint
    x, y, c3, c2 = _parts(gm.sm2_encrypt(key.public_key, plaintext))
    tampered = [
        _ciphertext(x, y, c3, _flip(c2, len(c2) - 1)),
        _ciphertext(x, y, c3, _flip(c2, 0)),
        _ciphertext(x, y, _flip(c3, 31), c2),
        _ciphertext(x ^ 1, y, c3, c2),
        _ciphertext(x, y ^ 1, c3, c2),
        _ciphertext(x, y, c3, c2[:-1]),
        _ciphertext(x, y, c3, c2 + b"\x00"),
        _ciphertext(x, y, c3[:-1], c2),
    ]
    for ciphertext in tampered:
        with pytest.raises(gm.IntegrityError):
            gm.sm2_decrypt(key, ciphertext)
    assert gm.sm2_decrypt(key, _ciphertext(x, y, c3, c2)) == plaintext


def test_sm2_ciphertext_with_broken_der_or_for_another_key_is_refused() -> None:
    key, other = gm.sm2_generate_keypair(), gm.sm2_generate_keypair()
    ciphertext = gm.sm2_encrypt(key.public_key, b"data key")
    for broken in (ciphertext[:-1], ciphertext + b"\x00", b"", b"\x30\x00", _flip(ciphertext, 0)):
        with pytest.raises(gm.IntegrityError):
            gm.sm2_decrypt(key, broken)
    with pytest.raises(gm.IntegrityError):
        gm.sm2_decrypt(other, ciphertext)


# (4) SM4-CBC unpadding is checked

CBC_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
CBC_IV = bytes.fromhex("0f0e0d0c0b0a09080706050403020100")
WRONG_KEY_TRIES = 2000
# A random last block passes a PKCS#7 check with probability Σ 256^-n ≈ 1/255, so ≈ 8 of 2000 are
# expected; 40 would be over 11 standard deviations out.
WRONG_KEY_SLIPS_AT_MOST = 40


def test_cbc_with_a_wrong_key_raises_instead_of_returning_garbage() -> None:
    ciphertext = gm.sm4_cbc_encrypt(CBC_KEY, CBC_IV, b"310101199001011234")
    with pytest.raises(gm.IntegrityError):
        gm.sm4_cbc_decrypt(bytes(16), CBC_IV, ciphertext)


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31])
def test_cbc_with_tampered_padding_raises(length: int) -> None:
    ciphertext = gm.sm4_cbc_encrypt(CBC_KEY, CBC_IV, b"p" * length)
    # Flipping bit 4 of the byte before the last block (or of the IV) moves the pad byte out of 1..16.
    if len(ciphertext) == 16:
        with pytest.raises(gm.IntegrityError):
            gm.sm4_cbc_decrypt(CBC_KEY, _flip_bit(CBC_IV, 15, 0x10), ciphertext)
    else:
        with pytest.raises(gm.IntegrityError):
            gm.sm4_cbc_decrypt(CBC_KEY, CBC_IV, _flip_bit(ciphertext, len(ciphertext) - 17, 0x10))
    for cut in (ciphertext[:-1], ciphertext[:-16], ciphertext + b"\x00"):
        with pytest.raises(gm.IntegrityError):
            gm.sm4_cbc_decrypt(CBC_KEY, CBC_IV, cut)


def _flip_bit(data: bytes, index: int, bit: int) -> bytes:
    return data[:index] + bytes((data[index] ^ bit,)) + data[index + 1 :]


def test_cbc_lets_a_wrong_key_past_the_padding_check_only_about_once_in_255_tries() -> None:
    plaintext = "张三 13812341234".encode()
    ciphertext = gm.sm4_cbc_encrypt(CBC_KEY, CBC_IV, plaintext)
    slipped = []
    for _ in range(WRONG_KEY_TRIES):
        try:
            slipped.append(gm.sm4_cbc_decrypt(gm.random_key(), CBC_IV, ciphertext))
        except gm.IntegrityError:
            continue
    assert len(slipped) <= WRONG_KEY_SLIPS_AT_MOST
    assert plaintext not in slipped


def test_gcm_refuses_every_wrong_key_which_is_why_stored_data_uses_it() -> None:
    nonce = gm.random_nonce()
    sealed = gm.sm4_gcm_encrypt(CBC_KEY, nonce, "张三 13812341234".encode(), b"aad")
    for _ in range(WRONG_KEY_TRIES):
        with pytest.raises(gm.IntegrityError):
            gm.sm4_gcm_decrypt(gm.random_key(), nonce, sealed, b"aad")
