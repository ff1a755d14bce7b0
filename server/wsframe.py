"""Websocket frames written straight to the transport: encoded once per event and shared by every
subscriber, and written without a task or an ASGI round trip per frame (RFC 6455 §5.2: a server's
frames are unmasked; one text or binary frame per message, no extensions since permessage-deflate is
off).

`RawSocket` wraps uvicorn's wsproto protocol object; under another server `raw_socket` returns None
and callers use the ASGI `send` instead. Must not: write after a close frame was sent or received.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from wsproto.connection import ConnectionState


def _frame(first: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65_536:
        return struct.pack("!BBH", first, 126, n) + payload
    return struct.pack("!BBQ", first, 127, n) + payload


def text_frame(payload: bytes) -> bytes:
    return _frame(0x81, payload)


def binary_frame(payload: bytes) -> bytes:
    return _frame(0x82, payload)


def frame_payload(frame: bytes) -> bytes:
    """The payload of a frame made by `text_frame` or `binary_frame`."""
    n = frame[1]
    start = 2 if n < 126 else 4 if n == 126 else 10
    return frame[start:]


def frame_text(frame: bytes) -> str:
    """The text of a frame made by `text_frame`."""
    return frame_payload(frame).decode()


class RawSocket:
    """Direct writes on one accepted websocket's transport."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    @property
    def open(self) -> bool:
        p = self.protocol
        return not p.close_sent and p.conn.state is ConnectionState.OPEN and not p.transport.is_closing()

    @property
    def writable(self) -> bool:
        """False while the transport's buffer is over its high-water mark (the client is not reading)."""
        return bool(self.protocol.writable.is_set())

    def write(self, data: bytes) -> None:
        self.protocol.transport.write(data)

    async def drained(self) -> None:
        await self.protocol.writable.wait()

    def limit_send_buffer(self, size: int) -> None:
        """Cap the kernel's send buffer of this socket (Linux would grow it to 4 MB for a client that
        does not read); what does not fit waits in our bounded queue instead."""
        sock = self.protocol.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)

    def abort(self) -> None:
        self.protocol.transport.abort()


def raw_socket(protocol: Any) -> RawSocket | None:
    """The raw socket of uvicorn's wsproto websocket protocol, None for anything else."""
    conn = getattr(protocol, "conn", None)
    if (
        protocol is None
        or not isinstance(getattr(protocol, "writable", None), asyncio.Event)
        or getattr(conn, "state", None) is None
        or not hasattr(protocol, "close_sent")
        or getattr(protocol, "transport", None) is None
    ):
        return None
    return RawSocket(protocol)
