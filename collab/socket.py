"""Serves one websocket of one collaborative document with the y-websocket binary protocol.

On connect the server sends sync step 1 (the document's state vector); a client's step 1 is
answered with step 2 (what it lacks). A client's step 2 or update is sent to the document actor and,
once the actor answered (journalled in PostgreSQL), broadcast to the other connections of the
document (`collab.rooms`). Frames of one connection are handled one at a time, in order. An
awareness frame is relayed as it came (never journalled) to the document's other connections, on
this node and the others; a query (type 3) is answered with the states of the clients of every node.

Read-only clients (who may see the project but not edit its documents) get the document and its
updates, and their awareness is relayed; the updates they send are ignored (never applied nor
broadcast) rather than closing the socket, since a y-websocket client answers every step 1 with a
step 2 and would otherwise reconnect in a loop. The editor shows such a document read-only.

Close codes (4000 + HTTP status, as `server.live`):

    4400 malformed frame (bad framing, unknown type, an update that does not decode) or a text frame
    4401 the session ended or the user lost access since connecting (checked every `collab_recheck_s`)
    4404 unknown document or not visible (at connect)
    4409 the client does not read its frames (its queue is full); one whose socket stays unwritable for
         `ws_stall_s` is dropped without a close frame, which could not reach it
    4413 an update or awareness message over `collab_max_update_bytes`, or the document would exceed
         `collab_max_doc_bytes`
    4429 more messages than `collab_client_rate` / `collab_client_burst` allow (reconnect and resync)
    4503 / 4504 the document actor is unavailable or did not answer (reconnect and resync)
    1009 a frame over `ws_max_frame_bytes`

A refused update leaves the document untouched and closes only that connection.
Must not: decide permissions itself (the route gives `can_edit` and the `recheck` of them), or apply
updates itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from pycrdt import YMessageType, YSyncMessageType
from starlette.websockets import WebSocket, WebSocketDisconnect

from actors.document.actor import EMPTY_UPDATE, doc_address
from actors.document.messages import ApplyUpdate, SyncReply, SyncStep1
from actors.runtime import ActorSystem
from collab import protocol
from collab.protocol import ProtocolError
from collab.rooms import Peer, Rooms
from server.config import Settings
from server.errors import BadRequest, TongbanError

logger = logging.getLogger(__name__)

CLOSE_MALFORMED = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_TOO_LARGE = 4413
CLOSE_FLOOD = 4429


class Refused(Exception):
    """End this connection with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# Re-checks the connection's session and rights: whether it may still edit, None when it may no
# longer see the document at all (logged out, session ended, account disabled, project hidden).
Recheck = Callable[[], Awaitable[bool | None]]


async def serve_document(
    websocket: WebSocket,
    system: ActorSystem,
    rooms: Rooms,
    settings: Settings,
    doc_id: UUID,
    can_edit: bool,
    recheck: Recheck | None = None,
) -> None:
    await websocket.accept()
    peer = Peer(websocket, doc_id, can_edit, settings.ws_stall_s, settings.ws_send_buffer_bytes)
    session = _Session(peer, system, rooms, settings, recheck)
    try:  # before the first sync: an update committed meanwhile reaches us here or in step 2
        await rooms.join(peer)
    except TongbanError as exc:  # the document's feed did not start (journal or actor unavailable)
        await peer.close(4000 + exc.status, exc.code)
        return
    try:
        reply: SyncReply = await session.ask(SyncStep1())
        peer.send(protocol.step1_frame(reply.state_vector))
        others = rooms.awareness_of_others(peer)  # who is here already, as y-websocket servers do
        if others:
            peer.send(protocol.awareness_frame(protocol.encode_awareness(others)))
        while not peer.closing:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is None:
                raise Refused(CLOSE_MALFORMED, "binary frames only")
            await session.handle(data)
    except Refused as exc:
        logger.info("collab.closed", extra={"doc_id": str(doc_id), "code": exc.code, "reason": exc.reason})
        peer.closing = True
        rooms.leave(peer)
        await peer.stop()
        await peer.close(exc.code, exc.reason)
        return
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    rooms.leave(peer)
    await peer.stop()
    await peer.close(1000, "")


class _Session:
    def __init__(
        self, peer: Peer, system: ActorSystem, rooms: Rooms, settings: Settings, recheck: Recheck | None
    ) -> None:
        self.peer = peer
        self.system = system
        self.rooms = rooms
        self.settings = settings
        self.recheck = recheck
        self.tokens = float(settings.collab_client_burst)
        self.token_at = self.checked_at = asyncio.get_running_loop().time()

    async def _still_allowed(self) -> None:
        """Every `collab_recheck_s`, on a message, the rights granted at connect are checked again: a
        session that ended or an account that lost access is closed (4401), one that may no longer
        edit becomes read-only (its updates ignored from then on)."""
        now = asyncio.get_running_loop().time()
        if self.recheck is None or now - self.checked_at < self.settings.collab_recheck_s:
            return
        self.checked_at = now
        can_edit = await self.recheck()
        if can_edit is None:
            raise Refused(CLOSE_UNAUTHORISED, "access ended")
        self.peer.can_edit = can_edit

    def _spend(self) -> None:
        """One message's worth of the client's budget (`collab_client_rate` a second, `collab_client_burst`
        at once). Over it the client is closed rather than its messages dropped: a dropped update
        would leave it diverged, while a reconnecting client resyncs and sends what it has."""
        now = asyncio.get_running_loop().time()
        rate, burst = self.settings.collab_client_rate, self.settings.collab_client_burst
        self.tokens = min(burst, self.tokens + (now - self.token_at) * rate) - 1
        self.token_at = now
        if self.tokens < 0:
            raise Refused(CLOSE_FLOOD, "too many messages")

    async def ask(self, message: Any) -> Any:
        try:
            return await self.system.ask(doc_address(self.peer.doc_id), message, self.settings.ask_timeout_s)
        except BadRequest as exc:
            raise Refused(CLOSE_MALFORMED, exc.code) from exc
        except TongbanError as exc:  # 413 too large, 503 / 504 unavailable
            raise Refused(4000 + exc.status, exc.code) from exc

    async def handle(self, data: bytes) -> None:
        self._spend()
        await self._still_allowed()
        try:
            frame = protocol.parse(data)
        except ProtocolError as exc:
            raise Refused(CLOSE_MALFORMED, "malformed message") from exc
        if frame.kind == YMessageType.SYNC:
            await self._sync(frame)
        elif frame.kind == YMessageType.AWARENESS:
            self._awareness(frame, data)
        else:  # query awareness
            entries = self.rooms.awareness_of_others(self.peer)
            if entries:
                self.peer.send(protocol.awareness_frame(protocol.encode_awareness(entries)))

    async def _sync(self, frame: protocol.Frame) -> None:
        if frame.subtype == YSyncMessageType.SYNC_STEP1:
            reply: SyncReply = await self.ask(SyncStep1(state_vector=frame.payload))
            self.peer.send(protocol.step2_frame(reply.update))
            return
        update = frame.payload
        if update == EMPTY_UPDATE:
            return
        if not self.peer.can_edit:
            logger.info("collab.read_only_update_ignored", extra={"doc_id": str(self.peer.doc_id)})
            return
        if len(update) > self.settings.collab_max_update_bytes:
            raise Refused(CLOSE_TOO_LARGE, "update too large")
        await self.ask(ApplyUpdate(update=update, origin=self.system.node_id))
        self.rooms.broadcast(self.peer, protocol.update_frame(update))  # committed: now others see it

    def _awareness(self, frame: protocol.Frame, data: bytes) -> None:
        if len(frame.payload) > self.settings.collab_max_update_bytes:
            raise Refused(CLOSE_TOO_LARGE, "awareness too large")
        for entry in frame.entries:  # parse() decoded and checked them
            if entry.state == "null":
                self.peer.awareness.pop(entry.client_id, None)
            else:
                self.peer.awareness[entry.client_id] = entry
        self.rooms.relay_awareness(self.peer, data)  # well formed, so relayed as it came
