"""Streams one actor's events to one websocket: a snapshot (or the events missed since the client's
`since`), then every event in order, with heartbeats, presence and limits.

Frames are JSON: `{"type": "snapshot", "seq", "data"}`, an event `{"actor", "seq", "type": "<dotted
name>", "at", "data"}`, `{"type": "ping"}` every `ws_heartbeat_s` (so a browser can tell a dead server;
a client may answer `{"type": "pong"}`), `{"type": "error", "code", "message"}`. A client whose
websocket stack stops answering protocol pings (`ws_ping_interval_s`) is dropped by the server.

Cost per connection is kept low: the ASGI task reading client frames is the only task while idle;
an event for a subscriber that is in step is written straight to its transport (one frame encoded
once for all subscribers, no task); a writer task exists only while a subscriber catches up or its
client is slow; heartbeats come from one ticker per node. Close codes:

    4400 bad request · 4401 not logged in · 4403 forbidden · 4404 unknown or not visible
    4408 no frame from the client for `ws_idle_timeout_s` (when that limit is on)
    4409 stayed behind: its queue overflowed too often (reconnect with the last seq)
    4429 the client sent too many frames · 4503 a service is down (retry later)
    1009 frame too big · 1011 no answer to protocol pings · a client that stops reading is dropped

Must not: check permissions (the route did).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from actors.events import Address
from actors.hub import Hub, Subscription, next_frames
from actors.messages import Join, Leave, Member
from actors.runtime import ActorSystem
from server.config import Settings
from server.errors import BadRequest, TongbanError
from server.routing import reject
from server.wsframe import RawSocket, frame_text, raw_socket, text_frame

logger = logging.getLogger(__name__)

CLOSE_IDLE = 4408
CLOSE_LAGGING = 4409
CLOSE_FLOOD = 4429
PING = '{"type":"ping"}'
PONG = '{"type":"pong"}'
PING_FRAME = text_frame(PING.encode())
OVERFLOW_WINDOW_S = 60.0


class Live:
    """This node's live connections and the one ticker that sends their heartbeats."""

    def __init__(self, hub: Hub, settings: Settings) -> None:
        self.hub = hub
        self.settings = settings
        self.buckets = max(1, min(60, round(settings.ws_heartbeat_s)))
        self.tick_s = settings.ws_heartbeat_s / self.buckets
        self.wheel: list[set[Connection]] = [set() for _ in range(self.buckets)]
        self._serial = itertools.count()
        self._ticker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick(), name="live-heartbeats")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    @property
    def count(self) -> int:
        return sum(len(b) for b in self.wheel)

    def add(self, conn: Connection) -> None:
        conn.bucket = next(self._serial) % self.buckets
        self.wheel[conn.bucket].add(conn)

    def discard(self, conn: Connection) -> None:
        self.wheel[conn.bucket].discard(conn)

    async def _tick(self) -> None:
        """Each tick, one bucket of connections gets its heartbeat: every connection is pinged once per
        `ws_heartbeat_s`, spread evenly over it instead of all at once."""
        loop = asyncio.get_running_loop()
        idle_s = self.settings.ws_idle_timeout_s
        for tick in itertools.count():
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            for conn in list(self.wheel[tick % self.buckets]):
                if idle_s and now - conn.last_heard > idle_s:
                    conn.close_soon(CLOSE_IDLE, "idle")
                else:
                    conn.ping()


def _noop() -> None:
    return None


class Connection:
    """One websocket subscribed to one actor."""

    __slots__ = (
        "bucket", "busy", "closer", "closing", "last_heard", "live", "member", "overflow_times", "ping_due",
        "raw", "sub", "token_at", "tokens", "websocket", "writer",
    )  # fmt: skip

    def __init__(self, websocket: WebSocket, live: Live, address: Address, since: int | None) -> None:
        loop = asyncio.get_running_loop()
        self.websocket = websocket
        self.live = live
        self.raw: RawSocket | None = raw_socket(websocket.scope.pop("tongban.protocol", None))
        if self.raw is not None:
            self.raw.limit_send_buffer(live.settings.ws_send_buffer_bytes)
        direct = self._direct if self.raw is not None else None
        self.sub: Subscription = Subscription(address, live.settings.ws_queue_size, since, self.wake, direct)
        self.bucket = 0
        self.last_heard = loop.time()
        self.writer: asyncio.Task[None] | None = None
        self.busy = True  # producing or sending frames: events go through the queue meanwhile
        self.ping_due = False
        self.closing = False
        self.tokens = float(live.settings.ws_client_burst)
        self.token_at = loop.time()
        self.overflow_times: list[float] | None = None
        self.member: Member | None = None
        self.closer: asyncio.Task[None] | None = None

    # -- sending --------------------------------------------------------------------------------------

    def _direct(self, seq: int, frame: bytes) -> bool:
        """Write an in-step event at once; False when it must wait in the queue."""
        raw = self.raw
        if self.busy or self.closing or raw is None or not raw.writable or not raw.open:
            return False
        raw.write(frame)
        return True

    def wake(self) -> None:
        if self.writer is None and not self.closing and not self.busy:
            self.busy = True
            self.writer = asyncio.create_task(self._write())

    def ping(self) -> None:
        raw = self.raw
        if raw is not None and not self.busy and not self.closing and raw.writable and raw.open:
            raw.write(PING_FRAME)  # the common case: no task, no ASGI round trip
            return
        self.ping_due = True
        self.wake()

    async def send(self, frames: list[bytes]) -> None:
        """Send frames in order, waiting (at most `ws_stall_s`) while the client does not read."""
        if not frames:
            return
        raw = self.raw
        async with asyncio.timeout(self.live.settings.ws_stall_s):
            if raw is None:
                for frame in frames:
                    await self.websocket.send_text(frame_text(frame))
                return
            await raw.drained()
            if not raw.open:
                raise WebSocketDisconnect(1006)
            raw.write(b"".join(frames))
            await raw.drained()

    async def _write(self) -> None:
        settings = self.live.settings
        try:
            while not self.closing:
                overflows = self.sub.overflows
                frames = await next_frames(self.live.hub, self.sub, settings.ask_timeout_s)
                if self.sub.overflows != overflows and self._overflowed():
                    return self.close_soon(CLOSE_LAGGING, "lagging")
                if self.ping_due:
                    self.ping_due = False
                    frames.append(PING_FRAME)
                if not frames:
                    return
                await self.send(frames)
        except TimeoutError:
            logger.info("ws.stalled", extra={"actor": str(self.sub.address)})
            self._abort()
        except TongbanError as exc:  # the actor's view could not be had (service down): client retries
            self.close_soon(4000 + exc.status, exc.code)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._abort()
        finally:
            self.writer = None
            self.busy = False
            if (self.sub.queue or self.sub.resync or self.sub.since is not None) and not self.closing:
                self.wake()

    def _overflowed(self) -> bool:
        """Whether the queue overflowed too often: a coalesced snapshot is sent after an overflow, but
        a client that overflows again and again within a minute is closed."""
        now = asyncio.get_running_loop().time()
        times = self.overflow_times = [t for t in self.overflow_times or [] if now - t < OVERFLOW_WINDOW_S]
        times.append(now)
        return len(times) > self.live.settings.ws_max_overflows

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(self.live.settings.ws_stall_s):
                await self.websocket.close(code=code, reason=reason)
        except (TimeoutError, RuntimeError, WebSocketDisconnect, OSError):
            self._abort()

    def _abort(self) -> None:
        """Drop the TCP connection without a closing handshake (the client stopped reading)."""
        self.closing = True
        if self.raw is not None:
            self.raw.abort()

    # -- receiving ------------------------------------------------------------------------------------

    def heard(self, message: Any) -> bool:
        """Handle one ASGI message from the client; False once the connection is over. (Not a
        coroutine: the socket's task awaits `receive` itself, one frame less per idle connection.)"""
        if message["type"] == "websocket.disconnect":
            return False
        settings = self.live.settings
        now = self.last_heard = asyncio.get_running_loop().time()
        self.tokens = min(
            settings.ws_client_burst, self.tokens + (now - self.token_at) * settings.ws_client_rate
        )
        self.token_at = now
        self.tokens -= 1
        if self.tokens < -settings.ws_client_burst:
            self.close_soon(CLOSE_FLOOD, "too many messages")
            return False
        if self.tokens >= 0:  # over the rate: dropped
            text = message.get("text")
            if text != PONG:
                self._on_frame(text)
        return True

    def _on_frame(self, text: str | None) -> None:
        try:
            frame: Any = json.loads(text) if text is not None else None
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "pong":
            return
        if isinstance(frame, dict) and frame.get("type") == "ping":
            self._send_soon(PONG)
            return
        error = {"type": "error", "code": "invalid_message", "message": "无法识别的消息，仅接受 ping / pong"}
        self._send_soon(json.dumps(error, ensure_ascii=False))

    def _send_soon(self, text: str) -> None:
        """A reply to the client: queued behind whatever the writer is sending."""
        self.sub.queue.append((-1, text_frame(text.encode())))
        self.wake()

    def release(self) -> None:
        """Break the connection ↔ subscription references so both are freed without the cycle GC."""
        self.sub.wake = _noop
        self.sub.direct = None
        self.raw = None


def since_of(websocket: WebSocket) -> int | None:
    """The `?since=` of a subscription: the last sequence number the client saw, if any."""
    text = websocket.query_params.get("since")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        raise BadRequest("since 须为非负整数")
    return int(text)


def forget_handshake(websocket: WebSocket) -> None:
    """Drop what the handshake left that a live connection never reads again (headers, cookies, the
    session and user found by the route): ~4 KiB per socket, times 10,000 sockets."""
    scope = websocket.scope
    scope["headers"] = []
    scope.get("state", {}).clear()
    for cached in ("_headers", "_cookies", "_query_params", "_url", "_state"):
        websocket.__dict__.pop(cached, None)


async def stream_actor(
    websocket: WebSocket,
    system: ActorSystem,
    live: Live,
    address: Address,
    since: int | None,
    presence: tuple[uuid.UUID, str] | None = None,
) -> None:
    """Serve one subscription until the client leaves. `presence`: (user id, name) to announce."""
    forget_handshake(websocket)
    conn = Connection(websocket, live, address, since)
    settings = live.settings
    joined: asyncio.Task[None] | None = None
    try:
        await live.hub.add(conn.sub)
        first = await next_frames(live.hub, conn.sub, settings.ask_timeout_s)
    except TongbanError as exc:  # e.g. the database is down: the client retries on 4503
        live.hub.remove(conn.sub)
        conn.release()
        await reject(websocket, exc)
        return
    live.add(conn)
    try:
        await websocket.accept()
        await conn.send(first)
        del first  # the first frames (a snapshot …) are not kept for the socket's lifetime
        conn.busy = False
        if conn.sub.queue or conn.sub.resync or conn.sub.since is not None:
            conn.wake()  # events that arrived while the first frames were sent
        if presence is not None:
            conn.member = Member(
                conn=uuid.uuid4().hex, node=system.node_id, user_id=presence[0], name=presence[1]
            )
            joined = system.tell(address, Join(member=conn.member))
        receive = websocket.receive
        while conn.heard(await receive()):
            pass
    except (WebSocketDisconnect, RuntimeError, OSError, TimeoutError):
        pass  # the client went away (or never read its first frames)
    finally:
        conn.closing = True
        live.discard(conn)
        live.hub.remove(conn.sub)
        if conn.writer is not None:
            conn.writer.cancel()
        if conn.member is not None:
            system.tell(address, Leave(conn=conn.member.conn), after=joined)  # never before the join
        if conn.closer is not None:
            await conn.closer  # the close with its code (4408, 4409, 4429 …) already under way
        elif WebSocketState.CONNECTED == websocket.client_state == websocket.application_state:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                await websocket.close()
        conn.release()
