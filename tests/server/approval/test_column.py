"""The public 开工一件事 column over HTTP (real server, PostgreSQL, Redis): the progress query by 项目代码
before and after a submission (no personal data, the flowchart coloured by state), the pages and the
blank forms of the guide, consultations stored with the phone sealed and listed masked, every bad
message refused with its field named and nothing stored, and the per-IP limit of five a minute."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.docgen.pdf_support import page_texts
from tests.server.approval.kaigong import attach_required, ready, signed_submission, values_for
from tests.server.approval.test_applications import new_project, submit

PROGRESS = "/api/v1/kaigong/progress"
MESSAGES = "/api/v1/kaigong/messages"
ADMIN = "/api/v1/admin/kaigong/messages"


@pytest.fixture
async def key(pool, settings) -> dict[str, Any]:
    return await ready(pool, settings.keys_path, settings.var_path)


@pytest.fixture(autouse=True)
async def fresh_limits(redis, settings):
    """Every test starts with the per-IP counters empty (all requests come from 127.0.0.1)."""

    async def clear() -> None:
        async for name in redis.scan_iter(match=f"{settings.redis_prefix}kaigong:*"):
            await redis.delete(name)

    await clear()
    yield clear
    await clear()


def message(**changes: Any) -> dict[str, Any]:
    return {"kind": "consult", "item_code": "SGXK", "name": "王先生", "phone": "13912345678",
            "content": "施工许可的前置事项是否必须全部办结？", **changes}  # fmt: skip


async def submitted_project(owner: Any, key: dict[str, Any]) -> dict[str, Any]:
    project = await new_project(owner)
    values = values_for(project)
    form = (
        await owner.post(f"/api/v1/projects/{project['id']}/kaigong/form/check", json={"values": values})
    ).json()
    attached = await attach_required(owner, project["id"], form)
    done = await submit(owner, project["id"], signed_submission(form, project["id"], values, key, attached))
    assert done.status_code == 201, done.text
    return {**project, "cases": {c["item_code"]: c for c in done.json()["cases"]}}


async def test_the_progress_query_answers_nothing_before_a_submission_and_each_items_state_after_it(
    server, as_user, anonymous, key
):
    owner = await as_user("pujiang")
    project = await new_project(owner)
    before = await anonymous.get(PROGRESS, params={"code": project["code"]})
    assert before.status_code == 404
    unknown = await anonymous.get(PROGRESS, params={"code": "2026-310115-47-01-999999"})
    assert unknown.json() == before.json()  # an unknown code and an unsubmitted project look alike
    bad = await anonymous.get(PROGRESS, params={"code": "2026-31011-47-01"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "code"

    values = values_for(project)
    base = f"/api/v1/projects/{project['id']}/kaigong"
    form = (await owner.post(f"{base}/form/check", json={"values": values})).json()
    attached = await attach_required(owner, project["id"], form)
    assert (
        await submit(owner, project["id"], signed_submission(form, project["id"], values, key, attached))
    ).status_code == 201
    compact = project["code"].replace("-", "")  # the 20 digits without dashes are accepted too
    after = await anonymous.get(PROGRESS, params={"code": compact})
    assert after.status_code == 200, after.text
    progress = after.json()
    assert (progress["code"], progress["bundle_label"]) == (project["code"], "办理中")
    cases = {c["item_code"]: c for c in progress["cases"]}
    assert list(cases) == ["XFSJ", "MFJS", "SGXK", "JLZL", "LSPS"]  # predecessors first
    assert cases["LSPS"]["dept_name"] == "上海市水务局"
    assert cases["SGXK"]["predecessors"] == ["XFSJ", "MFJS"]
    assert {(c["state_label"], c["deadline_label"]) for c in cases.values()} == {
        ("已提交", "待受理，未开始计时")
    }
    for private in (
        "刘洋",
        "13900000002",
        "上海浦江置业",
        "张敏",
        "application_id",
        "dept_org_id",
        "last_reason",
    ):
        assert private not in after.text

    water = await as_user("shuiwu")
    assert "id" not in cases["LSPS"]  # the public answer carries no case id
    own = (await owner.get(base)).json()
    lsps_id = next(c["id"] for c in own["cases"] if c["item_code"] == "LSPS")
    acted = await water.post(f"/api/v1/kaigong/cases/{lsps_id}/department-actions", json={"action": "accept"})
    assert acted.status_code == 200
    lsps = next(c for c in (await anonymous.get(PROGRESS, params={"code": project["code"]})).json()["cases"]
                if c["item_code"] == "LSPS")  # fmt: skip
    assert (lsps["state_label"], lsps["deadline_label"]) == ("已受理", "正常")
    assert lsps["due_on"] is not None

    chart = await anonymous.get("/kaigong/query/flowchart.svg", params={"code": project["code"]})
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.headers["cache-control"] == "no-store"
    assert "状态：已受理" in chart.text
    assert f"截止 {lsps['due_on']}" in chart.text


async def test_the_project_flowchart_follows_the_cases_for_those_who_may_see_the_project(
    server, as_user, anonymous, key
):
    owner = await as_user("pujiang")
    project = await submitted_project(owner, key)
    path = f"/projects/{project['id']}/kaigong/flowchart.svg"
    mine = await owner.get(path)
    assert mine.status_code == 200
    assert mine.headers["content-type"].startswith("image/svg+xml")
    assert mine.headers["cache-control"] == "no-store"
    assert mine.text.count('class="item"') == 5
    assert "状态：已提交" in mine.text
    reviewer = await as_user("zhujian")
    assert (await reviewer.get(path)).status_code == 200  # departments read every project
    assert (await (await as_user("shencheng")).get(path)).status_code == 404  # another enterprise
    assert (await anonymous.get(path)).status_code == 401
    empty = await owner.get(f"/projects/{(await new_project(owner))['id']}/kaigong/flowchart.svg")
    assert "尚未提交申请" in empty.text


async def test_the_column_pages_show_the_items_their_guide_and_blank_forms_to_download(
    server, anonymous, key
):
    home = await anonymous.get("/kaigong")
    assert home.status_code == 200
    for text in (
        "建筑工程施工许可证核发",
        "城镇污水排入排水管网许可（临时排水）",
        "上海市水务局",
        'role="img"',
    ):
        assert text in home.text
    guide = await anonymous.get("/kaigong/items/SGXK")
    assert guide.status_code == 200
    for text in (
        "7 个工作日",
        "5 个工作日",
        "住房和城乡建设部令",
        "建设资金已落实承诺书",
        "特殊建设工程消防设计审查",
    ):
        assert text in guide.text
    assert (await anonymous.get("/kaigong/items/NOPE")).status_code == 404
    for page in ("/kaigong/policy", "/kaigong/consult?item=SGXK", "/kaigong/query"):
        assert (await anonymous.get(page)).status_code == 200, page

    blank = await anonymous.get("/kaigong/items/SGXK/templates/SG06")
    assert blank.status_code == 200
    assert blank.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in blank.headers["content-disposition"]
    text = "".join(page_texts(blank.content))
    for expected in ("建设资金已落实承诺书", "建筑工程施工许可证核发", "统一社会信用代码", "项目代码"):
        assert expected in text
    assert (await anonymous.get("/kaigong/items/SGXK/templates/SG03")).status_code == 404  # no template
    assert (await anonymous.get("/kaigong/items/SGXK/templates/NOPE")).status_code == 404


async def test_a_consultation_is_stored_with_the_phone_sealed_and_administrators_see_it_masked_and_answer_it(
    server, as_user, anonymous, pool, key
):
    created = await anonymous.post(MESSAGES, json=message())
    assert created.status_code == 201, created.text
    message_id = uuid.UUID(created.json()["id"])
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT phone_sealed, ip, status FROM kaigong_message WHERE id = $1", message_id
        )
    assert b"13912345678" not in bytes(row["phone_sealed"])
    assert (row["ip"], row["status"]) == ("127.0.0.1", "open")

    admin = await as_user("admin")
    listed = (await admin.get(ADMIN, params={"status": "open"})).json()["items"]
    mine = next(m for m in listed if m["id"] == str(message_id))
    assert (mine["phone_masked"], mine["kind_label"], mine["status_label"]) == (
        "139****5678",
        "咨询",
        "待处理",
    )
    assert "13912345678" not in str(listed)
    assert (await (await as_user("pujiang")).get(ADMIN)).status_code == 403

    reply = f"{ADMIN}/{message_id}/reply"
    assert (await admin.post(reply, json={"reply": "  "})).status_code == 422
    answered = await admin.post(reply, json={"reply": "须待消防设计审查和民防审批办结。"})
    assert answered.json()["status_label"] == "已答复"
    assert (await admin.post(reply, json={"close": True})).json()["status"] == "closed"
    again = await admin.post(reply, json={"reply": "补充"})
    assert again.status_code == 409
    assert (await admin.post(f"{ADMIN}/{uuid.uuid4()}/reply", json={"reply": "x"})).status_code == 404
    page = await admin.get("/admin/kaigong/messages")
    assert "139****5678" in page.text
    assert "13912345678" not in page.text


@pytest.mark.parametrize(
    ("changes", "field", "kind"),
    [
        ({"content": "   "}, "content", "missing"),
        ({"phone": "12345678901"}, "phone", "invalid_phone"),
        ({"phone": ""}, "phone", "invalid_phone"),
        ({"content": "长" * 1001}, "content", "too_long"),
        ({"content": "第一行\x07响铃"}, "content", "control_character"),
        ({"name": ""}, "name", "missing"),
        ({"item_code": "NOPE"}, "item_code", "unknown_item"),
        ({"kind": "complain"}, "kind", "invalid"),
    ],
    ids=["missing content", "bad phone", "no phone", "oversize", "control character", "no name", "unknown item",
         "unknown kind"],
)  # fmt: skip
async def test_a_bad_consultation_is_refused_naming_its_field_and_nothing_is_stored(
    server, anonymous, pool, key, changes, field, kind
):
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM kaigong_message")
    refused = await anonymous.post(MESSAGES, json=message(**changes))
    assert refused.status_code == 422
    fields = {f["field"]: f for f in refused.json()["error"]["fields"]}
    assert fields[field]["type"] == kind
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM kaigong_message") == before


async def test_one_sender_may_leave_five_messages_a_minute_and_bad_ones_do_not_count(server, anonymous, key):
    assert (await anonymous.post(MESSAGES, json=message(phone="1"))).status_code == 422
    for n in range(5):
        assert (await anonymous.post(MESSAGES, json=message(content=f"第 {n} 条"))).status_code == 201
    sixth = await anonymous.post(MESSAGES, json=message())
    assert sixth.status_code == 429
    assert sixth.json()["error"] == {"code": "too_many_messages", "message": "留言过于频繁，请一分钟后再试"}


async def test_the_public_query_finds_a_project_by_its_baojian_or_lianshen_number_too(
    server, as_user, pool, settings
):
    key = await ready(pool, settings.keys_path, settings.var_path)
    owner = await as_user("pujiang")
    project = await new_project(owner)
    values = values_for(project)
    form = (
        await owner.post(f"/api/v1/projects/{project['id']}/kaigong/form/check", json={"values": values})
    ).json()
    attached = await attach_required(owner, project["id"], form)
    submitted = await submit(
        owner, project["id"], signed_submission(form, project["id"], values, key, attached)
    )
    lianshen = submitted.json()["lianshen_no"]
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for number in (project["baojian_no"], lianshen, lianshen.lower(), project["code"]):
            found = await anonymous.get("/api/v1/kaigong/progress", params={"code": number})
            assert found.status_code == 200, (number, found.text)
            assert found.json()["code"] == project["code"]
        missing = await anonymous.get("/api/v1/kaigong/progress", params={"code": "BJ2026999999"})
        assert missing.status_code == 404
