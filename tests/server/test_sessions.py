"""Sessions live in Redis under the hash of a random token: renewed on every use, gone when they
expire, and the demo login can be switched off."""

from __future__ import annotations

import hashlib

import httpx

from server.identity.sessions import COOKIE
from tests.support.processes import start_server


def _session_key(settings, client: httpx.AsyncClient) -> str:
    token = client.cookies[COOKIE]
    return f"{settings.redis_prefix}session:{hashlib.sha256(token.encode()).hexdigest()}"


async def test_redis_keeps_only_the_hash_of_the_session_token(as_user, redis, settings):
    client = await as_user("pujiang")
    token = client.cookies[COOKIE]
    assert await redis.exists(_session_key(settings, client)) == 1
    assert await redis.exists(f"{settings.redis_prefix}session:{token}") == 0


async def test_each_request_renews_an_idle_session_to_its_full_lifetime(as_user, redis, settings):
    client = await as_user("pujiang")
    key = _session_key(settings, client)
    await redis.expire(key, 5)
    assert (await client.get("/api/v1/me")).status_code == 200
    assert await redis.ttl(key) > settings.session_ttl_s - 10


async def test_an_expired_session_is_logged_out(as_user, redis, settings):
    client = await as_user("pujiang")
    await redis.delete(_session_key(settings, client))  # what Redis does when the TTL runs out
    response = await client.get("/api/v1/me")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthenticated")


async def test_a_forged_session_cookie_is_not_a_login(server):
    async with httpx.AsyncClient(base_url=server.url, cookies={COOKIE: "forged-token"}) as client:
        assert (await client.get("/api/v1/me")).status_code == 401


def test_with_the_demo_login_switched_off_nobody_can_use_it(env, tmp_path):
    child = start_server({**env, "TONGBAN_DEV_LOGIN": "false"}, tmp_path / "server.log")
    try:
        response = httpx.post(f"{child.url}/api/v1/dev/login", json={"login": "pujiang"})
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
        assert "set-cookie" not in response.headers
    finally:
        child.stop()
