"""A project's structured data (用地、规划、施工许可): read by whoever may see the project, kept by its owner
enterprise with a revision (a stale save is refused), checked by the schema's rules, unknown keys dropped."""

from __future__ import annotations

from tests.conftest import unique_code


async def test_the_owner_keeps_the_projects_land_planning_and_permit_data_with_revisions(server, as_user):
    owner = await as_user("pujiang")
    project = (
        await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "基本信息项目"})
    ).json()
    url = f"/api/v1/projects/{project['id']}/data"
    empty = (await owner.get(url)).json()
    assert empty["revision"] == 0
    assert [s["key"] for s in empty["form"]["sections"]] == ["land", "planning", "permit"]
    body = {"revision": 0, "sections": {
        "land": {"land_use": "商业服务业用地", "land_area_m2": 21000, "nonsense": "x"},
        "planning": {"planning_permit_no": "沪规建（2026）第 0123 号", "total_area": 42000, "above_ground_area": 30000,
                     "below_ground_area": 12000},
    }}  # fmt: skip
    saved = await owner.put(url, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 1
    assert "nonsense" not in saved.json()["sections"]["land"]
    assert (await owner.put(url, json=body)).status_code == 409  # revision 0 is stale now
    wrong = {
        "revision": 1,
        "sections": {"planning": {"total_area": 1, "above_ground_area": 30000, "below_ground_area": 1}},
    }
    refused = await owner.put(url, json=wrong)
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "planning.total_area"
    reviewer = await as_user("zhujian")
    read = (await reviewer.get(url)).json()
    assert (read["revision"], read["sections"]["planning"]["total_area"]) == (1, 42000)
    assert (await reviewer.put(url, json={**body, "revision": 1})).status_code == 403
    assert (await (await as_user("shencheng")).get(url)).status_code == 404
