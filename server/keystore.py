"""The application's secret keys: one file per named key under `keys_dir`, made on first use with a
CSPRNG and mode 0600, never in the repository. A certified cipher machine can later replace this
module behind the same `key(name)` call.

Must not: log or return key material anywhere but to the crypto calls that need it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_BYTES = 32


class KeyRing:
    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._cache: dict[str, bytes] = {}

    def key(self, name: str, size: int = KEY_BYTES) -> bytes:
        """The key called `name` (letters, digits, '-', '_') of `size` bytes (16 for SM4, 32 for
        HMAC-SM3), created if this deployment has none yet."""
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"bad key name {name!r}")
        cached = self._cache.get(name)
        if cached is None:
            cached = self._cache[name] = self._load_or_create(self.keys_dir / f"{name}.key", size)
        if len(cached) != size:
            raise ValueError(f"key {name!r} holds {len(cached)} bytes, not {size}")
        return cached

    def _load_or_create(self, path: Path, size: int) -> bytes:
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            pass
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        material = secrets.token_bytes(size)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(material.hex())
        try:
            # A hard link publishes the whole file at once and fails if another process got there
            # first: everyone ends up with the one key that won, never a half-written file.
            os.link(draft, path)
        except FileExistsError:
            material = bytes.fromhex(path.read_text().strip())
        finally:
            draft.unlink()
        return material
