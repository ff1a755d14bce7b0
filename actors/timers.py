"""Durable timers: a message delivered to an actor at a stored time, after restarts and on whichever
node owns the actor then.

Actors schedule and cancel timers inside their transactions (with the events that made them), keyed
per actor: scheduling a key again moves the timer. Every node polls for due timers; a due timer is
claimed (`FOR UPDATE SKIP LOCKED`, then a claim that lapses) by one node, delivered through the
runtime's routing, and deleted once the actor handled it. Delivery is at least once: a node that dies
between handling and deleting leaves the timer to be delivered again, so handlers are idempotent.
Must not: hold timers in memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from actors.events import Address
from actors.messages import Message, Registry, UnknownMessage
from server.errors import TongbanError

logger = logging.getLogger(__name__)

CLAIM_S = 30.0  # a claimed timer not delivered within this is claimed again (its node died)
BATCH = 100

SCHEDULE = """
    INSERT INTO actor_timer (actor_kind, actor_id, key, fire_at, message) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (actor_kind, actor_id, key) DO UPDATE
    SET fire_at = EXCLUDED.fire_at, message = EXCLUDED.message, claimed_until = NULL, attempts = 0"""
CANCEL = "DELETE FROM actor_timer WHERE actor_kind = $1 AND actor_id = $2 AND key = $3"
CLAIM_DUE = """
    UPDATE actor_timer t
    SET claimed_until = now() + make_interval(secs => $2), attempts = t.attempts + 1
    FROM (
        SELECT actor_kind, actor_id, key FROM actor_timer
        WHERE fire_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY fire_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
    ) due
    WHERE t.actor_kind = due.actor_kind AND t.actor_id = due.actor_id AND t.key = due.key
    RETURNING t.actor_kind, t.actor_id, t.key, t.fire_at, t.message, t.attempts"""
DONE = "DELETE FROM actor_timer WHERE actor_kind = $1 AND actor_id = $2 AND key = $3 AND fire_at = $4"
PENDING = "SELECT key, fire_at FROM actor_timer WHERE actor_kind = $1 AND actor_id = $2 ORDER BY fire_at"


async def schedule(conn: Any, address: Address, key: str, fire_at: datetime, message: Message) -> None:
    await conn.execute(SCHEDULE, address.kind, address.id, key, fire_at, message.model_dump(mode="json"))


async def cancel(conn: Any, address: Address, key: str) -> None:
    await conn.execute(CANCEL, address.kind, address.id, key)


async def pending(conn: Any, address: Address) -> list[tuple[str, datetime]]:
    return [(r["key"], r["fire_at"]) for r in await conn.fetch(PENDING, address.kind, address.id)]


Deliver = Callable[[Address, Message], Awaitable[Any]]


class TimerService:
    """Polls PostgreSQL for due timers and delivers them through `deliver` (the runtime's ask)."""

    def __init__(self, pool: Any, registry: Registry, deliver: Deliver, poll_s: float) -> None:
        self.pool = pool
        self.registry = registry
        self.deliver = deliver
        self.poll_s = poll_s
        self._inflight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        while True:
            try:
                async with self.pool.acquire() as conn:
                    rows = await conn.fetch(CLAIM_DUE, BATCH, CLAIM_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: try again at the next tick
                logger.warning("timers.poll_failed", extra={"error": type(exc).__name__})
                rows = []
            for row in rows:
                task = asyncio.create_task(self._fire(dict(row)), name="timer-fire")
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if len(rows) < BATCH:
                await asyncio.sleep(self.poll_s)

    async def stop(self) -> None:
        for task in list(self._inflight):
            task.cancel()
        for task in list(self._inflight):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _fire(self, row: dict[str, Any]) -> None:
        address = Address(kind=row["actor_kind"], id=row["actor_id"])
        try:
            message = self.registry.parse(row["message"])
        except UnknownMessage:
            logger.error("timers.unknown_message", extra={"actor": str(address), "key": row["key"]})
            await self._done(address, row)
            return
        try:
            await self.deliver(address, message)
        except TongbanError as exc:
            if exc.status >= 500:  # the actor could not be reached: the claim lapses and it is retried
                logger.warning("timers.delivery_failed", extra={"actor": str(address), "key": row["key"]})
                return
            logger.warning(
                "timers.rejected", extra={"actor": str(address), "key": row["key"], "code": exc.code}
            )
        except Exception:
            logger.exception("timers.delivery_crashed", extra={"actor": str(address), "key": row["key"]})
            return
        await self._done(address, row)

    async def _done(self, address: Address, row: dict[str, Any]) -> None:
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(DONE, address.kind, address.id, row["key"], row["fire_at"])
        except Exception as exc:  # delivered again later: handlers are idempotent
            logger.warning("timers.delete_failed", extra={"error": type(exc).__name__})
