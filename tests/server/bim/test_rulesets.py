"""The rule library through the HTTP API against the real server: creating a rule set, editing its
draft with history and a revision that catches concurrent edits, content that must be refused whole,
publishing an immutable version (its SM3 and rule versions frozen), the next draft, pinning a
published version to a bid session; and the content checks and the seed on their own."""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from bim.pipeline import DEFAULT_TIMEOUTS_S
from bim.report import STAGES
from bim.rules import Rule, load_all
from server.audit.service import AUDIT_KEY
from server.bim import rulesets
from server.bim.models import DEFAULT_STAGE_TIMEOUTS_S, RuleSetContentIn
from server.bim.seed import SEED_NAME, seed_bid_pin, seed_rule_sets
from server.errors import InvalidInput
from server.keystore import KeyRing
from server.security.sm3 import sm3_hex
from server.seed import stable_id
from tests.server.bids.conftest import create_bid
from tests.support.clients import login

VERSIONS = "/api/v1/bim/rule-set-versions"
IDS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ids xmlns="http://standards.buildingsmart.org/IDS" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <info><title>墙体数据项</title></info>
  <specifications>
    <specification name="墙须有名称" ifcVersion="IFC4">
      <applicability minOccurs="0" maxOccurs="unbounded">
        <entity><name><simpleValue>IFCWALL</simpleValue></name></entity>
      </applicability>
      <requirements>
        <attribute><name><simpleValue>Name</simpleValue></name></attribute>
      </requirements>
    </specification>
  </specifications>
</ids>"""


def registry() -> dict[str, Rule]:
    return load_all()


async def new_rule_set(admin: httpx.AsyncClient) -> dict[str, Any]:
    response = await admin.post(
        "/api/v1/bim/rule-sets", json={"name": f"测试规则集{secrets.token_hex(4)}", "description": "测试"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def draft_of(admin: httpx.AsyncClient) -> dict[str, Any]:
    """A new rule set's draft version 1, read back."""
    created = await new_rule_set(admin)
    version: dict[str, Any] = (await admin.get(f"{VERSIONS}/{created['versions'][0]['id']}")).json()
    return version


def editable(content: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `content` to edit, without what publishing adds."""
    return {k: copy.deepcopy(v) for k, v in content.items() if k != "rule_versions"}


async def save(
    admin: httpx.AsyncClient, version: dict[str, Any], content: dict[str, Any], **extra: Any
) -> Any:
    body = {"content": content, "summary": "修改", "expected_revision": version["revision"], **extra}
    return await admin.put(f"{VERSIONS}/{version['id']}", json=body)


async def publish(admin: httpx.AsyncClient, version_id: str, revision: int) -> httpx.Response:
    return await admin.post(
        f"{VERSIONS}/{version_id}/publish", json={"expected_revision": revision, "note": "发布"}
    )


async def published_version(admin: httpx.AsyncClient) -> dict[str, Any]:
    draft = await draft_of(admin)
    response = await publish(admin, draft["id"], draft["revision"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_registry_lists_every_registered_rule_with_its_version_and_default_params(as_user):
    expert = await as_user("expert")
    response = await expert.get("/api/v1/bim/rules")
    assert response.status_code == 200
    listed = {r["code"]: r for r in response.json()["items"]}
    assert set(listed) == set(registry())
    for code, rule in registry().items():
        assert (listed[code]["version"], listed[code]["title"], listed[code]["stage"]) == (
            rule.version, rule.title, rule.stage,
        )  # fmt: skip
        assert listed[code]["params"] == rulesets.defaults(rule)


async def test_a_new_rule_set_is_draft_1_with_every_rule_enabled_and_its_creation_in_the_history(as_user):
    admin = await as_user("admin")
    created = await new_rule_set(admin)
    assert [(v["version"], v["status"]) for v in created["versions"]] == [(1, "draft")]
    assert created["draft_version"] == 1
    assert created["latest_published"] is None
    version = (await admin.get(f"{VERSIONS}/{created['versions'][0]['id']}")).json()
    content = version["content"]
    assert content["allowed_schemas"] == ["IFC4"]
    assert content["ids"] is None
    assert content["stage_timeouts_s"] == DEFAULT_STAGE_TIMEOUTS_S
    assert content["rules"] == {
        code: {"enabled": True, "params": rulesets.defaults(rule)} for code, rule in registry().items()
    }
    assert version["revision"] == 1
    assert [(c["summary"], c["by_login"]) for c in version["history"]] == [("新建规则集", "admin")]
    listed = (await admin.get("/api/v1/bim/rule-sets")).json()["items"]
    assert created["id"] in {s["id"] for s in listed}


async def test_a_rule_set_name_is_unique(as_user):
    admin = await as_user("admin")
    created = await new_rule_set(admin)
    again = await admin.post("/api/v1/bim/rule-sets", json={"name": created["name"]})
    assert again.status_code == 409
    assert again.json()["error"]["fields"][0]["field"] == "name"


async def test_saving_a_draft_appends_history_with_what_changed_and_fills_in_defaults(as_user, pool):
    admin = await as_user("admin")
    version = await draft_of(admin)
    content = editable(version["content"])
    code = sorted(content["rules"])[0]
    content["rules"][code]["enabled"] = False
    content["max_model_bytes"] = 100 * 1024 * 1024
    content["stage_timeouts_s"] = {"ids": 30}
    content["ids"] = {"name": "墙体数据项.ids", "xml": IDS_XML}

    response = await save(admin, version, content, summary=f"停用 {code}，限制 100 MB")
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["revision"] == 2
    assert saved["content"]["stage_timeouts_s"] == {**DEFAULT_STAGE_TIMEOUTS_S, "ids": 30}
    assert saved["content"]["rules"][code] == {
        "enabled": False,
        "params": rulesets.defaults(registry()[code]),
    }
    assert saved["content"]["ids"] == {"name": "墙体数据项.ids", "xml": IDS_XML}
    latest = saved["history"][0]
    assert (latest["summary"], latest["by_login"]) == (f"停用 {code}，限制 100 MB", "admin")
    assert set(latest["changed"]) == {f"rules.{code}.enabled", "max_model_bytes", "stage_timeouts_s", "ids"}
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT content_before, content_after FROM bim_rule_set_change WHERE version_id = $1 "
            "ORDER BY at DESC LIMIT 1", uuid.UUID(version["id"]),
        )  # fmt: skip
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_entry WHERE action = 'bim.rule_set.draft_save' AND target = $1",
            f"bim_rule_set_version:{version['id']}",
        )
    assert row["content_before"] == version["content"]
    assert row["content_after"] == saved["content"]
    assert audited == 1


async def test_a_save_based_on_a_stale_revision_is_refused_and_two_concurrent_saves_keep_one(as_user):
    admin, other_admin = await as_user("admin"), await as_user("admin")
    version = await draft_of(admin)
    first, second = editable(version["content"]), editable(version["content"])
    first["max_model_bytes"], second["max_model_bytes"] = 1111, 2222
    answers = await asyncio.gather(save(admin, version, first), save(other_admin, version, second))
    assert sorted(a.status_code for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status_code == 409).json()["error"]
    assert refused["message"] == "该草稿已被他人修改，请刷新后在最新内容上重新编辑"
    assert refused["revision"] == 2
    kept = (await admin.get(f"{VERSIONS}/{version['id']}")).json()
    assert kept["revision"] == 2
    winner = next(a for a in answers if a.status_code == 200).json()
    assert kept["content"]["max_model_bytes"] == winner["content"]["max_model_bytes"]
    stale_again = await save(admin, version, first)  # still revision 1: refused
    assert stale_again.status_code == 409


def first_rule(content: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = content["rules"][sorted(content["rules"])[0]]
    return rule


BAD_CONTENT = {  # what is wrong → (how to make it, the field named, the error type)
    "unknown-rule": (lambda c: c["rules"].update({"XYZ999": {"enabled": True, "params": {}}}),
                     "content.rules.XYZ999", "unknown_rule"),
    "params-not-object": (lambda c: first_rule(c).update({"params": [1, 2]}), "params", "dict_type"),
    "unknown-param": (lambda c: first_rule(c)["params"].update({"no_such": 1}), "params.no_such", "unknown_param"),
    "malformed-ids": (lambda c: c.update({"ids": {"name": "x.ids", "xml": "<ids><unclosed></ids>"}}),
                      "content.ids.xml", "invalid_ids"),
    "not-an-ids": (lambda c: c.update({"ids": {"name": "x.ids", "xml": "<notids/>"}}),
                   "content.ids.xml", "invalid_ids"),
    "schema": (lambda c: c.update({"allowed_schemas": ["IFC5"]}), "content.allowed_schemas.0", "literal_error"),
    "stage": (lambda c: c.update({"stage_timeouts_s": {"render": 5}}), "content.stage_timeouts_s", "value_error"),
    "size": (lambda c: c.update({"max_model_bytes": 0}), "content.max_model_bytes", "greater_than"),
    "extra-key": (lambda c: c.update({"surprise": True}), "content.surprise", "extra_forbidden"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "field", "kind"), list(BAD_CONTENT.values()), ids=list(BAD_CONTENT))
async def test_content_with_an_error_is_refused_with_the_field_named_and_nothing_stored(
    as_user, change, field, kind
):
    admin = await as_user("admin")
    version = await draft_of(admin)
    content = editable(version["content"])
    change(content)
    response = await save(admin, version, content)
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert any(f["field"].endswith(field) and f["type"] == kind for f in fields), fields
    after = (await admin.get(f"{VERSIONS}/{version['id']}")).json()
    assert (after["revision"], after["content"]) == (1, version["content"])


async def test_a_malformed_json_body_is_refused_and_nothing_stored(as_user):
    admin = await as_user("admin")
    version = await draft_of(admin)
    response = await admin.put(
        f"{VERSIONS}/{version['id']}",
        content=b'{"content": {"rules": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert (await admin.get(f"{VERSIONS}/{version['id']}")).json()["revision"] == 1


async def test_publishing_freezes_the_content_its_sm3_and_rule_versions_and_the_version_is_then_immutable(
    as_user, pool
):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    code = sorted(draft["content"]["rules"])[0]
    content = editable(draft["content"])
    content["rules"][code]["enabled"] = False
    saved = (await save(admin, draft, content)).json()

    assert (await publish(admin, draft["id"], 1)).status_code == 409  # the draft changed since revision 1
    response = await publish(admin, draft["id"], saved["revision"])
    assert response.status_code == 200, response.text
    published = response.json()
    assert (published["status"], published["published_by_login"], published["note"]) == (
        "published",
        "admin",
        "发布",
    )
    frozen = published["content"]
    assert frozen["rule_versions"] == {c: r.version for c, r in registry().items() if c != code}
    assert editable(frozen) == saved["content"]
    canonical = json.dumps(frozen, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert published["content_sm3"] == sm3_hex(canonical) == rulesets.content_digest(frozen)

    edit = await save(admin, published, editable(frozen))
    assert edit.status_code == 409
    assert edit.json()["error"]["message"] == "已发布的规则集版本不可修改"
    assert (await publish(admin, draft["id"], published["revision"])).status_code == 409
    again = (await admin.get(f"{VERSIONS}/{draft['id']}")).json()
    assert (again["content_sm3"], again["content"]) == (published["content_sm3"], frozen)
    async with pool.acquire() as conn:  # not even a direct SQL edit
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute(
                "UPDATE bim_rule_set_version SET note = 'x' WHERE id = $1", uuid.UUID(draft["id"])
            )


async def test_a_draft_that_no_longer_matches_the_registry_is_not_published(as_user, pool):
    admin = await as_user("admin")
    draft = await draft_of(admin)
    async with pool.acquire() as conn:  # as if rule XYZ999 had been removed from the code since the save
        await conn.execute(
            "UPDATE bim_rule_set_version SET content = jsonb_set(content, '{rules,XYZ999}', "
            "'{\"enabled\": true, \"params\": {}}') WHERE id = $1", uuid.UUID(draft["id"]),
        )  # fmt: skip
    refused = await publish(admin, draft["id"], draft["revision"])
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "content.rules.XYZ999"
    assert (await admin.get(f"{VERSIONS}/{draft['id']}")).json()["status"] == "draft"


async def test_a_new_draft_copies_the_latest_published_version_and_there_is_one_draft_at_a_time(as_user):
    admin = await as_user("admin")
    published = await published_version(admin)
    set_url = f"/api/v1/bim/rule-sets/{published['rule_set_id']}"
    response = await admin.post(f"{set_url}/drafts")
    assert response.status_code == 201, response.text
    draft = response.json()
    assert (draft["version"], draft["status"], draft["revision"]) == (2, "draft", 1)
    assert draft["content"] == editable(published["content"])
    assert draft["history"][0]["summary"] == "由第 1 版复制"
    assert (await admin.post(f"{set_url}/drafts")).status_code == 409
    detail = (await admin.get(set_url)).json()
    assert [(v["version"], v["status"]) for v in detail["versions"]] == [(2, "draft"), (1, "published")]
    assert (detail["latest_published"], detail["draft_version"]) == (1, 2)


async def make_organiser(as_user: Any, server: Any, org_code: str) -> httpx.AsyncClient:
    admin = await as_user("admin")
    login_name, password = f"org{secrets.token_hex(5)}", f"Qa-{secrets.token_hex(4)}-9x"
    made = await admin.post("/api/v1/admin/users", json={
        "login": login_name, "name": "钱多多", "org_id": str(stable_id("org", org_code)), "role": "bid_admin",
        "password": password,
    })  # fmt: skip
    assert made.status_code == 201, made.text
    return await login(server.url, login_name, password)


async def test_an_organiser_pins_a_published_version_to_a_bid_session_and_its_experts_see_it(
    as_user, server, pool
):
    admin, organiser, expert = await as_user("admin"), await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    url = f"/api/v1/bids/{bid['id']}/rule-set"
    assert (await expert.get(url)).json() == {"bid_id": bid["id"], "version": None}

    draft = await draft_of(admin)
    refused = await organiser.put(url, json={"version_id": draft["id"]})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["type"] == "not_published"
    assert (await organiser.put(url, json={"version_id": str(uuid.uuid4())})).status_code == 422

    published = await published_version(admin)
    pinned = await organiser.put(url, json={"version_id": published["id"]})
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["version"]["content_sm3"] == published["content_sm3"]
    seen = (await expert.get(url)).json()["version"]
    assert (seen["id"], seen["status"], seen["version"]) == (published["id"], "published", 1)
    assert (await organiser.put(url, json={"version_id": published["id"]})).status_code == 200  # idempotent
    async with pool.acquire() as conn:
        audited = await conn.fetch(
            "SELECT detail FROM audit_entry WHERE action = 'bid.rule_set_pin' AND target = $1",
            f"bid:{bid['id']}",
        )
    assert [a["detail"]["version_id"] for a in audited] == [published["id"]]

    outsider = await make_organiser(as_user, server, "DEPT-GHZY")  # organises another unit's sessions
    try:
        assert (await outsider.put(url, json={"version_id": published["id"]})).status_code == 404
        assert (await outsider.get(url)).status_code == 404
    finally:
        await outsider.aclose()
    assert (await expert.put(url, json={"version_id": published["id"]})).status_code == 403


async def test_the_pinned_version_cannot_change_once_a_model_was_submitted(as_user, pool):
    admin, organiser = await as_user("admin"), await as_user("bidadmin")
    bid = await create_bid(organiser)
    url = f"/api/v1/bids/{bid['id']}/rule-set"
    first, second = await published_version(admin), await published_version(admin)
    assert (await organiser.put(url, json={"version_id": first["id"]})).status_code == 200
    blob = sm3_hex(secrets.token_bytes(16))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO file_blob (sm3, size, media_type) VALUES ($1, 1, 'application/x-step')", blob
        )
        await conn.execute(
            "INSERT INTO bim_check (id, bid_id, org_id, submitted_by, rule_set_version_id, blob_sm3, file_name, size,"
            " upload_id) VALUES ($1, $2, $3, $4, $5, $6, 'a.ifc', 1, $7)",
            uuid.uuid4(), uuid.UUID(bid["id"]), stable_id("org", "91310000132201234K"), stable_id("user", "huadong"),
            uuid.UUID(first["id"]), blob, uuid.uuid4(),
        )  # fmt: skip
    refused = await organiser.put(url, json={"version_id": second["id"]})
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "该评标会议已有模型提交，不能再更换规则集版本"
    assert (await organiser.get(url)).json()["version"]["id"] == first["id"]


# ---- the content checks and the seed, without the server -------------------------------------------


def fake_registry() -> dict[str, Rule]:
    def check(model: Any, params: Any) -> list[Any]:
        return []

    params = {"whitelist": ("Pset_A",), "tolerance": 0.5, "strict": True}  # a tuple, stored as a list
    return {
        "TB900": Rule("TB900", 3, "测试规则", "tender", check, params),
        "TB901": Rule("TB901", 1, "无参数规则", "normative", check, {}),
    }


def content_in(rules: dict[str, Any]) -> RuleSetContentIn:
    return RuleSetContentIn.model_validate(
        {"allowed_schemas": ["IFC4"], "max_model_bytes": 10, "rules": rules}
    )


async def test_checked_content_fills_in_defaults_and_refuses_wrong_types_and_non_finite_numbers():
    rules = fake_registry()
    stored = await rulesets.checked_content(
        content_in({"TB900": {"enabled": True, "params": {"tolerance": 2}}}), rules
    )
    assert stored["rules"]["TB900"]["params"] == {"whitelist": ["Pset_A"], "tolerance": 2, "strict": True}
    assert stored["stage_timeouts_s"] == DEFAULT_STAGE_TIMEOUTS_S
    bad = {"TB900": {"enabled": True, "params": {"whitelist": "Pset_A", "tolerance": float("nan"), "strict": 1}},
           "TB901": {"enabled": False, "params": {"x": 1}}}  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        await rulesets.checked_content(content_in(bad), rules)
    found = {(f["field"], f["type"]) for f in refused.value.data["fields"]}
    assert found == {
        ("content.rules.TB900.params.whitelist", "param_type"), ("content.rules.TB900.params.tolerance", "not_finite"),
        ("content.rules.TB900.params.strict", "param_type"), ("content.rules.TB901.params.x", "unknown_param"),
    }  # fmt: skip


def test_the_default_stage_time_limits_are_the_pipelines_for_every_stage():
    assert list(DEFAULT_STAGE_TIMEOUTS_S) == list(STAGES)
    assert DEFAULT_STAGE_TIMEOUTS_S == DEFAULT_TIMEOUTS_S


async def test_the_seed_publishes_the_shanghai_rule_set_with_its_ids_once_and_pins_it(
    pool, settings, as_user
):
    key = KeyRing(settings.keys_path).key(AUDIT_KEY)
    first = await seed_rule_sets(pool, key, stable_id("user", "admin"))
    assert await seed_rule_sets(pool, key, stable_id("user", "admin")) == first
    async with pool.acquire() as conn:
        version = await rulesets.get_version(conn, first)
        sets = await conn.fetchval("SELECT count(*) FROM bim_rule_set WHERE name = $1", SEED_NAME)
    assert sets == 1
    assert (version.status, version.version, version.rule_set_name) == ("published", 1, SEED_NAME)
    assert version.content["allowed_schemas"] == ["IFC4"]
    assert version.content["ids"]["xml"].lstrip().startswith("<")
    assert set(version.content["rule_versions"]) == set(registry())
    assert version.content_sm3 == rulesets.content_digest(version.content)

    bid = await create_bid(await as_user("bidadmin"))
    organiser = stable_id("user", "bidadmin")
    assert await seed_bid_pin(pool, key, uuid.UUID(bid["id"]), first, organiser) is True
    assert await seed_bid_pin(pool, key, uuid.UUID(bid["id"]), first, organiser) is False
    assert await seed_bid_pin(pool, key, uuid.uuid4(), first, organiser) is False
