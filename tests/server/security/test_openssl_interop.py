"""Our SM2/SM3/SM4 against the `openssl` command line (OpenSSL 3), in both directions: what either side
writes, the other reads. OpenSSL's default SM2 ID is empty, so every SM2 command passes distid."""

from __future__ import annotations

import pytest

from server.security import asn1, gm
from tests.server.security.conftest import DISTID, OpenSsl

MESSAGE = "联审平台 施工许可 审批意见：同意。\n".encode() * 20
SM4_KEY = bytes.fromhex("6a1f0e2d3c4b5a69788796a5b4c3d2e1")
PLAINTEXT_LENGTHS = [0, 1, 15, 16, 17, 1000]
ENCRYPTION_ROUNDS = 6  # C1 coordinates with and without DER's leading 00 byte are each 50/50
SHORT_COORDINATE_TRIES = 4000  # a 31-byte coordinate turns up once in ~128 encryptions (x or y)


def _openssl_key(openssl: OpenSsl) -> gm.Sm2PrivateKey:
    openssl.run("genpkey", "-algorithm", "SM2", "-out", "key.pem")
    openssl.run("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem")
    return gm.Sm2PrivateKey.from_pem(openssl.path("key.pem").read_text())


def _write_our_key(openssl: OpenSsl) -> gm.Sm2PrivateKey:
    key = gm.sm2_generate_keypair()
    openssl.path("ours.pem").write_text(key.to_pem())
    openssl.path("ours.pub").write_text(key.public_key.to_pem())
    return key


def test_openssl_generated_private_key_loads_and_matches_its_public_pem(openssl: OpenSsl) -> None:
    key = _openssl_key(openssl)
    public_pem = openssl.path("pub.pem").read_text()
    assert gm.Sm2PublicKey.from_pem(public_pem) == key.public_key
    assert key.to_pem() == openssl.path("key.pem").read_text()  # byte-identical re-encoding
    assert key.public_key.to_pem() == public_pem


def test_our_pem_keys_pass_openssl_pkey_check_and_give_the_same_public_key(openssl: OpenSsl) -> None:
    key = _write_our_key(openssl)
    assert b"Key is valid" in openssl.run("pkey", "-in", "ours.pem", "-check", "-noout")
    assert openssl.run("pkey", "-in", "ours.pem", "-pubout").decode() == key.public_key.to_pem()
    openssl.run("pkey", "-pubin", "-in", "ours.pub", "-noout")


def test_a_non_sm2_key_from_openssl_is_refused(openssl: OpenSsl) -> None:
    openssl.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "p256.pem")
    openssl.run("pkey", "-in", "p256.pem", "-pubout", "-out", "p256.pub")
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PrivateKey.from_pem(openssl.path("p256.pem").read_text())
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PublicKey.from_pem(openssl.path("p256.pub").read_text())


def test_openssl_signature_verifies_with_our_module(openssl: OpenSsl) -> None:
    key = _openssl_key(openssl)
    openssl.path("msg").write_bytes(MESSAGE)
    pkeyutl = ("pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-digest", "sm3", "-pkeyopt", DISTID)
    openssl.run(*pkeyutl, "-in", "msg", "-out", "pkeyutl.sig")
    openssl.run("dgst", "-sm3", "-sign", "key.pem", "-sigopt", DISTID, "-out", "dgst.sig", "msg")
    for name in ("pkeyutl.sig", "dgst.sig"):
        signature = openssl.path(name).read_bytes()
        assert gm.sm2_verify(key.public_key, MESSAGE, signature), name
        assert not gm.sm2_verify(key.public_key, MESSAGE + b".", signature), name


def test_openssl_signature_without_distid_does_not_verify_under_the_default_id(openssl: OpenSsl) -> None:
    key = _openssl_key(openssl)
    openssl.path("msg").write_bytes(MESSAGE)
    openssl.run("dgst", "-sm3", "-sign", "key.pem", "-out", "empty-id.sig", "msg")
    assert not gm.sm2_verify(key.public_key, MESSAGE, openssl.path("empty-id.sig").read_bytes())


def test_our_signature_verifies_with_openssl_only_when_given_the_distid(openssl: OpenSsl) -> None:
    key = _write_our_key(openssl)
    openssl.path("msg").write_bytes(MESSAGE)
    openssl.path("ours.sig").write_bytes(gm.sm2_sign(key, MESSAGE))
    pkeyutl = ("pkeyutl", "-verify", "-pubin", "-inkey", "ours.pub", "-rawin", "-digest", "sm3")
    assert openssl.succeeds(*pkeyutl, "-pkeyopt", DISTID, "-in", "msg", "-sigfile", "ours.sig")
    assert openssl.succeeds(
        "dgst", "-sm3", "-verify", "ours.pub", "-sigopt", DISTID, "-signature", "ours.sig", "msg"
    )
    assert not openssl.succeeds(*pkeyutl, "-in", "msg", "-sigfile", "ours.sig")  # OpenSSL's empty ID
    openssl.path("msg").write_bytes(MESSAGE + b".")
    assert not openssl.succeeds(*pkeyutl, "-pkeyopt", DISTID, "-in", "msg", "-sigfile", "ours.sig")


def test_what_we_encrypt_with_sm2_openssl_decrypts(openssl: OpenSsl) -> None:
    key = _write_our_key(openssl)
    for round_ in range(ENCRYPTION_ROUNDS):
        data_key = gm.random_key() + bytes((round_,))
        openssl.path("wrapped").write_bytes(gm.sm2_encrypt(key.public_key, data_key))
        assert openssl.run("pkeyutl", "-decrypt", "-inkey", "ours.pem", "-in", "wrapped") == data_key


def test_sm2_ciphertext_with_a_31_byte_coordinate_reads_the_same_on_both_sides(openssl: OpenSsl) -> None:
    key = _write_our_key(openssl)
    for _ in range(SHORT_COORDINATE_TRIES):
        wrapped = gm.sm2_encrypt(key.public_key, b"data key")
        body = asn1.read_single(wrapped)
        if min(body.read_unsigned(), body.read_unsigned()) < 2**248:
            break
    else:
        raise AssertionError(f"no short coordinate in {SHORT_COORDINATE_TRIES} encryptions")
    assert gm.sm2_decrypt(key, wrapped) == b"data key"
    openssl.path("wrapped").write_bytes(wrapped)
    assert openssl.run("pkeyutl", "-decrypt", "-inkey", "ours.pem", "-in", "wrapped") == b"data key"


def test_what_openssl_encrypts_with_sm2_we_decrypt(openssl: OpenSsl) -> None:
    key = _openssl_key(openssl)
    for round_ in range(ENCRYPTION_ROUNDS):
        data_key = gm.random_key() + bytes((round_,))
        wrapped = openssl.run("pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", stdin=data_key)
        assert gm.sm2_decrypt(key, wrapped) == data_key


@pytest.mark.parametrize("length", PLAINTEXT_LENGTHS)
def test_sm4_cbc_interoperates_with_openssl_enc_both_ways(openssl: OpenSsl, length: int) -> None:
    iv, plaintext = gm.random_iv(), gm.random_key()[:1] * length
    args = ("-sm4-cbc", "-K", SM4_KEY.hex(), "-iv", iv.hex())
    ours = gm.sm4_cbc_encrypt(SM4_KEY, iv, plaintext)
    assert openssl.run("enc", "-d", *args, stdin=ours) == plaintext
    theirs = openssl.run("enc", "-e", *args, stdin=plaintext)
    assert theirs == ours
    assert gm.sm4_cbc_decrypt(SM4_KEY, iv, theirs) == plaintext


@pytest.mark.parametrize("length", PLAINTEXT_LENGTHS)
def test_sm4_ctr_interoperates_with_openssl_enc_both_ways(openssl: OpenSsl, length: int) -> None:
    counter = bytes.fromhex("0102030405060708090a0b0cfffffffe")  # 1000 bytes carry past 32 bits
    plaintext = (bytes(range(256)) * 4)[:length]
    args = ("-sm4-ctr", "-K", SM4_KEY.hex(), "-iv", counter.hex())
    ours = gm.sm4_ctr_encrypt(SM4_KEY, counter, plaintext)
    assert openssl.run("enc", "-d", *args, stdin=ours) == plaintext
    theirs = openssl.run("enc", "-e", *args, stdin=plaintext)
    assert theirs == ours
    assert gm.sm4_ctr_decrypt(SM4_KEY, counter, theirs) == plaintext


def test_streamed_sm4_ctr_equals_openssl_on_odd_chunks(openssl: OpenSsl) -> None:
    counter, plaintext = gm.random_iv(), bytes(range(256)) * 40
    stream = gm.Sm4CtrStream(SM4_KEY, counter)
    ours = b"".join(stream.update(plaintext[i : i + 333]) for i in range(0, len(plaintext), 333))
    assert ours == openssl.run("enc", "-sm4-ctr", "-K", SM4_KEY.hex(), "-iv", counter.hex(), stdin=plaintext)


@pytest.mark.parametrize("data", [b"", b"abc", MESSAGE])
def test_sm3_digest_and_hmac_equal_openssl_dgst(openssl: OpenSsl, data: bytes) -> None:
    assert openssl.run("dgst", "-sm3", "-binary", stdin=data) == gm.sm3(data)
    mac_key = gm.random_key()
    expected = openssl.run(
        "dgst", "-sm3", "-mac", "HMAC", "-macopt", f"hexkey:{mac_key.hex()}", "-binary", stdin=data
    )
    assert gm.hmac_sm3(mac_key, data) == expected
