"""The document actor: one per collaborative document (`collab_document`), holding its state as a
`pycrdt.Doc` (Yjs-compatible CRDT).

Durable before visible: an update is checked (it must decode, and the document must stay within
`collab_max_doc_bytes`), journalled as `doc.updated` {"update": base64} in the actor's transaction
(fenced), and only then applied to the document; the caller (the websocket, `collab.socket`)
broadcasts it only after this actor answered. Applying an update twice is harmless (CRDT), so replay
after a crash and re-sent updates need no deduplication. Snapshots (`dump`, every `snapshot_every`
events, written in the background) hold the whole state as one update, and the journal is compacted
behind them (`journal_keep`).

As a form (`collab.schema`), the document's content is read as canonical JSON, saved as a named
version (`collab_version`: the whole state, with the SM3 of its content; a submission only when the
data validates) and restored from one: the restore is computed as edits on a copy of the document,
journalled as one `doc.updated` (origin none: every node passes it on) like any client's update.
Must not: ask other actors, or apply anything that was not committed.
"""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

from pycrdt import Doc, get_state

from actors.document.messages import (
    MESSAGES,
    ApplyUpdate,
    ByUser,
    DocumentContent,
    FormRef,
    ReadContent,
    RestoreVersion,
    SaveVersion,
    SyncReply,
    SyncStep1,
    UpdateApplied,
    VersionSaved,
)
from actors.events import Address, Event
from actors.hub import REPLAY_LIMIT
from actors.messages import Message
from actors.runtime import Actor
from collab.catalogue import form
from collab.content import canonical_bytes, content_of, restore
from collab.schema import FormSchema
from collab.validation import validate
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import BadRequest, Conflict, InvalidInput, NotFound, PayloadTooLarge
from server.security.sm3 import sm3_hex

logger = logging.getLogger(__name__)

UPDATED = "doc.updated"
VERSION_SAVED = "doc.version_saved"
INSERT_VERSION = """
    INSERT INTO collab_version (id, doc_id, seq, name, submitted, state, sm3, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at"""
VERSION_STATE = "SELECT state FROM collab_version WHERE id = $1 AND doc_id = $2"
COUNT_VERSIONS = "SELECT count(*) FROM collab_version WHERE doc_id = $1"
EMPTY_UPDATE = b"\x00\x00"  # a Yjs update with no structs and no deletions
EMPTY_STATE = b"\x00"  # the state vector of an empty document
DEFAULT_MAX_UPDATE_BYTES = 65_536
DEFAULT_MAX_DOC_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_VERSIONS = 200


def doc_address(doc_id: Any) -> Address:
    return Address(kind="doc", id=doc_id)


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class InvalidDocument(InvalidInput):
    code, message = "invalid_document", "文档数据未通过校验，不能提交"


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
    journal_keep = REPLAY_LIMIT

    doc: Doc[Any]
    _whole: tuple[int, bytes] | None  # (seq, the whole state as one update), for joiners
    size: int  # upper bound of the encoded state: exact at load/dump, plus each update's length since

    def reset(self) -> None:
        self.doc = Doc()
        self._whole = None
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
        self._whole = None
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
            case ApplyUpdate(update=update, origin=origin):
                return await self._apply_update(update, origin)
            case SyncStep1(state_vector=None):
                return SyncReply(update=b"", state_vector=self.doc.get_state(), seq=self.seq)
            case SyncStep1(state_vector=vector):
                return self._sync(vector or EMPTY_STATE)
            case ReadContent():
                return DocumentContent(seq=self.seq, content=content_of(self.doc, _schema(message)))
            case SaveVersion():
                return await self._save_version(message)
            case RestoreVersion():
                return await self._restore(message)
        raise TypeError(f"document actor cannot handle {type(message).__name__}")

    async def _save_version(self, message: SaveVersion) -> VersionSaved:
        limit = getattr(getattr(self.deps, "settings", None), "collab_max_versions", DEFAULT_MAX_VERSIONS)
        async with self.deps.pool.acquire() as conn:
            if await conn.fetchval(COUNT_VERSIONS, self.address.id) >= limit:
                raise Conflict(f"每个文档最多保存 {limit} 个版本")
        content = content_of(self.doc, _schema(message))
        if message.submit:
            errors = validate(_schema(message), content)
            if errors:
                raise InvalidDocument(errors=[e.as_json() for e in errors])
        version_id, digest = uuid.uuid4(), sm3_hex(canonical_bytes(content))
        async with self.transaction() as tx:
            event = await tx.append(
                VERSION_SAVED,
                {
                    "version_id": str(version_id),
                    "name": message.name,
                    "submitted": message.submit,
                    "sm3": digest,
                    "by": str(message.user_id),
                },
            )
            created_at = await tx.conn.fetchval(
                INSERT_VERSION,
                version_id,
                self.address.id,
                event.seq,
                message.name,
                message.submit,
                self.doc.get_update(),
                digest,
                message.user_id,
            )
            detail = {"version_id": str(version_id), "name": message.name, "submitted": message.submit}
            await self._audit(tx, _record("doc.version_save", message, detail, str(self.address)))
        return VersionSaved(
            id=version_id,
            seq=event.seq,
            name=message.name,
            submitted=message.submit,
            sm3=digest,
            created_at=created_at,
        )

    async def _restore(self, message: RestoreVersion) -> UpdateApplied:
        async with self.deps.pool.acquire() as conn:
            state = await conn.fetchval(VERSION_STATE, message.version_id, self.address.id)
        if state is None:
            raise NotFound("版本不存在")
        version: Doc[Any] = Doc()
        version.apply_update(state)
        draft: Doc[Any] = Doc()  # a copy of the document with a client id of its own: the restore's edits
        draft.apply_update(self.doc.get_update())
        if not restore(draft, version, _schema(message)):
            return UpdateApplied(seq=0)  # the document holds the version's content already
        edit = draft.get_update(self.doc.get_state())
        detail = {"version_id": str(message.version_id)}
        record = _record("doc.version_restore", message, detail, str(self.address))
        return await self._apply_update(
            edit, None, checked=True, extra={"restored_from": detail["version_id"]}, record=record
        )

    async def _audit(self, tx: Any, record: AuditRecord) -> None:
        await audit.append(tx.conn, self.deps.keys.key(audit.AUDIT_KEY), record)

    async def _apply_update(
        self,
        update: bytes,
        origin: str | None = None,
        checked: bool = False,
        extra: dict[str, Any] | None = None,
        record: AuditRecord | None = None,
    ) -> UpdateApplied:
        max_update, max_doc = self._limits()
        if not checked:  # a client's update; the server's own (a restore) may be larger than one keystroke
            if len(update) > max_update:
                raise PayloadTooLarge(f"单次文档更新不能超过 {max_update} 字节")
            check_update(update)
        if update == EMPTY_UPDATE:
            return UpdateApplied(seq=0)  # nothing to change (a restore of what the document holds)
        if self.size + len(update) > max_doc:
            self.size = len(self.doc.get_update())  # the bound may be loose: measure before refusing
            if self.size + len(update) > max_doc:
                raise PayloadTooLarge(f"文档不能超过 {max_doc} 字节")
        data = {"update": b64encode(update), "origin": origin, **(extra or {})}
        if record is None:  # a client's update: one statement
            return UpdateApplied(seq=(await self.append(UPDATED, data)).seq)
        async with self.transaction() as tx:
            event = await tx.append(UPDATED, data)
            await self._audit(tx, record)
        return UpdateApplied(seq=event.seq)

    def _sync(self, state_vector: bytes) -> SyncReply:
        if state_vector == EMPTY_STATE:  # a new client: the whole state, encoded once per change
            if self._whole is None or self._whole[0] != self.seq:
                self._whole = (self.seq, self.doc.get_update())
            return SyncReply(update=self._whole[1], state_vector=self.doc.get_state(), seq=self.seq)
        try:
            diff = self.doc.get_update(state_vector)
        except Exception as exc:  # "Cannot decode state"
            raise BadRequest("文档状态向量格式错误") from exc
        return SyncReply(update=diff, state_vector=self.doc.get_state(), seq=self.seq)


def _schema(message: FormRef) -> FormSchema:
    return form(message.form, message.form_version)


def _record(action: str, message: ByUser, detail: dict[str, Any], target: str) -> AuditRecord:
    return AuditRecord(
        action=action, actor_id=message.user_id, actor_login=message.login, org_id=message.org_id,
        ip=message.ip, target=target, detail=detail,
    )  # fmt: skip
