"""The document actor: one per collaborative document (`collab_document`), holding its state as a
`pycrdt.Doc` (Yjs-compatible CRDT).

Durable before visible: an update is checked (it must decode, and the document must stay within
`collab_max_doc_bytes`), journalled as `doc.updated` {"update": base64} in the actor's transaction
(fenced), and only then applied to the document; the caller (the websocket, `collab.socket`)
broadcasts it only after this actor answered. Applying an update twice is harmless (CRDT), so replay
after a crash and re-sent updates need no deduplication. Snapshots (`dump`, every `snapshot_every`
events) hold the whole state as one update: that is the journal's compaction.
Must not: ask other actors, or apply anything that was not committed.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from pycrdt import Doc, get_state

from actors.document.messages import MESSAGES, ApplyUpdate, SyncReply, SyncStep1, UpdateApplied
from actors.events import Address, Event
from actors.messages import Message
from actors.runtime import Actor
from server.errors import BadRequest, PayloadTooLarge

logger = logging.getLogger(__name__)

UPDATED = "doc.updated"
EMPTY_UPDATE = b"\x00\x00"  # a Yjs update with no structs and no deletions
DEFAULT_MAX_UPDATE_BYTES = 65_536
DEFAULT_MAX_DOC_BYTES = 16 * 1024 * 1024


def doc_address(doc_id: Any) -> Address:
    return Address(kind="doc", id=doc_id)


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise BadRequest("文档更新不是合法的 base64") from exc


def check_update(update: bytes) -> None:
    """Raise BadRequest unless `update` decodes as a Yjs v1 update. It is decoded, and applied to a
    scratch document (structs whose dependencies are missing wait there, as they would in ours)."""
    try:
        get_state(update)
        Doc().apply_update(update)
    except Exception as exc:  # pycrdt raises ValueError ("Cannot decode update …")
        raise BadRequest("文档更新格式错误") from exc


class DocumentActor(Actor):
    kind = "doc"
    messages = MESSAGES
    snapshot_every = 200

    doc: Doc[Any]
    size: int  # upper bound of the encoded state: exact at load/dump, plus each update's length since

    def reset(self) -> None:
        self.doc = Doc()
        self.size = 2

    def apply(self, event: Event) -> None:
        if event.type != UPDATED:
            return
        update = base64.b64decode(event.data["update"])
        try:
            self.doc.apply_update(update)
        except Exception:  # checked before it was journalled; never let one event break every replay
            logger.exception("doc.update_not_applied", extra={"seq": event.seq})
            return
        self.size += len(update)

    def dump(self) -> dict[str, Any]:
        state = self.doc.get_update()
        self.size = len(state)
        return {"update": b64encode(state)}

    def load(self, data: dict[str, Any]) -> None:
        state = base64.b64decode(data["update"])
        self.doc = Doc()
        self.doc.apply_update(state)
        self.size = len(state)

    def view(self) -> dict[str, Any]:
        return {"bytes": self.size}

    def _limits(self) -> tuple[int, int]:
        settings = getattr(self.deps, "settings", None)
        return (
            getattr(settings, "collab_max_update_bytes", DEFAULT_MAX_UPDATE_BYTES),
            getattr(settings, "collab_max_doc_bytes", DEFAULT_MAX_DOC_BYTES),
        )

    async def receive(self, message: Message) -> Any:
        match message:
            case ApplyUpdate(update=text, origin=origin):
                return await self._apply_update(b64decode(text), origin)
            case SyncStep1(state_vector=None):
                return SyncReply(update="", state_vector=b64encode(self.doc.get_state()))
            case SyncStep1(state_vector=text):
                return self._sync(b64decode(text) if text else b"\x00")
        raise TypeError(f"document actor cannot handle {type(message).__name__}")

    async def _apply_update(self, update: bytes, origin: str | None = None) -> UpdateApplied:
        max_update, max_doc = self._limits()
        if len(update) > max_update:
            raise PayloadTooLarge(f"单次文档更新不能超过 {max_update} 字节")
        check_update(update)
        if update == EMPTY_UPDATE:
            return UpdateApplied(seq=0)
        if self.size + len(update) > max_doc:
            self.size = len(self.doc.get_update())  # the bound may be loose: measure before refusing
            if self.size + len(update) > max_doc:
                raise PayloadTooLarge(f"文档不能超过 {max_doc} 字节")
        async with self.transaction() as tx:
            event = await tx.append(UPDATED, {"update": b64encode(update), "origin": origin})
        return UpdateApplied(seq=event.seq)

    def _sync(self, state_vector: bytes) -> SyncReply:
        try:
            diff = self.doc.get_update(state_vector)
        except Exception as exc:  # "Cannot decode state"
            raise BadRequest("文档状态向量格式错误") from exc
        return SyncReply(update=b64encode(diff), state_vector=b64encode(self.doc.get_state()))
