"""Conformance runs over the external corpus (`TONGBAN_CORPUS_DIR`, default `../shared/data`).

They run only with `make conformance` (`pytest --conformance`), and fail, never skip, when the
corpus is missing: a conformance run that checked nothing must not look green.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.config import Settings


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = Settings().corpus_dir.expanduser().resolve()
    if not (path / "SOURCES.json").is_file():
        pytest.fail(f"conformance corpus not found at {path} (set TONGBAN_CORPUS_DIR)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def sources(corpus: Path) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = json.loads((corpus / "SOURCES.json").read_text(encoding="utf-8"))["files"]
    return files
