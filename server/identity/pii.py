"""Personal data of natural persons at rest: names, phone numbers and ID-card numbers sealed with
SM4-GCM under a key id (so keys rotate), exact-match lookups through HMAC-SM3 blind indexes.

The AAD names the row and column, so a sealed value copied elsewhere does not open. Key material comes
from the key store: `pii-<n>` (16-byte SM4 data keys, `n` the version) and `pii-index` (the blind-index
key, which never rotates: rotating it would mean re-indexing from plaintext, done by `rotate` too).
Must not: log plaintext, or hand sealed bytes to anything but `open_value`.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from server.keystore import KeyRing
from server.security.gm import blind_index, open_field, seal_field, sealed_key_id

Column = Literal["name", "phone", "id_card"]
SM4_KEY_BYTES = 16
INDEX_KEY = "pii-index"


class Pii:
    def __init__(self, keys: KeyRing, current_version: int = 1) -> None:
        self.keys = keys
        self.current_key_id = f"pii-{current_version}"

    def _aad(self, table: str, column: Column, row_id: UUID) -> bytes:
        return f"{table}|{column}|{row_id}".encode()

    def seal(self, table: str, column: Column, row_id: UUID, value: str) -> bytes:
        key = self.keys.key(self.current_key_id, SM4_KEY_BYTES)
        return seal_field(self.current_key_id, key, value, self._aad(table, column, row_id))

    def open_value(self, table: str, column: Column, row_id: UUID, sealed: bytes) -> str:
        key_id = sealed_key_id(sealed)
        return open_field(
            {key_id: self.keys.key(key_id, SM4_KEY_BYTES)}, sealed, self._aad(table, column, row_id)
        )

    def index(self, value: str) -> str:
        return blind_index(self.keys.key(INDEX_KEY), value)

    def needs_rotation(self, sealed: bytes) -> bool:
        return sealed_key_id(sealed) != self.current_key_id
