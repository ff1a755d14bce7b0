"""A department's part of a submitted one form (分发给各部门的表单部分): the values of the fields its item
needs and the materials its item asks for, read from the signed bytes stored with the application, under
the catalogue version the application was filled against, each material with the files the enterprise
signed (their SM3s) and a download link; and whether the enterprise's signature over those bytes still
verifies (so a reviewer sees that what is shown is what was signed). `case_material` finds one of those
files for the download, and only one the item's materials name.
Must not: show another item's fields or files to a department, or decide access (the route does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from server.approval import catalogue_service, materials, merged_form
from server.approval.applications import open_text
from server.errors import NotFound
from server.keystore import KeyRing
from server.security.gm import Sm2PublicKey, sm2_verify, sm3_hex

APPLICATION_OF_CASE = """
    SELECT c.item_code, c.project_id, c.item_name, a.id AS application_id, a.catalogue_version_id,
           a.signed_sealed, a.signed_sm3, a.signature, a.submitted_at, a.lianshen_no, k.serial, k.subject,
           k.public_key_pem, o.name AS org_name
    FROM approval_case c JOIN approval_application a ON a.id = c.application_id
         JOIN org_certificate k ON k.id = a.certificate_id JOIN organization o ON o.id = a.org_id
    WHERE c.id = $1"""


@dataclass(frozen=True)
class SignedPart:
    row: Any  # the case, its application and certificate
    signed: bytes
    payload: dict[str, Any]
    merged: merged_form.MergedForm
    catalogue_version: int

    @property
    def item(self) -> str:
        code: str = self.row["item_code"]
        return code

    def digests(self) -> dict[str, list[str]]:
        """The signed SM3s of the materials the case's item asks for, by material code."""
        signed = self.payload.get("materials") or {}
        return {m.material.code: list(signed.get(m.material.code, []))
                for m in self.merged.materials if self.item in m.items}  # fmt: skip


async def signed_part(conn: Any, keys: KeyRing, case_id: UUID) -> SignedPart:
    row = await conn.fetchrow(APPLICATION_OF_CASE, case_id)
    if row is None:
        raise NotFound("办件不存在")
    signed = open_text(keys, str(row["application_id"]), row["signed_sealed"]).encode()
    payload = json.loads(signed)
    version = await catalogue_service.get_version(conn, row["catalogue_version_id"])
    merged = merged_form.merged_form(
        catalogue_service.compiled(version), payload["values"], payload["bundle"]
    )
    return SignedPart(row, signed, payload, merged, version.version)


def download_url(case_id: UUID, sm3: str) -> str:
    return f"/api/v1/kaigong/cases/{case_id}/materials/{sm3}"


async def case_material(conn: Any, keys: KeyRing, case_id: UUID, sm3: str) -> tuple[UUID, dict[str, Any]]:
    """The project and the stored file (code, sm3, file_name, size, media_type) of `sm3`, when the signed
    application names it for a material the case's item asks for; else 404."""
    part = await signed_part(conn, keys, case_id)
    digests = {code: found for code, found in part.digests().items() if sm3 in found}
    files = await materials.signed_files(conn, part.row["project_id"], digests) if digests else {}
    file = next(iter(files.values()), None)
    if file is None:
        raise NotFound("本办件的申报材料中没有这个文件")
    project_id: UUID = part.row["project_id"]
    return project_id, file


async def case_form(conn: Any, keys: KeyRing, case_id: UUID) -> dict[str, Any]:
    part = await signed_part(conn, keys, case_id)
    row, payload, merged, item = part.row, part.payload, part.merged, part.item
    values = merged_form.item_values(merged, payload["values"], item)
    fields = [
        {"key": f.field.key, "label": f.field.label, "unit": f.field.unit, "value": values[f.field.key]}
        for f in merged.fields if item in f.items and f.field.key in values
    ]  # fmt: skip
    digests = part.digests()
    stored = await materials.signed_files(conn, row["project_id"], digests)
    materials_out = [
        {"code": m.material.code, "name": m.material.name, "required": m.required,
         "files": [_file(case_id, stored.get((m.material.code, s)), s) for s in digests[m.material.code]]}
        for m in merged.materials if item in m.items
    ]  # fmt: skip
    valid = sm3_hex(part.signed) == row["signed_sm3"] and sm2_verify(
        Sm2PublicKey.from_pem(row["public_key_pem"]), part.signed, row["signature"]
    )
    return {
        "case_id": str(case_id), "item_code": item, "item_name": row["item_name"], "lianshen_no": row["lianshen_no"],
        "applicant": row["org_name"], "submitted_at": row["submitted_at"], "catalogue_version": part.catalogue_version,
        "fields": fields, "materials": materials_out,
        "signature": {"valid": valid, "certificate_serial": row["serial"], "subject": row["subject"],
                      "signed_sm3": row["signed_sm3"]},
    }  # fmt: skip


def _file(case_id: UUID, stored: dict[str, Any] | None, sm3: str) -> dict[str, Any]:
    if (
        stored is None
    ):  # signed, but no such file was ever attached (cannot pass `prepare`): shown, not linked
        return {"sm3": sm3, "file_name": None, "size": None, "url": None}
    return {
        "sm3": sm3,
        "file_name": stored["file_name"],
        "size": stored["size"],
        "url": download_url(case_id, sm3),
    }
