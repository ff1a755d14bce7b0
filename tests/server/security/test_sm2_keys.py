"""SM2 keys: every accepted encoding gives the same key, malformed or foreign ones raise `InvalidKey`,
and the private scalar never shows in repr, str or error messages."""

from __future__ import annotations

import base64

import pytest

from server.security import asn1, gm, sm2_curve

SM2_CURVE = asn1.oid("1.2.156.10197.1.301")


def _pem(label: str, der: bytes) -> str:
    return f"-----BEGIN {label}-----\n{base64.encodebytes(der).decode()}-----END {label}-----\n"


def _ec_private_key(d: bytes, point: bytes | None, *, with_curve: bool) -> bytes:
    items = [asn1.integer(1), asn1.octet_string(d)]
    if with_curve:
        items.append(asn1.tlv(0xA0, SM2_CURVE))
    if point is not None:
        items.append(asn1.tlv(0xA1, asn1.bit_string(point)))
    return asn1.sequence(*items)


def test_private_key_never_shows_its_scalar_in_repr_or_str() -> None:
    key = gm.sm2_generate_keypair()
    for text in (repr(key), str(key), repr([key]), f"{key}"):
        assert key.d.hex() not in text.lower()
        assert key.public_key.to_hex() in text


def test_public_key_reads_the_same_from_bare_uncompressed_compressed_hex_and_pem() -> None:
    public = gm.sm2_generate_keypair().public_key
    y_odd = public.xy[-1] & 1
    compressed = bytes((2 + y_odd,)) + public.xy[:32]
    forms = [
        gm.Sm2PublicKey.from_bytes(public.xy),
        gm.Sm2PublicKey.from_bytes(public.to_bytes()),
        gm.Sm2PublicKey.from_bytes(compressed),
        gm.Sm2PublicKey.from_hex(public.to_hex().upper()),
        gm.Sm2PublicKey.from_pem(public.to_pem()),
        gm.Sm2PublicKey.from_der(public.to_der()),
    ]
    assert all(form == public for form in forms)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes(64),  # (0, 0) is not on the curve
        bytes(65),  # prefix 00
        b"\x05" + bytes(64),
        b"\x04" + bytes(63),
        b"\x02" + (sm2_curve.P - 1).to_bytes(32, "big"),
    ],
    ids=["empty", "zero-point", "zero-prefix", "bad-prefix", "short", "x-off-curve"],
)
def test_malformed_public_keys_raise_invalid_key(raw: bytes) -> None:
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PublicKey.from_bytes(raw)


def test_point_off_the_curve_is_refused_even_when_well_encoded() -> None:
    public = gm.sm2_generate_keypair().public_key
    off_curve = public.xy[:63] + bytes((public.xy[63] ^ 1,))
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PublicKey(off_curve)
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PublicKey.from_hex("zz")


@pytest.mark.parametrize("d", [0, sm2_curve.N - 1, sm2_curve.N, 2**256 - 1])
def test_private_scalars_outside_one_to_n_minus_two_are_refused(d: int) -> None:
    with pytest.raises(gm.InvalidKey) as raised:
        gm.Sm2PrivateKey.from_bytes(d.to_bytes(32, "big"))
    assert d.to_bytes(32, "big").hex() not in str(raised.value)


def test_private_key_round_trips_through_pkcs8_pem_and_der() -> None:
    key = gm.sm2_generate_keypair()
    assert gm.Sm2PrivateKey.from_pem(key.to_pem()) == key
    assert gm.Sm2PrivateKey.from_der(key.to_der()) == key
    assert gm.Sm2PrivateKey.from_pem(key.to_pem().encode()) == key


def test_sec1_ec_private_key_pem_loads_with_or_without_its_public_point() -> None:
    key = gm.sm2_generate_keypair()
    with_point = _ec_private_key(key.d, key.public_key.to_bytes(), with_curve=True)
    without_point = _ec_private_key(key.d, None, with_curve=True)
    assert gm.Sm2PrivateKey.from_pem(_pem("EC PRIVATE KEY", with_point)) == key
    assert gm.Sm2PrivateKey.from_pem(_pem("EC PRIVATE KEY", without_point)) == key


def test_pkcs8_without_the_public_point_derives_it() -> None:
    key = gm.sm2_generate_keypair()
    algorithm = asn1.sequence(asn1.oid("1.2.840.10045.2.1"), SM2_CURVE)
    inner = _ec_private_key(key.d, None, with_curve=False)
    der = asn1.sequence(asn1.integer(0), algorithm, asn1.octet_string(inner))
    assert gm.Sm2PrivateKey.from_der(der) == key


def test_private_key_whose_public_part_belongs_to_another_key_is_refused() -> None:
    key, other = gm.sm2_generate_keypair(), gm.sm2_generate_keypair()
    mixed = _ec_private_key(key.d, other.public_key.to_bytes(), with_curve=True)
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PrivateKey.from_pem(_pem("EC PRIVATE KEY", mixed))
    with pytest.raises(gm.InvalidKey):
        gm.Sm2PrivateKey(key.d, other.public_key)


def test_malformed_or_encrypted_pem_is_refused_with_a_clear_error() -> None:
    der = gm.sm2_generate_keypair().to_der()
    broken = [
        _pem("PRIVATE KEY", der + b"\x00"),  # trailing byte
        _pem("PRIVATE KEY", der[:-1]),  # truncated
        _pem("PRIVATE KEY", b"\x30\x81\x05" + der[3:]),  # non-minimal length
        _pem("PUBLIC KEY", der),  # wrong label
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        "not a pem at all",
    ]
    for pem in broken:
        with pytest.raises(gm.InvalidKey):
            gm.Sm2PrivateKey.from_pem(pem)
    with pytest.raises(gm.InvalidKey, match="加密"):
        gm.Sm2PrivateKey.from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        )


def test_signature_converts_between_der_and_raw_r_s() -> None:
    key = gm.sm2_generate_keypair()
    signature = gm.sm2_sign(key, b"m")
    raw = gm.signature_to_raw(signature)
    assert len(raw) == 64
    assert gm.signature_from_raw(raw) == signature


def test_malformed_signatures_verify_as_false_rather_than_raising() -> None:
    key = gm.sm2_generate_keypair()
    signature = gm.sm2_sign(key, b"m")
    raw = gm.signature_to_raw(signature)
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    padded_r = asn1.tlv(asn1.INTEGER, b"\x00\x00" + r.to_bytes(32, "big"))  # one 00 at most is allowed
    malformed = [
        b"",
        signature + b"\x00",
        signature[:-1],
        raw,  # raw r‖s where DER is expected
        asn1.sequence(asn1.integer(r), asn1.integer(s + sm2_curve.N)),  # s ≥ n
        asn1.sequence(asn1.integer(0), asn1.integer(s)),  # r = 0
        asn1.sequence(padded_r, asn1.integer(s)),  # non-minimal integer
    ]
    for candidate in malformed:
        assert gm.sm2_verify(key.public_key, b"m", candidate) is False


def test_sm2_encryption_is_for_keys_only_and_distinguishing_ids_are_bounded() -> None:
    key = gm.sm2_generate_keypair()
    for plaintext in (b"", bytes(256)):
        with pytest.raises(gm.CryptoError):
            gm.sm2_encrypt(key.public_key, plaintext)
    with pytest.raises(gm.CryptoError):
        gm.sm2_sign(key, b"m", distinguishing_id=b"")
    signature = gm.sm2_sign(key, b"m", distinguishing_id="张三@建设单位".encode())
    assert gm.sm2_verify(key.public_key, b"m", signature, distinguishing_id="张三@建设单位".encode())
    assert not gm.sm2_verify(key.public_key, b"m", signature)
