"""The README stays true: it documents every setting and the two commands."""

from __future__ import annotations

from pathlib import Path

from server.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_documents_every_setting_by_its_environment_variable():
    missing = [name for name in Settings.model_fields if f"`TONGBAN_{name.upper()}`" not in README]
    assert missing == []


def test_the_readme_lists_every_demo_account():
    from server.seed import USERS

    assert [u.login for u in USERS if f"`{u.login}`" not in README] == []
