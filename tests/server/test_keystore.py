"""The key store: keys made once with a CSPRNG, private to their owner, the same for every process."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.keystore import KeyRing


def test_a_key_is_made_once_with_owner_only_permissions_and_read_back_by_another_process(tmp_path):
    first = KeyRing(tmp_path / "keys").key("audit-mac")
    path = tmp_path / "keys" / "audit-mac.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing(tmp_path / "keys").key("audit-mac") == first
    assert len(first) == 32
    assert KeyRing(tmp_path / "keys").key("pii-1", 16) != first[:16]


def test_processes_starting_together_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: KeyRing(tmp_path / "keys").key("session-cookie"), range(32)))
    assert len(keys) == 1


def test_a_key_of_the_wrong_size_or_a_bad_name_is_refused(tmp_path):
    ring = KeyRing(tmp_path / "keys")
    ring.key("data", 16)
    with pytest.raises(ValueError, match="holds 16 bytes, not 32"):
        KeyRing(tmp_path / "keys").key("data", 32)
    with pytest.raises(ValueError, match="bad key name"):
        ring.key("../etc/passwd")
