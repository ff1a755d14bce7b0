"""Writing canonical filling content (docgen.samples) into a Yjs document as an editor would."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc

from collab.content import fill


def write_content(content: dict[str, Any]) -> Any:
    """An edit (for YClient.change) that writes `content`'s sections into the document."""

    def edit(doc: Doc[Any]) -> None:
        fill(doc, content)

    return edit
