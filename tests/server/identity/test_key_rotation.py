"""`tongban keys rotate`: every sealed personal value moves to the new key, reads the same, and the
accounts keep working; running it again has nothing left to do."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from server import db
from server.connections import Urls
from server.identity.acl import ACL_KEY
from server.identity.pii import Pii
from server.keystore import KeyRing
from server.migrations import migrate
from server.security.gm import sealed_key_id
from server.seed import seed_accounts
from tests.support.clients import DEMO_PASSWORD
from tests.support.processes import start_server


@pytest.fixture
async def own_db(service_urls: Urls, tmp_path) -> AsyncIterator[tuple[str, KeyRing]]:
    name = f"tongban_keys_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(service_urls.database, name)
    url = db.with_database(service_urls.database, name)
    keys = KeyRing(tmp_path / "var" / "keys")
    conn = await db.connect(url)
    try:
        await migrate(conn)
        await seed_accounts(conn, Pii(keys), keys.key(ACL_KEY), DEMO_PASSWORD)
    finally:
        await conn.close()
    yield url, keys
    await db.drop_database(service_urls.database, name)


async def _sealed(url: str) -> list[tuple[str, bytes | None, bytes | None]]:
    conn = await db.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch("SELECT login, name_sealed, phone_sealed FROM app_user")]
    finally:
        await conn.close()


def _rotate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", "keys", "rotate"], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


async def test_rotation_moves_every_value_to_the_new_key_and_accounts_keep_working(own_db, env, tmp_path):
    url, keys = own_db
    before = await _sealed(url)
    assert {sealed_key_id(name) for _, name, _ in before} == {"pii-1"}
    own = {**os.environ, **env, "TONGBAN_DATABASE_URL": url, "TONGBAN_VAR_DIR": str(tmp_path / "var"),
           "TONGBAN_PII_KEY_VERSION": "2", "TONGBAN_REDIS_PREFIX": env["TONGBAN_REDIS_PREFIX"] + "keys:"}  # fmt: skip
    first = await asyncio.to_thread(_rotate, own)
    assert first.returncode == 0, first.stderr
    assert f"personal data of {len(before)} accounts re-encrypted with key pii-2" in first.stdout
    after = await _sealed(url)
    assert {sealed_key_id(v) for _, name, phone in after for v in (name, phone) if v} == {"pii-2"}
    old, new = Pii(keys, 1), Pii(keys, 2)
    conn = await db.connect(url)
    try:
        row = await conn.fetchrow("SELECT id, name_sealed FROM app_user WHERE login = 'pujiang'")
    finally:
        await conn.close()
    assert new.open_value("app_user", "name", row["id"], row["name_sealed"]) == "张敏"
    assert (
        old.open_value("app_user", "name", row["id"], row["name_sealed"]) == "张敏"
    )  # the value names its key
    again = await asyncio.to_thread(_rotate, own)
    assert "personal data of 0 accounts" in again.stdout
    server = start_server(own, tmp_path / "server.log")
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            login = await client.post("/api/v1/login", json={"login": "pujiang", "password": DEMO_PASSWORD})
            assert (login.status_code, login.json()["user"]["display_name"]) == (200, "张敏")
    finally:
        server.stop()
