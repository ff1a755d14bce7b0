"""A case's clock as the project actor derives it (actors/project/cases.py), on the dates of domain.md
§1.3: accepted Thu 2026-09-24 with 5 committed working days → due 10/09, yellow from 9/29, red from 10/10;
a correction pauses it and moves the due date by the working days it took."""

from __future__ import annotations

import uuid
from datetime import date

from actors.project.cases import moved, with_clock
from actors.project.state import Case
from server.approval.calendar import package_calendar

CAL = package_calendar()
BASE = Case(id=uuid.uuid4(), application_id=uuid.uuid4(), item_code="LSPS", item_name="临时排水许可",
            dept_org_id=uuid.uuid4(), dept_name="水务局", statutory_wd=20, committed_wd=5)  # fmt: skip


def test_an_accepted_case_turns_yellow_three_working_days_before_and_red_after_its_due_date():
    accepted = moved(BASE, "accept", "accepted", date(2026, 9, 24), CAL, "")
    assert accepted.due_on == date(2026, 10, 9)
    states = {day: with_clock(accepted, CAL, date(2026, 9, day) if day > 20 else date(2026, 10, day)).deadline_state
              for day in (28, 29, 9, 10)}  # fmt: skip
    assert states == {28: "on_time", 29: "due_soon", 9: "due_soon", 10: "overdue"}


def test_a_correction_pauses_the_clock_and_moves_the_due_date_by_the_working_days_it_took():
    accepted = moved(BASE, "accept", "accepted", date(2026, 9, 24), CAL, "")
    paused = moved(accepted, "request_correction", "correction", date(2026, 9, 28), CAL, "缺少排水方案")
    assert (paused.due_on, paused.deadline_state) == (None, "paused")
    resumed = moved(paused, "resubmit", "reviewing", date(2026, 9, 30), CAL, "")
    # 9/28, 9/29, 9/30 did not count: three working days later than 10/09 (10/10 is a make-up workday)
    assert resumed.due_on == CAL.add_workdays(date(2026, 10, 9), 3)
    decided = moved(resumed, "approve", "approved", date(2026, 10, 12), CAL, "")
    assert (decided.deadline_state, decided.decided_on) == ("done", date(2026, 10, 12))
    assert decided.used_wd == CAL.workdays_between(date(2026, 9, 24), date(2026, 10, 12)) - 3


def test_the_yellow_warning_can_count_calendar_days_instead():
    accepted = moved(BASE, "accept", "accepted", date(2026, 9, 24), CAL, "")
    # 3 calendar days before 10/09 is 10/06 (in the National Day holiday): yellow starts then, not on 9/29
    assert with_clock(accepted, CAL, date(2026, 10, 5), (3, "calendar")).deadline_state == "on_time"
    assert with_clock(accepted, CAL, date(2026, 10, 6), (3, "calendar")).deadline_state == "due_soon"
    assert with_clock(accepted, CAL, date(2026, 9, 29), (3, "workday")).deadline_state == "due_soon"
