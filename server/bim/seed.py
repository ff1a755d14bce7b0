"""Demo rule library: the published rule set 上海市BIM辅助评标规则集（2026版） v1 — every registered
rule enabled with its default parameters, IFC4 only, and the IDS generated from the Shanghai bid
data-item list (`bim.ids.seed`) — and its pin to the demo bid session. Written through the same
operations as the API (created, saved, published, pinned; each audited). Idempotent: running it
again changes nothing.

Must not: run against a production database, or change a rule set an administrator made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from bim.ids.seed import load_seed, seed_ids_xml
from server.bim import rulesets
from server.bim.models import DraftIn, IdsDocument, PublishIn, RuleSetContentIn, RuleSetIn
from server.errors import TongbanError

logger = logging.getLogger(__name__)

SEED_NAME = "上海市BIM辅助评标规则集（2026版）"
SEED_DESCRIPTION = (
    "上海市建设工程 BIM 辅助设计方案评标使用的模型检查规则集：启用规则库中的全部规则（默认参数），"
    "只接受 IFC4 模型，并按上海市招标文件数据项清单（IDS）检查数据完整性。"
)
USER = "SELECT id, login, org_id FROM app_user WHERE id = $1"
PUBLISHED = """
    SELECT id FROM bim_rule_set_version WHERE rule_set_id = $1 AND status = 'published'
    ORDER BY version DESC LIMIT 1"""
DRAFT = "SELECT id FROM bim_rule_set_version WHERE rule_set_id = $1 AND status = 'draft'"
BID_PINNED = "SELECT rule_set_version_id FROM bid_session WHERE id = $1"
BID_EXISTS = "SELECT EXISTS (SELECT 1 FROM bid_session WHERE id = $1)"


@dataclass(frozen=True)
class SeedUser:
    id: UUID
    login: str
    org_id: UUID


async def _user(conn: Any, user_id: UUID) -> SeedUser:
    row = await conn.fetchrow(USER, user_id)
    if row is None:
        raise LookupError(f"seed user {user_id} is missing: seed the accounts first")
    return SeedUser(id=row["id"], login=row["login"], org_id=row["org_id"])


async def seed_rule_sets(pool: Any, audit_key: bytes, admin_user_id: UUID) -> UUID:
    """The published version of the demo rule set (made now unless it exists); returns its id."""
    async with pool.acquire() as conn:
        admin = await _user(conn, admin_user_id)
        set_id = await rulesets.find_rule_set(conn, SEED_NAME)
        if set_id is not None:
            published: UUID | None = await conn.fetchval(PUBLISHED, set_id)
            if published is not None:
                return published
            draft_id = await conn.fetchval(DRAFT, set_id)  # an earlier run stopped before publishing
        else:
            body = RuleSetIn(name=SEED_NAME, description=SEED_DESCRIPTION)
            registry = rulesets.registry()
            made = await rulesets.create_rule_set(conn, audit_key, body, admin, None, registry)
            draft_id = made.versions[0].id
        registry = rulesets.registry()
        draft = await rulesets.get_version(conn, draft_id)
        content = RuleSetContentIn.model_validate(
            {k: v for k, v in draft.content.items() if k != "rule_versions"}
        ).model_copy(update={"ids": IdsDocument(name=load_seed().title, xml=seed_ids_xml())})
        summary = "载入上海市招标文件数据项清单（IDS）"
        saved = await rulesets.save_draft(
            conn, audit_key, draft_id, DraftIn(content=content, summary=summary, expected_revision=draft.revision),
            admin, None, registry,
        )  # fmt: skip
        note = "演示数据：上海市 BIM 辅助评标规则集首次发布"
        done = await rulesets.publish(
            conn,
            audit_key,
            draft_id,
            PublishIn(expected_revision=saved.revision, note=note),
            admin,
            None,
            registry,
        )
        logger.info("seed.rule_set_published", extra={"version_id": str(done.id), "sm3": done.content_sm3})
        return done.id


async def seed_bid_pin(
    pool: Any, audit_key: bytes, bid_id: UUID, version_id: UUID, organiser_id: UUID
) -> bool:
    """Pin `version_id` to the demo bid session unless it has a version pinned; whether it pinned."""
    async with pool.acquire() as conn:
        if not await conn.fetchval(BID_EXISTS, bid_id):
            return False
        if await conn.fetchval(BID_PINNED, bid_id) is not None:
            return False
        organiser = await _user(conn, organiser_id)
        try:
            await rulesets.pin(conn, audit_key, bid_id, version_id, organiser, None)
        except TongbanError as exc:  # models already submitted: leave the session as it is
            logger.warning("seed.rule_set_pin_skipped", extra={"reason": exc.detail})
            return False
    return True
