"""Public verification of an issued document (防伪查验): given the id from its QR code or print, and
optionally the digest the QR carries or the file itself, say in Chinese whether it is genuine, which
revision it is, whether a newer one exists and whether it was revoked.

Genuine means: issued (not a draft, not revoked), the platform's SM2 signature verifies over a statement
that names this record's id, content digest and file digests, and what the visitor brought (digest,
file) matches them. Anything else says what is wrong: unknown id, forged digest, altered file, revoked.
Must not: reveal the document's data (only its title, kind, project name, dates) or need a login.
"""

from __future__ import annotations

from typing import Any

from docgen.kinds import KINDS
from docgen.stamp import DOC_ID, SM3_HEX
from server.deliverables import signing, sql
from server.deliverables.models import Verdict
from server.deliverables.service import SHANGHAI, STATUS_LABELS
from server.keystore import KeyRing


def _when(at: Any) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M") if at is not None else ""


async def verdict(
    conn: Any, keys: KeyRing, doc_id: str, digest: str | None = None, file_sm3: str | None = None
) -> Verdict:
    digest = digest.strip().lower() if digest else None
    row = await conn.fetchrow(sql.ONE, doc_id) if DOC_ID.match(doc_id) else None
    if row is None:
        return Verdict(
            id=doc_id[:40], found=False, genuine=False, status_label="查无此文件",
            message="本平台没有出具过该编号的文件：二维码或编号可能是伪造的，请向发证机关核实。",
        )  # fmt: skip
    files = {ext: f["sm3"] for ext, f in (row["files"] or {}).items() if ext != "previews"}
    base = {
        "id": row["id"], "found": True, "status": row["status"], "title": row["title"],
        "kind_title": KINDS[row["kind"]].title if row["kind"] in KINDS else row["kind"],
        "project_name": await conn.fetchval(sql.PROJECT_NAME, row["project_id"]), "revision": row["revision"],
        "latest_revision": await conn.fetchval(sql.LATEST_ISSUED, row["series"]),
        "issued_at": row["issued_at"], "revoked_at": row["revoked_at"], "revoke_reason": row["revoke_reason"],
        "content_sm3": row["content_sm3"], "statement": row["statement"],
        "digest_matches": None if digest is None else (bool(SM3_HEX.match(digest)) and digest == row["content_sm3"]),
        "file_matches": None if file_sm3 is None else file_sm3 in files.values(),
    }  # fmt: skip
    if row["status"] not in ("issued", "revoked"):
        return Verdict(**base, genuine=False, status_label="未签发",
                       message="该文件尚未签发（仍为待签发的草稿或生成未完成），不具有效力。")  # fmt: skip
    expected = signing.statement(row["id"], row["kind"], row["revision"], row["content_sm3"], files)
    signature_valid = row["statement"] == expected and signing.verify(
        keys, row["statement"], row["signature"]
    )
    base["signature_valid"] = signature_valid
    label = STATUS_LABELS[row["status"]]
    if not signature_valid:
        message = "平台签名验证失败：登记记录与签发时不一致，请立即联系发证机关。"
    elif base["digest_matches"] is False:
        message = "二维码中的数字摘要与登记的不一致：该文件可能被篡改或伪造。"
    elif base["file_matches"] is False:
        message = "上传的文件与登记的原件不一致：文件在签发后被修改过，不能作为有效文件使用。"
    elif row["status"] == "revoked":
        message = f"该文件已于{_when(row['revoked_at'])}撤销（原因：{row['revoke_reason']}），不再有效。"
    else:
        latest = base["latest_revision"]
        newer = f"；注意：已有更新版本（第 {latest} 版）" if latest and latest > row["revision"] else ""
        checked = "，上传的文件与原件一致" if base["file_matches"] else ""
        message = (f"该文件为本平台于{_when(row['issued_at'])}签发的有效文件（第 {row['revision']} 版），"
                   f"平台签名有效{checked}{newer}。")  # fmt: skip
    genuine = (
        signature_valid and row["status"] == "issued"
        and base["digest_matches"] is not False and base["file_matches"] is not False
    )  # fmt: skip
    if not genuine and row["status"] == "issued":
        label = "验证未通过"
    return Verdict(**base, genuine=genuine, status_label=label, message=message)
