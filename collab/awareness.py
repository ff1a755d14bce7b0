"""Awareness (cursors, names, colours) of a document's editors on the other nodes, through Redis.

Awareness is ephemeral: never journalled. While a node has connections to a document it subscribes to
the document's raw channel (`raw:aw:<doc id>`, on the runtime's one pub/sub connection, see
`actors.cluster`) and unsubscribes when the last one leaves. A message is `<origin node>|<kind>|<body>`:

    u  an awareness frame (type 1) as a client sent it: passed as it is to this node's connections of
       the document (one bytes object shared by all, never re-encoded), and its entries remembered
    q  a node that just subscribed asks the others for their clients' states: each answers with `u`
    h  the answer to `q` of a node whose clients have no state: it is there all the same
    b  a node unsubscribed (its last connection to the document left)

A node publishes only while it knows another node listens (it heard from one on the channel since it
subscribed, and not its `b`): a lone node, the common case, sends nothing to Redis. A node that
subscribes later announces itself with `q`, and the answer brings it every state it missed.

A node ignores its own messages. The latest entry of each remote client (clock, state, node, when
seen) answers a local client's query (message type 3), together with the local entries. A remote
entry is dropped, and its removal announced to the local connections (state `null`, clock + 1), when
its client leaves (its node sends `null`), when it is not renewed within `OUTDATED_S` (Yjs clients
renew every 15 s), or when its node's lease has expired (the node died).
Bounded: `MAX_REMOTE_ENTRIES` per document; a message over `max_bytes` or malformed is dropped with a
log line. Must not: journal anything, re-encode a frame per receiver, or wait on Redis while relaying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from pycrdt import YMessageType
from redis.exceptions import RedisError

from actors.cluster import Cluster
from collab.protocol import AwarenessEntry, ProtocolError, awareness_frame, encode_awareness, parse
from server.errors import Unavailable

logger = logging.getLogger(__name__)

OUTDATED_S = 30.0  # y-protocols' outdatedTimeout: a state not renewed this long is gone
SWEEP_S = 5.0  # how often outdated entries and dead nodes are looked for
MAX_REMOTE_ENTRIES = 1_000  # remote clients remembered per document; more are relayed, not remembered
DEFAULT_MAX_BYTES = 65_536  # as `collab_max_update_bytes`' default
UPDATE, QUERY, HERE, BYE = b"u", b"q", b"h", b"b"

Deliver = Callable[[UUID, bytes], None]  # (doc id, frame) → this node's connections of the document
LocalEntries = Callable[[UUID], list[AwarenessEntry]]  # the entries of this node's connections


@dataclass(slots=True)
class RemoteEntry:
    entry: AwarenessEntry
    node: str
    seen: float  # loop time of the last renewal


class AwarenessRelay:
    """This node's side of awareness between nodes: the subscriptions, and the remote entries."""

    def __init__(
        self,
        cluster: Cluster,
        deliver: Deliver,
        local_entries: LocalEntries,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.cluster = cluster
        self.deliver = deliver
        self.local_entries = local_entries
        self.max_bytes = max_bytes
        self.node = cluster.node_id.encode()
        self.docs: set[UUID] = set()  # subscribed, or subscribing
        self.remote: dict[UUID, dict[int, RemoteEntry]] = {}
        self.listeners: dict[UUID, set[bytes]] = {}  # the other nodes heard on a document's channel
        self._full: set[UUID] = set()  # documents whose cap was logged
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._dropping = False  # Redis is behind: logged once, until a message goes through again

    @staticmethod
    def channel(doc_id: UUID) -> str:
        return f"aw:{doc_id}"

    def _message(self, kind: bytes, body: bytes = b"") -> bytes:
        return b"%s|%s|%s" % (self.node, kind, body)

    async def open(self, doc_id: UUID) -> None:
        """Subscribe to the document's channel and ask the other nodes for their clients' states.
        Without Redis the node's connections only see each other (logged), until the next opening."""
        if doc_id in self.docs:
            return
        self.docs.add(doc_id)
        try:
            await self.cluster.subscribe_raw(self.channel(doc_id), partial(self.on_message, doc_id))
        except Unavailable:
            self.docs.discard(doc_id)
            logger.warning("collab.awareness_unsubscribed", extra={"doc_id": str(doc_id)})
            return
        self.cluster.publish_raw(self.channel(doc_id), self._message(QUERY))

    def close(self, doc_id: UUID) -> None:
        """The node's last connection to the document left: forget its remote entries, unsubscribe."""
        self.docs.discard(doc_id)
        self.remote.pop(doc_id, None)
        if self.listeners.pop(doc_id, None):
            self.cluster.publish_raw(self.channel(doc_id), self._message(BYE))
        self._full.discard(doc_id)
        task = asyncio.create_task(self._unsubscribe(doc_id), name="collab-awareness-unsubscribe")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unsubscribe(self, doc_id: UUID) -> None:
        if doc_id not in self.docs:  # nobody opened it again meanwhile
            await self.cluster.unsubscribe_raw(self.channel(doc_id))

    def publish(self, doc_id: UUID, frame: bytes) -> None:
        """Send a local client's awareness frame (or this node's removal of one) to the other nodes."""
        if not self.listeners.get(doc_id):
            return  # nobody else has the document open
        sent = self.cluster.publish_raw(self.channel(doc_id), self._message(UPDATE, frame))
        if not sent and not self._dropping:
            logger.warning("collab.awareness_dropped", extra={"doc_id": str(doc_id)})
        self._dropping = not sent

    def entries(self, doc_id: UUID) -> list[AwarenessEntry]:
        return [remote.entry for remote in self.remote.get(doc_id, {}).values()]

    # -- from the other nodes -------------------------------------------------------------------------

    def on_message(self, doc_id: UUID, data: bytes) -> None:
        node, sep, rest = data.partition(b"|")
        kind, sep2, body = rest.partition(b"|")
        if not (sep and sep2) or kind not in (UPDATE, QUERY, HERE, BYE):
            logger.warning("collab.awareness_malformed", extra={"doc_id": str(doc_id), "bytes": len(data)})
            return
        if node == self.node or doc_id not in self.docs:
            return  # our own, or no connection here any more
        if kind == BYE:
            self.listeners.get(doc_id, set()).discard(node)
            return
        self.listeners.setdefault(doc_id, set()).add(node)
        if kind == HERE:
            return
        if kind == QUERY:
            self._answer(doc_id)
            return
        if len(body) > self.max_bytes:
            logger.warning("collab.awareness_too_large", extra={"doc_id": str(doc_id), "bytes": len(body)})
            return
        try:
            frame = parse(body)
            if frame.kind != YMessageType.AWARENESS:
                raise ProtocolError(f"message type {frame.kind}")
        except ProtocolError as exc:
            logger.warning("collab.awareness_malformed", extra={"doc_id": str(doc_id), "error": str(exc)})
            return
        self._remember(doc_id, node.decode(errors="replace"), frame.entries)
        self.deliver(doc_id, body)

    def _remember(self, doc_id: UUID, node: str, entries: tuple[AwarenessEntry, ...]) -> None:
        known = self.remote.setdefault(doc_id, {})
        now = asyncio.get_running_loop().time()
        for entry in entries:
            current = known.get(entry.client_id)
            if current is not None and entry.clock < current.entry.clock:
                continue  # older than what we have (y-protocols ignores it too)
            if entry.state == "null":
                known.pop(entry.client_id, None)
            elif current is None and len(known) >= MAX_REMOTE_ENTRIES:
                if doc_id not in self._full:
                    self._full.add(doc_id)
                    logger.warning("collab.awareness_full", extra={"doc_id": str(doc_id)})
            else:
                known[entry.client_id] = RemoteEntry(entry, node, now)
        if not known:
            del self.remote[doc_id]
        elif self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="collab-awareness-sweep")

    def _answer(self, doc_id: UUID) -> None:
        """Another node subscribed: tell it our clients' states, in messages under `max_bytes`."""
        batch: list[AwarenessEntry] = []
        size = 0
        for entry in self.local_entries(doc_id):
            if batch and size + len(entry.state) > self.max_bytes // 2:
                self.publish(doc_id, awareness_frame(encode_awareness(batch)))
                batch, size = [], 0
            batch.append(entry)
            size += len(entry.state) + 20  # the state's characters, its id, clock and lengths
        if batch:
            self.publish(doc_id, awareness_frame(encode_awareness(batch)))
        else:
            self.cluster.publish_raw(self.channel(doc_id), self._message(HERE))

    # -- removing what is not renewed -----------------------------------------------------------------

    async def _sweep(self) -> None:
        try:
            while self.remote:
                await asyncio.sleep(SWEEP_S)
                await self.sweep()
        finally:
            self._sweeper = None

    async def sweep(self) -> None:
        """Drop the entries not renewed within `OUTDATED_S` and those of nodes whose lease expired, and
        tell this node's connections they are gone."""
        nodes = {remote.node for known in self.remote.values() for remote in known.values()}
        dead: set[str] = set()
        if self.cluster.node_alive is not None:
            with contextlib.suppress(RedisError, OSError):  # Redis down: only the timeout applies
                dead = {node for node in nodes if not await self.cluster.node_alive(node)}
        if dead:
            logger.info("collab.awareness_nodes_gone", extra={"nodes": sorted(dead)})
        now = asyncio.get_running_loop().time()
        for doc_id, known in list(self.remote.items()):
            gone = [
                AwarenessEntry(client_id, remote.entry.clock + 1, "null")
                for client_id, remote in known.items()
                if remote.node in dead or now - remote.seen > OUTDATED_S
            ]
            if not gone:
                continue
            for entry in gone:
                del known[entry.client_id]
            if not known:
                del self.remote[doc_id]
            self.deliver(doc_id, awareness_frame(encode_awareness(gone)))
