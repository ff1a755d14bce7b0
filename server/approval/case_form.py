"""A department's part of a submitted one form (分发给各部门的表单部分): the values of the fields its item
needs and the materials its item asks for, read from the signed bytes stored with the application, under
the catalogue version the application was filled against; and whether the enterprise's signature over
those bytes still verifies (so a reviewer sees that what is shown is what was signed).
Must not: show another item's fields to a department, or decide access (the route does).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from server.approval import catalogue_service, merged_form
from server.approval.applications import open_text
from server.errors import NotFound
from server.keystore import KeyRing
from server.security.gm import Sm2PublicKey, sm2_verify, sm3_hex

APPLICATION_OF_CASE = """
    SELECT c.item_code, c.item_name, a.id AS application_id, a.catalogue_version_id, a.signed_sealed, a.signed_sm3,
           a.signature, a.submitted_at, a.lianshen_no, k.serial, k.subject, k.public_key_pem, o.name AS org_name
    FROM approval_case c JOIN approval_application a ON a.id = c.application_id
         JOIN org_certificate k ON k.id = a.certificate_id JOIN organization o ON o.id = a.org_id
    WHERE c.id = $1"""


async def case_form(conn: Any, keys: KeyRing, case_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(APPLICATION_OF_CASE, case_id)
    if row is None:
        raise NotFound("办件不存在")
    signed = open_text(keys, str(row["application_id"]), row["signed_sealed"]).encode()
    payload = json.loads(signed)
    version = await catalogue_service.get_version(conn, row["catalogue_version_id"])
    merged = merged_form.merged_form(
        catalogue_service.compiled(version), payload["values"], payload["bundle"]
    )
    item = row["item_code"]
    part = merged_form.item_values(merged, payload["values"], item)
    fields = [
        {"key": f.field.key, "label": f.field.label, "unit": f.field.unit, "value": part[f.field.key]}
        for f in merged.fields if item in f.items and f.field.key in part
    ]  # fmt: skip
    digests = payload.get("materials") or {}
    materials = [
        {"code": m.material.code, "name": m.material.name, "required": m.required,
         "files": digests.get(m.material.code, [])}
        for m in merged.materials if item in m.items
    ]  # fmt: skip
    valid = sm3_hex(signed) == row["signed_sm3"] and sm2_verify(
        Sm2PublicKey.from_pem(row["public_key_pem"]), signed, row["signature"]
    )
    return {
        "case_id": str(case_id), "item_code": item, "item_name": row["item_name"], "lianshen_no": row["lianshen_no"],
        "applicant": row["org_name"], "submitted_at": row["submitted_at"], "catalogue_version": version.version,
        "fields": fields, "materials": materials,
        "signature": {"valid": valid, "certificate_serial": row["serial"], "subject": row["subject"],
                      "signed_sm3": row["signed_sm3"]},
    }  # fmt: skip
