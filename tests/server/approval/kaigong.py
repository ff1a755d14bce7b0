"""Test support for 开工一件事: the published seed catalogue, an enterprise certificate with its key, a
complete form for a project that needs five items of four departments, its required materials attached
(small real PDFs), and signing as the browser does."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from uuid import UUID

from reportlab.pdfgen import canvas

from server.approval import catalogue_service, signing
from server.audit.service import AUDIT_KEY
from server.keystore import KeyRing
from server.security.gm import Sm2PrivateKey, sm2_sign
from server.seed import stable_id

PUJIANG_ORG = "91310115MA1K4AB12X"


async def ready(pool: Any, keys_dir: Path, var_dir: Path, org_code: str = PUJIANG_ORG) -> dict[str, Any]:
    """Publish the seed catalogue (once) and give `org_code` a certificate (once); its key file."""
    await catalogue_service.seed_catalogue(pool, KeyRing(keys_dir).key(AUDIT_KEY), stable_id("user", "admin"))
    key_file = var_dir / "demo-keys" / f"{org_code}.sm2.json"
    if not key_file.exists():  # once per test session (its var directory): other tests may hold certificates
        async with pool.acquire() as conn:
            await signing.issue_demo_certificate(
                conn,
                stable_id("org", org_code),
                org_code,
                "测试企业",
                var_dir / "demo-keys",
                only_if_none=False,
            )
    return json.loads(key_file.read_text())


def values_for(project: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A complete form: 房建, special construction (消防设计审查), air defence (民防), construction permit,
    temporary drainage (水务) and road occupation (交通)."""
    values = {
        "project_code": project["code"],
        "project_name": project["name"],
        "project_address": "上海市浦东新区张江路 100 号",
        "project_type": "房建",
        "building_use": "办公",
        "builder_name": "上海浦江置业有限公司",
        "builder_credit_code": "91310115MA1K4AB146",
        "builder_legal_rep": "张敏",
        "contact_name": "刘洋",
        "contact_phone": "13900000002",
        "planning_permit_no": "沪规建（2026）第 0123 号",
        "total_area": 42000,
        "above_ground_area": 30000,
        "below_ground_area": 12000,
        "building_height": 80,
        "above_floors": 20,
        "below_floors": 2,
        "investment_wan": 56000,
        "pit_depth_m": 9.5,
        "contract_price_wan": 38000,
        "contractor_name": "上海浦江建设集团有限公司",
        "project_manager": "王建国",
        "supervisor_name": "上海浦江工程建设监理有限公司",
        "chief_supervisor": "李振华",
        "designer_name": "华东建筑设计研究院有限公司",
        "drawing_review_mode": "多图联审",
        "drawing_review_cert_no": "SHSC-2026-0456",
        "planned_start_on": "2027-03-01",
        "planned_completion_on": "2029-06-30",
        "fire_special_category": "人员密集场所",
        "fire_resistance_rating": "一级",
        "special_fire_design": False,
        "air_defence_area_m2": 3500,
        "air_defence_class": "乙类常6级",
        "air_defence_offsite": False,
        "road_name": "张江路",
        "road_occupied_area_m2": 300,
        "road_excavation_length_m": 45,
        "road_work_start_on": "2027-03-10",
        "road_work_end_on": "2027-05-30",
        "drainage_outlet_location": "张江路 100 号东侧市政雨水井",
        "drainage_flow_m3_per_day": 200,
        "drainage_period_end_on": "2028-12-31",
        "special_construction": True,
        "civil_building": True,
        "temporary_drainage": True,
        "occupies_road": True,
    }
    return {**values, **changes}


def signed_submission(
    form: dict[str, Any],
    project_id: UUID | str,
    values: dict[str, Any],
    key: dict[str, Any],
    materials: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The body the browser posts: the canonical payload it signed, the SM2 signature, the certificate."""
    payload = signing.signed_payload(
        UUID(str(project_id)),
        form["bundle"],
        UUID(form["catalogue_version_id"]),
        [i["code"] for i in form["items"]],
        values,
        materials or {},
    )
    signed = signing.canonical(payload)
    private = Sm2PrivateKey.from_bytes(bytes.fromhex(key["private_key_hex"]))
    return {
        "signed": base64.b64encode(signed).decode(),
        "signature": base64.b64encode(sm2_sign(private, signed)).decode(),
        "certificate_id": key["certificate_id"],
    }


def pdf_bytes(text: str) -> bytes:
    """A small, valid one-page PDF saying `text` (deterministic: the same text gives the same bytes)."""
    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


async def upload_material(client: Any, project_id: UUID | str, code: str, data: bytes, name: str) -> Any:
    return await client.put(
        f"/api/v1/projects/{project_id}/kaigong/materials/{code}",
        params={"name": name},
        content=data,
        headers={"content-type": "application/octet-stream"},
    )


async def attach_required(client: Any, project_id: UUID | str, form: dict[str, Any]) -> dict[str, list[str]]:
    """Upload a PDF for every required material of `form` that has no file yet; the materials map to sign
    ({code: [sm3, …]} of every file attached to the form's materials)."""
    base = f"/api/v1/projects/{project_id}/kaigong/materials"
    attached = (await client.get(base)).json()["materials"]
    have = {m["code"] for m in attached}
    for material in form["materials"]:
        if material["required"] and material["code"] not in have:
            data = pdf_bytes(f"{project_id} {material['code']}")
            answer = await upload_material(
                client, project_id, material["code"], data, f"{material['code']}.pdf"
            )
            assert answer.status_code == 201, answer.text
            attached.append(answer.json())
    codes = {m["code"] for m in form["materials"]}
    found: dict[str, list[str]] = {}
    for row in attached:
        if row["code"] in codes:
            found.setdefault(row["code"], []).append(row["sm3"])
    return found
