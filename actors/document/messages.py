"""Messages the document actor accepts. Updates and state vectors are bytes: passed as they are to an
actor on this node, and as base64 text when a message crosses nodes as JSON through Redis
(`Blob`); their size is bounded by `collab_max_update_bytes` in the handler and by `MAX_BLOB` here."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from functools import partial
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer

from actors.messages import Message, Reply

MAX_BLOB = 3 * 1024 * 1024  # of a message in: far above `collab_max_update_bytes` (the handler's limit)


def _bytes(limit: int | None, value: Any) -> bytes:
    """bytes as given (a local ask), or base64 text (a message that crossed nodes as JSON)."""
    if isinstance(value, str):
        try:
            value = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise ValueError("not base64") from exc
    if not isinstance(value, bytes) or (limit is not None and len(value) > limit):
        raise ValueError(f"bytes of at most {limit} expected")
    return value


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


AS_BASE64 = PlainSerializer(_base64, return_type=str, when_used="json")
Blob = Annotated[bytes, BeforeValidator(partial(_bytes, MAX_BLOB)), AS_BASE64]
# A document's whole state: bounded by `collab_max_doc_bytes` where it is made.
ReplyBlob = Annotated[bytes, BeforeValidator(partial(_bytes, None)), AS_BASE64]


class UpdateApplied(BaseModel):
    """The update is committed (journalled) and applied; `seq` is its event, 0 when it was empty."""

    seq: int


class SyncReply(BaseModel):
    """Sync step 2 for a client's state vector, and the document's own state vector (sync step 1), as
    of event `seq`."""

    update: ReplyBlob  # what the client lacks
    state_vector: ReplyBlob
    seq: int = 0


class ApplyUpdate(Message):
    type: Literal["doc.apply_update"] = "doc.apply_update"
    reply: ClassVar[Reply] = UpdateApplied

    update: Blob  # a Yjs v1 update
    origin: str | None = None  # the node whose client sent it: that node broadcast it to its clients already


class SyncStep1(Message):
    """A client's sync step 1: answered with the diff it lacks (an empty state vector: the whole
    document) and the document's state vector. Without a state vector only the document's state
    vector is answered (`update` empty): the socket sends it as the server's own step 1."""

    type: Literal["doc.sync_step1"] = "doc.sync_step1"
    reply: ClassVar[Reply] = SyncReply

    state_vector: Blob | None = None


class FormRef(Message):
    """A message about the document's content as a form: the form id and version the document was
    created with (`collab_document`), which the caller read; the actor holds only the CRDT."""

    form: str = Field(max_length=40)
    form_version: int = Field(ge=1)


class DocumentContent(BaseModel):
    seq: int
    content: dict[str, Any]  # canonical JSON (`collab.content`)


class ReadContent(FormRef):
    type: Literal["doc.read_content"] = "doc.read_content"
    reply: ClassVar[Reply] = DocumentContent


class VersionSaved(BaseModel):
    id: UUID
    seq: int
    name: str
    submitted: bool
    sm3: str
    created_at: datetime


class ByUser(FormRef):
    """A change a user asked for: who, for the version row and the audit chain."""

    user_id: UUID
    login: str
    org_id: UUID
    ip: str | None = None


class SaveVersion(ByUser):
    """Save the document as it is now under `name`; with `submit`, only if its data validates (else
    422 `invalid_document` with the errors per field path)."""

    type: Literal["doc.save_version"] = "doc.save_version"
    reply: ClassVar[Reply] = VersionSaved

    name: str = Field(min_length=1, max_length=100)
    submit: bool = False


class RestoreVersion(ByUser):
    """Make the document's content equal that of one of its versions, as a new edit."""

    type: Literal["doc.restore_version"] = "doc.restore_version"
    reply: ClassVar[Reply] = UpdateApplied

    version_id: UUID


MESSAGES: tuple[type[Message], ...] = (ApplyUpdate, SyncStep1, ReadContent, SaveVersion, RestoreVersion)
