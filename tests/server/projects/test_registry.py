"""The project registry's numbers: a 项目代码 must have the GB/T 40058-2021 structure; a registered project
gets a 报建编号 from the configured template (unique, increasing), keeps its type and tags; each 开工一件事
application gets a 联审编号."""

from __future__ import annotations

import re
from datetime import date

import pytest

from server.errors import InvalidInput
from server.projects.codes import check_project_code, check_template, number
from tests.conftest import unique_code


async def test_registration_refuses_a_code_without_the_gbt_40058_structure_and_numbers_each_project(
    server, as_user
):
    owner = await as_user("pujiang")
    for bad in (
        "T-123456789",
        "2026-310115-47-01-12345",
        "1999-310115-47-01-123456",
        "2026-000000-47-01-123456",
    ):
        refused = await owner.post("/api/v1/projects", json={"code": bad, "name": "代码格式测试"})
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["fields"][0]["field"] == "code"
        assert "24 位" in refused.json()["error"]["fields"][0]["message"]
    body = {"name": "报建编号测试", "project_type": "市政", "tags": ["重大工程", "重大工程", "民生"]}
    made = [
        (await owner.post("/api/v1/projects", json={**body, "code": unique_code()})).json() for _ in range(2)
    ]
    numbers = [p["baojian_no"] for p in made]
    assert all(re.fullmatch(rf"BJ{date.today().year}\d{{6}}", n) for n in numbers), numbers
    assert numbers[0] < numbers[1]
    assert (made[0]["project_type"], made[0]["tags"]) == ("市政", ["重大工程", "民生"])
    bad_type = await owner.post(
        "/api/v1/projects", json={"code": unique_code(), "name": "分类", "project_type": "航天"}
    )
    assert bad_type.status_code == 422


def test_a_legacy_layout_is_accepted_only_when_configured_and_templates_name_only_known_parts():
    with pytest.raises(InvalidInput):
        check_project_code("2018-310115-47-01-A1")
    assert (
        check_project_code("2018-310115-47-01-A1", r"\d{4}-\d{6}-\d{2}-\d{2}-[A-Z0-9]{2}")
        == "2018-310115-47-01-A1"
    )
    assert number("LS{year}{month:02d}{seq:06d}", 42, date(2026, 11, 29)) == "LS202611000042"
    for template in ("BJ{year}", "BJ{user}{seq}", "报建{seq}"):
        with pytest.raises(ValueError, match="number template"):
            check_template(template)
