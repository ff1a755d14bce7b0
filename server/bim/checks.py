"""BIM model checks (模型检查) as records: created when a supplier's model upload finishes (in the
upload's transaction, with the rule-set version pinned to the bid session), listed and read with
object-level access, finished by the worker with the report.

Access: the supplier's own enterprise, and the bid session's experts and organisers
(`server.bids.access`); anyone else gets NotFound, as for a missing check.
Must not: run checks (the worker does, `server.bim.jobs`) or change a finished check.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.bids.access import access_bid
from server.errors import Conflict, NotFound
from server.identity.models import CurrentUser

PINNED = """
    SELECT s.rule_set_version_id FROM bid_session s WHERE s.id = $1 FOR SHARE"""
INSERT = """
    INSERT INTO bim_check (id, bid_id, org_id, submitted_by, rule_set_version_id, blob_sm3, file_name, size,
                           upload_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"""
COLUMNS = """c.id, c.bid_id, c.org_id, o.name AS org_name, c.submitted_by, c.rule_set_version_id, c.blob_sm3,
    c.file_name, c.size, c.status, c.report_sm3, c.counts, c.created_at, c.started_at, c.finished_at"""
GET = f"SELECT {COLUMNS} FROM bim_check c JOIN organization o ON o.id = c.org_id WHERE c.id = $1"  # noqa: S608
LIST = f"""
    SELECT {COLUMNS} FROM bim_check c JOIN organization o ON o.id = c.org_id
    WHERE c.bid_id = $1 AND ($2::uuid IS NULL OR c.org_id = $2)
    ORDER BY c.created_at DESC, c.id LIMIT 500"""  # noqa: S608
REPORT = "SELECT report, report_sm3 FROM bim_check WHERE id = $1"
# Sessions that take models (a published rule set pinned), with the caller's enterprise's submissions.
OPEN_BIDS = """
    SELECT s.id, s.name, o.name AS org_name, s.created_at, r.name AS rule_set_name, v.version,
           (SELECT count(*) FROM bim_check c WHERE c.bid_id = s.id AND c.org_id = $1) AS submitted
    FROM bid_session s
    JOIN organization o ON o.id = s.org_id
    JOIN bim_rule_set_version v ON v.id = s.rule_set_version_id
    JOIN bim_rule_set r ON r.id = v.rule_set_id
    ORDER BY s.created_at DESC, s.id LIMIT 200"""
MAX_BYTES = "SELECT (content ->> 'max_model_bytes')::bigint FROM bim_rule_set_version WHERE id = $1"
BID_EXISTS = "SELECT EXISTS (SELECT 1 FROM bid_session WHERE id = $1)"


@dataclass(frozen=True)
class CheckAccess:
    row: Any
    supplier: bool  # the caller's enterprise submitted it


async def bid_accepts_models(conn: Any, bid_id: UUID) -> UUID:
    """The rule-set version pinned to the bid session; 404 for no such session, 409 when none is pinned."""
    if not await conn.fetchval(BID_EXISTS, bid_id):
        raise NotFound("评标会议不存在")
    version_id: UUID | None = await conn.fetchval(PINNED, bid_id)
    if version_id is None:
        raise Conflict("该评标会议尚未指定检查规则集，暂不能提交模型")
    return version_id


async def model_size_limit(conn: Any, version_id: UUID) -> int | None:
    """The rule-set version's limit on a model's size (`max_model_bytes`), if it sets one."""
    limit = await conn.fetchval(MAX_BYTES, version_id)
    return int(limit) if limit is not None else None


async def create_check(
    conn: Any, audit_key: bytes, *, bid_id: UUID, user: CurrentUser, blob_sm3: str, file_name: str, size: int,
    upload_id: UUID, ip: str | None,
) -> UUID:  # fmt: skip
    """Record a submitted model as a queued check (inside the caller's transaction)."""
    version_id = await bid_accepts_models(conn, bid_id)
    check_id = uuid.uuid4()
    await conn.execute(INSERT, check_id, bid_id, user.org_id, user.id, version_id, blob_sm3, file_name, size,
                       upload_id)  # fmt: skip
    await audit.append(conn, audit_key, AuditRecord(
        action="bim.submit", actor_id=user.id, actor_login=user.login, org_id=user.org_id, ip=ip,
        target=f"bim_check:{check_id}",
        detail={"bid_id": str(bid_id), "sm3": blob_sm3, "size": size, "file_name": file_name,
                "rule_set_version_id": str(version_id)},
    ))  # fmt: skip
    return check_id


async def access_check(conn: Any, user: CurrentUser, check_id: UUID, *, manage: bool) -> CheckAccess:
    row = await conn.fetchrow(GET, check_id)
    if row is None:
        raise NotFound("模型检查不存在或无权查看")
    if row["org_id"] == user.org_id:
        return CheckAccess(row, supplier=True)
    try:
        await access_bid(conn, user, row["bid_id"], manage=manage)
    except NotFound:
        raise NotFound("模型检查不存在或无权查看") from None
    return CheckAccess(row, supplier=False)


async def checks_scope(conn: Any, user: CurrentUser, bid_id: UUID, *, manage: bool) -> UUID | None:
    """Whose checks of the session the caller sees: None for its experts and organisers (all), else
    the caller's own enterprise's; 404 when there is no such session."""
    try:
        await access_bid(conn, user, bid_id, manage=manage)
        return None
    except NotFound:
        if not await conn.fetchval(BID_EXISTS, bid_id):
            raise
        return user.org_id


async def list_checks(conn: Any, user: CurrentUser, bid_id: UUID, *, manage: bool) -> list[Any]:
    """The session's checks for its experts and organisers; a supplier's own checks for a supplier."""
    only = await checks_scope(conn, user, bid_id, manage=manage)
    rows: list[Any] = await conn.fetch(LIST, bid_id, only)
    return rows


async def open_bids(conn: Any, org_id: UUID) -> list[Any]:
    """The bid sessions a supplier may submit models to, newest first, with its own submission counts."""
    rows: list[Any] = await conn.fetch(OPEN_BIDS, org_id)
    return rows


async def report_of(conn: Any, check_id: UUID) -> tuple[bytes, str]:
    row = await conn.fetchrow(REPORT, check_id)
    if row is None or row["report"] is None:
        raise NotFound("检查尚未完成，暂无报告")
    return bytes(row["report"]), row["report_sm3"]


def completeness_of(report: bytes) -> Any:
    """The IDS completeness report inside a stored check report; 404 when the check had no IDS."""
    from bim.ids.report import CompletenessReport

    stages = json.loads(report).get("stages", [])
    data = next((s.get("data") or {} for s in stages if s.get("stage") == "ids"), {})
    if "completeness" not in data:
        raise NotFound("该检查未进行 IDS 数据完整性检查")
    return CompletenessReport.model_validate(data["completeness"])


def export_completeness(completeness: Any, kind: str) -> bytes:
    from bim.ids import export

    if kind == "xlsx":
        return export.to_xlsx(completeness)
    if kind == "bcf":
        return export.to_bcf(completeness)
    return export.to_json(completeness)
