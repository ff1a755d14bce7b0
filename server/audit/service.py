"""Append to, verify and search the audit chain.

`append` must run inside the caller's transaction, so an entry exists exactly when the write it
records committed. Must not: update or delete entries (the table is append-only by design).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from server.audit import sql
from server.audit.chain import GENESIS, entry_mac
from server.audit.models import AuditEntry, AuditRecord, ChainBreak, VerifyReport
from server.security.gm import macs_equal

VERIFY_BATCH = 5_000
AUDIT_KEY = "audit-mac"  # name of the chain's HMAC-SM3 key in the key ring


def _normalised(record: AuditRecord) -> dict[str, Any]:
    data = record.model_dump()
    if data["ip"] is not None:
        data["ip"] = str(ipaddress.ip_address(data["ip"]))
    return data


async def append(conn: Any, key: bytes, record: AuditRecord, now: datetime | None = None) -> AuditEntry:
    """Chain one entry onto the log. Precondition: `conn` is in a transaction."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    data = _normalised(record)
    await conn.execute(sql.LOCK_CHAIN)
    last = await conn.fetchrow(sql.LAST)
    seq, prev_mac = (last["seq"] + 1, last["mac"]) if last else (1, GENESIS)
    mac = entry_mac(key, prev_mac, seq, at, data)
    await conn.execute(
        sql.INSERT, seq, at, data["action"], data["outcome"], data["actor_id"], data["actor_login"],
        data["org_id"], data["ip"], data["target"], data["detail"], prev_mac, mac,
    )  # fmt: skip
    return AuditEntry(seq=seq, at=at, prev_mac=prev_mac, mac=mac, **data)


def _first_break(expected_seq: int, expected_prev: str, key: bytes, row: Any) -> ChainBreak | None:
    seq = row["seq"]
    if seq != expected_seq:
        return ChainBreak(seq=expected_seq, problem="removed", message=f"第 {expected_seq} 条审计记录缺失")
    if row["prev_mac"] != expected_prev:
        message = f"第 {seq} 条审计记录与前一条不衔接（被移动或替换）"
        return ChainBreak(seq=seq, problem="reordered", message=message)
    mac = entry_mac(key, row["prev_mac"], seq, row["at"], dict(row))
    if not macs_equal(bytes.fromhex(mac), bytes.fromhex(row["mac"])):
        return ChainBreak(seq=seq, problem="altered", message=f"第 {seq} 条审计记录的内容被篡改")
    return None


async def verify(conn: Any, key: bytes) -> VerifyReport:
    """Walk the whole chain in order and name the first entry that was altered, removed or reordered."""
    expected_seq, expected_prev, count = 1, GENESIS, 0
    while True:
        rows = await conn.fetch(sql.CHAIN_AFTER, expected_seq - 1, VERIFY_BATCH)
        if not rows:
            return VerifyReport(entries=count, ok=True)
        for row in rows:
            broken = _first_break(expected_seq, expected_prev, key, row)
            if broken is not None:
                return VerifyReport(entries=count, ok=False, first_break=broken)
            expected_seq, expected_prev, count = expected_seq + 1, row["mac"], count + 1


async def search(
    conn: Any,
    *,
    actor_login: str | None = None,
    action_prefix: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    rows = await conn.fetch(sql.SEARCH, actor_login, action_prefix, target, since, until, before_seq, limit)
    return [AuditEntry.model_validate(dict(r)) for r in rows]
