"""The event journal, snapshots and fencing in PostgreSQL.

`fenced_append`, the first append of a transaction, records the writer's lease token in
`actor_fence` and is refused (`StaleOwner`) when a higher token has written the actor already, i.e.
when this node lost the actor's lease to another node. The fence row stays locked until commit, so
two owners can never interleave appends. Must not: publish anything (the runtime publishes after
commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.events import Address, Event
from server.errors import Unavailable

APPEND = """
    INSERT INTO actor_event (actor_kind, actor_id, seq, type, payload)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING at"""
FENCED_APPEND = """
    WITH fence AS (
        INSERT INTO actor_fence (actor_kind, actor_id, token) VALUES ($1, $2, $6)
        ON CONFLICT (actor_kind, actor_id) DO UPDATE SET token = EXCLUDED.token
        WHERE actor_fence.token <= EXCLUDED.token
        RETURNING token
    )
    INSERT INTO actor_event (actor_kind, actor_id, seq, type, payload)
    SELECT $1, $2, $3, $4, $5 FROM fence
    RETURNING at"""
EVENTS_AFTER = """
    SELECT seq, type, payload, at FROM actor_event
    WHERE actor_kind = $1 AND actor_id = $2 AND seq > $3
    ORDER BY seq
    LIMIT $4"""
LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM actor_event WHERE actor_kind = $1 AND actor_id = $2"
SNAPSHOT = "SELECT seq, version, state FROM actor_snapshot WHERE actor_kind = $1 AND actor_id = $2"
SAVE_SNAPSHOT = """
    INSERT INTO actor_snapshot (actor_kind, actor_id, seq, version, state) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (actor_kind, actor_id) DO UPDATE
    SET seq = EXCLUDED.seq, version = EXCLUDED.version, state = EXCLUDED.state, taken_at = now()
    WHERE actor_snapshot.seq < EXCLUDED.seq OR actor_snapshot.version <> EXCLUDED.version"""

TRIM = "DELETE FROM actor_event WHERE actor_kind = $1 AND actor_id = $2 AND seq <= $3"


class StaleOwner(Unavailable):
    """This node's lease on the actor was taken over; its write was refused. The caller retries and
    reaches the new owner."""

    code, message = "actor_moved", "服务正在切换，请稍后重试"


@dataclass(frozen=True)
class Snapshot:
    seq: int
    version: int
    state: dict[str, Any]


async def fenced_append(
    conn: Any, address: Address, token: int, seq: int, type_: str, data: dict[str, Any]
) -> Event:
    """`fence` and `append` in one statement (one round trip): no row when the fence refused."""
    at = await conn.fetchval(FENCED_APPEND, address.kind, address.id, seq, type_, data, token)
    if at is None:
        raise StaleOwner()
    return Event(actor=str(address), seq=seq, type=type_, at=at, data=data)


async def append(conn: Any, address: Address, seq: int, type_: str, data: dict[str, Any]) -> Event:
    at = await conn.fetchval(APPEND, address.kind, address.id, seq, type_, data)
    return Event(actor=str(address), seq=seq, type=type_, at=at, data=data)


async def events_after(conn: Any, address: Address, after_seq: int, limit: int = 10_000) -> list[Event]:
    rows = await conn.fetch(EVENTS_AFTER, address.kind, address.id, after_seq, limit)
    return [
        Event(actor=str(address), seq=r["seq"], type=r["type"], at=r["at"], data=r["payload"]) for r in rows
    ]


async def last_seq(conn: Any, address: Address) -> int:
    seq: int = await conn.fetchval(LAST_SEQ, address.kind, address.id)
    return seq


async def load_snapshot(conn: Any, address: Address) -> Snapshot | None:
    row = await conn.fetchrow(SNAPSHOT, address.kind, address.id)
    return None if row is None else Snapshot(seq=row["seq"], version=row["version"], state=row["state"])


async def save_snapshot(conn: Any, address: Address, snapshot: Snapshot, keep: int | None = None) -> None:
    """Save `snapshot`; with `keep`, also compact the journal: events more than `keep` behind the
    snapshot are deleted in the same transaction (only once the snapshot holds them)."""
    async with conn.transaction():
        await conn.execute(
            SAVE_SNAPSHOT, address.kind, address.id, snapshot.seq, snapshot.version, snapshot.state
        )
        if keep is not None and snapshot.seq > keep:
            await conn.execute(TRIM, address.kind, address.id, snapshot.seq - keep)
