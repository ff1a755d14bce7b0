"""Which node owns which actor: Redis records of ownership, node liveness leases and fencing tokens.

Each node holds one liveness lease (`node:<id>`, renewed every third of its TTL). An actor's owner
record (`owner:<kind>:<id>` = "<node> <token>") names the node that runs it; it is valid while that
node's lease lives. Taking an actor whose owner is dead (or absent) increments the fencing counter, and
the journal refuses appends carrying a lower token than the highest it has seen, so a node that lost
its lease (paused, partitioned) cannot write after another took over. Renewal costs one command per
node, whatever the number of actors it runs.

The scripts read keys they are not passed (the owner's liveness lease): one Redis (or a Sentinel
group), not Redis Cluster. Must not: decide anything about actors (the runtime does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from actors.events import Address

ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local node = string.match(cur, '^(%S+)')
  if node ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. node) == 1 then
    return {0, node}
  end
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token)
return {1, tostring(token)}
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RAISE_FLOOR = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


@dataclass(frozen=True)
class Claim:
    """The outcome of asking for an actor: ours with `token`, or run by `owner`."""

    token: int | None
    owner: str | None


class Leases:
    def __init__(self, redis: Redis, prefix: str, node_id: str, ttl_ms: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.node_id = node_id
        self.ttl_ms = ttl_ms
        self._acquire: Any = redis.register_script(ACQUIRE)
        self._release: Any = redis.register_script(RELEASE)
        self._renew: Any = redis.register_script(RENEW)
        self._floor: Any = redis.register_script(RAISE_FLOOR)

    @property
    def alive_prefix(self) -> str:
        return f"{self.prefix}node:"

    @property
    def nodes_key(self) -> str:
        return f"{self.prefix}nodes"

    def _owner_key(self, address: Address) -> str:
        return f"{self.prefix}owner:{address.kind}:{address.id}"

    async def register(self, fence_floor: int) -> None:
        """Start (or restart after a lapse) this node's liveness lease. `fence_floor`: the highest token
        the journal holds, so a Redis that lost its data never hands out tokens the journal refuses."""
        await self._floor(keys=[f"{self.prefix}fence"], args=[fence_floor])
        await self.redis.set(self.alive_prefix + self.node_id, self.node_id, px=self.ttl_ms)
        await self.redis.sadd(
            self.nodes_key,
            self.node_id,  # type: ignore[misc]  # redis-py's sync/async union
        )

    async def renew(self) -> bool:
        """False: the lease had lapsed; this node may have lost its actors to others."""
        renewed = await self._renew(keys=[self.alive_prefix + self.node_id], args=[self.node_id, self.ttl_ms])
        return bool(renewed)

    async def withdraw(self) -> None:
        """End this node's lease. It stays listed as a member, so the next node to see it gone reaps
        the presence its connections left (as for a node that died)."""
        await self.redis.delete(self.alive_prefix + self.node_id)

    async def acquire(self, address: Address) -> Claim:
        ok, value = await self._acquire(
            keys=[self._owner_key(address), f"{self.prefix}fence"], args=[self.node_id, self.alive_prefix]
        )
        text = value.decode() if isinstance(value, bytes) else str(value)
        return Claim(token=int(text), owner=None) if ok == 1 else Claim(token=None, owner=text)

    async def release(self, address: Address, token: int) -> None:
        await self._release(keys=[self._owner_key(address)], args=[f"{self.node_id} {token}"])

    async def dead_nodes(self) -> list[str]:
        """Nodes listed as members whose liveness lease has expired, each returned to exactly one
        caller (the one whose SREM removed it), which then reaps what the dead node left behind."""
        members = [m.decode() for m in await self.redis.smembers(self.nodes_key)]  # type: ignore[misc]  # redis-py's sync/async union
        if not members:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for node in members:
            pipe.exists(self.alive_prefix + node)
        flags = await pipe.execute()
        dead = []
        for node, flag in zip(members, flags, strict=True):
            if not flag and await self.redis.srem(self.nodes_key, node):  # type: ignore[misc]  # redis-py's union
                dead.append(node)
        return dead

    def presence_key(self, node: str) -> str:
        return f"{self.prefix}presence-of:{node}"

    async def note_presence(self, node: str, address: Address) -> None:
        """Remember that a connection held by `node` is present at `address`."""
        await self.redis.sadd(self.presence_key(node), str(address))  # type: ignore[misc]  # redis-py's union

    async def take_presence(self, node: str) -> list[Address]:
        """The actors that had connections on the dead `node` (and forget them)."""
        key = self.presence_key(node)
        members = await self.redis.smembers(key)  # type: ignore[misc]  # redis-py's sync/async union
        await self.redis.delete(key)
        return [Address.parse(m.decode()) for m in members]

    async def alive(self, nodes: set[str]) -> set[str]:
        if not nodes:
            return set()
        ordered = sorted(nodes)
        pipe = self.redis.pipeline(transaction=False)
        for node in ordered:
            pipe.exists(self.alive_prefix + node)
        flags = await pipe.execute()
        return {node for node, flag in zip(ordered, flags, strict=True) if flag}
