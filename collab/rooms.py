"""This node's connections to each collaborative document ("rooms"), and their outgoing queues.

Fan-out of committed updates: the socket that sent an update asks the document actor, and only once
the actor answered (the update is journalled in PostgreSQL) does it hand the update to its room here,
which sends it to every other connection of that document on this node (one websocket frame encoded
once for all; no JSON parse or base64 decode per event). Connections on other nodes get it through
their node's `Feed`: one hub subscription per document and node (`actors.hub`: events in order, gaps
read from the journal), which passes on the updates whose origin is another node.

Awareness (cursors, names) is never journalled. A client's awareness frame is queued as it is for
the other connections of its room here and published once to the other nodes (`collab.awareness`,
through Redis), which pass it on to theirs. A connection's last awareness entries are kept so that
its leaving can be announced (state `null`, here and on the other nodes), and a query (message type
3) is answered with the entries of every node's clients.

A client that does not read: its queue holds `QUEUE_FRAMES` frames; past that it is closed (4409),
and when its socket stays unwritable for `ws_stall_s` it is dropped (no closing handshake could
reach it); either way it reconnects with a fresh sync.
Must not: block on a slow connection, or hand out an update the actor has not committed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections import deque
from uuid import UUID

from starlette.websockets import WebSocket, WebSocketDisconnect

from actors.document.actor import UPDATED, doc_address
from actors.hub import Hub, Subscription, next_frames
from collab.awareness import DEFAULT_MAX_BYTES, AwarenessRelay
from collab.protocol import AwarenessEntry, awareness_frame, encode_awareness, update_frame
from server.errors import AskTimeout, TongbanError
from server.wsframe import RawSocket, binary_frame, frame_payload, frame_text, raw_socket

logger = logging.getLogger(__name__)

QUEUE_FRAMES = 1_000
CLOSE_LAGGING = 4409


class Peer:
    """One websocket of one document: its outgoing frames and awareness entries.

    Frames are websocket frames encoded once per broadcast and shared by every receiver. Under
    uvicorn's wsproto server a frame for a client that is keeping up is written straight to its
    transport (no task, no ASGI round trip); otherwise it waits in a bounded queue that a writer task,
    made only while there is a backlog, sends once the client reads again."""

    __slots__ = (
        "awareness", "can_edit", "closer", "closing", "doc_id", "queue", "raw", "stall_s", "websocket", "writer",
    )  # fmt: skip

    def __init__(
        self,
        websocket: WebSocket,
        doc_id: UUID,
        can_edit: bool,
        stall_s: float,
        send_buffer: int | None = None,
    ) -> None:
        self.websocket = websocket
        self.doc_id = doc_id
        self.can_edit = can_edit
        self.stall_s = stall_s
        self.raw: RawSocket | None = raw_socket(websocket.scope.pop("tongban.protocol", None))
        if self.raw is not None and send_buffer:
            self.raw.limit_send_buffer(send_buffer)
        self.queue: deque[bytes] = deque()
        self.awareness: dict[int, AwarenessEntry] = {}
        self.closing = False
        self.writer: asyncio.Task[None] | None = None
        self.closer: asyncio.Task[None] | None = None

    def send(self, message: bytes) -> None:
        """Send one y-protocol message to this client only."""
        self.send_frame(binary_frame(message))

    def send_frame(self, frame: bytes) -> None:
        """Send an encoded websocket frame (shared with other receivers)."""
        if self.closing:
            return
        raw = self.raw
        if self.writer is None and raw is not None and raw.writable and raw.open:
            raw.write(frame)
            return
        if len(self.queue) >= QUEUE_FRAMES:
            self.close_soon(CLOSE_LAGGING, "lagging")
            return
        self.queue.append(frame)
        if self.writer is None:
            self.writer = asyncio.create_task(self._write(), name=f"collab-writer:{self.doc_id}")

    async def _write(self) -> None:
        try:
            while self.queue and not self.closing:
                async with asyncio.timeout(self.stall_s):
                    raw = self.raw
                    if raw is None:  # another ASGI server: one send per frame
                        await self.websocket.send_bytes(frame_payload(self.queue.popleft()))
                        continue
                    await raw.drained()
                    if not raw.open:
                        raise WebSocketDisconnect(1006)
                    frames = b"".join(self.queue)
                    self.queue.clear()
                    raw.write(frames)
        except TimeoutError:  # the client does not read: no closing handshake can reach it either
            logger.info("collab.stalled", extra={"doc_id": str(self.doc_id)})
            self.closing = True
            self.queue.clear()
            if self.raw is not None:
                self.raw.abort()
            else:
                self.close_soon(CLOSE_LAGGING, "stalled")
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.closing = True
            self.queue.clear()
        finally:
            self.writer = None

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.queue.clear()
        self.closer = asyncio.get_running_loop().create_task(self.close(code, reason))

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        try:
            async with asyncio.timeout(self.stall_s):
                await self.websocket.close(code=code, reason=reason)
        except TimeoutError:
            if self.raw is not None:
                self.raw.abort()
        except (RuntimeError, WebSocketDisconnect, OSError):
            pass

    async def stop(self) -> None:
        self.closing = True
        self.queue.clear()
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        if self.closer is not None:
            await self.closer
        self.raw = None


class Feed:
    """A document's committed updates from the other nodes, for this node's connections to it: one hub
    subscription per document and node (events arrive in order; gaps are read from the journal). An
    update sent by a client of this node was broadcast here already when the actor answered, so only
    updates of other origins are passed on; after the subscription had to start over (it fell behind),
    the document's connections here are closed (4409) and resync on reconnect."""

    def __init__(self, rooms: Rooms, doc_id: UUID) -> None:
        self.rooms = rooms
        self.doc_id = doc_id
        self.sub = Subscription(doc_address(doc_id), QUEUE_FRAMES, None, self.wake, self.direct)
        self.synced = False
        self.ready = asyncio.Event()  # the first snapshot arrived: every later event will be passed on
        self.task: asyncio.Task[None] | None = None

    def direct(self, seq: int, frame: bytes) -> bool:
        if self.task is not None:
            return False  # catching up: in order, through the queue
        self.on_frame(frame)
        return True

    def wake(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self._drain(), name=f"collab-feed:{self.doc_id}")

    async def _drain(self) -> None:
        hub = self.rooms.hub
        assert hub is not None  # feeds exist only with a hub
        try:
            while frames := await next_frames(hub, self.sub, self.rooms.ask_timeout_s):
                for frame in frames:
                    self.on_frame(frame)
        except TongbanError as exc:  # the journal or the actor is unreachable: everyone resyncs
            logger.warning("collab.feed_failed", extra={"doc_id": str(self.doc_id), "code": exc.code})
            self.resync_all()
            self.ready.set()  # joiners waiting for it go on to be closed with the others
        finally:
            self.task = None
            if self.sub.queue and self.doc_id in self.rooms.feeds:
                self.wake()

    def on_frame(self, frame: bytes) -> None:
        if self.rooms.own_origin in frame:
            return  # an update of this node's clients, broadcast here already: no need to parse it
        event = json.loads(frame_text(frame))
        if event.get("type") == "snapshot":
            if self.synced:
                self.resync_all()  # fell behind: the updates in between are not in a snapshot frame
            self.synced = True
            self.ready.set()
            return
        data = event.get("data", {})
        if event.get("type") != UPDATED or data.get("origin") == self.rooms.node_id:
            return
        self.rooms.send_all(self.doc_id, update_frame(base64.b64decode(data["update"])))

    def resync_all(self) -> None:
        for peer in list(self.rooms.rooms.get(self.doc_id, ())):
            peer.close_soon(CLOSE_LAGGING, "resync")


class Rooms:
    """doc id → the connections of this node to that document, the feed of other nodes' updates, and
    the relay of awareness between nodes (`max_awareness_bytes`: larger relayed messages are dropped)."""

    def __init__(
        self,
        hub: Hub | None = None,
        node_id: str = "",
        ask_timeout_s: float = 5.0,
        max_awareness_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.rooms: dict[UUID, set[Peer]] = {}
        self.feeds: dict[UUID, Feed] = {}
        self.hub = hub
        self.node_id = node_id
        # How this node's origin reads in an event's JSON (compact, as `Event.model_dump_json` writes it).
        self.own_origin = b'"origin":' + json.dumps(node_id).encode()
        self.ask_timeout_s = ask_timeout_s
        self.relay = (
            None
            if hub is None
            else AwarenessRelay(hub.system.cluster, self.send_all, self.local_awareness, max_awareness_bytes)
        )

    async def join(self, peer: Peer) -> None:
        self.rooms.setdefault(peer.doc_id, set()).add(peer)
        try:
            if self.hub is not None and peer.doc_id not in self.feeds:
                feed = self.feeds[peer.doc_id] = Feed(self, peer.doc_id)
                await self.hub.add(feed.sub)
                feed.wake()  # its first snapshot: from then on every event
            joined = self.feeds.get(peer.doc_id)
            if joined is not None and not joined.ready.is_set():
                # A joiner syncs only once the feed holds its starting point: an update another node
                # commits meanwhile is then in the joiner's sync or passed on by the feed, never lost.
                try:
                    async with asyncio.timeout(self.ask_timeout_s):
                        await joined.ready.wait()
                except TimeoutError as exc:
                    raise AskTimeout() from exc
            if self.relay is not None:
                await self.relay.open(peer.doc_id)
        except BaseException:
            self.leave(peer)
            raise

    def leave(self, peer: Peer) -> None:
        """Remove `peer` and tell the others, here and on other nodes, its awareness states are gone."""
        room = self.rooms.get(peer.doc_id)
        if room is None or peer not in room:
            return
        room.discard(peer)
        gone = [AwarenessEntry(e.client_id, e.clock + 1, "null") for e in peer.awareness.values()]
        peer.awareness.clear()
        if gone:
            self.relay_awareness(peer, awareness_frame(encode_awareness(gone)))
        if not room:
            del self.rooms[peer.doc_id]
            feed = self.feeds.pop(peer.doc_id, None)
            if feed is not None and self.hub is not None:
                self.hub.remove(feed.sub)
                if feed.task is not None:
                    feed.task.cancel()
            if self.relay is not None:
                self.relay.close(peer.doc_id)

    def broadcast(self, sender: Peer, message: bytes) -> None:
        """Send a y-protocol message to every other connection of the sender's document (one
        websocket frame, encoded once, for all of them)."""
        frame = binary_frame(message)
        for peer in list(self.rooms.get(sender.doc_id, ())):
            if peer is not sender:
                peer.send_frame(frame)

    def send_all(self, doc_id: UUID, message: bytes) -> None:
        frame = binary_frame(message)
        for peer in list(self.rooms.get(doc_id, ())):
            peer.send_frame(frame)

    def relay_awareness(self, sender: Peer, frame: bytes) -> None:
        """An awareness frame of `sender`'s client (checked, as it came): to the other connections of
        the document here and to the other nodes, the same bytes for all."""
        self.broadcast(sender, frame)
        if self.relay is not None:
            self.relay.publish(sender.doc_id, frame)

    def local_awareness(self, doc_id: UUID) -> list[AwarenessEntry]:
        return [entry for peer in self.rooms.get(doc_id, ()) for entry in peer.awareness.values()]

    def awareness_of_others(self, asker: Peer) -> list[AwarenessEntry]:
        """The states of every other client of the document, on this node and the others; a client
        seen on two nodes (it moved) counts once, with its latest clock."""
        found: dict[int, AwarenessEntry] = {}
        remote = self.relay.entries(asker.doc_id) if self.relay is not None else []
        local = [
            e
            for peer in self.rooms.get(asker.doc_id, ())
            if peer is not asker
            for e in peer.awareness.values()
        ]
        for entry in (*remote, *local):
            known = found.get(entry.client_id)
            if known is None or entry.clock >= known.clock:
                found[entry.client_id] = entry
        return list(found.values())
