"""Sealed personal-data fields (SM4-GCM with the key id inside) and blind indexes (HMAC-SM3)."""

from __future__ import annotations

import pytest

from server.errors import TongbanError
from server.security import gm

KEY_2024 = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
KEY_2025 = bytes.fromhex("f0e0d0c0b0a090807060504030201000")
RING = {"pii-2024": KEY_2024, "pii-2025": KEY_2025}
AAD = b"person|id_card|6f1c0a52-2d7e-4c3e-9d1a-3f3b5c1e9a10"
ID_CARD = "31010119900101123X"
INDEX_KEY = bytes(range(32))


@pytest.mark.parametrize("plaintext", ["", ID_CARD, "张三", "欧阳娜娜 13812341234 \n\t😀"])
def test_sealed_field_opens_to_the_same_text(plaintext: str) -> None:
    sealed = gm.seal_field("pii-2025", KEY_2025, plaintext, AAD)
    assert gm.open_field(RING, sealed, AAD) == plaintext


def test_sealed_field_is_compact_and_names_its_key() -> None:
    sealed = gm.seal_field("pii-2025", KEY_2025, ID_CARD, AAD)
    # version, id length, "pii-2025", nonce, ciphertext, tag
    assert len(sealed) == 1 + 1 + 8 + 12 + len(ID_CARD) + 16
    assert sealed[0] == 0x01
    assert gm.sealed_key_id(sealed) == "pii-2025"
    assert ID_CARD.encode() not in sealed


def test_equal_plaintexts_seal_to_different_values_with_different_nonces() -> None:
    sealed = [gm.seal_field("pii-2025", KEY_2025, ID_CARD, AAD) for _ in range(200)]
    nonces = {value[10:22] for value in sealed}
    assert len(set(sealed)) == len(nonces) == 200


def test_every_flipped_bit_of_a_sealed_field_is_refused() -> None:
    sealed = gm.seal_field("pii-2025", KEY_2025, ID_CARD, AAD)
    for index in range(len(sealed)):
        for bit in (0x01, 0x80):
            altered = bytearray(sealed)
            altered[index] ^= bit
            with pytest.raises(gm.CryptoError):
                gm.open_field(RING, bytes(altered), AAD)


def test_truncated_or_extended_sealed_fields_are_refused() -> None:
    sealed = gm.seal_field("pii-2025", KEY_2025, ID_CARD, AAD)
    for altered in (b"", sealed[:1], sealed[:20], sealed[:-1], sealed + b"\x00"):
        with pytest.raises(gm.IntegrityError):
            gm.open_field(RING, altered, AAD)


def test_sealed_field_moved_to_another_row_or_column_is_refused() -> None:
    sealed = gm.seal_field("pii-2025", KEY_2025, ID_CARD, AAD)
    for other in (AAD.replace(b"id_card", b"phone"), AAD[:-1] + b"1", b""):
        with pytest.raises(gm.IntegrityError):
            gm.open_field(RING, sealed, other)


def test_key_id_rewritten_to_another_key_in_the_ring_is_refused() -> None:
    sealed = gm.seal_field("pii-2024", KEY_2024, ID_CARD, AAD)
    rewritten = sealed.replace(b"pii-2024", b"pii-2025", 1)
    with pytest.raises(gm.IntegrityError):
        gm.open_field(RING, rewritten, AAD)


def test_key_id_missing_from_the_ring_raises_unknown_key() -> None:
    sealed = gm.seal_field("pii-2023", bytes(16), ID_CARD, AAD)
    with pytest.raises(gm.UnknownKey):
        gm.open_field(RING, sealed, AAD)


def test_the_same_key_under_another_id_cannot_open_the_value() -> None:
    sealed = gm.seal_field("pii-2024", KEY_2024, ID_CARD, AAD)
    with pytest.raises(gm.IntegrityError):
        gm.open_field({"pii-2024": KEY_2025}, sealed, AAD)


def test_values_sealed_before_a_rotation_still_open_and_can_be_resealed_under_the_new_key() -> None:
    old = gm.seal_field("pii-2024", KEY_2024, ID_CARD, AAD)
    assert gm.sealed_key_id(old) == "pii-2024"
    resealed = gm.seal_field("pii-2025", KEY_2025, gm.open_field(RING, old, AAD), AAD)
    assert gm.sealed_key_id(resealed) == "pii-2025"
    assert gm.open_field({"pii-2025": KEY_2025}, resealed, AAD) == ID_CARD


@pytest.mark.parametrize("key_id", ["", "a" * 65, "密钥", "pii 2025", "pii/2025"])
def test_key_ids_outside_the_allowed_alphabet_are_refused(key_id: str) -> None:
    with pytest.raises(gm.InvalidKey):
        gm.seal_field(key_id, KEY_2025, ID_CARD, AAD)


def test_bad_key_lengths_raise_invalid_key_without_showing_the_key() -> None:
    short = bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d7e8f")
    with pytest.raises(gm.InvalidKey) as raised:
        gm.seal_field("pii-2025", short, ID_CARD, AAD)
    assert short.hex() not in str(raised.value).lower()
    assert raised.value.status == 422
    with pytest.raises(gm.InvalidKey):
        gm.blind_index(bytes(15), ID_CARD)


def test_crypto_errors_belong_to_the_tongban_hierarchy_with_chinese_messages() -> None:
    sealed = gm.seal_field("pii-2025", KEY_2025, ID_CARD, AAD)
    with pytest.raises(TongbanError) as raised:
        gm.open_field(RING, sealed, b"other")
    error = raised.value
    assert isinstance(error, gm.IntegrityError)
    assert (error.status, error.code) == (500, "integrity_check_failed")
    assert any("\u4e00" <= char <= "\u9fff" for char in error.detail)
    assert error.data == {}
    assert ID_CARD not in str(error)


def test_blind_index_is_stable_and_ignores_width_case_and_outer_whitespace() -> None:
    index = gm.blind_index(INDEX_KEY, ID_CARD)
    assert len(index) == 64
    assert int(index, 16) >= 0
    for same in (ID_CARD, " 31010119900101123x ", "３１０１０１１９９００１０１１２３Ｘ"):
        assert gm.blind_index(INDEX_KEY, same) == index


def test_blind_index_collapses_inner_whitespace_runs_but_keeps_words_apart() -> None:
    assert gm.blind_index(INDEX_KEY, "Li  Ming") == gm.blind_index(INDEX_KEY, "li ming")
    assert gm.blind_index(INDEX_KEY, "Li Ming") != gm.blind_index(INDEX_KEY, "LiMing")
    assert gm.normalise_for_index("　张三\u3000 ") == "张三"


def test_blind_index_depends_on_the_key_and_the_value() -> None:
    index = gm.blind_index(INDEX_KEY, ID_CARD)
    assert gm.blind_index(bytes(32), ID_CARD) != index
    assert gm.blind_index(INDEX_KEY, "310101199001011234") != index
    assert index == gm.hmac_sm3(INDEX_KEY, ID_CARD.casefold().encode()).hex()
