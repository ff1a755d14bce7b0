"""Identity fixtures: throwaway accounts made by the administrator through the API (so the shared demo
accounts keep their password and never lock), clients logged in as them, the demo SMS inbox, and the
server's own keys for checking what is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from server.config import Settings
from server.identity.pii import Pii
from server.identity.validators import id_card_check_char
from server.keystore import KeyRing
from server.seed import stable_id
from tests.support.processes import ServerChild

PUJIANG_ORG = stable_id("org", "91310115MA1K4AB12X")
SHENCHENG_ORG = stable_id("org", "91310104MA1FR3CD7Y")
SURNAMES = "赵钱孙李周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施"
GIVEN = "晓明华丽建国海燕志强秀英桂兰玉梅俊杰子涵雨桐"


def new_login() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def new_phone() -> str:
    """A mobile number in 137: the demo accounts use 139000000xx."""
    return f"137{secrets.randbelow(10**8):08d}"


def new_password() -> str:
    """Meets the 等保 policy: upper and lower case, digits and a special character."""
    return f"Qz-{secrets.token_hex(5)}-7!"


def new_name() -> str:
    return secrets.choice(SURNAMES) + "".join(secrets.choice(GIVEN) for _ in range(2))


def new_id_card() -> str:
    born = f"{1970 + secrets.randbelow(30)}0{1 + secrets.randbelow(9)}1{secrets.randbelow(10)}"
    first17 = f"310115{born}{secrets.randbelow(1000):03d}"
    return first17 + id_card_check_char(first17)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@dataclass
class Account:
    id: str
    login: str
    password: str
    name: str
    phone: str | None
    id_card: str | None


MakeAccount = Callable[..., Awaitable[Account]]
OpenClient = Callable[..., Awaitable[httpx.AsyncClient]]


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.fixture
async def admin(as_user: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await as_user("admin")
    return client


@pytest.fixture
async def auditor(as_user: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await as_user("audit")
    return client


@pytest.fixture
async def new_account(admin: httpx.AsyncClient) -> MakeAccount:
    """`await new_account(role="applicant", phone=True, id_card=False)`: a fresh account, made as a
    system administrator would make it."""

    async def make(
        role: str = "applicant", *, phone: bool = True, id_card: bool = False, org_id: uuid.UUID = PUJIANG_ORG
    ) -> Account:
        account = Account(
            id="", login=new_login(), password=new_password(), name=new_name(),
            phone=new_phone() if phone else None, id_card=new_id_card() if id_card else None,
        )  # fmt: skip
        body = {
            "login": account.login, "name": account.name, "org_id": str(org_id), "role": role,
            "password": account.password, "phone": account.phone, "id_card": account.id_card,
        }  # fmt: skip
        response = await admin.post("/api/v1/admin/users", json=body)
        assert response.status_code == 201, response.text
        account.id = response.json()["id"]
        return account

    return make


@pytest.fixture
async def open_client(server: ServerChild) -> AsyncIterator[OpenClient]:
    """`await open_client(account)`: a client logged in with the account's password (or `password=`);
    `await open_client()`: one that is not logged in."""
    clients: list[httpx.AsyncClient] = []

    async def make(account: Account | None = None, password: str | None = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=server.url, timeout=10)
        clients.append(client)
        if account is not None:
            body = {"login": account.login, "password": password or account.password}
            response = await client.post("/api/v1/login", json=body)
            assert response.status_code == 200, response.text
            client.headers["x-csrf-token"] = response.json()["csrf_token"]
        return client

    yield make
    for client in clients:
        await client.aclose()


async def sms_code(client: httpx.AsyncClient, phone: str) -> str | None:
    """The code in the latest message the demo inbox holds for `phone`, or None when it holds none."""
    response = await client.get("/api/v1/dev/sms", params={"phone": phone})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    code: str = response.json()["params"]["code"]
    return code


@pytest.fixture
async def fresh_sms_window(redis: Redis, settings: Settings) -> None:
    """Every test sends from 127.0.0.1, which may ask for 30 codes an hour: start each SMS test as if
    that hour had passed (what Redis does when the window's entries age out)."""
    await redis.delete(f"{settings.redis_prefix}identity:sms_ip:127.0.0.1")


def lockout_key(settings: Settings, login: str) -> str:
    digest = hashlib.sha256(login.strip().casefold().encode()).hexdigest()
    return f"{settings.redis_prefix}login-failures:{digest}"


@pytest.fixture(scope="session")
def keys(var_dir: Any) -> KeyRing:
    """The server's key ring (the test server keeps its keys in `var_dir`)."""
    return KeyRing(var_dir / "keys")


@pytest.fixture(scope="session")
def pii(keys: KeyRing) -> Pii:
    return Pii(keys)


async def audit_entries(auditor: httpx.AsyncClient, **query: str) -> list[dict[str, Any]]:
    response = await auditor.get("/api/v1/audit", params=query)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
