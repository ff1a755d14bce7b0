"""The load generators' websocket reader: the server's handshake answer, then server frames
(unmasked, RFC 6455 §5.2) split out of what a socket delivered, the unparsed tail kept for the next
read. Must not: copy more than each frame's payload (this runs for every frame of tens of thousands
of sockets)."""

from __future__ import annotations


def split_frames(buf: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(opcode, payload) of every whole frame at the start of `buf`, and the incomplete rest."""
    frames: list[tuple[int, bytes]] = []
    pos, n = 0, len(buf)
    while n - pos >= 2:
        b0, b1 = buf[pos], buf[pos + 1]
        length = b1 & 0x7F
        head = 2
        if length == 126:
            if n - pos < 4:
                break
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            head = 4
        elif length == 127:
            if n - pos < 10:
                break
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            head = 10
        if n - pos < head + length:
            break
        frames.append((b0 & 0x0F, buf[pos + head : pos + head + length]))
        pos += head + length
    return frames, (buf[pos:] if pos < n else b"")


def split_handshake(buf: bytes) -> tuple[bytes | None, bytes]:
    """(the answer's status line, what follows the answer) once the whole HTTP answer is in `buf`;
    (None, buf) while it is not."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    return buf[: buf.find(b"\r\n")], buf[end + 4 :]


def switched(status: bytes) -> bool:
    """Whether the status line says 101 Switching Protocols."""
    return b" 101 " in status + b" "
