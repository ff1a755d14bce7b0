"""Consultations and suggestions (咨询 / 建议) left on the public 开工一件事 column, and the administrators'
work on them: check a message (every problem named per field, in Chinese, at once), store it with the
phone number sealed (SM4-GCM through `server.identity.pii`, the row id in the AAD) and the sender's IP,
list them for administrators with
the phone masked, reply to one or close it (audited).

Must not: store or log a phone number in clear, or return one unmasked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, InvalidInput, NotFound, TongbanError
from server.identity.models import CurrentUser
from server.identity.pii import Pii
from server.identity.validators import InvalidMobileNumber, validate_mobile
from server.security.masking import mask_phone

TABLE: Final = "kaigong_message"
MAX_CONTENT: Final = 1000
MAX_NAME: Final = 40
MAX_REPLY: Final = 2000
KIND_LABELS: Final[dict[str, str]] = {"consult": "咨询", "suggest": "建议"}
STATUS_LABELS: Final[dict[str, str]] = {"open": "待处理", "replied": "已答复", "closed": "已关闭"}
PER_MINUTE: Final = 5  # messages one IP may leave per minute (counted by the route, in Redis)
WINDOW_S: Final = 60

INSERT = """
    INSERT INTO kaigong_message (id, kind, item_code, name, phone_sealed, content, ip)
    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at"""
LIST = """
    SELECT m.id, m.kind, m.item_code, m.name, m.phone_sealed, m.content, m.ip, m.status, m.reply,
           u.login AS replied_by_login, m.replied_at, m.created_at
    FROM kaigong_message m LEFT JOIN app_user u ON u.id = m.replied_by
    WHERE ($1::text IS NULL OR m.status = $1) ORDER BY m.created_at DESC, m.id LIMIT $2"""
LOCK = "SELECT status FROM kaigong_message WHERE id = $1 FOR NO KEY UPDATE"
REPLY = """
    UPDATE kaigong_message SET reply = $2, status = $3, replied_by = $4, replied_at = now() WHERE id = $1"""


class TooManyMessages(TongbanError):
    status, code, message = 429, "too_many_messages", "留言过于频繁，请一分钟后再试"


class MessageIn(BaseModel):
    """As posted; `check` says what is wrong with it in Chinese (the bounds here only cap the size)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(default="consult", max_length=20)
    item_code: str | None = Field(default=None, max_length=40)
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    content: str = Field(default="", max_length=5000)


class CheckedMessage(BaseModel):
    kind: Literal["consult", "suggest"]
    item_code: str | None
    name: str
    phone: str
    content: str


class MessageOut(BaseModel):
    id: UUID
    kind: str
    kind_label: str
    item_code: str | None
    name: str
    phone_masked: str
    content: str
    ip: str | None
    status: str
    status_label: str
    reply: str
    replied_by_login: str | None
    replied_at: datetime | None
    created_at: datetime


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str = Field(default="", max_length=MAX_REPLY)
    close: bool = False


def _problem(field: str, message: str, kind: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": kind}


def check(body: MessageIn, item_codes: set[str]) -> CheckedMessage:
    """The message to store, or InvalidInput naming every wrong field (`item_codes`: the published items)."""
    problems = []
    if body.kind not in KIND_LABELS:
        problems.append(_problem("kind", "请选择咨询或建议", "invalid"))
    item = (body.item_code or "").strip() or None
    if item is not None and item not in item_codes:
        problems.append(_problem("item_code", "没有该事项", "unknown_item"))
    name = body.name.strip()
    if not name:
        problems.append(_problem("name", "请填写姓名", "missing"))
    elif len(name) > MAX_NAME:
        problems.append(_problem("name", f"姓名不能超过 {MAX_NAME} 个字", "too_long"))
    phone = ""
    try:
        phone = validate_mobile(body.phone)
    except InvalidMobileNumber as exc:
        problems.append(
            _problem("phone", exc.detail if body.phone.strip() else "请填写手机号码", "invalid_phone")
        )
    content = body.content.strip()
    if not content:
        problems.append(_problem("content", "请填写留言内容", "missing"))
    elif len(content) > MAX_CONTENT:
        problems.append(
            _problem("content", f"留言内容不能超过 {MAX_CONTENT} 字（现 {len(content)} 字）", "too_long")
        )
    if problems:
        raise InvalidInput("留言未提交，请按提示修改", fields=problems)
    return CheckedMessage(kind=body.kind, item_code=item, name=name, phone=phone, content=content)


async def create(conn: Any, pii: Pii, message: CheckedMessage, ip: str | None) -> tuple[UUID, datetime]:
    message_id = uuid.uuid4()
    sealed = pii.seal(TABLE, "phone", message_id, message.phone)
    created: datetime = await conn.fetchval(
        INSERT, message_id, message.kind, message.item_code, message.name, sealed, message.content, ip
    )
    return message_id, created


async def list_messages(conn: Any, pii: Pii, status: str | None, limit: int = 200) -> list[MessageOut]:
    rows = await conn.fetch(LIST, status, limit)
    return [
        MessageOut(
            **{k: r[k] for k in ("id", "kind", "item_code", "name", "content", "ip", "status", "reply",
                                 "replied_by_login", "replied_at", "created_at")},
            kind_label=KIND_LABELS.get(r["kind"], r["kind"]), status_label=STATUS_LABELS.get(r["status"], r["status"]),
            phone_masked=mask_phone(pii.open_value(TABLE, "phone", r["id"], r["phone_sealed"])),
        )
        for r in rows
    ]  # fmt: skip


async def reply(
    conn: Any, audit_key: bytes, message_id: UUID, body: ReplyIn, by: CurrentUser, ip: str | None
) -> None:
    """Store the reply (status 已答复) or close the message (已关闭, the reply optional); a closed message
    takes no more replies."""
    text = body.reply.strip()
    if not text and not body.close:
        raise InvalidInput("请填写答复内容", fields=[_problem("reply", "请填写答复内容", "missing")])
    status = "closed" if body.close else "replied"
    async with conn.transaction():
        current = await conn.fetchval(LOCK, message_id)
        if current is None:
            raise NotFound("留言不存在")
        if current == "closed":
            raise Conflict("该留言已关闭")
        await conn.execute(REPLY, message_id, text, status, by.id)
        await audit.append(conn, audit_key, AuditRecord(
            action="kaigong.message." + ("close" if body.close else "reply"), actor_id=by.id, actor_login=by.login,
            org_id=by.org_id, ip=ip, target=f"kaigong_message:{message_id}", detail={"status": status},
        ))  # fmt: skip
