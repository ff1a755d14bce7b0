"""This node's connections to each collaborative document ("rooms"), and their outgoing queues.

Fan-out of committed updates: the socket that sent an update asks the document actor, and only once
the actor answered (the update is journalled in PostgreSQL) does it hand the update to its room here,
which queues it for every other connection of that document on this node. We chose this per-node
registry fed by the actor's replies over subscribing to the actor's events through the hub
(`actors.hub`): it needs no JSON parse and base64 decode per event per connection and no snapshot
machinery, and in this first slice every connection of a document reaches one node. Its limit: a
connection on another node does not see the update until it resyncs (reconnects); the multi-node
slice adds one hub subscription per room and node (events arrive as `doc.updated` with the base64
update) and keeps this fan-out below it.

Awareness (cursors, names) is relayed between the connections of a room on this node only, never
journalled; a connection's last awareness entries are kept so that its leaving can be announced
(state `null`) and a query (message type 3) answered.

A client that does not read: its queue holds `QUEUE_FRAMES` frames; past that, or when one send
blocks for `ws_stall_s`, it is closed (4409) and reconnects with a fresh sync.
Must not: block on a slow connection, or hand out an update the actor has not committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from uuid import UUID

from starlette.websockets import WebSocket, WebSocketDisconnect

from collab.protocol import AwarenessEntry, awareness_frame, encode_awareness

logger = logging.getLogger(__name__)

QUEUE_FRAMES = 1_000
CLOSE_LAGGING = 4409


class Peer:
    """One websocket of one document: its outgoing queue, writer task and awareness entries."""

    def __init__(self, websocket: WebSocket, doc_id: UUID, can_edit: bool, stall_s: float) -> None:
        self.websocket = websocket
        self.doc_id = doc_id
        self.can_edit = can_edit
        self.stall_s = stall_s
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_FRAMES)
        self.awareness: dict[int, AwarenessEntry] = {}
        self.closing = False
        self.writer: asyncio.Task[None] | None = None
        self.closer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.writer = asyncio.create_task(self._write(), name=f"collab-writer:{self.doc_id}")

    def send(self, frame: bytes) -> None:
        if self.closing:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close_soon(CLOSE_LAGGING, "lagging")

    async def _write(self) -> None:
        try:
            while True:
                frame = await self.queue.get()
                async with asyncio.timeout(self.stall_s):
                    await self.websocket.send_bytes(frame)
        except TimeoutError:
            self.close_soon(CLOSE_LAGGING, "stalled")
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.closing = True

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.closer = asyncio.get_running_loop().create_task(self.close(code, reason))

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        with contextlib.suppress(TimeoutError, RuntimeError, WebSocketDisconnect, OSError):
            async with asyncio.timeout(self.stall_s):
                await self.websocket.close(code=code, reason=reason)

    async def stop(self) -> None:
        self.closing = True
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        if self.closer is not None:
            await self.closer


class Rooms:
    """doc id → the connections of this node to that document."""

    def __init__(self) -> None:
        self.rooms: dict[UUID, set[Peer]] = {}

    def join(self, peer: Peer) -> None:
        self.rooms.setdefault(peer.doc_id, set()).add(peer)

    def leave(self, peer: Peer) -> None:
        """Remove `peer` and tell the others its awareness states are gone."""
        room = self.rooms.get(peer.doc_id)
        if room is None:
            return
        room.discard(peer)
        if not room:
            del self.rooms[peer.doc_id]
        gone = [AwarenessEntry(e.client_id, e.clock + 1, "null") for e in peer.awareness.values()]
        peer.awareness.clear()
        if gone and room:
            self.broadcast(peer, awareness_frame(encode_awareness(gone)))

    def broadcast(self, sender: Peer, frame: bytes) -> None:
        """Queue `frame` for every other connection of the sender's document."""
        for peer in list(self.rooms.get(sender.doc_id, ())):
            if peer is not sender:
                peer.send(frame)

    def awareness_of_others(self, asker: Peer) -> list[AwarenessEntry]:
        return [
            entry
            for peer in self.rooms.get(asker.doc_id, ())
            if peer is not asker
            for entry in peer.awareness.values()
        ]

    def count(self, doc_id: UUID) -> int:
        return len(self.rooms.get(doc_id, ()))
