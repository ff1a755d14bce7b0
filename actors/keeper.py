"""Renews this node's liveness lease from a thread of its own, as long as the node's event loop turns.

A loop that is merely busy (a storm of thousands of sockets connecting on a saturated CPU) can take
seconds to come round to a timer; renewing from the loop let the lease lapse then, and the node
dropped every actor it ran although nothing was wrong. This thread, with its own Redis connection,
renews every third of the TTL, but only while the loop shows it is alive: the loop stamps the time
(`stamp`, from a task of the actor system) and a stamp older than `stale_s` (the loop is stuck in one
call: hung, or a pause as long as the lease) stops the renewals, so the lease lapses as it must. A
renewal that finds the lease gone (Redis lost it, or the node was paused past it) is reported to the
loop (`on_lapse`), which drops its actors and registers again.
Must not: touch actors or anything of the loop but `on_lapse` (through `call_soon_threadsafe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from actors.lease import RENEW

logger = logging.getLogger(__name__)


def sync_client(client: AsyncRedis) -> redis.Redis:
    """A blocking client to the same Redis as `client` (same address, database and timeouts)."""
    pool = client.connection_pool
    connection_class = getattr(redis.connection, pool.connection_class.__name__, redis.connection.Connection)
    return redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=connection_class, **pool.connection_kwargs)
    )


class LeaseKeeper:
    def __init__(
        self, client: AsyncRedis, key: str, node_id: str, ttl_s: float, on_lapse: Callable[[], None]
    ) -> None:
        self.client = client
        self.key = key
        self.node_id = node_id
        self.ttl_s = ttl_s
        self.interval_s = ttl_s / 3
        self.stale_s = ttl_s * 2 / 3
        self.on_lapse = on_lapse
        self.stamped = time.monotonic()  # the loop's last sign of life
        self.last_ok = time.monotonic()  # the last renewal Redis confirmed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def stamp(self) -> None:
        self.stamped = time.monotonic()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.stamped = self.last_ok = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"lease-keeper:{self.node_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)

    def _run(self) -> None:
        client = sync_client(self.client)
        renew: Any = client.register_script(RENEW)
        ttl_ms = int(self.ttl_s * 1000)
        stuck = False
        try:
            while not self._stopping.wait(self.interval_s):
                if time.monotonic() - self.stamped > self.stale_s:
                    if not stuck:
                        logger.warning(
                            "actors.loop_stuck", extra={"seconds": round(time.monotonic() - self.stamped, 1)}
                        )
                    stuck = True
                    continue  # no renewal for a loop that does not turn: the lease must lapse
                stuck = False
                try:
                    renewed = renew(keys=[self.key], args=[self.node_id, ttl_ms])
                except (RedisError, OSError) as exc:
                    logger.warning("actors.renew_failed", extra={"error": type(exc).__name__})
                    continue
                if renewed:
                    self.last_ok = time.monotonic()
                elif self._loop is not None and not self._stopping.is_set():
                    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                        self._loop.call_soon_threadsafe(self.on_lapse)
        finally:
            client.close()
