"""Sessions: a signed cookie, only the token's hash in Redis, idle renewal, an absolute end, logout
(here and everywhere), and CSRF tokens on every state-changing request."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from server.identity.sessions import COOKIE
from server.seed import stable_id
from tests.conftest import unique_code
from tests.support.clients import next_frame, open_ws


def _session_key(settings, client: httpx.AsyncClient) -> str:
    token = client.cookies[COOKIE].partition(".")[0]
    return f"{settings.redis_prefix}session:{hashlib.sha256(token.encode()).hexdigest()}"


async def test_redis_keeps_only_the_hash_of_the_session_token(as_user, redis, settings):
    client = await as_user("pujiang")
    token = client.cookies[COOKIE].partition(".")[0]
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


async def test_a_session_past_its_absolute_lifetime_ends_however_active(as_user, redis, settings):
    client = await as_user("pujiang")
    key = _session_key(settings, client)
    record = json.loads(await redis.get(key))
    started = datetime.now(UTC) - timedelta(seconds=settings.session_absolute_s + 1)
    record["created_at"] = started.isoformat()
    await redis.set(key, json.dumps(record), keepttl=True)
    assert (await client.get("/api/v1/me")).status_code == 401
    assert await redis.exists(key) == 0


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: "forged-token",
        lambda c: c.partition(".")[0] + "." + "0" * 32,  # right token, wrong signature
        lambda c: ("B" if c[0] == "A" else "A") + c[1:],  # one changed character
        lambda c: c.partition(".")[0],  # signature stripped
    ],
    ids=["garbage", "bad-signature", "tampered", "unsigned"],
)
async def test_a_forged_or_tampered_session_cookie_is_not_a_login(as_user, server, forge):
    real = (await as_user("pujiang")).cookies[COOKIE]
    async with httpx.AsyncClient(base_url=server.url, cookies={COOKIE: forge(real)}) as client:
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_state_change_without_the_csrf_token_is_refused_and_writes_nothing(as_user):
    client = await as_user("pujiang")
    before = len((await client.get("/api/v1/projects")).json()["items"])
    del client.headers["x-csrf-token"]
    for token in (None, "wrong-token"):
        headers = {"x-csrf-token": token} if token else {}
        response = await client.post(
            "/api/v1/projects", json={"code": unique_code(), "name": "跨站请求"}, headers=headers
        )
        assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf_failed")
    assert len((await client.get("/api/v1/projects")).json()["items"]) == before


async def test_the_csrf_token_is_the_sessions_own_and_not_valid_for_another_session(as_user):
    mine = await as_user("pujiang")
    theirs = await as_user("pujiang")
    mine.headers["x-csrf-token"] = theirs.headers["x-csrf-token"]
    response = await mine.post("/api/v1/projects", json={"code": unique_code(), "name": "借用令牌"})
    assert response.status_code == 403


async def test_logout_ends_this_session_only_and_the_old_cookie_no_longer_works(as_user, server):
    laptop = await as_user("pujiang")
    phone = await as_user("pujiang")
    cookie = dict(laptop.cookies)
    assert (await laptop.post("/api/v1/logout")).status_code == 200
    async with httpx.AsyncClient(base_url=server.url, cookies=cookie) as replay:
        assert (await replay.get("/api/v1/me")).status_code == 401
    assert (await phone.get("/api/v1/me")).status_code == 200


async def test_logout_everywhere_ends_every_session_of_the_user_and_no_one_elses(as_user):
    laptop = await as_user("pujiang")
    phone = await as_user("pujiang")
    colleague = await as_user("pujiang_agent")
    response = await laptop.post("/api/v1/logout/everywhere")
    assert response.status_code == 200
    assert response.json()["sessions_closed"] >= 2  # earlier tests' sessions of this account end too
    assert (await phone.get("/api/v1/me")).status_code == 401
    assert (await laptop.get("/api/v1/me")).status_code == 401
    assert (await colleague.get("/api/v1/me")).status_code == 200


async def test_a_websocket_opened_from_another_site_is_refused_even_with_the_cookie(as_user, server):
    client = await as_user("pujiang")
    project = (await client.post("/api/v1/projects", json={"code": unique_code(), "name": "跨站连接"})).json()
    path = f"/ws/projects/{project['id']}"
    evil = await open_ws(server.ws_url, path, client, origin="https://evil.example")
    with pytest.raises(ConnectionClosed) as closed:
        await next_frame(evil)
    assert closed.value.rcvd.code == 4403
    same_site = await open_ws(server.ws_url, path, client, origin=server.url)
    try:
        assert (await next_frame(same_site))["type"] == "snapshot"
    finally:
        await same_site.close()


async def test_a_users_session_set_keeps_only_live_sessions(as_user, redis, settings):
    first = await as_user("pujiang_agent")
    assert (await first.post("/api/v1/logout")).status_code == 200
    second = await as_user("pujiang_agent")
    members = await redis.smembers(
        f"{settings.redis_prefix}user-sessions:{stable_id('user', 'pujiang_agent')}"
    )
    assert all([await redis.exists(m) for m in members])  # the ended session was dropped at the next login
    assert _session_key(settings, second).encode() in members
