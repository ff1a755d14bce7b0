"""API tokens for machine clients: shown once, stored hashed, limited to their scopes and to what the
owner's role holds, revocable, expiring, and unable to manage tokens themselves."""

from __future__ import annotations

import hashlib

import httpx

from tests.conftest import unique_code


async def _token(client: httpx.AsyncClient, scopes: list[str], **extra: object) -> dict:
    response = await client.post(
        "/api/v1/account/tokens", json={"name": "离线设计客户端", "scopes": scopes, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _bearer(server, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


async def test_a_token_acts_for_its_owner_within_its_scopes_without_csrf(server, as_user):
    created = await _token(await as_user("pujiang"), ["project.read", "project.create"])
    assert created["token"].startswith("tbk_")
    async with _bearer(server, created["token"]) as machine:
        assert (await machine.get("/api/v1/me")).json()["user"]["login"] == "pujiang"
        made = await machine.post("/api/v1/projects", json={"code": unique_code(), "name": "离线客户端登记"})
        assert made.status_code == 201  # no cookie, so no CSRF token is needed


async def test_a_token_used_beyond_its_scope_is_refused(server, as_user):
    created = await _token(await as_user("pujiang"), ["project.read"])
    async with _bearer(server, created["token"]) as machine:
        assert (await machine.get("/api/v1/projects")).status_code == 200
        refused = await machine.post("/api/v1/projects", json={"code": unique_code(), "name": "越权登记"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "token_scope")


async def test_a_token_cannot_hold_more_than_its_owners_role(as_user):
    response = await (await as_user("pujiang")).post(
        "/api/v1/account/tokens", json={"name": "越权", "scopes": ["user.manage"]}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "token_scope_not_held")


async def test_a_revoked_token_stops_working_at_once(server, as_user):
    owner = await as_user("pujiang")
    created = await _token(owner, ["project.read"])
    async with _bearer(server, created["token"]) as machine:
        assert (await machine.get("/api/v1/projects")).status_code == 200
        assert (await owner.delete(f"/api/v1/account/tokens/{created['id']}")).status_code == 200
        assert (await machine.get("/api/v1/projects")).status_code == 401
    listed = (await owner.get("/api/v1/account/tokens")).json()["items"]
    assert next(t for t in listed if t["id"] == created["id"])["revoked_at"] is not None


async def test_an_expired_token_is_not_a_login(server, as_user, pool):
    created = await _token(await as_user("pujiang"), ["project.read"])
    async with pool.acquire() as conn:
        await conn.execute("UPDATE api_token SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
                           created["id"])  # fmt: skip
    async with _bearer(server, created["token"]) as machine:
        assert (await machine.get("/api/v1/projects")).status_code == 401


async def test_a_forged_or_altered_token_is_not_a_login(server, as_user):
    real = (await _token(await as_user("pujiang"), ["project.read"]))["token"]
    for forged in (
        real[:-1] + ("A" if real[-1] != "A" else "B"),
        "tbk_" + "0" * 32 + "_" + "x" * 43,
        "garbage",
    ):
        async with _bearer(server, forged) as machine:
            assert (await machine.get("/api/v1/me")).status_code == 401


async def test_the_database_keeps_only_a_keyed_hash_of_the_secret(as_user, pool):
    created = await _token(await as_user("pujiang"), ["project.read"])
    secret = created["token"].rsplit("_", 1)[1]
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT secret_hash FROM api_token WHERE id = $1::uuid", created["id"])
    assert secret not in stored
    assert stored != hashlib.sha256(secret.encode()).hexdigest()  # keyed (HMAC-SM3), not a plain digest


async def test_a_token_cannot_create_or_list_tokens(server, as_user):
    created = await _token(await as_user("pujiang"), ["project.read"])
    async with _bearer(server, created["token"]) as machine:
        listed = await machine.get("/api/v1/account/tokens")
        assert (listed.status_code, listed.json()["error"]["code"]) == (403, "session_required")
        made = await machine.post("/api/v1/account/tokens", json={"name": "x", "scopes": ["project.read"]})
        assert made.status_code == 403


async def test_one_users_token_cannot_be_revoked_by_another(as_user):
    created = await _token(await as_user("pujiang"), ["project.read"])
    other = await as_user("shencheng")
    assert (await other.delete(f"/api/v1/account/tokens/{created['id']}")).status_code == 404


async def test_a_token_naming_an_unknown_permission_is_refused_with_422(as_user):
    response = await (await as_user("pujiang")).post(
        "/api/v1/account/tokens", json={"name": "x", "scopes": ["project.read", "drop.tables"]}
    )
    assert (response.status_code, response.json()["error"]["fields"][0]["field"]) == (422, "scopes")


async def test_a_busy_token_records_its_last_use_without_a_write_per_request(server, as_user, pool):
    created = await _token(await as_user("pujiang"), ["project.read"])
    async with _bearer(server, created["token"]) as machine:
        await machine.get("/api/v1/me")
        async with pool.acquire() as conn:
            first = await conn.fetchval(
                "SELECT last_used_at FROM api_token WHERE id = $1::uuid", created["id"]
            )
        for _ in range(5):
            assert (await machine.get("/api/v1/me")).status_code == 200
    async with pool.acquire() as conn:
        again = await conn.fetchval("SELECT last_used_at FROM api_token WHERE id = $1::uuid", created["id"])
    assert first is not None
    assert again == first  # recorded once, not rewritten within the minute
