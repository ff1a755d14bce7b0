"""Forward-only migrations: applied once each in a transaction, checksums recorded, and a file
changed after it was applied stops every migrator with a clear message."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server import db
from server.connections import Urls
from server.errors import MigrationError
from server.migrations import MIGRATIONS_DIR, load_migrations, migrate, pending_migrations


@pytest.fixture
async def empty_database(service_urls: Urls) -> AsyncIterator[str]:
    name = f"tongban_mig_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(service_urls.database, name)
    yield db.with_database(service_urls.database, name)
    await db.drop_database(service_urls.database, name)


def _write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql, encoding="utf-8")


async def test_migrations_apply_in_order_once_and_record_their_checksums(empty_database, tmp_path):
    _write(tmp_path, "0001_first.sql", "CREATE TABLE a (id int);")
    _write(tmp_path, "0002_second.sql", "ALTER TABLE a ADD COLUMN b text;")
    conn = await db.connect(empty_database)
    try:
        applied = await migrate(conn, tmp_path)
        assert [m.name for m in applied] == ["first", "second"]
        assert await migrate(conn, tmp_path) == []
        rows = await conn.fetch("SELECT version, checksum FROM schema_migration ORDER BY version")
        assert [(r["version"], r["checksum"]) for r in rows] == [(m.version, m.checksum) for m in applied]
        assert (
            await conn.fetchval("SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'") == 2
        )
    finally:
        await conn.close()


async def test_a_migration_file_edited_after_it_was_applied_is_refused_and_nothing_more_is_applied(
    empty_database, tmp_path
):
    _write(tmp_path, "0001_first.sql", "CREATE TABLE a (id int);")
    conn = await db.connect(empty_database)
    try:
        await migrate(conn, tmp_path)
        _write(tmp_path, "0001_first.sql", "CREATE TABLE a (id bigint);")
        _write(tmp_path, "0002_second.sql", "CREATE TABLE b (id int);")
        with pytest.raises(MigrationError, match=r"0001_first\.sql was changed after it was applied"):
            await migrate(conn, tmp_path)
        assert await conn.fetchval("SELECT to_regclass('b')") is None
    finally:
        await conn.close()


async def test_a_failing_migration_is_rolled_back_whole_and_not_recorded(empty_database, tmp_path):
    _write(tmp_path, "0001_half.sql", "CREATE TABLE a (id int);\nSELECT no_such_function();")
    conn = await db.connect(empty_database)
    try:
        with pytest.raises(MigrationError, match=r"0001_half\.sql failed and was rolled back"):
            await migrate(conn, tmp_path)
        assert await conn.fetchval("SELECT to_regclass('a')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migration") == 0
    finally:
        await conn.close()


async def test_migrators_started_at_the_same_time_apply_each_migration_exactly_once(empty_database, tmp_path):
    _write(tmp_path, "0001_first.sql", "CREATE TABLE a (id int); SELECT pg_sleep(0.2);")
    conns = [await db.connect(empty_database) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c, tmp_path) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    finally:
        for c in conns:
            await c.close()


def test_badly_named_or_duplicate_migration_files_are_refused(tmp_path):
    _write(tmp_path, "1_first.sql", "")
    with pytest.raises(MigrationError, match=r"is not NNNN_lower_snake\.sql"):
        load_migrations(tmp_path)
    (tmp_path / "1_first.sql").unlink()
    _write(tmp_path, "0001_a.sql", "")
    _write(tmp_path, "0001_b.sql", "")
    with pytest.raises(MigrationError, match="two migration files have number 0001"):
        load_migrations(tmp_path)


async def test_the_migrate_command_refuses_a_database_whose_applied_migration_differs_from_its_file(
    empty_database,
):
    env = {**os.environ, "TONGBAN_DATABASE_URL": empty_database}
    first = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    assert "0001_foundation" in first.stdout
    conn = await db.connect(empty_database)
    try:
        assert await pending_migrations(conn, MIGRATIONS_DIR) == []
        await conn.execute("UPDATE schema_migration SET checksum = 'edited' WHERE version = 1")
    finally:
        await conn.close()
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "migration refused" in refused.stderr
    assert "0001_foundation.sql was changed after it was applied" in refused.stderr
