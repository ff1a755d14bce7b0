"""Demo data of deliverables (出具文件): on the first demo project, a complete filling document
(1号楼 出图数据, the sample of `docgen.samples`), a saved version of it, and from that version the
结构设计总说明 sheet set and the 荷载计算书 queued for the worker, so `make run` opens with documents
to preview, issue and verify. Written through the document actor and the deliverables service, like a
user's edits and requests.
Must not: run outside `tongban seed`, or add documents again once the demo document exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from pycrdt import Doc

from actors.document.actor import doc_address
from actors.document.messages import ApplyUpdate, SaveVersion
from actors.runtime import ActorSystem
from collab.content import fill
from docgen import samples
from docgen.kinds import KINDS
from server.deliverables import service
from server.keystore import KeyRing
from server.seed import seed_actor

TITLE = "1号楼 出图数据（已校核）"
INSERT = """
    INSERT INTO collab_document (id, project_id, title, form, form_version, created_by)
    VALUES ($1, $2, $3, 'bim_building', 1, $4) ON CONFLICT (id) DO NOTHING"""
KINDS_MADE = ("structure_notes", "load_calculation")


async def seed_deliverables(
    pool: Any, actors: ActorSystem, arq: Any, keys: KeyRing, audit_key: bytes, project_id: uuid.UUID,
    owner_id: uuid.UUID, timeout_s: float,
) -> int:  # fmt: skip
    """The demo deliverables queued now (0 when the demo document exists already)."""
    doc_id = uuid.uuid5(project_id, "demo-drawing-data")
    async with pool.acquire() as conn:
        added = await conn.execute(INSERT, doc_id, project_id, TITLE, owner_id)
        owner = await seed_actor(conn, owner_id)
    if added != "INSERT 0 1":
        return 0
    content = samples.filling()
    doc: Doc[Any] = Doc()
    fill(doc, content)
    document = actors.ref(doc_address(doc_id))
    await document.ask(ApplyUpdate(update=doc.get_update()), timeout_s)
    version = await document.ask(
        SaveVersion(form="bim_building", form_version=1, user_id=owner.id, login=owner.login, org_id=owner.org_id,
                    name="出图版（演示）"),
        timeout_s,
    )  # fmt: skip
    for kind in KINDS_MADE:
        async with pool.acquire() as conn:
            deliverable_id = await service.create(
                conn, keys, audit_key, KINDS[kind], project_id, (doc_id, version.id), content, owner, None
            )
        await arq.enqueue_job(service.JOB_NAME, deliverable_id, _job_id=service.job_id(deliverable_id))
    return len(KINDS_MADE)
