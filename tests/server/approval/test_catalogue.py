"""The item catalogue's content checks (each problem named by its JSON path, all at once) and the seed
catalogue; then the catalogue as versioned data in PostgreSQL through the service: a draft saved with
its revision, a stale save refused, publishing freezes the version with its SM3 (the database refuses
any later change), the next draft copies the latest published version, and the seed runs once."""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

import asyncpg
import pytest

from server.approval import catalogue
from server.approval import catalogue_service as service
from server.audit.service import AUDIT_KEY
from server.errors import Conflict, InvalidInput, NotFound
from server.keystore import KeyRing
from server.security.sm3 import sm3_hex
from server.seed import stable_id

ADMIN = stable_id("user", "admin")


def seed_content() -> dict[str, Any]:
    content: dict[str, Any] = json.loads(service.SEED_PATH.read_text(encoding="utf-8"))
    return content


def item_index(content: dict[str, Any], code: str) -> int:
    return next(i for i, item in enumerate(content["items"]) if item["code"] == code)


def problems_of(raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        catalogue.check(raw)
    fields = caught.value.data["fields"]
    assert isinstance(fields, list)
    assert all(f["message"] for f in fields)
    return [(f["field"], f["type"]) for f in fields]


# ---- the seed -------------------------------------------------------------------------------


def test_the_seed_catalogue_passes_every_check_and_bundles_its_seven_items_as_开工一件事():
    content = catalogue.check(seed_content())
    codes = [item.code for item in content.items]
    assert len(codes) == 7
    assert content.bundles["kaigong"].name == "开工一件事"
    assert set(content.bundles["kaigong"].items) == set(codes)
    permit = next(i for i in content.items if i.code == "SGXK")
    assert (permit.statutory_workdays, permit.dept_code) == (7, "DEPT-ZJW")
    assert "XFSJ" in permit.predecessors
    assert content.notes, "unverified facts are marked in notes"


def test_every_seed_item_draws_10_to_25_fields_from_one_shared_pool():
    content = catalogue.check(seed_content())
    assert 35 <= len(content.fields) <= 55
    for item in content.items:
        assert 10 <= len(item.fields) <= 25, item.code
    used_by_several = [
        f.key for f in content.fields if sum(f.key in {r.key for r in i.fields} for i in content.items) > 1
    ]
    assert "project_code" in used_by_several
    assert "builder_credit_code" in used_by_several


def test_every_seed_item_has_a_legal_basis_materials_with_templates_and_a_guide():
    for item in catalogue.check(seed_content()).items:
        assert all((item.legal_basis, item.guide, item.contact, item.fees)), item.code
        assert any(m.template for m in item.materials), item.code
        assert item.committed_workdays <= item.statutory_workdays


def test_the_compiled_seed_puts_predecessors_before_their_successors():
    compiled = catalogue.load(seed_content())
    order = [c.item.code for c in compiled.items]
    for position, c in enumerate(compiled.items):
        for predecessor in c.item.predecessors:
            assert order.index(predecessor) < position


# ---- bad content ----------------------------------------------------------------------------


def test_a_predecessor_cycle_is_refused_with_the_cycles_codes_in_the_message():
    content = seed_content()
    fire = item_index(content, "XFSJ")
    content["items"][fire]["predecessors"] = ["SGXK"]  # SGXK already follows XFSJ
    with pytest.raises(InvalidInput) as caught:
        catalogue.check(content)
    (problem,) = caught.value.data["fields"]  # type: ignore[misc]
    assert (problem["field"], problem["type"]) == (f"items.{fire}.predecessors", "predecessor_cycle")
    assert "XFSJ → SGXK → XFSJ" in problem["message"]


def test_a_longer_cycle_and_an_item_that_precedes_itself_are_cycles_too():
    content = seed_content()
    green, road = item_index(content, "LSZYLD"), item_index(content, "JLZL")
    content["items"][green]["predecessors"] = ["JLZL"]
    content["items"][road]["predecessors"] = ["JZLJ"]
    content["items"][item_index(content, "JZLJ")]["predecessors"] = ["LSZYLD"]
    assert problems_of(content) == [(f"items.{green}.predecessors", "predecessor_cycle")]
    content = seed_content()
    content["items"][road]["predecessors"] = ["JLZL"]
    assert problems_of(content) == [(f"items.{road}.predecessors", "predecessor_cycle")]


def test_each_kind_of_problem_is_named_by_its_json_path_and_all_are_reported_at_once():
    content = seed_content()
    permit = item_index(content, "SGXK")
    item = content["items"][permit]
    item["predecessors"] = ["XFSJ", "NOPE"]
    item["fields"].append({"key": "colour"})
    item["dept_code"] = "住建委"
    item["committed_workdays"] = 9
    content["items"][0]["statutory_workdays"] = 121
    item["applicability"] = {"fact": "pit_depth_m", "≥": 5}
    item["materials"][0]["template"] = "../../etc/passwd"
    assert sorted(problems_of(content)) == sorted([
        (f"items.{permit}.predecessors.1", "unknown_item"),
        (f"items.{permit}.fields.{len(item['fields']) - 1}.key", "unknown_field"),
        (f"items.{permit}.dept_code", "bad_department"),
        (f"items.{permit}.committed_workdays", "bad_limit"),
        ("items.0.statutory_workdays", "bad_limit"),
        (f"items.{permit}.applicability", "bad_operator"),
        (f"items.{permit}.materials.0.template", "bad_template"),
    ])  # fmt: skip


def test_a_repeated_item_code_is_refused_at_the_repetition():
    content = seed_content()
    content["items"].append(copy.deepcopy(content["items"][0]))
    assert problems_of(content) == [(f"items.{len(content['items']) - 1}.code", "duplicate")]


def test_a_field_no_item_uses_and_a_duplicate_field_key_are_refused():
    content = seed_content()
    content["fields"].append({"key": "orphan", "label": "孤立字段", "type": "text"})
    content["fields"].append(copy.deepcopy(content["fields"][0]))
    last = len(content["fields"]) - 1
    assert problems_of(content) == [
        (f"fields.{last}.key", "duplicate"),
        (f"fields.{last - 1}.key", "unused_field"),
    ]


def test_a_cross_field_rule_must_read_known_fields_of_comparable_types():
    content = seed_content()
    permit = item_index(content, "SGXK")
    content["items"][permit]["rules"] = [
        {"kind": "compare", "left": "planned_start_on", "op": "<", "right": "total_area", "message": "x"},
        {
            "kind": "required_if",
            "field": "nope",
            "when": "pit_depth_m",
            "op": ">",
            "value": 5,
            "message": "x",
        },
        {"kind": "sum_equals", "target": "total_area", "terms": ["project_name"], "message": "x"},
        {"kind": "regex", "field": "project_name"},
    ]
    assert sorted(problems_of(content)) == sorted(
        [
            (f"items.{permit}.rules.3", "union_tag_invalid"),
        ]
    )  # structure first: a bad rule kind stops the content before the semantic checks
    del content["items"][permit]["rules"][3]
    assert sorted(problems_of(content)) == sorted([
        (f"items.{permit}.rules.0", "bad_rule"),
        (f"items.{permit}.rules.1.field", "unknown_field"),
        (f"items.{permit}.rules.2.terms.0", "bad_rule"),
    ])  # fmt: skip


def test_structural_errors_name_the_path_in_chinese():
    content = seed_content()
    del content["items"][2]["name"]
    content["items"][3]["statutory_workdays"] = "二十"
    content["fields"][0]["colour"] = "red"
    found = problems_of(content)
    assert ("items.2.name", "missing") in found
    assert ("items.3.statutory_workdays", "int_parsing") in found
    assert ("fields.0.colour", "extra_forbidden") in found
    with pytest.raises(InvalidInput) as caught:
        catalogue.check(content)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f["message"]) for f in caught.value.data["fields"])  # type: ignore[union-attr]


def test_content_that_is_not_an_object_is_refused():
    assert problems_of([1, 2]) == [("", "model_type")]


def test_a_select_field_without_options_is_refused_in_chinese():
    content = seed_content()
    select = next(i for i, f in enumerate(content["fields"]) if f["type"] == "select")
    del content["fields"][select]["options"]
    with pytest.raises(InvalidInput) as caught:
        catalogue.check(content)
    (problem,) = caught.value.data["fields"]  # type: ignore[misc]
    assert problem["field"] == f"fields.{select}"
    assert "选项" in problem["message"]


# ---- versioned data in the database ---------------------------------------------------------


@pytest.fixture(scope="session")
def audit_key(settings: Any) -> bytes:
    return KeyRing(settings.keys_path).key(AUDIT_KEY)


class Admin:
    id = ADMIN
    login = "admin"
    org_id = stable_id("org", "DEPT-ZJW")


async def new_catalogue(conn: Any, audit_key: bytes) -> service.VersionDetail:
    name = f"测试事项目录{secrets.token_hex(4)}"
    return await service.create_catalogue(conn, audit_key, name, seed_content(), Admin(), "127.0.0.1")


async def test_a_new_catalogue_is_draft_1_at_revision_1_with_defaults_filled_in(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        assert (draft.version, draft.status, draft.revision, draft.content_sm3) == (1, "draft", 1, None)
        assert draft.content["items"][0]["fields"][0]["required"] in (None, True, False)
        assert draft.content == catalogue.check(seed_content()).model_dump(mode="json")
        assert [v.id for v in await service.list_versions(conn, draft.catalogue_id)] == [draft.id]


async def test_a_catalogue_name_is_unique(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        with pytest.raises(Conflict):
            await service.create_catalogue(
                conn, audit_key, draft.catalogue_name, seed_content(), Admin(), None
            )


async def test_saving_a_draft_raises_its_revision_and_a_save_on_a_stale_revision_is_refused(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        content = seed_content()
        content["title"] = "修改后的目录"
        saved = await service.save_draft(conn, audit_key, draft.id, content, 1, "改标题", Admin(), None)
        assert (saved.revision, saved.summary, saved.content["title"]) == (2, "改标题", "修改后的目录")
        with pytest.raises(Conflict) as caught:
            await service.save_draft(
                conn, audit_key, draft.id, seed_content(), 1, "旧版本上修改", Admin(), None
            )
        assert caught.value.data == {"revision": 2, "expected": 1}
        assert (await service.get_version(conn, draft.id)).content["title"] == "修改后的目录"


async def test_a_draft_with_a_predecessor_cycle_is_not_stored(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        content = seed_content()
        content["items"][item_index(content, "XFSJ")]["predecessors"] = ["SGXK"]
        with pytest.raises(InvalidInput):
            await service.save_draft(conn, audit_key, draft.id, content, 1, "成环", Admin(), None)
        after = await service.get_version(conn, draft.id)
        assert (after.revision, after.content) == (1, draft.content)


async def test_a_department_code_that_names_no_department_is_refused_at_its_path(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        content = seed_content()
        content["items"][4]["dept_code"] = "DEPT-NOPE"
        with pytest.raises(InvalidInput) as caught:
            await service.save_draft(conn, audit_key, draft.id, content, 1, "错误部门", Admin(), None)
        assert caught.value.data["fields"] == [
            {
                "field": "items.4.dept_code",
                "message": "没有部门代码为 DEPT-NOPE 的审批部门",
                "type": "unknown_department",
            }
        ]


async def test_publishing_freezes_the_version_with_the_sm3_of_its_canonical_json(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        published = await service.publish(conn, audit_key, draft.id, 1, "首次发布", Admin(), None)
        assert (published.status, published.published_by_login, published.summary) == (
            "published",
            "admin",
            "首次发布",
        )
        assert published.content_sm3 == sm3_hex(service.canonical_bytes(published.content))
        assert (await service.get_published(conn, draft.catalogue_id)).id == draft.id
        assert (await service.get_published(conn, draft.catalogue_id, 1)).id == draft.id
        with pytest.raises(NotFound):
            await service.get_published(conn, draft.catalogue_id, 2)
        with pytest.raises(Conflict):
            await service.save_draft(conn, audit_key, draft.id, seed_content(), 1, "改已发布", Admin(), None)
        with pytest.raises(Conflict):
            await service.publish(conn, audit_key, draft.id, 1, None, Admin(), None)
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("UPDATE approval_catalogue_version SET summary = 'x' WHERE id = $1", draft.id)


async def test_publishing_on_a_stale_revision_is_refused(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        await service.save_draft(conn, audit_key, draft.id, seed_content(), 1, "再存一次", Admin(), None)
        with pytest.raises(Conflict):
            await service.publish(conn, audit_key, draft.id, 1, None, Admin(), None)
        assert (await service.get_version(conn, draft.id)).status == "draft"


async def test_the_next_draft_copies_the_latest_published_version_and_there_is_one_draft_at_a_time(
    pool, audit_key
):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        with pytest.raises(Conflict):
            await service.new_draft(conn, audit_key, draft.catalogue_id, Admin(), None)
        published = await service.publish(conn, audit_key, draft.id, 1, None, Admin(), None)
        second = await service.new_draft(conn, audit_key, draft.catalogue_id, Admin(), None)
        assert (second.version, second.status, second.revision, second.summary) == (
            2,
            "draft",
            1,
            "由第 1 版复制",
        )
        assert second.content == published.content
        with pytest.raises(Conflict):
            await service.new_draft(conn, audit_key, draft.catalogue_id, Admin(), None)
        versions = await service.list_versions(conn, draft.catalogue_id)
        assert [(v.version, v.status) for v in versions] == [(2, "draft"), (1, "published")]


async def test_every_write_appends_an_audit_entry(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        await service.save_draft(conn, audit_key, draft.id, seed_content(), 1, "保存", Admin(), None)
        await service.publish(conn, audit_key, draft.id, 2, None, Admin(), None)
        await service.new_draft(conn, audit_key, draft.catalogue_id, Admin(), None)
        actions = await conn.fetch(
            "SELECT action FROM audit_entry WHERE target = $1 OR detail->>'catalogue_id' = $2 ORDER BY seq",
            f"approval_catalogue:{draft.catalogue_id}", str(draft.catalogue_id),
        )  # fmt: skip
        assert [r["action"] for r in actions] == [
            "approval.catalogue.create", "approval.catalogue.draft_save", "approval.catalogue.publish",
            "approval.catalogue.draft_new",
        ]  # fmt: skip


async def test_the_seed_publishes_the_catalogue_once_and_a_second_run_changes_nothing(pool, audit_key):
    name = f"种子目录{secrets.token_hex(4)}"
    first = await service.seed_catalogue(pool, audit_key, ADMIN, name=name)
    assert await service.seed_catalogue(pool, audit_key, ADMIN, name=name) == first
    async with pool.acquire() as conn:
        version = await service.get_version(conn, first)
        assert (version.version, version.status) == (1, "published")
        assert len(await service.list_versions(conn, version.catalogue_id)) == 1


async def test_a_published_version_is_compiled_once_per_content_digest(pool, audit_key):
    async with pool.acquire() as conn:
        draft = await new_catalogue(conn, audit_key)
        published = await service.publish(conn, audit_key, draft.id, 1, None, Admin(), None)
    assert service.compiled(published) is service.compiled(published)
    assert service.compiled(draft) is not service.compiled(draft)
