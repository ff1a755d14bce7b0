"""The project actor's state and the one pure function that applies an event to it; shared by live
updates, journal replay, and (in the browser) the status page.

Must not: do IO.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from actors.events import Event

CREATED = "project.created"
ARCHIVE_OPENED = "project.archive_opened"

Status = Literal["none", "registered", "archived"]

STATUS_LABELS: dict[str, str] = {
    "none": "不存在",
    "registered": "已登记，正在建立项目电子档案",
    "archived": "项目电子档案已建立",
}


class ProjectState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID | None = None
    code: str | None = None
    name: str | None = None
    owner_org_id: UUID | None = None
    status: Status = "none"
    archive_no: str | None = None
    seq: int = 0

    @property
    def exists(self) -> bool:
        return self.status != "none"

    def public(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["status_label"] = STATUS_LABELS[self.status]
        return data


def apply(state: ProjectState, event: Event) -> ProjectState:
    if event.type == CREATED:
        data = event.data
        return state.model_copy(
            update={
                "id": UUID(data["id"]),
                "code": data["code"],
                "name": data["name"],
                "owner_org_id": UUID(data["owner_org_id"]),
                "status": "registered",
                "seq": event.seq,
            }
        )
    if event.type == ARCHIVE_OPENED:
        return state.model_copy(
            update={"status": "archived", "archive_no": event.data["archive_no"], "seq": event.seq}
        )
    return state.model_copy(update={"seq": event.seq})
