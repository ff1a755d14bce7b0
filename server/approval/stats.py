"""Statistics of 开工一件事 for administrators: per item and department, how many cases are open, decided,
refused and overdue, and the handling time in working days (mean and 90th percentile of the decided
cases' `used_wd`, pauses excluded). One aggregate query over `approval_case` (its stats index), so it
stays well under a second at 100,000 cases (loadtest/bench_kaigong_stats.py).
Must not: count a case twice, or read the journal (the rows are the projection made for this).
"""

from __future__ import annotations

from datetime import date
from typing import Any

STATS = """
    SELECT c.item_code, min(c.item_name) AS item_name, c.dept_org_id, o.name AS dept_name,
           count(*) AS total,
           count(*) FILTER (WHERE c.state IN ('submitted', 'accepted', 'correction', 'reviewing')) AS open,
           count(*) FILTER (WHERE c.state = 'approved') AS approved,
           count(*) FILTER (WHERE c.state = 'refused') AS refused,
           count(*) FILTER (WHERE c.state = 'withdrawn') AS withdrawn,
           count(*) FILTER (WHERE c.deadline_state = 'overdue') AS overdue_open,
           count(*) FILTER (WHERE c.decided_on IS NOT NULL AND c.used_wd > c.committed_wd) AS decided_late,
           round(avg(c.used_wd) FILTER (WHERE c.decided_on IS NOT NULL), 2) AS mean_wd,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY c.used_wd) FILTER (WHERE c.decided_on IS NOT NULL) AS p90_wd
    FROM approval_case c JOIN organization o ON o.id = c.dept_org_id
    WHERE ($1::date IS NULL OR c.submitted_at >= $1::date) AND ($2::date IS NULL OR c.submitted_at < $2::date + 1)
    GROUP BY c.item_code, c.dept_org_id, o.name
    ORDER BY c.item_code, o.name"""


async def statistics(conn: Any, since: date | None = None, until: date | None = None) -> list[dict[str, Any]]:
    rows = await conn.fetch(STATS, since, until)
    return [
        {**dict(r), "mean_wd": float(r["mean_wd"]) if r["mean_wd"] is not None else None,
         "p90_wd": round(float(r["p90_wd"]), 2) if r["p90_wd"] is not None else None}
        for r in rows
    ]  # fmt: skip
