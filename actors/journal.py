"""The event journal in PostgreSQL: append one event, read an actor's events in order.

Must not: publish anything (callers publish after their transaction commits).
"""

from __future__ import annotations

from typing import Any

from actors.events import Address, Event

APPEND = """
    INSERT INTO actor_event (actor_kind, actor_id, seq, type, payload)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING at"""
EVENTS_AFTER = """
    SELECT seq, type, payload, at FROM actor_event
    WHERE actor_kind = $1 AND actor_id = $2 AND seq > $3
    ORDER BY seq
    LIMIT $4"""
LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM actor_event WHERE actor_kind = $1 AND actor_id = $2"


async def append(conn: Any, address: Address, seq: int, type_: str, data: dict[str, Any]) -> Event:
    at = await conn.fetchval(APPEND, address.kind, address.id, seq, type_, data)
    return Event(actor=str(address), seq=seq, type=type_, at=at, data=data)


async def events_after(conn: Any, address: Address, after_seq: int, limit: int = 10_000) -> list[Event]:
    rows = await conn.fetch(EVENTS_AFTER, address.kind, address.id, after_seq, limit)
    return [
        Event(actor=str(address), seq=r["seq"], type=r["type"], at=r["at"], data=r["payload"]) for r in rows
    ]
