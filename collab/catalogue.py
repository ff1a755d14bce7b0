"""The published form schemas (`collab/forms/*.json`, one file a form, validated at first use).

A form's published version is immutable: changing a form means a new file version number, and a
document keeps the (id, version) it was created with. Only the newest version of each form is
shipped today, so `form(id, version)` refuses versions it does not hold.
Must not: hold documents or their data.
"""

from __future__ import annotations

import functools
from pathlib import Path

from collab.schema import FormSchema
from server.errors import NotFound

FORMS_DIR = Path(__file__).with_name("forms")
DEFAULT_FORM = "rich_text"


class UnknownForm(NotFound):
    code, message = "unknown_form", "表单不存在"


@functools.cache
def forms() -> dict[str, FormSchema]:
    loaded = [FormSchema.model_validate_json(path.read_bytes()) for path in sorted(FORMS_DIR.glob("*.json"))]
    return {schema.id: schema for schema in loaded}


def form(form_id: str, version: int | None = None) -> FormSchema:
    schema = forms().get(form_id)
    if schema is None or (version is not None and version != schema.version):
        raise UnknownForm(f"表单 {form_id}（版本 {version or '最新'}）不存在")
    return schema
