"""The working-day calendar over HTTP: a year as stored; an administrator's correction of one day is
audited and moves the due dates counted over it; others may not change it; bad days are refused."""

from __future__ import annotations

from datetime import date

from server.approval.calendar import package_calendar


async def test_a_year_reads_as_stored_and_only_an_administrator_corrects_a_day(server, as_user):
    reviewer = await as_user("zhujian")
    year = (await reviewer.get("/api/v1/calendar/2026")).json()
    days = {d["day"]: d for d in year["days"]}
    assert year["covered"] is True
    assert len(days) == 365
    assert (days["2026-10-01"]["is_workday"], days["2026-10-10"]["is_workday"]) == (False, True)
    assert days["2026-10-10"]["note"] == "调休上班"
    shipped = package_calendar()
    assert year["workdays"] == sum(shipped.is_workday(date.fromisoformat(d)) for d in days)
    assert (await reviewer.get("/api/v1/calendar/2099")).json()["covered"] is False

    body = {"is_workday": False, "note": "台风停工（演示）"}
    assert (await reviewer.put("/api/v1/admin/calendar/2026-12-30", json=body)).status_code == 403
    admin = await as_user("admin")
    assert (
        await admin.put("/api/v1/admin/calendar/2027-01-04", json=body)
    ).status_code == 422  # year not held
    assert (await admin.put("/api/v1/admin/calendar/2026-13-01", json=body)).status_code == 422
    assert (
        await admin.put("/api/v1/admin/calendar/2026-12-30", json={**body, "note": "x\ny"})
    ).status_code == 422
    changed = await admin.put("/api/v1/admin/calendar/2026-12-30", json=body)
    assert changed.json() == {
        "day": "2026-12-30",
        "is_workday": False,
        "note": "台风停工（演示）",
        "source": "operator",
    }
    after = {d["day"]: d for d in (await reviewer.get("/api/v1/calendar/2026")).json()["days"]}
    assert after["2026-12-30"]["is_workday"] is False
    restored = await admin.put("/api/v1/admin/calendar/2026-12-30", json={"is_workday": True, "note": ""})
    assert restored.json()["is_workday"] is True
