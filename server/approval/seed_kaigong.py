"""Demo data of 开工一件事: the second demo project's one form, filled in, its required materials attached
(small generated PDFs, one per material, titled with its name), signed with its enterprise's demo key and
submitted through the same checks as the page's submission (`applications.prepare`: catalogue version,
applicable items, every rule, every required material, the SM2 signature), so `make run` opens with cases
in the queues of 住建, 民防, 交通 and 水务, files to download, and a progress page to follow.
Must not: run outside `tongban seed`, or submit again once the project has an application.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path
from typing import Any
from uuid import UUID

from actors.project.actor import project_address
from actors.runtime import ActorSystem
from docgen.fonts import register_reportlab
from server.approval import applications, materials, signing
from server.audit.service import AUDIT_KEY
from server.files.storage import Storage
from server.keystore import KeyRing
from server.security.gm import Sm2PrivateKey, sm2_sign
from server.seed import seed_actor

HAS_APPLICATION = "SELECT EXISTS (SELECT 1 FROM approval_application WHERE project_id = $1)"
ORG_CODE = "SELECT code FROM organization WHERE id = $1"
PROJECT = "SELECT code, name FROM project WHERE id = $1"


def demo_values(code: str, name: str) -> dict[str, Any]:
    """A complete form for a 房建 project needing 消防设计审查, 民防, 施工许可, 掘路占路 and 临时排水."""
    return {
        "project_code": code, "project_name": name, "project_address": "上海市浦东新区前滩大道 500 号",
        "project_type": "房建", "building_use": "商业", "builder_name": "上海浦江置业有限公司",
        "builder_credit_code": "91310115MA1K4AB146", "builder_legal_rep": "张敏", "contact_name": "刘洋",
        "contact_phone": "13900000002", "planning_permit_no": "沪规建（2026）第 0456 号", "total_area": 128000,
        "above_ground_area": 86000, "below_ground_area": 42000, "building_height": 98, "above_floors": 22,
        "below_floors": 3, "investment_wan": 265000, "pit_depth_m": 14.5, "contract_price_wan": 178000,
        "contractor_name": "上海浦江建设集团有限公司", "project_manager": "王建国",
        "supervisor_name": "上海浦江工程建设监理有限公司", "chief_supervisor": "李振华",
        "designer_name": "华东建筑设计研究院有限公司", "drawing_review_mode": "多图联审",
        "drawing_review_cert_no": "SHSC-2026-0789", "planned_start_on": "2027-03-01",
        "planned_completion_on": "2030-06-30", "fire_special_category": "人员密集场所",
        "fire_resistance_rating": "一级",
        "special_fire_design": False, "air_defence_area_m2": 9800, "air_defence_class": "乙类常6级",
        "air_defence_offsite": False, "road_name": "前滩大道", "road_occupied_area_m2": 600,
        "road_excavation_length_m": 80, "road_work_start_on": "2027-03-10", "road_work_end_on": "2027-06-30",
        "drainage_outlet_location": "前滩大道 500 号北侧市政雨水井", "drainage_flow_m3_per_day": 350,
        "drainage_period_end_on": "2029-12-31", "special_construction": True, "civil_building": True,
        "temporary_drainage": True, "occupies_road": True,
    }  # fmt: skip


def material_pdf(font: str, project_name: str, material_name: str) -> bytes:
    """A one-page demo PDF standing for a material (the same bytes for the same names), in `font` (CJK)."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.setFont(font, 18)
    page.drawString(72, 760, material_name)
    page.setFont(font, 11)
    page.drawString(72, 730, f"项目：{project_name}")
    page.drawString(72, 712, "演示材料（由 tongban seed 生成，非真实文件）")
    page.showPage()
    page.save()
    return out.getvalue()


async def seed_application(
    pool: Any,
    actors: ActorSystem,
    keys: KeyRing,
    keys_dir: Path,
    storage: Storage,
    project_id: UUID,
    owner_id: UUID,
    timeout_s: float,
) -> bool:
    """Submit the demo application of `project_id` unless it has one; True when submitted now."""
    async with pool.acquire() as conn:
        if await conn.fetchval(HAS_APPLICATION, project_id):
            return False
        owner = await seed_actor(conn, owner_id)
        project = await conn.fetchrow(PROJECT, project_id)
        org_code = await conn.fetchval(ORG_CODE, owner.org_id)
        key = json.loads((keys_dir / f"{org_code}.sm2.json").read_text())
        pub = await applications.published(conn)
        values = demo_values(project["code"], project["name"])
        form = applications.form_of(pub, values)
        attached: dict[str, list[str]] = {}
        font = await asyncio.to_thread(register_reportlab)
        for material in form["materials"]:
            if material["required"]:
                data = await asyncio.to_thread(material_pdf, font, project["name"], material["name"])
                blob = await storage.put(data)
                row = await materials.upload(conn, keys.key(AUDIT_KEY), owner, project_id, material["code"],
                                             f"{material['name']}.pdf", "application/pdf", blob, None)  # fmt: skip
                attached[material["code"]] = [row["sm3"]]
        payload = signing.signed_payload(project_id, applications.BUNDLE, pub.version.id,
                                         [i["code"] for i in form["items"]], values, attached)  # fmt: skip
        signed = signing.canonical(payload)
        private = Sm2PrivateKey.from_bytes(bytes.fromhex(key["private_key_hex"]))
        signature = base64.b64encode(sm2_sign(private, signed)).decode()
        message = await applications.prepare(
            conn, keys, pub, owner, project_id, base64.b64encode(signed).decode(), signature,
            UUID(key["certificate_id"]), f"demo-{project_id}",
        )  # fmt: skip
    await actors.ref(project_address(project_id)).ask(message, timeout_s)
    return True
