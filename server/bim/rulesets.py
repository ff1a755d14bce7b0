"""Rule sets as data: create one, edit its draft (each save checked against the rule registry and the
IDS engine, and appended to the history), publish the draft as an immutable numbered version (its
rule versions frozen, its content digested with SM3), start the next draft from the latest published
version, and pin a published version to a bid session.

Every write takes a row lock first, then checks, then writes and appends its audit entry in the same
transaction: a refused write stores nothing. Locks: a draft edit or publish locks the version row,
a new version locks the rule-set row, a pin locks the bid-session row (FOR NO KEY UPDATE each).
Must not: import Starlette, decide who may see a bid session (`server.bids.access` does), or change
a published version (the database refuses it too).
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import ValidationError

from bim.ids.engine import InvalidIds, load_ids
from bim.rules import Rule, load_all
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.bim.models import (
    DEFAULT_MAX_MODEL_BYTES,
    DEFAULT_STAGE_TIMEOUTS_S,
    BidRuleSetOut,
    ChangeOut,
    DraftIn,
    PublishIn,
    RuleConfig,
    RuleOut,
    RuleSetContentIn,
    RuleSetDetail,
    RuleSetIn,
    RuleSetOut,
    VersionDetail,
    VersionSummary,
)
from server.errors import Conflict, InvalidInput, NotFound
from server.identity.models import Author
from server.security.sm3 import sm3_hex

_SUMMARY = """
    SELECT v.id, v.rule_set_id, s.name AS rule_set_name, v.version, v.status, v.content_sm3, v.note,
           cu.login AS created_by_login, v.created_at, pu.login AS published_by_login, v.published_at
    FROM bim_rule_set_version v
    JOIN bim_rule_set s ON s.id = v.rule_set_id
    JOIN app_user cu ON cu.id = v.created_by
    LEFT JOIN app_user pu ON pu.id = v.published_by"""
VERSIONS_OF_SET = _SUMMARY + " WHERE v.rule_set_id = $1 ORDER BY v.version DESC"
VERSION_SUMMARY = _SUMMARY + " WHERE v.id = $1"
VERSION = """
    SELECT v.id, v.rule_set_id, s.name AS rule_set_name, v.version, v.status, v.content_sm3, v.note,
           cu.login AS created_by_login, v.created_at, pu.login AS published_by_login, v.published_at, v.content
    FROM bim_rule_set_version v
    JOIN bim_rule_set s ON s.id = v.rule_set_id
    JOIN app_user cu ON cu.id = v.created_by
    LEFT JOIN app_user pu ON pu.id = v.published_by
    WHERE v.id = $1"""
HISTORY = """
    SELECT c.id, c.at, u.login AS by_login, c.summary, c.changed
    FROM bim_rule_set_change c JOIN app_user u ON u.id = c.by
    WHERE c.version_id = $1 ORDER BY c.at DESC, c.id DESC"""
_SETS = """
    SELECT s.id, s.name, s.description, u.login AS created_by_login, s.created_at,
           (SELECT max(v.version) FROM bim_rule_set_version v
            WHERE v.rule_set_id = s.id AND v.status = 'published') AS latest_published,
           (SELECT v.version FROM bim_rule_set_version v
            WHERE v.rule_set_id = s.id AND v.status = 'draft') AS draft_version
    FROM bim_rule_set s JOIN app_user u ON u.id = s.created_by"""
RULE_SETS = _SETS + " ORDER BY s.created_at DESC, s.id LIMIT 500"
RULE_SET = _SETS + " WHERE s.id = $1"
RULE_SET_BY_NAME = "SELECT id FROM bim_rule_set WHERE name = $1"

INSERT_SET = "INSERT INTO bim_rule_set (id, name, description, created_by) VALUES ($1, $2, $3, $4)"
INSERT_VERSION = """
    INSERT INTO bim_rule_set_version (id, rule_set_id, version, status, content, created_by)
    VALUES ($1, $2, $3, 'draft', $4, $5)"""
INSERT_CHANGE = """
    INSERT INTO bim_rule_set_change (id, version_id, by, summary, changed, content_before, content_after)
    VALUES ($1, $2, $3, $4, $5, $6, $7)"""
LOCK_SET = "SELECT id FROM bim_rule_set WHERE id = $1 FOR NO KEY UPDATE"
LOCK_VERSION = (
    "SELECT rule_set_id, version, status, content FROM bim_rule_set_version WHERE id = $1 FOR NO KEY UPDATE"
)
# A statement of its own after the lock: a new snapshot that sees the save the lock waited for.
REVISION = "SELECT count(*) FROM bim_rule_set_change WHERE version_id = $1"
LATEST_OF_SET = """
    SELECT id, version, status, content FROM bim_rule_set_version WHERE rule_set_id = $1
    ORDER BY version DESC"""
SAVE_DRAFT = "UPDATE bim_rule_set_version SET content = $2 WHERE id = $1 AND status = 'draft'"
PUBLISH = """
    UPDATE bim_rule_set_version
    SET status = 'published', content = $2, content_sm3 = $3, note = $4, published_by = $5, published_at = now()
    WHERE id = $1 AND status = 'draft'"""
AS_STORED = "SELECT $1::jsonb"  # the content exactly as jsonb gives it back (numbers normalised)

LOCK_BID = "SELECT rule_set_version_id FROM bid_session WHERE id = $1 FOR NO KEY UPDATE"
PIN = "UPDATE bid_session SET rule_set_version_id = $2 WHERE id = $1"
PINNED = "SELECT rule_set_version_id FROM bid_session WHERE id = $1"
CHECKS_TABLE = "SELECT to_regclass('bim_check') IS NOT NULL"
BID_HAS_CHECKS = "SELECT EXISTS (SELECT 1 FROM bim_check WHERE bid_id = $1)"


STALE_DRAFT = "草稿内容与当前规则库不一致（规则或参数在保存后有增减），请检查并重新保存草稿后再发布"


def registry() -> dict[str, Rule]:
    return load_all()


def defaults(rule: Rule) -> dict[str, Any]:
    """A rule's default parameters as JSON values (tuples and sets become lists)."""
    encoded = json.dumps(
        dict(rule.params),
        sort_keys=True,
        default=lambda v: sorted(v) if isinstance(v, set | frozenset) else list(v),
    )
    params: dict[str, Any] = json.loads(encoded)
    return params


def registry_out() -> list[RuleOut]:
    return [
        RuleOut(code=r.code, version=r.version, title=r.title, stage=r.stage, params=defaults(r))
        for r in sorted(registry().values(), key=lambda r: r.code)
    ]


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    """The byte form that `content_sm3` digests: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def content_digest(content: Mapping[str, Any]) -> str:
    return sm3_hex(canonical_bytes(content))


def default_content(rules: Mapping[str, Rule]) -> dict[str, Any]:
    """Every registered rule enabled with its default parameters; IFC4 only; no IDS."""
    content = RuleSetContentIn(
        allowed_schemas=["IFC4"],
        max_model_bytes=DEFAULT_MAX_MODEL_BYTES,
        stage_timeouts_s=dict(DEFAULT_STAGE_TIMEOUTS_S),
        rules={code: RuleConfig(enabled=True, params=defaults(rule)) for code, rule in sorted(rules.items())},
    )
    return content.model_dump(mode="json")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, int | float):
        return "数值"
    if isinstance(value, str):
        return "字符串"
    if isinstance(value, list | tuple | set | frozenset):
        return "数组"
    return "对象" if isinstance(value, dict) else "null"


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def _field(path: str, message: str, kind: str) -> dict[str, str]:
    return {"field": path, "message": message, "type": kind}


def _rule_problems(code: str, params: Mapping[str, Any], rules: Mapping[str, Rule]) -> list[dict[str, str]]:
    """`params` as given (before JSON encoding, which would turn NaN into null)."""
    path = f"content.rules.{code}"
    rule = rules.get(code)
    if rule is None:
        return [_field(path, f"规则库中没有规则 {code}", "unknown_rule")]
    problems = []
    for name, value in params.items():
        if name not in rule.params:
            problems.append(_field(f"{path}.params.{name}", f"规则 {code} 没有参数 {name}", "unknown_param"))
        elif not _finite(value):
            problems.append(_field(f"{path}.params.{name}", "参数值不得为 NaN 或无穷大", "not_finite"))
        elif rule.params[name] is not None and value is not None and _kind(value) != _kind(rule.params[name]):
            message = f"参数 {name} 应为{_kind(rule.params[name])}，实为{_kind(value)}"
            problems.append(_field(f"{path}.params.{name}", message, "param_type"))
    return problems


async def checked_content(content: RuleSetContentIn, rules: Mapping[str, Rule]) -> dict[str, Any]:
    """The content to store: rule codes known, parameters declared and of their default's type, the IDS
    valid (IDS engine); every rule's missing parameters and every stage's missing timeout filled with
    the defaults, so a published version never depends on a default that may change later.
    Raises InvalidInput naming every problem."""
    problems = [
        p for code, config in content.rules.items() for p in _rule_problems(code, config.params, rules)
    ]
    data = content.model_dump(mode="json")
    if data["ids"] is not None:
        try:
            await asyncio.to_thread(load_ids, data["ids"]["xml"])
        except InvalidIds as exc:
            problems += [_field("content.ids.xml", problem, "invalid_ids") for problem in exc.problems]
    if problems:
        raise InvalidInput("规则集内容有误，未保存", fields=problems)
    for code, config in data["rules"].items():
        config["params"] = {**defaults(rules[code]), **config["params"]}
    data["stage_timeouts_s"] = {**DEFAULT_STAGE_TIMEOUTS_S, **data["stage_timeouts_s"]}
    return data


def changed_paths(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """What a save changed: top-level items, and per rule its `enabled` or `params`."""
    if before is None:
        return []
    changed: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key == "rules" and isinstance(old, dict) and isinstance(new, dict):
            for code in sorted(set(old) | set(new)):
                if code not in old or code not in new:
                    changed.append(f"rules.{code}")
                else:
                    changed += [
                        f"rules.{code}.{p}" for p in ("enabled", "params") if old[code][p] != new[code][p]
                    ]
        elif old != new:
            changed.append(key)
    return changed


def _record(by: Author, ip: str | None, action: str, target: str, **detail: Any) -> AuditRecord:
    return AuditRecord(action=action, actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
                       target=target, detail=detail)  # fmt: skip


async def _append_change(
    conn: Any, version_id: UUID, by: Author, summary: str, before: Any, after: Any
) -> list[str]:
    changed = changed_paths(before, after)
    await conn.execute(INSERT_CHANGE, uuid.uuid4(), version_id, by.id, summary, changed, before, after)
    return changed


async def create_rule_set(
    conn: Any, audit_key: bytes, body: RuleSetIn, by: Author, ip: str | None, rules: Mapping[str, Rule]
) -> RuleSetDetail:
    """The rule set and its draft version 1 (every registered rule enabled, default parameters)."""
    set_id, version_id = uuid.uuid4(), uuid.uuid4()
    content = default_content(rules)
    try:
        async with conn.transaction():
            await conn.execute(INSERT_SET, set_id, body.name, body.description, by.id)
            await conn.execute(INSERT_VERSION, version_id, set_id, 1, content, by.id)
            await _append_change(conn, version_id, by, "新建规则集", None, content)
            await audit.append(conn, audit_key, _record(
                by, ip, "bim.rule_set.create", f"bim_rule_set:{set_id}", name=body.name, version_id=str(version_id),
            ))  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("规则集名称已存在", fields=[_field("name", "名称已被使用", "duplicate")]) from exc
    return await get_rule_set(conn, set_id)


async def list_rule_sets(conn: Any) -> list[RuleSetOut]:
    return [RuleSetOut.model_validate(dict(r)) for r in await conn.fetch(RULE_SETS)]


async def get_rule_set(conn: Any, rule_set_id: UUID) -> RuleSetDetail:
    row = await conn.fetchrow(RULE_SET, rule_set_id)
    if row is None:
        raise NotFound("规则集不存在")
    versions = [
        VersionSummary.model_validate(dict(r)) for r in await conn.fetch(VERSIONS_OF_SET, rule_set_id)
    ]
    return RuleSetDetail(**dict(row), versions=versions)


async def get_version(conn: Any, version_id: UUID) -> VersionDetail:
    row = await conn.fetchrow(VERSION, version_id)
    if row is None:
        raise NotFound("规则集版本不存在")
    history = [ChangeOut.model_validate(dict(r)) for r in await conn.fetch(HISTORY, version_id)]
    fields = dict(row)
    return VersionDetail(**fields, revision=len(history), history=history)


async def _locked_draft(conn: Any, version_id: UUID, expected_revision: int) -> tuple[Any, int]:
    row = await conn.fetchrow(LOCK_VERSION, version_id)
    if row is None:
        raise NotFound("规则集版本不存在")
    if row["status"] != "draft":
        raise Conflict("已发布的规则集版本不可修改")
    revision = await conn.fetchval(REVISION, version_id)
    if revision != expected_revision:
        raise Conflict(
            "该草稿已被他人修改，请刷新后在最新内容上重新编辑", revision=revision, expected=expected_revision
        )  # fmt: skip
    return row, revision


async def save_draft(
    conn: Any, audit_key: bytes, version_id: UUID, body: DraftIn, by: Author, ip: str | None,
    rules: Mapping[str, Rule],
) -> VersionDetail:  # fmt: skip
    content = await checked_content(body.content, rules)  # before the lock: the IDS check takes a while
    async with conn.transaction():
        row, revision = await _locked_draft(conn, version_id, body.expected_revision)
        await conn.execute(SAVE_DRAFT, version_id, content)
        changed = await _append_change(conn, version_id, by, body.summary, row["content"], content)
        await audit.append(conn, audit_key, _record(
            by, ip, "bim.rule_set.draft_save", f"bim_rule_set_version:{version_id}",
            rule_set_id=str(row["rule_set_id"]), version=row["version"], revision=revision + 1,
            summary=body.summary, changed=changed,
        ))  # fmt: skip
    return await get_version(conn, version_id)


async def publish(
    conn: Any, audit_key: bytes, version_id: UUID, body: PublishIn, by: Author, ip: str | None,
    rules: Mapping[str, Rule],
) -> VersionDetail:  # fmt: skip
    """Freeze the draft exactly as last saved: its rule versions recorded, its SM3 digest set. A draft
    that no longer matches the registry (a rule removed, or a parameter added since it was saved) is
    refused, so what is published is exactly what was reviewed."""
    async with conn.transaction():
        row, _ = await _locked_draft(conn, version_id, body.expected_revision)
        stored = row["content"]
        try:
            current = await checked_content(RuleSetContentIn.model_validate(stored), rules)
        except ValidationError as exc:
            raise InvalidInput(STALE_DRAFT) from exc
        except InvalidInput as exc:
            raise InvalidInput(STALE_DRAFT, **exc.data) from exc
        if await conn.fetchval(AS_STORED, current) != stored:
            raise InvalidInput(STALE_DRAFT)
        content = {**stored, "rule_versions": {
            code: rules[code].version for code, config in sorted(stored["rules"].items()) if config["enabled"]
        }}  # fmt: skip
        content = await conn.fetchval(AS_STORED, content)
        digest = content_digest(content)
        await conn.execute(PUBLISH, version_id, content, digest, body.note, by.id)
        await audit.append(conn, audit_key, _record(
            by, ip, "bim.rule_set.publish", f"bim_rule_set_version:{version_id}", rule_set_id=str(row["rule_set_id"]),
            version=row["version"], content_sm3=digest, rule_versions=content["rule_versions"],
        ))  # fmt: skip
    return await get_version(conn, version_id)


async def new_draft(
    conn: Any, audit_key: bytes, rule_set_id: UUID, by: Author, ip: str | None
) -> VersionDetail:
    """The next version as a draft, copied from the latest published one (without its frozen rule
    versions, which the next publish records afresh)."""
    version_id = uuid.uuid4()
    async with conn.transaction():
        if await conn.fetchval(LOCK_SET, rule_set_id) is None:
            raise NotFound("规则集不存在")
        versions = await conn.fetch(LATEST_OF_SET, rule_set_id)
        if any(v["status"] == "draft" for v in versions):
            raise Conflict("该规则集已有草稿，请先编辑或发布该草稿")
        if not versions:
            raise NotFound("规则集没有可复制的已发布版本")
        source = versions[0]  # no draft, so the latest is published
        content = {k: v for k, v in source["content"].items() if k != "rule_versions"}
        number = source["version"] + 1
        await conn.execute(INSERT_VERSION, version_id, rule_set_id, number, content, by.id)
        await _append_change(conn, version_id, by, f"由第 {source['version']} 版复制", None, content)
        await audit.append(conn, audit_key, _record(
            by, ip, "bim.rule_set.draft_new", f"bim_rule_set_version:{version_id}", rule_set_id=str(rule_set_id),
            version=number, from_version=source["version"],
        ))  # fmt: skip
    return await get_version(conn, version_id)


async def _bid_has_checks(conn: Any, bid_id: UUID) -> bool:
    """Whether models were already submitted to the bid (its `bim_check` rows, once that table exists)."""
    if not await conn.fetchval(CHECKS_TABLE):
        return False
    return bool(await conn.fetchval(BID_HAS_CHECKS, bid_id))


async def pin(
    conn: Any, audit_key: bytes, bid_id: UUID, version_id: UUID, by: Author, ip: str | None
) -> BidRuleSetOut:
    """Pin a published version to a bid session (the caller checked that `by` organises it). Pinning
    the version already pinned changes nothing; another one is refused once models were submitted."""
    async with conn.transaction():
        current = await conn.fetchrow(LOCK_BID, bid_id)
        if current is None:
            raise NotFound("评标会议不存在或无权查看")
        if current["rule_set_version_id"] == version_id:
            return await pinned(conn, bid_id)
        version = await conn.fetchrow(VERSION_SUMMARY, version_id)
        if version is None:
            raise InvalidInput(
                "规则集版本不存在", fields=[_field("version_id", "规则集版本不存在", "not_found")]
            )
        if version["status"] != "published":
            message = "只能锁定已发布的规则集版本"
            raise InvalidInput(message, fields=[_field("version_id", message, "not_published")])
        if await _bid_has_checks(conn, bid_id):
            raise Conflict("该评标会议已有模型提交，不能再更换规则集版本")
        await conn.execute(PIN, bid_id, version_id)
        previous = current["rule_set_version_id"]
        await audit.append(conn, audit_key, _record(
            by, ip, "bid.rule_set_pin", f"bid:{bid_id}", version_id=str(version_id),
            rule_set_id=str(version["rule_set_id"]), version=version["version"], content_sm3=version["content_sm3"],
            previous_version_id=str(previous) if previous else None,
        ))  # fmt: skip
    return await pinned(conn, bid_id)


async def pinned(conn: Any, bid_id: UUID) -> BidRuleSetOut:
    version_id = await conn.fetchval(PINNED, bid_id)
    if version_id is None:
        return BidRuleSetOut(bid_id=bid_id, version=None)
    row = await conn.fetchrow(VERSION_SUMMARY, version_id)
    return BidRuleSetOut(bid_id=bid_id, version=VersionSummary.model_validate(dict(row)))


async def find_rule_set(conn: Any, name: str) -> UUID | None:
    found: UUID | None = await conn.fetchval(RULE_SET_BY_NAME, name)
    return found
