"""Demo data of the collaborative filling forms: a BIM building-information form (BIM 建筑信息填报) on
the first demo project, partly filled in, so `make run` shows a live form with fields, rows and rich
text. Written through the document actor like any editor's update (journalled, then visible).
Must not: run outside `tongban seed` (it makes rows and journal events), or touch other documents.
"""

from __future__ import annotations

import uuid
from typing import Any

from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText

from actors.document.actor import doc_address
from actors.document.messages import ApplyUpdate
from actors.runtime import ActorSystem
from docgen import samples

DEMO_TITLE = "1号楼 BIM 建筑信息填报"
INSERT = """
    INSERT INTO collab_document (id, project_id, title, form, form_version, created_by)
    VALUES ($1, $2, $3, 'bim_building', 1, $4) ON CONFLICT (id) DO NOTHING"""


def demo_content() -> bytes:
    """The demo form's content as one Yjs update. One thing is left for the visitor to fix, so that
    校验 has something to say: the garage's live load is below the GB 55001 minimum."""
    doc: Doc[Any] = Doc()
    doc.get("project", type=Map).update(samples.PROJECT)  # the fixtures of docgen, also the demo's
    doc.get("structure", type=Map).update(samples.STRUCTURE)
    units = doc.get("units", type=Array)
    for row in samples.UNITS:
        units.append(Map(row))
    walls = doc.get("walls", type=Array)
    for row in (
        {"position": "外墙", "material": "蒸压加气混凝土砌块", "thickness": 200, "fire_limit": 3},
        {"position": "分户墙", "material": "蒸压加气混凝土砌块", "thickness": 200, "fire_limit": 2},
    ):
        walls.append(Map(row))
    loads = doc.get("loads", type=Array)
    for row in (
        {"room": "住宅套内", "category": "住宅", "live_load": 2.0, "dead_load": 1.5},
        {"room": "公共走廊", "category": "走廊、门厅", "live_load": 2.0, "dead_load": 1.5},
        {"room": "地下车库", "category": "汽车通道及停车库", "live_load": 2.5, "dead_load": 2.0},
    ):
        loads.append(Map(row))
    _paragraphs(
        doc.get("architecture_notes", type=XmlFragment),
        ("heading", "一、设计依据"),
        (
            "paragraph",
            "本工程依据《建筑设计防火规范》GB 50016-2014（2018 年版）、《住宅设计规范》GB 50096-2011"
            " 等现行规范设计。",
        ),
        ("heading", "二、工程概况"),
        ("paragraph", "本工程为二类高层住宅，地上 26 层，地下 2 层，建筑高度 79.9 m，耐火等级一级。"),
    )
    _paragraphs(
        doc.get("structure_notes", type=XmlFragment),
        ("heading", "一、结构设计标准"),
        ("paragraph", "结构设计使用年限 50 年，结构安全等级二级，抗震设防烈度 7 度（0.10g），场地类别Ⅳ类。"),
    )
    return doc.get_update()


def _paragraphs(fragment: XmlFragment, *blocks: tuple[str, str]) -> None:
    for tag, text in blocks:
        node = XmlText()
        attrs: Any = {"level": 2} if tag == "heading" else None  # a number, as ProseMirror writes it
        fragment.children.append(XmlElement(tag, attrs, [node]))
        node.insert(0, text)


async def seed_documents(
    pool: Any, actors: ActorSystem, project_id: uuid.UUID, by: uuid.UUID, timeout_s: float
) -> int:
    """The demo form on `project_id`, unless it is there already; returns how many were added."""
    doc_id = uuid.uuid5(project_id, "demo-bim-building-form")
    async with pool.acquire() as conn:
        added = await conn.execute(INSERT, doc_id, project_id, DEMO_TITLE, by)
    if added != "INSERT 0 1":
        return 0
    await actors.ref(doc_address(doc_id)).ask(ApplyUpdate(update=demo_content()), timeout_s)
    return 1
