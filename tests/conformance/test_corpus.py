"""The corpus is what its manifest says it is: every listed file present, byte for byte. Later
conformance runs (IFC checks, IDS verdicts) rely on this."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def test_every_file_listed_in_the_corpus_manifest_is_present_with_its_recorded_size_and_sha256(
    corpus: Path, sources: list[dict[str, Any]]
):
    assert sources, "the corpus manifest lists no files"
    wrong = []
    for entry in sources:
        path = corpus / entry["dest"]
        if not path.is_file():
            wrong.append(f"missing: {entry['dest']}")
            continue
        data = path.read_bytes()
        if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            wrong.append(f"changed: {entry['dest']}")
    assert not wrong, "\n".join(wrong[:20])
