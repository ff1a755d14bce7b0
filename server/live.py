"""Streams one actor's events to one websocket: a snapshot (or the missed events after the
client's `since`), then every event in order, with heartbeats.

Frames are JSON: `{"type": "snapshot", "seq", "data"}`, an event `{"type": "<dotted name>", "actor",
"seq", "at", "data"}`, `{"type": "ping"}`. A client too slow to keep up is closed with
`CLOSE_LAGGING` and reconnects with its last `seq`. Must not: check permissions (the route did).
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.websockets import WebSocket, WebSocketDisconnect

from actors.events import Event
from actors.runtime import ActorRef
from server.config import Settings
from server.errors import TongbanError
from server.routing import reject

CLOSE_LAGGING = 4429  # fell behind its bounded queue: reconnect with the last seq seen
CLOSE_GOING_AWAY = 1001


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) client frames so a disconnect is noticed at once."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def stream_actor(websocket: WebSocket, ref: ActorRef, since: int | None, settings: Settings) -> None:
    try:
        subscribed = await ref.subscribe(since, settings.ws_queue_size, settings.ask_timeout_s)
    except TongbanError as exc:  # e.g. the database is down: the client retries on 4503
        await reject(websocket, exc)
        return
    sub = subscribed.subscription
    await websocket.accept()
    reader = asyncio.create_task(_drain_client(websocket), name="ws-reader")
    next_event: asyncio.Task[Event | None] | None = None
    try:
        if subscribed.snapshot is not None:
            await websocket.send_text(
                json.dumps(
                    {"type": "snapshot", "seq": subscribed.seq, "data": subscribed.snapshot},
                    ensure_ascii=False,
                )
            )
        for missed in subscribed.missed or []:
            await websocket.send_text(missed.model_dump_json())
        while not reader.done():
            # The pending `next()` is kept across heartbeats: cancelling it could drop an event it had
            # already taken off the queue.
            next_event = next_event or asyncio.create_task(sub.next())
            await asyncio.wait(
                {next_event, reader}, timeout=settings.ws_heartbeat_s, return_when=asyncio.FIRST_COMPLETED
            )
            if not next_event.done():
                if not reader.done():
                    await websocket.send_text('{"type":"ping"}')
                continue
            event = next_event.result()
            next_event = None
            if event is None:
                if sub.lagging:
                    await websocket.close(code=CLOSE_LAGGING, reason="lagging")
                else:
                    await websocket.close(code=CLOSE_GOING_AWAY)
                return
            await websocket.send_text(event.model_dump_json())
    except (WebSocketDisconnect, RuntimeError):
        return  # the client went away while we were sending
    finally:
        ref.unsubscribe(sub)
        if next_event is not None:
            next_event.cancel()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await reader
