"""What a document generator returns: the deliverable's files, page previews and its page count.

Must not: know about storage or signing (the issuing service stores and signs what is returned).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rendered:
    files: dict[str, bytes]  # by extension: "dxf" and "pdf" (its preview) for sheets; "pdf" for books
    previews: list[bytes] = field(default_factory=list)  # PNG per previewed page, in order
    pages: int = 1  # sheets in the DXF, or pages of the PDF
    sheet_numbers: list[str] = field(default_factory=list)  # 图号 of each sheet (sheets only)
