"""The audit chain: business writes and logins are recorded in the same transaction; one changed
byte, a removed entry or a moved entry is found and named; concurrent writers keep the chain whole."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server import db
from server.audit.models import AuditRecord
from server.audit.service import AUDIT_KEY, append, verify
from server.connections import Urls
from server.keystore import KeyRing
from server.migrations import migrate
from tests.conftest import unique_code

KEY = b"k" * 32
# Entries 7 and 8 trade places: every column but the sequence number moves.
SWAP_7_AND_8 = """
    UPDATE audit_entry a SET at = b.at, action = b.action, outcome = b.outcome, actor_id = b.actor_id,
        actor_login = b.actor_login, org_id = b.org_id, ip = b.ip, target = b.target, detail = b.detail,
        prev_mac = b.prev_mac, mac = b.mac
    FROM audit_entry b WHERE (a.seq, b.seq) IN ((7, 8), (8, 7))"""


@pytest.fixture
async def chain_db(service_urls: Urls) -> AsyncIterator[str]:
    """A database of its own: these tests tamper with the log on purpose."""
    name = f"tongban_audit_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(service_urls.database, name)
    url = db.with_database(service_urls.database, name)
    conn = await db.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    await db.drop_database(service_urls.database, name)


async def _append_many(url: str, n: int, key: bytes = KEY) -> None:
    conn = await db.connect(url)
    try:
        for i in range(n):
            async with conn.transaction():
                record = AuditRecord(
                    action="test.write",
                    actor_login=f"user{i}",
                    ip="127.0.0.1",
                    detail={"i": i, "名称": "测试"},
                )
                await append(conn, key, record)
    finally:
        await conn.close()


async def _verify(url: str, key: bytes = KEY):
    conn = await db.connect(url)
    try:
        return await verify(conn, key)
    finally:
        await conn.close()


async def _execute(url: str, sql: str, *args: object) -> None:
    conn = await db.connect(url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def test_an_untouched_chain_verifies_and_a_wrong_key_does_not(chain_db):
    await _append_many(chain_db, 20)
    report = await _verify(chain_db)
    assert (report.ok, report.entries) == (True, 20)
    wrong = await _verify(chain_db, b"x" * 32)
    assert (wrong.ok, wrong.first_break.seq, wrong.first_break.problem) == (False, 1, "altered")


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        ("UPDATE audit_entry SET detail = jsonb_set(detail, '{i}', '99') WHERE seq = 7", 7, "altered"),
        ("UPDATE audit_entry SET actor_login = 'user6x' WHERE seq = 7", 7, "altered"),
        ("UPDATE audit_entry SET at = at + interval '1 microsecond' WHERE seq = 7", 7, "altered"),
        ("UPDATE audit_entry SET ip = '10.0.0.1' WHERE seq = 7", 7, "altered"),
        ("DELETE FROM audit_entry WHERE seq = 7", 7, "removed"),
        (SWAP_7_AND_8, 7, "reordered"),
    ],
    ids=["detail", "actor", "time", "ip", "deleted", "swapped"],
)
async def test_a_tampered_chain_names_the_first_broken_entry(chain_db, tamper, seq, problem):
    await _append_many(chain_db, 12)
    await _execute(chain_db, tamper)
    report = await _verify(chain_db)
    assert not report.ok
    assert (report.first_break.seq, report.first_break.problem) == (seq, problem)
    assert report.entries == seq - 1


async def test_concurrent_writers_produce_one_unbroken_chain(chain_db):
    await asyncio.gather(*(_append_many(chain_db, 10) for _ in range(8)))
    report = await _verify(chain_db)
    assert (report.ok, report.entries) == (True, 80)


async def test_an_entry_rolled_back_with_its_transaction_leaves_no_trace(chain_db):
    await _append_many(chain_db, 3)
    conn = await db.connect(chain_db)
    try:
        transaction = conn.transaction()
        await transaction.start()
        await append(conn, KEY, AuditRecord(action="test.doomed"))
        await transaction.rollback()  # the business write failed
    finally:
        await conn.close()
    await _append_many(chain_db, 1)
    report = await _verify(chain_db)
    assert (report.ok, report.entries) == (True, 4)


def test_the_verify_command_exits_1_naming_the_entry_after_tampering(chain_db, tmp_path: Path):
    keys = tmp_path / "keys"
    asyncio.run(_append_many(chain_db, 5, KeyRing(keys).key(AUDIT_KEY)))
    env = {**os.environ, "TONGBAN_DATABASE_URL": chain_db, "TONGBAN_KEYS_DIR": str(keys)}
    command = [sys.executable, "-m", "server.cli", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (intact.returncode, intact.stdout.strip()) == (0, "audit chain intact: 5 entries verified")
    asyncio.run(_execute(chain_db, "UPDATE audit_entry SET outcome = 'failure' WHERE seq = 3"))
    broken = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert "BROKEN at entry 3 (altered)" in broken.stdout


async def test_logins_and_project_registration_are_in_the_audit_log_for_auditors_only(as_user, server):
    applicant = await as_user("pujiang")
    code = unique_code()
    project = (await applicant.post("/api/v1/projects", json={"code": code, "name": "审计项目"})).json()
    auditor = await as_user("audit")
    entries = (await auditor.get("/api/v1/audit", params={"target": f"project:{project['id']}"})).json()[
        "items"
    ]
    create = next(e for e in entries if e["action"] == "project.create")
    assert (create["actor_login"], create["outcome"], create["ip"], create["detail"]) == (
        "pujiang", "success", "127.0.0.1", {"code": code},
    )  # fmt: skip
    logins = (
        await auditor.get("/api/v1/audit", params={"actor": "pujiang", "action": "identity.login"})
    ).json()
    assert logins["items"][0]["outcome"] == "success"
    assert (await applicant.get("/api/v1/audit")).status_code == 403


async def test_a_failed_login_is_audited_as_a_failure(anonymous, as_user):
    await anonymous.post("/api/v1/login", json={"login": "intruder", "password": "guess-1234"})
    auditor = await as_user("audit")
    items = (await auditor.get("/api/v1/audit", params={"actor": "intruder"})).json()["items"]
    assert [(e["action"], e["outcome"]) for e in items][:1] == [("identity.login", "failure")]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"since": "yesterday"}, {"nope": "1"}])
async def test_bad_audit_queries_are_422(as_user, params):
    auditor = await as_user("audit")
    response = await auditor.get("/api/v1/audit", params=params)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_input")
