"""What document generation refuses: data that does not make a complete document.

`DataInvalid` lists every problem, one per field (`{"field", "message", "type"}` as the HTTP layer
reports validation errors), so the user fixes them all at once; nothing is generated.
Must not: be raised for a broken deployment (missing fonts are `docgen.fonts.FontsMissing`).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import InvalidInput


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path into the input data: "project.project_name", "loads.2.live_load"
    message: str  # Chinese, for the user
    type: str = "missing"  # missing · invalid · too_long

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "type": self.type}


class DataInvalid(InvalidInput):
    code, message = "document_data_invalid", "生成文件所需的数据不完整或不正确"

    def __init__(self, problems: list[Problem], message: str | None = None) -> None:
        self.problems = problems
        super().__init__(message, fields=[p.as_json() for p in problems])
