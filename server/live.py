"""Streams one actor's events to one websocket: a snapshot (or the events missed since the client's
`since`), then every event in order, with heartbeats, presence and limits.

Frames are JSON: `{"type": "snapshot", "seq", "data"}`, an event `{"actor", "seq", "type": "<dotted
name>", "at", "data"}`, `{"type": "ping"}` (answer `{"type": "pong"}`), `{"type": "error", "code",
"message"}`. Per connection there is the ASGI task reading client frames and, only while there is
something to send, one writer task; heartbeats come from one ticker per node. Close codes:

    4400 bad request · 4401 not logged in · 4403 forbidden · 4404 unknown or not visible
    4408 no frame from the client for `ws_idle_timeout_s` (dead or idle connection)
    4409 stayed behind: its queue overflowed too often or a send stalled (reconnect with last seq)
    4429 the client sent too many frames · 4503 a service is down (retry later) · 1009 frame too big

Must not: check permissions (the route did).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from actors.events import Address
from actors.hub import Hub, Subscription, next_frames
from actors.messages import Join, Leave, Member
from actors.runtime import ActorSystem
from server.config import Settings
from server.errors import TongbanError
from server.routing import reject

logger = logging.getLogger(__name__)

CLOSE_IDLE = 4408
CLOSE_LAGGING = 4409
CLOSE_FLOOD = 4429
PING = '{"type":"ping"}'
PONG = '{"type":"pong"}'
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
        for tick in itertools.count():
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            for conn in list(self.wheel[tick % self.buckets]):
                if now - conn.last_heard > self.settings.ws_idle_timeout_s:
                    conn.close_soon(CLOSE_IDLE, "idle")
                else:
                    conn.ping()


class Connection:
    """One websocket subscribed to one actor."""

    __slots__ = (
        "bucket",
        "closer",
        "closing",
        "last_heard",
        "live",
        "member",
        "overflow_times",
        "ping_due",
        "sub",
        "token_at",
        "tokens",
        "websocket",
        "writer",
    )  # fmt: skip

    def __init__(self, websocket: WebSocket, live: Live, address: Address, since: int | None) -> None:
        loop = asyncio.get_running_loop()
        self.websocket = websocket
        self.live = live
        self.sub = Subscription(address, live.settings.ws_queue_size, since, self.wake)
        self.bucket = 0
        self.last_heard = loop.time()
        self.writer: asyncio.Task[None] | None = None
        self.ping_due = False
        self.closing = False
        self.tokens = float(live.settings.ws_client_burst)
        self.token_at = loop.time()
        self.overflow_times: deque[float] = deque()
        self.member: Member | None = None
        self.closer: asyncio.Task[None] | None = None

    # -- sending --------------------------------------------------------------------------------------

    def wake(self) -> None:
        if self.writer is None and not self.closing:
            self.writer = asyncio.create_task(self._write())

    def ping(self) -> None:
        self.ping_due = True
        self.wake()

    async def _write(self) -> None:
        settings = self.live.settings
        try:
            while not self.closing:
                overflows = self.sub.overflows
                frames = await next_frames(self.live.hub, self.sub, settings.ask_timeout_s)
                if self.sub.overflows != overflows or self._overflowed():
                    return self.close_soon(CLOSE_LAGGING, "lagging")
                if self.ping_due:
                    self.ping_due = False
                    frames.append(PING)
                if not frames:
                    return
                for frame in frames:
                    async with asyncio.timeout(settings.ws_stall_s):
                        await self.websocket.send_text(frame)
        except TimeoutError:
            logger.info("ws.stalled", extra={"actor": str(self.sub.address)})
            self._abort()
        except TongbanError as exc:  # the actor's view could not be had (service down): client retries
            self.close_soon(4000 + exc.status, exc.code)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._abort()
        finally:
            self.writer = None
            if self.sub.queue and not self.closing:
                self.wake()

    def _overflowed(self) -> bool:
        """Whether the queue overflowed too often: a coalesced snapshot is sent after an overflow, but
        a client that overflows again and again is closed."""
        if not self.sub.overflows:
            return False
        now = asyncio.get_running_loop().time()
        while len(self.overflow_times) < self.sub.overflows:
            self.overflow_times.append(now)
        while self.overflow_times and now - self.overflow_times[0] > OVERFLOW_WINDOW_S:
            self.overflow_times.popleft()
            self.sub.overflows -= 1
        return len(self.overflow_times) > self.live.settings.ws_max_overflows

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
        abort: Callable[[], None] | None = self.websocket.scope.get("tongban.abort")
        if abort is not None:
            abort()

    # -- receiving ------------------------------------------------------------------------------------

    async def read(self) -> None:
        settings = self.live.settings
        loop = asyncio.get_running_loop()
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            now = self.last_heard = loop.time()
            self.tokens = min(
                settings.ws_client_burst, self.tokens + (now - self.token_at) * settings.ws_client_rate
            )
            self.token_at = now
            self.tokens -= 1
            if self.tokens < -settings.ws_client_burst:
                self.close_soon(CLOSE_FLOOD, "too many messages")
                return
            if self.tokens < 0:
                continue  # over the rate: dropped
            text = message.get("text")
            if text == PONG:
                continue
            self._on_frame(text)

    def _on_frame(self, text: str | None) -> None:
        try:
            frame = json.loads(text) if text is not None else None
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "pong":
            return
        if isinstance(frame, dict) and frame.get("type") == "ping":
            self._send_soon(PONG)
            return
        error = {"type": "error", "code": "invalid_message", "message": "无法识别的消息，仅接受 ping / pong"}
        self._send_soon(json.dumps(error, ensure_ascii=False))

    def _send_soon(self, frame: str) -> None:
        asyncio.get_running_loop().create_task(self._send_direct(frame))

    async def _send_direct(self, frame: str) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError, TimeoutError):
            async with asyncio.timeout(self.live.settings.ws_stall_s):
                await self.websocket.send_text(frame)


async def stream_actor(
    websocket: WebSocket,
    system: ActorSystem,
    live: Live,
    address: Address,
    since: int | None,
    presence: tuple[uuid.UUID, str] | None = None,
) -> None:
    """Serve one subscription until the client leaves. `presence`: (user id, name) to announce."""
    conn = Connection(websocket, live, address, since)
    settings = live.settings
    joined: asyncio.Task[None] | None = None
    try:
        await live.hub.add(conn.sub)
        first = await next_frames(live.hub, conn.sub, settings.ask_timeout_s)
    except TongbanError as exc:  # e.g. the database is down: the client retries on 4503
        live.hub.remove(conn.sub)
        await reject(websocket, exc)
        return
    live.add(conn)
    try:
        await websocket.accept()
        for frame in first:
            await websocket.send_text(frame)
        if presence is not None:
            conn.member = Member(
                conn=uuid.uuid4().hex, node=system.node_id, user_id=presence[0], name=presence[1]
            )
            joined = system.tell(address, Join(member=conn.member))
        await conn.read()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away
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
