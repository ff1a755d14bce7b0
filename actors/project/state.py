"""The project actor's state and the one pure function that applies an event to it; shared by live
updates and journal replay. The status board of the parallel approval lives here: one task per
department with its working-day deadline.

Must not: do IO or read the clock (the deadline colour is computed for a `today` the caller passes).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from actors.events import Event
from server import workdays
from server.approval.workflow import BUNDLE_LABELS, STATE_LABELS, bundle_state

CREATED = "project.created"
ARCHIVE_OPENED = "project.archive_opened"
APPROVAL_STARTED = "project.approval_started"
TASK_UPDATED = "project.task_updated"
DEADLINE_CHANGED = "project.deadline_changed"
KAIGONG_SUBMITTED = "kaigong.submitted"  # one signed application split into item cases
CASE_CHANGED = "case.changed"  # a case moved (action) or its clock or deadline colour changed

Status = Literal["none", "registered", "archived"]
TaskStatus = Literal["pending", "in_review", "approved", "rejected", "returned"]
FINAL: frozenset[str] = frozenset({"approved", "rejected"})

STATUS_LABELS: dict[str, str] = {
    "none": "不存在",
    "registered": "已登记，正在建立项目电子档案",
    "archived": "项目电子档案已建立",
}
TASK_LABELS: dict[str, str] = {
    "pending": "待受理",
    "in_review": "审查中",
    "approved": "已通过",
    "rejected": "不予许可",
    "returned": "退回补正",
}


class Task(BaseModel):
    model_config = ConfigDict(frozen=True)

    dept_org_id: UUID
    dept_name: str
    item: str
    limit_workdays: int
    accepted_on: date
    due_on: date
    status: TaskStatus = "pending"
    note: str = ""
    alert: workdays.DeadlineState = "on_time"  # the last deadline change recorded by a timer

    @property
    def open(self) -> bool:
        return self.status not in FINAL

    def public(self, today: date) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["status_label"] = TASK_LABELS[self.status]
        if self.open:
            try:
                state = workdays.deadline_state(self.due_on, today)
            except workdays.CalendarNotCovered:
                state = self.alert
            data["deadline_state"] = state
            data["deadline_label"] = workdays.DEADLINE_LABELS[state]
        else:
            data["deadline_state"] = "done"
            data["deadline_label"] = "已办结"
        return data


class Case(BaseModel):
    """One item case (事项办件) of 开工一件事 as the project's subscribers see it; `server.approval.workflow`
    moves its state, `server.approval.clock` derives its due date."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    application_id: UUID
    item_code: str
    item_name: str
    dept_org_id: UUID
    dept_name: str
    predecessors: tuple[str, ...] = ()
    state: str = "submitted"
    statutory_wd: int
    committed_wd: int
    accepted_on: date | None = None
    due_on: date | None = None
    pauses: tuple[dict[str, Any], ...] = ()
    extensions: tuple[dict[str, Any], ...] = ()
    deadline_state: str = "on_time"  # on_time · due_soon · overdue · paused · done
    claimed_by: UUID | None = None
    decided_on: date | None = None
    used_wd: int | None = None
    last_action: str | None = None
    last_reason: str = ""

    def public(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["state_label"] = STATE_LABELS.get(self.state, self.state)
        data["deadline_label"] = (
            "已撤回"
            if self.state == "withdrawn"
            else CASE_DEADLINE_LABELS.get(self.deadline_state, self.deadline_state)
        )
        return data


CASE_DEADLINE_LABELS: dict[str, str] = {
    "on_time": "正常", "due_soon": "即将到期", "overdue": "已超期", "paused": "计时暂停（补正中）", "done": "已办结",
}  # fmt: skip


class ProjectState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID | None = None
    code: str | None = None
    name: str | None = None
    owner_org_id: UUID | None = None
    baojian_no: str | None = None  # 报建编号, given when it registered here
    project_type: str = "其他"
    tags: tuple[str, ...] = ()
    lianshen_no: str | None = None  # 联审编号 of its latest 开工一件事 application
    status: Status = "none"
    archive_no: str | None = None
    tasks: dict[str, Task] = {}
    cases: dict[str, Case] = {}
    seq: int = 0

    @property
    def exists(self) -> bool:
        return self.status != "none"

    def task(self, dept_org_id: UUID) -> Task | None:
        return self.tasks.get(str(dept_org_id))

    def public(self, today: date) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"tasks"})
        data["status_label"] = STATUS_LABELS[self.status]
        data["tasks"] = [t.public(today) for t in sorted(self.tasks.values(), key=lambda t: t.dept_name)]
        data.update(self.public_cases())
        return data

    def public_cases(self) -> dict[str, Any]:
        """The cases (in submission and item order) and the bundle state derived from them."""
        return {"cases": [c.public() for c in self.cases.values()], **self.bundle()}

    def bundle(self) -> dict[str, str]:
        """开工一件事 as a whole: derived from its cases each time, never stored."""
        state = bundle_state(c.state for c in self.cases.values())
        return {"bundle_state": state, "bundle_label": BUNDLE_LABELS[state]}


def apply(state: ProjectState, event: Event) -> ProjectState:
    data = event.data
    update: dict[str, Any] = {"seq": event.seq}
    if event.type == CREATED:
        update |= {
            "id": UUID(data["id"]),
            "code": data["code"],
            "name": data["name"],
            "owner_org_id": UUID(data["owner_org_id"]),
            "baojian_no": data.get("baojian_no"),
            "project_type": data.get("project_type", "其他"),
            "tags": tuple(data.get("tags", ())),
            "status": "registered",
        }
    elif event.type == ARCHIVE_OPENED:
        update |= {"status": "archived", "archive_no": data["archive_no"]}
    elif event.type == APPROVAL_STARTED:
        tasks = dict(state.tasks)
        for raw in data["tasks"]:
            task = Task.model_validate(raw)
            tasks[str(task.dept_org_id)] = task
        update["tasks"] = tasks
    elif event.type == TASK_UPDATED:
        key = data["dept_org_id"]
        task = state.tasks[key].model_copy(update={"status": data["status"], "note": data.get("note", "")})
        update["tasks"] = {**state.tasks, key: task}
    elif event.type == KAIGONG_SUBMITTED:
        added = {c["id"]: Case.model_validate(c) for c in data["cases"]}
        update["cases"] = {**state.cases, **added}
        update["lianshen_no"] = data.get("lianshen_no")
    elif event.type == CASE_CHANGED:
        case = Case.model_validate(data["case"])
        update["cases"] = {**state.cases, str(case.id): case}
    elif event.type == DEADLINE_CHANGED:
        key = data["dept_org_id"]
        update["tasks"] = {**state.tasks, key: state.tasks[key].model_copy(update={"alert": data["alert"]})}
    return state.model_copy(update=update)
