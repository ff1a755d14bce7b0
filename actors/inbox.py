"""Messages to actors from other processes (arq workers, other nodes) through a Redis stream.

Senders `XADD` (address, message JSON); every server node reads the stream in one consumer group
and delivers each message to the addressed actor, acknowledging it only after the actor handled
it, so a node that dies mid-way leaves the message to be claimed by another (at-least-once:
handlers must be idempotent). Must not: carry large payloads (ids and small values only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from actors.events import Address
from actors.messages import Message
from actors.runtime import ActorSystem
from server.errors import TongbanError

logger = logging.getLogger(__name__)

GROUP = "nodes"
STREAM_MAXLEN = 100_000
CLAIM_IDLE_MS = 30_000  # a message unacknowledged this long belonged to a node that died
BLOCK_MS = 1_000
RETRY_DELAY_S = 1.0


def stream_key(prefix: str) -> str:
    return f"{prefix}actor-inbox"


async def send(redis: Redis, prefix: str, address: Address, message: BaseModel) -> None:
    await redis.xadd(
        stream_key(prefix),
        {"to": str(address), "message": message.model_dump_json()},
        maxlen=STREAM_MAXLEN,
        approximate=True,
    )


class InboxConsumer:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        system: ActorSystem,
        types: Mapping[str, type[Message]],
        ask_timeout_s: float,
    ) -> None:
        self.redis = redis
        self.key = stream_key(prefix)
        self.system = system
        self.types = types
        self.ask_timeout_s = ask_timeout_s
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"

    async def _ensure_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
            await self.redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)

    async def _deliver(self, entry_id: Any, fields: dict[bytes, bytes]) -> None:
        try:
            address = Address.parse(fields[b"to"].decode())
            raw = fields[b"message"].decode()
            kind = _message_type(raw)
            message = self.types[kind].model_validate_json(raw)
        except (KeyError, ValueError, ValidationError):
            logger.error("inbox.malformed_message", extra={"entry_id": str(entry_id)})
            await self.redis.xack(self.key, GROUP, entry_id)
            return
        try:
            await self.system.ref(address).ask(message, self.ask_timeout_s)
        except TongbanError as exc:
            if exc.status >= 500:
                raise  # transient: leave it pending, it is claimed again later
            logger.warning("inbox.message_rejected", extra={"to": str(address), "code": exc.code})
        await self.redis.xack(self.key, GROUP, entry_id)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        group_ready = False
        next_claim = 0.0
        while True:
            try:
                if not group_ready:
                    await self._ensure_group()
                    group_ready = True
                entries = []
                if loop.time() >= next_claim:  # messages a dead node left pending: looked for now and then
                    claimed = await self.redis.xautoclaim(
                        self.key, GROUP, self.consumer, CLAIM_IDLE_MS, count=100
                    )
                    entries = list(claimed[1])
                    next_claim = loop.time() + CLAIM_IDLE_MS / 2000
                streams = await self.redis.xreadgroup(
                    GROUP, self.consumer, {self.key: ">"}, count=100, block=BLOCK_MS
                )
                for _, batch in streams or []:
                    entries.extend(batch)
                for entry_id, fields in entries:
                    if fields:
                        await self._deliver(entry_id, fields)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, TongbanError) as exc:
                logger.warning("inbox.unavailable", extra={"error": type(exc).__name__})
                group_ready = False  # Redis may have lost it
                await asyncio.sleep(RETRY_DELAY_S)


def _message_type(raw: str) -> str:
    kind = json.loads(raw).get("type")
    if not isinstance(kind, str):
        raise ValueError("message has no type")
    return kind
