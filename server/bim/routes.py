"""Rule-library routes: the rule registry, rule sets and their versions (edit a draft, publish it,
start the next one), and the rule-set version pinned to a bid session. Thin: parse, authorise
(declared permission, then `server.bids.access` for a bid), call `server.bim.rulesets`, shape."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request

from server.audit.service import AUDIT_KEY
from server.bids.access import MANAGE, access_as_organiser, access_bid
from server.bim import rulesets
from server.bim.models import (
    BidRuleSetOut,
    DraftIn,
    PinIn,
    PublishIn,
    RuleRegistryOut,
    RuleSetDetail,
    RuleSetIn,
    RuleSetList,
    VersionDetail,
)
from server.routing import ApiRoute, RouteTable, client_ip, holds, require_user
from server.runtime import runtime

READ = "bim.rules.read"
MANAGE_RULES = "bim.rules.manage"
TAGS = ("bim",)
SET = "/api/v1/bim/rule-sets/{rule_set_id:uuid}"
VERSION = "/api/v1/bim/rule-set-versions/{version_id:uuid}"
BID_RULE_SET = "/api/v1/bids/{bid_id:uuid}/rule-set"


async def get_bim_rules(request: Request) -> RuleRegistryOut:
    return RuleRegistryOut(items=rulesets.registry_out())


async def create_rule_set(request: Request, body: RuleSetIn) -> RuleSetDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return await rulesets.create_rule_set(
            conn, rt.keys.key(AUDIT_KEY), body, user, client_ip(request), rulesets.registry()
        )


async def get_rule_sets(request: Request) -> RuleSetList:
    async with runtime(request).pool.acquire() as conn:
        return RuleSetList(items=await rulesets.list_rule_sets(conn))


async def get_rule_set(request: Request) -> RuleSetDetail:
    async with runtime(request).pool.acquire() as conn:
        return await rulesets.get_rule_set(conn, request.path_params["rule_set_id"])


async def new_rule_set_draft(request: Request) -> VersionDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return await rulesets.new_draft(
            conn, rt.keys.key(AUDIT_KEY), request.path_params["rule_set_id"], user, client_ip(request)
        )


async def get_rule_set_version(request: Request) -> VersionDetail:
    async with runtime(request).pool.acquire() as conn:
        return await rulesets.get_version(conn, request.path_params["version_id"])


async def save_rule_set_draft(request: Request, body: DraftIn) -> VersionDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return await rulesets.save_draft(
            conn, rt.keys.key(AUDIT_KEY), request.path_params["version_id"], body, user, client_ip(request),
            rulesets.registry(),
        )  # fmt: skip


async def publish_rule_set_version(request: Request, body: PublishIn) -> VersionDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return await rulesets.publish(
            conn, rt.keys.key(AUDIT_KEY), request.path_params["version_id"], body, user, client_ip(request),
            rulesets.registry(),
        )  # fmt: skip


async def pin_rule_set(request: Request, body: PinIn) -> BidRuleSetOut:
    """An organiser of the bid's unit pins a published version (the route requires bid.manage)."""
    user = require_user(request)
    rt = runtime(request)
    bid_id: UUID = request.path_params["bid_id"]
    async with rt.pool.acquire() as conn:
        await access_as_organiser(conn, user, bid_id, manage=True)
        return await rulesets.pin(
            conn, rt.keys.key(AUDIT_KEY), bid_id, body.version_id, user, client_ip(request)
        )


async def get_bid_rule_set(request: Request) -> BidRuleSetOut:
    """Whoever may see the bid session (its experts and organisers) sees the version it is pinned to."""
    user = require_user(request)
    bid_id: UUID = request.path_params["bid_id"]
    async with runtime(request).pool.acquire() as conn:
        await access_bid(conn, user, bid_id, manage=await holds(request, MANAGE))
        return await rulesets.pinned(conn, bid_id)


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/bim/rules", get_bim_rules, READ, RuleRegistryOut, summary="规则库中登记的检查规则",
                 tags=TAGS),
        ApiRoute("POST", "/api/v1/bim/rule-sets", create_rule_set, MANAGE_RULES, RuleSetDetail, RuleSetIn, 201,
                 summary="新建规则集（含草稿第 1 版）", tags=TAGS),
        ApiRoute("GET", "/api/v1/bim/rule-sets", get_rule_sets, READ, RuleSetList, summary="规则集列表", tags=TAGS),
        ApiRoute("GET", SET, get_rule_set, READ, RuleSetDetail, summary="规则集及其全部版本", tags=TAGS),
        ApiRoute("POST", SET + "/drafts", new_rule_set_draft, MANAGE_RULES, VersionDetail, status=201,
                 summary="由最新已发布版本复制出新草稿", tags=TAGS),
        ApiRoute("GET", VERSION, get_rule_set_version, READ, VersionDetail, summary="规则集版本的内容与修改历史",
                 tags=TAGS),
        ApiRoute("PUT", VERSION, save_rule_set_draft, MANAGE_RULES, VersionDetail, DraftIn, summary="保存草稿",
                 tags=TAGS),
        ApiRoute("POST", VERSION + "/publish", publish_rule_set_version, MANAGE_RULES, VersionDetail, PublishIn,
                 summary="发布草稿（发布后不可修改）", tags=TAGS),
        ApiRoute("PUT", BID_RULE_SET, pin_rule_set, MANAGE, BidRuleSetOut, PinIn,
                 summary="为评标会议锁定已发布的规则集版本", tags=("bids", *TAGS)),
        ApiRoute("GET", BID_RULE_SET, get_bid_rule_set, READ, BidRuleSetOut, summary="评标会议锁定的规则集版本",
                 tags=("bids", *TAGS)),
    ]
)  # fmt: skip
