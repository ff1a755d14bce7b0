"""The y-websocket binary protocol (y-protocols sync and awareness), encoded with pycrdt's helpers
and decoded strictly here: every length is checked against the frame, so a truncated or padded frame
is a `ProtocolError` instead of a silently shortened update (pycrdt's `Decoder` does not check).

A frame is `varuint type` then, for
    0 sync:             `varuint subtype` (0 step 1, 1 step 2, 2 update) + `varbytes payload`
    1 awareness:        `varbytes update` (varuint count, then per client: id, clock, JSON state)
    3 query awareness:  nothing
Must not: touch a document (the actor does) or a socket (`collab.socket` does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pycrdt import (
    Encoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_message,
)

__all__ = [
    "AwarenessEntry",
    "Frame",
    "ProtocolError",
    "awareness_frame",
    "decode_awareness",
    "encode_awareness",
    "parse",
    "step1_frame",
    "step2_frame",
    "update_frame",
]

QUERY_AWARENESS = 3
MAX_VARUINT_BITS = 53  # lib0 writes JavaScript numbers: nothing larger is meaningful


class ProtocolError(ValueError):
    """A frame that is not a well-formed y-websocket message."""


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str  # JSON text; "null" means the client is gone


@dataclass(frozen=True)
class Frame:
    kind: int  # YMessageType.SYNC, YMessageType.AWARENESS or QUERY_AWARENESS
    subtype: int = -1  # a YSyncMessageType for sync frames
    payload: bytes = b""  # state vector, update or awareness update
    entries: tuple[AwarenessEntry, ...] = ()  # an awareness update's entries, decoded once


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated varuint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
            if shift >= MAX_VARUINT_BITS:
                raise ProtocolError("varuint too long")

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("truncated payload")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def var_string(self) -> str:
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("awareness state is not UTF-8") from exc

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("trailing bytes")


def parse(data: bytes) -> Frame:
    """One client frame; `ProtocolError` when it is malformed or of an unknown type."""
    reader = _Reader(data)
    kind = reader.var_uint()
    if kind == YMessageType.SYNC:
        subtype = reader.var_uint()
        if subtype not in (
            YSyncMessageType.SYNC_STEP1,
            YSyncMessageType.SYNC_STEP2,
            YSyncMessageType.SYNC_UPDATE,
        ):
            raise ProtocolError(f"unknown sync message type {subtype}")
        payload = reader.var_bytes()
        reader.end()
        return Frame(kind, subtype, payload)
    if kind == YMessageType.AWARENESS:
        payload = reader.var_bytes()
        reader.end()
        entries = decode_awareness(payload)  # checked here: the frame is relayed as it is
        return Frame(kind, payload=payload, entries=tuple(entries))
    if kind == QUERY_AWARENESS:
        reader.end()
        return Frame(kind)
    raise ProtocolError(f"unknown message type {kind}")


def decode_awareness(update: bytes) -> list[AwarenessEntry]:
    reader = _Reader(update)
    entries = []
    for _ in range(reader.var_uint()):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        state = reader.var_string()
        try:
            json.loads(state)
        except ValueError as exc:
            raise ProtocolError("awareness state is not JSON") from exc
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.end()
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    """Not with `Encoder.write_var_string`: pycrdt 0.14 writes the length in characters, not UTF-8
    bytes, which corrupts every state with a Chinese name in it."""
    encoder = Encoder()
    encoder.write_var_uint(len(entries))
    for entry in entries:
        encoder.write_var_uint(entry.client_id)
        encoder.write_var_uint(entry.clock)
        state = entry.state.encode()
        encoder.write_var_uint(len(state))
        encoder.stream.append(state)
    return encoder.to_bytes()


def _sync_frame(subtype: int, payload: bytes) -> bytes:
    return bytes([YMessageType.SYNC, subtype]) + write_message(payload)


def step1_frame(state_vector: bytes) -> bytes:
    return _sync_frame(YSyncMessageType.SYNC_STEP1, state_vector)


def step2_frame(update: bytes) -> bytes:
    return _sync_frame(YSyncMessageType.SYNC_STEP2, update)


def update_frame(update: bytes) -> bytes:
    return create_update_message(update)


def awareness_frame(update: bytes) -> bytes:
    return create_awareness_message(update)
