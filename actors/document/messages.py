"""Messages the document actor accepts. Updates and state vectors travel as base64 text (messages
are JSON: they cross nodes through Redis); their size is bounded by `collab_max_update_bytes`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from actors.messages import Message, Reply

# base64 of `collab_max_update_bytes` (at most a few hundred KiB) fits; the handler checks the real limit
MAX_BASE64 = 4 * 1024 * 1024


class UpdateApplied(BaseModel):
    """The update is committed (journalled) and applied; `seq` is its event, 0 when it was empty."""

    seq: int


class SyncReply(BaseModel):
    """Sync step 2 for a client's state vector, and the document's own state vector (sync step 1)."""

    update: str  # base64: what the client lacks
    state_vector: str  # base64


class ApplyUpdate(Message):
    type: Literal["doc.apply_update"] = "doc.apply_update"
    reply: ClassVar[Reply] = UpdateApplied

    update: str = Field(max_length=MAX_BASE64)  # base64 of a Yjs v1 update
    origin: str | None = None  # the node whose client sent it: that node broadcast it to its clients already


class SyncStep1(Message):
    """A client's sync step 1: answered with the diff it lacks (an empty state vector: the whole
    document) and the document's state vector. Without a state vector only the document's state
    vector is answered (`update` empty): the socket sends it as the server's own step 1."""

    type: Literal["doc.sync_step1"] = "doc.sync_step1"
    reply: ClassVar[Reply] = SyncReply

    state_vector: str | None = Field(default=None, max_length=MAX_BASE64)


MESSAGES: tuple[type[Message], ...] = (ApplyUpdate, SyncStep1)
