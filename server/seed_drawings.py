"""Demo data of the file service: on the first demo project, three 单体 with a drawing catalogue of
施工图 (enough entries for three search pages) and a first version of some of them (small one-page
PDFs), one entry with a second version. Files go through the storage and the version write that
finished uploads use (stored by SM3, recorded and audited), not through HTTP.
Must not: run outside `tongban seed`, or add anything when the project already has buildings.
"""

from __future__ import annotations

import uuid
from typing import Any

from server.files.storage import Storage
from server.files.versions import add_version

BUILDINGS = (("1号楼", "B1"), ("2号楼", "B2"), ("地下车库", "GK"))
DISCIPLINES = (("建筑", "建施"), ("结构", "结施"), ("给排水", "水施"), ("电气", "电施"))
TITLES = ("设计总说明", "一层平面图", "标准层平面图", "屋面平面图", "立面图", "剖面图", "节点详图")
HAS_BUILDINGS = "SELECT EXISTS (SELECT 1 FROM building WHERE project_id = $1)"
INSERT_BUILDING = "INSERT INTO building (id, project_id, name, code, created_by) VALUES ($1, $2, $3, $4, $5)"
INSERT_DRAWING = """
    INSERT INTO drawing (id, project_id, building_id, kind, discipline, number, title)
    VALUES ($1, $2, $3, 'construction', $4, $5, $6)"""


def demo_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def _store(storage: Storage, data: bytes) -> Any:
    part = uuid.uuid4()
    await storage.create_part(part)
    writer = await storage.open_part(part, 0)
    await writer.write(data)
    await writer.commit()
    blob = await storage.store([part])
    await storage.delete_part(part)
    return blob


async def seed_drawings(
    pool: Any, storage: Storage, audit_key: bytes, project_id: uuid.UUID, user: Any, org_id: uuid.UUID
) -> int:
    """The demo catalogue of `project_id`, uploaded by `user` (id, login); returns the entries added."""
    async with pool.acquire() as conn:
        if await conn.fetchval(HAS_BUILDINGS, project_id):
            return 0
    added = 0
    for b, (name, code) in enumerate(BUILDINGS):
        building_id = uuid.uuid5(project_id, f"building:{code}")
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_BUILDING, building_id, project_id, name, code, user.id)
            for d, (discipline, prefix) in enumerate(DISCIPLINES[: 3 if b < 2 else 2]):
                for t, title in enumerate(TITLES[: 4 if d else 5]):
                    number = f"{code}-{prefix}-{t + 1:02d}"
                    drawing_id = uuid.uuid5(project_id, f"drawing:{number}")
                    await conn.execute(
                        INSERT_DRAWING, drawing_id, project_id, building_id, discipline, number, title
                    )
                    added += 1
                    if t < 2:
                        for version in range(1, 3 if (b, d, t) == (0, 0, 1) else 2):
                            blob = await _store(storage, demo_pdf(f"{number} v{version}"))
                            await add_version(
                                conn, audit_key, drawing_id=drawing_id, blob=blob,
                                file_name=f"{number} {title}.pdf", media_type="application/pdf",
                                user_id=user.id, user_login=user.login, org_id=org_id, upload_id=uuid.uuid4(),
                                ip=None,
                            )  # fmt: skip
    return added
