"""The administrators' statistics of 开工一件事 count every case once per item and department and give the
mean and 90th percentile of the working days used by decided cases, and the overdue ones; the page shows
them; others may not see them."""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, date, datetime, timedelta

from server.seed import stable_id
from tests.conftest import unique_code

USER = stable_id("user", "pujiang")
WATER = stable_id("org", "DEPT-SW")


async def test_statistics_count_each_case_once_with_mean_and_p90_working_days(server, as_user, pool):
    item = f"T{uuid.uuid4().hex[:6].upper()}"  # an item code of this test only
    used = [2, 3, 3, 5, 8, 13, 21, 1, 4, 6]
    async with pool.acquire() as conn:
        catalogue, version, certificate = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        # An enterprise of this test only: its made-up applications (unsigned bytes) must not become the
        # latest application of a demo enterprise, whose one form is prefilled from that application.
        owner = uuid.uuid4()
        await conn.execute("INSERT INTO organization (id, kind, name, code) VALUES ($1, 'enterprise', $2, $3)",
                           owner, f"统计测试企业 {item}", f"STATS-{item}")  # fmt: skip
        await conn.execute("INSERT INTO approval_catalogue (id, name, created_by) VALUES ($1, $2, $3)",
                           catalogue, f"统计测试 {item}", USER)  # fmt: skip
        await conn.execute(
            "INSERT INTO approval_catalogue_version (id, catalogue_id, version, status, content, content_sm3,"
            " created_by, published_by, published_at) VALUES ($1, $2, 1, 'published', '{}', $3, $4, $4, now())",
            version, catalogue, "0" * 64, USER,
        )  # fmt: skip
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO org_certificate (id, org_id, serial, subject, public_key_pem, valid_from, valid_to)"
            " VALUES ($1, $2, $3, 'CN=stats', '-', $4, $5)", certificate, owner, certificate.hex,
            now - timedelta(days=1), now + timedelta(days=1),
        )  # fmt: skip
        for n, (state, wd) in enumerate(
            [("approved", u) for u in used] + [("reviewing", None), ("refused", 30)]
        ):
            project, application = uuid.uuid4(), uuid.uuid4()
            await conn.execute(
                "INSERT INTO project (id, code, name, owner_org_id, created_by) VALUES ($1, $2, $3, $4, $5)",
                project, unique_code(), f"统计项目{n}", owner, USER,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO approval_application (id, project_id, bundle, catalogue_version_id, items, signed_sealed,"
                " signed_sm3, signature, certificate_id, idempotency_key, submitted_by, org_id)"
                " VALUES ($1, $2, 'kaigong', $3, $4, '\\x00', $5, '\\x00', $6, $7, $8, $9)",
                application, project, version, [item], "0" * 64, certificate, f"stats-{application}", USER, owner,
            )  # fmt: skip
            decided = date(2026, 6, 1) if wd is not None else None
            await conn.execute(
                "INSERT INTO approval_case (id, application_id, project_id, item_code, item_name, dept_org_id, state,"
                " statutory_wd, committed_wd, accepted_on, decided_on, used_wd, deadline_state)"
                " VALUES ($1, $2, $3, $4, '统计测试事项', $5, $6, 20, 15, '2026-05-06', $7, $8, $9)",
                uuid.uuid4(), application, project, item, WATER, state, decided, wd,
                "overdue" if state == "reviewing" else "done",
            )  # fmt: skip

    admin = await as_user("admin")
    rows = (await admin.get("/api/v1/kaigong/stats")).json()["rows"]
    (row,) = [r for r in rows if r["item_code"] == item]
    decided = [*used, 30]
    assert (row["total"], row["open"], row["approved"], row["refused"]) == (12, 1, 10, 1)
    assert (row["overdue_open"], row["decided_late"], row["dept_name"]) == (1, 2, "上海市水务局")
    assert row["mean_wd"] == round(statistics.mean(decided), 2)
    assert row["p90_wd"] == round(statistics.quantiles(decided, n=10, method="inclusive")[-1], 2)
    page = await admin.get("/admin/kaigong/stats")
    assert "开工一件事办件统计" in page.text
    assert (await (await as_user("zhujian")).get("/api/v1/kaigong/stats")).status_code == 403
