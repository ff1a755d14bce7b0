"""PostgreSQL access: DSN helpers, the asyncpg pool, and database creation for the embedded server.

Must not: hold SQL of a domain (each domain has its own `sql.py`), build SQL from strings, or leave
session state on a pool connection (see `PooledConnection`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

APP_DATABASE = "tongban"


def with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/") or "postgres"


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pool connection released without asyncpg's reset query (unlock advisory locks, close
    cursors, unlisten, reset settings): one round trip saved per use. Nothing here leaves session
    state behind: no LISTEN, no session SET, advisory locks only per transaction or released in
    `finally`. An open transaction is still rolled back on release."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 20,
    timeout_s: float = 5.0,
    statement_timeout_s: float = 30.0,
) -> Any:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout_s,
        command_timeout=statement_timeout_s,
        init=_init_connection,
        server_settings={"timezone": "UTC", "application_name": "tongban"},
        connection_class=PooledConnection,
    )


async def connect(dsn: str, timeout_s: float = 5.0) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, timeout=timeout_s, server_settings={"timezone": "UTC"})
    await _init_connection(conn)
    return conn


async def ensure_database(server_dsn: str, database: str) -> None:
    """Create `database` on the server of `server_dsn` unless it exists."""
    conn = await connect(with_database(server_dsn, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # Identifiers cannot be bound parameters; quote_ident-equivalent quoting keeps it safe.
            quoted = '"' + database.replace('"', '""') + '"'
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


async def drop_database(server_dsn: str, database: str) -> None:
    conn = await connect(with_database(server_dsn, "postgres"))
    try:
        quoted = '"' + database.replace('"', '""') + '"'
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()
