"""Forward-only SQL migrations: numbered files in `server/migrations/`, each applied in its own
transaction with its SHA-256 recorded; a file edited after it was applied stops everything.

Concurrent migrators (several nodes starting at once) are serialised by an advisory lock.
Must not: run down-migrations, skip a changed file, or apply anything outside a transaction.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from server.errors import MigrationError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x7406BA  # advisory lock id shared by every migrator of this schema

CREATE_LEDGER = """
    CREATE TABLE IF NOT EXISTS schema_migration (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )"""
APPLIED = "SELECT version, name, checksum FROM schema_migration ORDER BY version"
RECORD = "INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name {path.name!r} is not NNNN_lower_snake.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migration files have number {version:04d}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def _check_applied(applied: list[asyncpg.Record], files: list[Migration]) -> None:
    by_version = {m.version: m for m in files}
    for row in applied:
        migration = by_version.get(row["version"])
        if migration is None:
            raise MigrationError(
                f"migration {row['version']:04d}_{row['name']} is applied in the database but its file is "
                "missing: this code is older than the database"
            )
        if migration.checksum != row["checksum"]:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name}.sql was changed after it was applied "
                f"(recorded sha256 {row['checksum'][:12]}…, file {migration.checksum[:12]}…); "
                "migrations are forward-only: restore the file and add a new migration instead"
            )


@functools.cache
def _packaged() -> list[Migration]:
    """The migrations shipped with this code: read once (they cannot change while it runs)."""
    return load_migrations(MIGRATIONS_DIR)


async def pending_migrations(conn: asyncpg.Connection, directory: Path | None = None) -> list[Migration]:
    """Migrations not yet applied; raises `MigrationError` when an applied one has changed."""
    files = _packaged() if directory is None else load_migrations(directory)
    has_ledger = await conn.fetchval("SELECT to_regclass('schema_migration') IS NOT NULL")
    applied = await conn.fetch(APPLIED) if has_ledger else []
    _check_applied(applied, files)
    done = {row["version"] for row in applied}
    return [m for m in files if m.version not in done]


async def migrate(conn: asyncpg.Connection, directory: Path | None = None) -> list[Migration]:
    """Apply every pending migration, each in its own transaction. Returns what was applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(CREATE_LEDGER)
        todo = await pending_migrations(conn, directory)
        for migration in todo:
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(RECORD, migration.version, migration.name, migration.checksum)
            except asyncpg.PostgresError as exc:
                name = f"{migration.version:04d}_{migration.name}.sql"
                raise MigrationError(f"migration {name} failed and was rolled back: {exc}") from exc
            logger.info(
                "migration.applied", extra={"version": migration.version, "migration": migration.name}
            )
        return todo
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
