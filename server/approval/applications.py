"""The one form (一张表单) of 开工一件事 for a project, and its signed submission.

The form: the published catalogue's applicable items for the values typed so far (the project's facts
are fields of the form, so the item set and the project type follow the values live), prefilled from
the project registry and from the enterprise's latest earlier application, with the server-side draft
(saved continuously, SM4-sealed, revisioned: a stale save answers 409) over both. Checking runs the
merged form's rules on every keystroke without saving anything.

Submission: the enterprise signs the canonical JSON of (project, bundle, catalogue version, items,
values, material digests) with its certificate key; the server reads the payload from the signed bytes
themselves, checks it names this project and the current published catalogue, that its items are exactly
the applicable ones for its values, that the values pass every rule, that its materials are files attached
to this project under their own codes and every required material has one (`server.approval.materials`),
and that the signature verifies with
a valid certificate of the enterprise (`server.approval.signing`). Then the project actor records the
application and opens one case per item (each with its department and limits, and the predecessors
that apply). A replayed submission (same Idempotency-Key) gets the first answer; nothing is half written.
Must not: decide access (the routes ask `server.approval.access`), or move cases (the project actor does).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from actors.project.messages_cases import CaseSpec, SubmitApplication
from server.approval import applicability, catalogue_service, materials, merged_form, signing
from server.approval.catalogue import Catalogue
from server.approval.catalogue_service import VersionDetail
from server.errors import Conflict, InvalidInput
from server.identity.models import CurrentUser
from server.keystore import KeyRing
from server.projects import data_service
from server.security.gm import open_field, seal_field

BUNDLE = "kaigong"
DATA_KEY = "approval-data-1"
MAX_SIGNED_BYTES = 256 * 1024

DRAFT = "SELECT values_sealed, revision FROM approval_draft WHERE project_id = $1 AND bundle = $2"
SAVE_DRAFT = """
    INSERT INTO approval_draft (project_id, bundle, values_sealed, revision, updated_by)
    VALUES ($1, $2, $3, 1, $4)
    ON CONFLICT (project_id, bundle) DO UPDATE
        SET values_sealed = EXCLUDED.values_sealed, revision = approval_draft.revision + 1,
            updated_by = EXCLUDED.updated_by, updated_at = now()
        WHERE approval_draft.revision = $5
    RETURNING revision"""
PROJECT = """
    SELECT p.code, p.name, p.project_type, o.name AS org_name, o.credit_code
    FROM project p JOIN organization o ON o.id = p.owner_org_id WHERE p.id = $1"""
LATEST_OF_ORG = """
    SELECT id, signed_sealed FROM approval_application WHERE org_id = $1 ORDER BY submitted_at DESC LIMIT 1"""
BY_KEY = "SELECT id, project_id FROM approval_application WHERE org_id = $1 AND idempotency_key = $2"
DEPARTMENTS = "SELECT id, code, name FROM organization WHERE code = ANY($1) AND kind = 'department'"


@dataclass(frozen=True)
class Published:
    version: VersionDetail
    catalogue: Catalogue


async def published(conn: Any) -> Published:
    version = await catalogue_service.get_published(conn, await catalogue_service.get_catalogue(conn))
    return Published(version, catalogue_service.compiled(version))


def seal_text(keys: KeyRing, aad: str, text: str) -> bytes:
    """SM4-sealed at rest (the form holds contacts' names and phones); `aad` binds it to its row."""
    return seal_field(DATA_KEY, keys.key(DATA_KEY, 16), text, aad.encode())


def seal_values(keys: KeyRing, aad: str, values: dict[str, Any]) -> bytes:
    return seal_text(keys, aad, json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")))


def open_text(keys: KeyRing, aad: str, sealed: bytes) -> str:
    return open_field({DATA_KEY: keys.key(DATA_KEY, 16)}, sealed, aad.encode())


def _open(keys: KeyRing, aad: str, sealed: bytes) -> Any:
    return json.loads(open_text(keys, aad, sealed))


def form_of(pub: Published, values: dict[str, Any]) -> dict[str, Any]:
    """The merged form for `values`: items (with departments and limits), fields, materials, errors."""
    merged = merged_form.merged_form(pub.catalogue, values, BUNDLE)
    items = pub.catalogue.by_code
    errors = merged_form.validate(merged, values)
    return {
        "catalogue_version_id": str(pub.version.id), "catalogue_version": pub.version.version, "bundle": BUNDLE,
        "project_type": merged.project_type,
        "items": [{"code": c, "name": items[c].item.name, "dept_code": items[c].item.dept_code,
                   "statutory_workdays": items[c].item.statutory_workdays,
                   "committed_workdays": items[c].item.committed_workdays,
                   "predecessors": [p for p in items[c].item.predecessors if p in merged.items]}
                  for c in merged.items],
        "fields": [{**f.field.model_dump(mode="json"), "required": f.required, "items": list(f.items)}
                   for f in merged.fields],
        "materials": [{**m.material.model_dump(mode="json", exclude={"applicability"}), "required": m.required,
                       "items": list(m.items)} for m in merged.materials],
        "errors": [e.as_json() for e in errors],
        "facts": [_fact(pub, k, spec) for k, spec in applicability.FACTS.items() if k not in DERIVED_FACTS],
    }  # fmt: skip


DERIVED_FACTS = frozenset({"project_code_type", "project_code"})  # computed, or asked with the project's data


def _fact(pub: Published, key: str, spec: applicability.FactSpec) -> dict[str, Any]:
    """A fact the applicant states about the project; a fact that is also a catalogue field (its type,
    area, investment…) carries that field's definition, so it is entered and checked as that field."""
    shared = pub.catalogue.fields.get(key)
    fact: dict[str, Any] = {"key": key, "kind": spec.kind, "label": spec.label}
    if shared is not None:
        fact["field"] = shared.model_dump(mode="json")
    return fact


async def prefill(
    conn: Any, keys: KeyRing, pub: Published, user: CurrentUser, project_id: UUID
) -> dict[str, Any]:
    """Values known before the applicant types: from the project registry (its code, name, type, and its
    structured 用地/规划/施工许可 data for the catalogue fields that share a key), and from the enterprise's
    latest application (its fields whose source is the enterprise: builder, legal representative, contact)."""
    values: dict[str, Any] = {}
    row = await conn.fetchrow(PROJECT, project_id)
    if row is not None:
        values |= {"project_code": row["code"], "project_name": row["name"], "builder_name": row["org_name"]}
        if row["credit_code"]:
            values["builder_credit_code"] = row["credit_code"]
        if row["project_type"] != "其他":
            values["project_type"] = row["project_type"]
    content, _revision = await data_service.read(conn, project_id)
    values |= data_service.flat(content)
    latest = await conn.fetchrow(LATEST_OF_ORG, user.org_id)
    if latest is not None:
        earlier = _open(keys, str(latest["id"]), latest["signed_sealed"]).get("values", {})
        enterprise = {f.key for f in pub.catalogue.content.fields if f.source == "enterprise"}
        values |= {k: v for k, v in earlier.items() if k in enterprise and v not in (None, "")}
    known = {f.key for f in pub.catalogue.content.fields}
    return {k: v for k, v in values.items() if k in known}


async def draft_of(conn: Any, keys: KeyRing, project_id: UUID) -> tuple[dict[str, Any] | None, int]:
    row = await conn.fetchrow(DRAFT, project_id, BUNDLE)
    if row is None:
        return None, 0
    return _open(keys, f"{project_id}:{BUNDLE}", row["values_sealed"]), row["revision"]


async def save_draft(
    conn: Any, keys: KeyRing, project_id: UUID, values: dict[str, Any], revision: int, by: CurrentUser
) -> int:
    """The draft's new revision; 409 when `revision` is not the stored one (another tab saved since)."""
    sealed = seal_values(keys, f"{project_id}:{BUNDLE}", values)
    saved: int | None = await conn.fetchval(SAVE_DRAFT, project_id, BUNDLE, sealed, by.id, revision)
    if saved is None or (revision == 0 and saved != 1):
        raise Conflict("草稿已在别处更新，请刷新后再编辑")
    return saved


def _decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} 不是合法的 base64", fields=[{"field": field, "message": "格式错误",
                                                                 "type": "invalid"}]) from exc  # fmt: skip


def read_signed(signed_b64: str) -> tuple[bytes, dict[str, Any]]:
    signed = _decode(signed_b64, "signed")
    if len(signed) > MAX_SIGNED_BYTES:
        raise InvalidInput(
            "签名内容过大", fields=[{"field": "signed", "message": "过大", "type": "too_long"}]
        )
    try:
        payload = json.loads(signed)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("签名内容不是 JSON", fields=[{"field": "signed", "message": "格式错误",
                                                     "type": "invalid"}]) from exc  # fmt: skip
    if not isinstance(payload, dict) or not isinstance(payload.get("values"), dict):
        raise InvalidInput("签名内容缺少表单数据", fields=[{"field": "signed.values", "message": "缺少",
                                                        "type": "missing"}])  # fmt: skip
    return signed, payload


async def prepare(
    conn: Any, keys: KeyRing, pub: Published, user: CurrentUser, project_id: UUID, signed_b64: str,
    signature_b64: str, certificate_id: UUID, idempotency_key: str,
) -> SubmitApplication:  # fmt: skip
    """The message that records the submission, once everything about it checks out (else 422/409)."""
    signed, payload = read_signed(signed_b64)
    signature = _decode(signature_b64, "signature")
    values: dict[str, Any] = payload["values"]
    merged = merged_form.merged_form(pub.catalogue, values, BUNDLE)
    signed_materials = payload.get("materials") or {}
    problems = await materials.signed_problems(conn, project_id, merged, signed_materials)
    if problems and problems[0]["field"] == "signed.materials":  # not even {code: [sm3, …]}
        raise InvalidInput("签名内容中的材料格式不正确", fields=problems)
    expected = signing.signed_payload(project_id, BUNDLE, pub.version.id, list(merged.items), values,
                                      signed_materials)  # fmt: skip
    if payload != expected:
        wrong = sorted(k for k in expected if payload.get(k) != expected[k]) or ["signed"]
        fields = [{"field": f"signed.{k}", "message": "不一致", "type": "mismatch"} for k in wrong]
        raise InvalidInput(
            "签名内容与本次申报不一致（项目、事项目录版本或适用事项已变化），请刷新后重新签名", fields=fields
        )
    errors = [
        {"field": e.path, "message": e.message, "type": e.code} for e in merged_form.validate(merged, values)
    ]
    if errors:
        raise InvalidInput("表单有错误，请修改后再提交", fields=errors + problems)
    if problems:
        missing = [p["message"].removeprefix("请上传") for p in problems if p["type"] == "missing"]
        message = (
            f"还缺少必交的申报材料：{'、'.join(missing)}" if missing else "申报材料与本项目已上传的不一致"
        )
        raise InvalidInput(message, fields=problems)
    signed_sm3 = await signing.verify(conn, user.org_id, certificate_id, signed, signature)
    departments = {r["code"]: r for r in await conn.fetch(
        DEPARTMENTS, [pub.catalogue.by_code[c].item.dept_code for c in merged.items])}  # fmt: skip
    application_id = uuid.uuid4()
    cases = []
    for code in merged.items:
        item = pub.catalogue.by_code[code].item
        dept = departments[item.dept_code]
        cases.append(CaseSpec(
            id=uuid.uuid4(), item_code=code, item_name=item.name, dept_org_id=dept["id"], dept_name=dept["name"],
            predecessors=tuple(p for p in item.predecessors if p in merged.items),
            statutory_wd=item.statutory_workdays, committed_wd=item.committed_workdays,
        ))  # fmt: skip
    return SubmitApplication(
        application_id=application_id, bundle=BUNDLE, catalogue_version_id=pub.version.id, cases=cases,
        signed_sealed=seal_text(keys, str(application_id), signed.decode()), signed_sm3=signed_sm3, signature=signature,
        certificate_id=certificate_id, idempotency_key=idempotency_key, by=user.id, org_id=user.org_id,
        actor_login=user.login,
    )  # fmt: skip


async def earlier_submission(conn: Any, org_id: UUID, idempotency_key: str) -> UUID | None:
    """The project of an application this key already submitted (a replay), or None."""
    row = await conn.fetchrow(BY_KEY, org_id, idempotency_key)
    return row["project_id"] if row is not None else None
