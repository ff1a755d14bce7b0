"""Official test vectors: SM4 (GB/T 32907 A.1, A.2), SM3 (GB/T 32905 A.1, A.2), SM4-GCM (RFC 8998
A.1) and the SM2 signature example of GM/T 0003.5 / GB/T 32918.5 Annex A.

GmSSL cannot sign with a chosen k, so the SM2 example is checked by verification, and by deriving its
public key from its private key with our own curve code."""

from __future__ import annotations

import pytest

from server.security import asn1, gm
from server.security import sm3 as sm3_module

SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
ZERO_BLOCK = bytes(16)

SM2_D = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
SM2_PUBLIC = bytes.fromhex(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
SM2_R = int("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3", 16)
SM2_S = int("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA", 16)
SM2_MESSAGE = b"message digest"


def test_sm4_encrypts_the_gbt_32907_a1_block() -> None:
    # CBC with a zero IV makes the first ciphertext block E(P).
    block = gm.sm4_cbc_encrypt(SM4_KEY, ZERO_BLOCK, SM4_KEY)[:16]
    assert block.hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_reaches_the_gbt_32907_a2_block_after_a_million_encryptions() -> None:
    # CBC over 10^6 zero blocks with IV = P chains E 10^6 times; the last block before padding is E^(10^6)(P).
    ciphertext = gm.sm4_cbc_encrypt(SM4_KEY, SM4_KEY, bytes(16 * 1_000_000))
    assert ciphertext[-32:-16].hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm3_hashes_abc_as_gbt_32905_a1() -> None:
    assert gm.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm3_hashes_abcd_sixteen_times_as_gbt_32905_a2() -> None:
    expected = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert gm.sm3_hex(b"abcd" * 16) == expected


def test_streamed_sm3_equals_one_shot_sm3_whatever_the_chunking() -> None:
    hasher = gm.Sm3()
    for chunk in (b"ab", b"", b"cdabcd", b"abcd" * 13, b"ab", b"cd"):
        hasher.update(chunk)
    assert hasher.digest() == gm.sm3(b"abcd" * 16)


def test_streamed_sm3_gives_the_same_digest_on_either_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * 4099
    digests = []
    for use_hashlib in (True, False):
        monkeypatch.setattr(sm3_module, "HASHLIB_SM3", use_hashlib and sm3_module.HASHLIB_SM3)
        hasher = sm3_module.Sm3(data[:1000])
        hasher.update(data[1000:])
        digests.append(hasher.digest())
        hasher.update(b"x")  # still usable after a digest
        assert hasher.digest() == gm.sm3(data + b"x")
    assert digests == [gm.sm3(data)] * 2


def test_sm4_gcm_matches_rfc_8998_a1_and_refuses_any_altered_byte() -> None:
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    expected = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )
    assert gm.sm4_gcm_encrypt(SM4_KEY, nonce, plaintext, aad) == expected
    assert gm.sm4_gcm_decrypt(SM4_KEY, nonce, expected, aad) == plaintext
    for index in range(len(expected)):
        altered = bytearray(expected)
        altered[index] ^= 0x01
        try:
            gm.sm4_gcm_decrypt(SM4_KEY, nonce, bytes(altered), aad)
        except gm.IntegrityError:
            continue
        raise AssertionError(f"a flipped bit at byte {index} was accepted")


def test_sm2_verifies_the_gmt_0003_annex_a_signature_with_the_default_id() -> None:
    public_key = gm.Sm2PublicKey(SM2_PUBLIC)
    signature = asn1.sequence(asn1.integer(SM2_R), asn1.integer(SM2_S))
    assert gm.DEFAULT_DISTINGUISHING_ID == b"1234567812345678"
    assert gm.sm2_verify(public_key, SM2_MESSAGE, signature)
    assert gm.signature_to_raw(signature) == SM2_R.to_bytes(32, "big") + SM2_S.to_bytes(32, "big")


def test_sm2_annex_a_signature_fails_for_another_message_id_or_s() -> None:
    public_key = gm.Sm2PublicKey(SM2_PUBLIC)
    signature = asn1.sequence(asn1.integer(SM2_R), asn1.integer(SM2_S))
    other_s = asn1.sequence(asn1.integer(SM2_R), asn1.integer(SM2_S ^ 1))
    assert not gm.sm2_verify(public_key, b"message digesT", signature)
    assert not gm.sm2_verify(public_key, SM2_MESSAGE, signature, distinguishing_id=b"1234567812345679")
    assert not gm.sm2_verify(public_key, SM2_MESSAGE, other_s)


def test_sm2_annex_a_private_key_yields_its_published_public_key() -> None:
    assert gm.Sm2PrivateKey.from_bytes(SM2_D).public_key.xy == SM2_PUBLIC


def test_sm2_annex_a_private_key_signs_what_its_public_key_verifies() -> None:
    private_key = gm.Sm2PrivateKey.from_bytes(SM2_D)
    signature = gm.sm2_sign(private_key, SM2_MESSAGE)
    assert gm.sm2_verify(gm.Sm2PublicKey(SM2_PUBLIC), SM2_MESSAGE, signature)
