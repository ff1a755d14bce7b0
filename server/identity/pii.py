"""Personal data of natural persons at rest: names, phone numbers and ID-card numbers sealed with
SM4-GCM under a key id (so keys rotate), exact-match lookups through HMAC-SM3 blind indexes.

The AAD names the row and column, so a sealed value copied elsewhere does not open. Key material comes
from the key store: `pii-<n>` (16-byte SM4 data keys, `n` the version) and `pii-index` (the blind-index
key, which never rotates: rotating it would mean re-indexing from plaintext, done by `rotate` too).
Must not: log plaintext, hand sealed bytes to anything but `open_value`, or ask the key ring for a key
id that only a stored value names (the key ring makes missing keys).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from server.keystore import KeyRing
from server.security.errors import UnknownKey
from server.security.gm import blind_index, open_field, seal_field, sealed_key_id

Column = Literal["name", "phone", "id_card"]
SM4_KEY_BYTES = 16
INDEX_KEY = "pii-index"


class Pii:
    def __init__(self, keys: KeyRing, current_version: int = 1) -> None:
        self.keys = keys
        self.current_key_id = f"pii-{current_version}"
        self._held: set[str] = set()

    def _known(self, key_id: str) -> str:
        """`key_id` if the key ring holds that key. The id comes from the stored value, not yet
        authenticated: an altered one must not make the key ring create a key of that name. Any
        version it holds will do, newer ones too (a node not yet moved to a new version reads what
        the moved nodes seal)."""
        if key_id not in self._held:
            prefix, _, version = key_id.partition("-")
            well_formed = prefix == "pii" and version.isascii() and version.isdigit() and version[0] != "0"
            if not (well_formed and (self.keys.keys_dir / f"{key_id}.key").exists()):
                raise UnknownKey()
            self._held.add(key_id)
        return key_id

    def _aad(self, table: str, column: Column, row_id: UUID) -> bytes:
        return f"{table}|{column}|{row_id}".encode()

    def seal(self, table: str, column: Column, row_id: UUID, value: str) -> bytes:
        key = self.keys.key(self.current_key_id, SM4_KEY_BYTES)
        return seal_field(self.current_key_id, key, value, self._aad(table, column, row_id))

    def open_value(self, table: str, column: Column, row_id: UUID, sealed: bytes) -> str:
        key_id = self._known(sealed_key_id(sealed))
        return open_field(
            {key_id: self.keys.key(key_id, SM4_KEY_BYTES)}, sealed, self._aad(table, column, row_id)
        )

    def index(self, value: str) -> str:
        return blind_index(self.keys.key(INDEX_KEY), value)

    def needs_rotation(self, sealed: bytes) -> bool:
        return sealed_key_id(sealed) != self.current_key_id
