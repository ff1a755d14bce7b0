"""Shared type aliases and id types. Must not: import anything of ours."""

from __future__ import annotations

from typing import NewType
from uuid import UUID

ProjectId = NewType("ProjectId", UUID)
UserId = NewType("UserId", UUID)
OrgId = NewType("OrgId", UUID)
