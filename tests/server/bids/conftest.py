"""Bid session fixtures: accounts made for one test (an extra expert, another unit's organiser) and a
session set up by the demo organiser `bidadmin` with the demo expert `expert`."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.seed import stable_id
from tests.support.clients import login
from tests.support.processes import ServerChild

EXPERT_ID = str(stable_id("user", "expert"))


@dataclass(frozen=True)
class Member:
    id: str
    login: str
    client: httpx.AsyncClient


MakeMember = Callable[..., Awaitable[Member]]


@pytest.fixture
async def make_member(server: ServerChild, as_user: Any) -> AsyncIterator[MakeMember]:
    """`await make_member("bid_expert", "DEPT-ZJW")`: a new account of that role and unit, logged in."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str, org_code: str = "DEPT-ZJW", name: str = "钱多多") -> Member:
        admin = await as_user("admin")
        login_name, password = f"bid{secrets.token_hex(5)}", f"Qa-{secrets.token_hex(4)}-9x"
        response = await admin.post("/api/v1/admin/users", json={
            "login": login_name, "name": name, "org_id": str(stable_id("org", org_code)), "role": role,
            "password": password,
        })  # fmt: skip
        assert response.status_code == 201, response.text
        client = await login(server.url, login_name, password)
        clients.append(client)
        return Member(id=response.json()["id"], login=login_name, client=client)

    yield make
    for client in clients:
        await client.aclose()


async def create_bid(
    organiser: httpx.AsyncClient, *expert_ids: str, name: str = "市政道路工程施工评标"
) -> dict[str, Any]:
    response = await organiser.post(
        "/api/v1/bids", json={"name": name, "expert_ids": list(expert_ids or [EXPERT_ID])}
    )
    assert response.status_code == 201, response.text
    bid: dict[str, Any] = response.json()
    return bid
