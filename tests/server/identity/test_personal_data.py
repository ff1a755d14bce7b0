"""Personal data of natural persons at rest: names, phone numbers and ID-card numbers are sealed in
every stored column (SM4-GCM, bound to their row and column), found only through their blind index,
and shown masked."""

from __future__ import annotations

import uuid

import pytest

from server.security.errors import IntegrityError
from tests.server.identity.conftest import Account, new_phone, sms_code


def _plaintexts(account: Account) -> list[str]:
    return [value for value in (account.name, account.phone, account.id_card) if value]


async def test_a_persons_name_phone_and_id_card_appear_nowhere_in_their_stored_row(new_account, pool):
    account = await new_account(id_card=True)
    as_text = await pool.fetchval("SELECT u::text FROM app_user u WHERE id = $1::uuid", account.id)
    row = await pool.fetchrow("SELECT * FROM app_user WHERE id = $1::uuid", account.id)
    as_bytes = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row.values())
    assert account.login in as_text  # the row is the one we think it is
    for secret in _plaintexts(account):
        assert secret not in as_text
        assert secret.encode() not in as_bytes
        assert secret.encode("utf-16-be") not in as_bytes
    assert {row["name_sealed"][2:7], row["phone_sealed"][2:7], row["id_card_sealed"][2:7]} == {b"pii-1"}


async def test_nothing_else_stored_about_the_account_holds_its_personal_data(new_account, open_client, pool):
    account = await new_account(id_card=True)
    await open_client(account)
    history = await pool.fetchval(
        "SELECT string_agg(h::text, ' ') FROM password_history h WHERE user_id = $1::uuid", account.id
    )
    audit = await pool.fetchval(
        "SELECT string_agg(a::text, ' ') FROM audit_entry a WHERE actor_id = $1::uuid OR target = $2",
        account.id, f"user:{account.id}",
    )  # fmt: skip
    assert account.login in audit
    for secret in _plaintexts(account):
        assert secret not in history
        assert secret not in audit


async def test_the_sealed_values_open_only_for_their_own_row_and_column(new_account, pool, pii):
    account = await new_account(id_card=True)
    row = await pool.fetchrow(
        "SELECT name_sealed, phone_sealed, id_card_sealed FROM app_user WHERE id = $1::uuid", account.id
    )
    row_id = uuid.UUID(account.id)
    assert pii.open_value("app_user", "name", row_id, row["name_sealed"]) == account.name
    assert pii.open_value("app_user", "phone", row_id, row["phone_sealed"]) == account.phone
    assert pii.open_value("app_user", "id_card", row_id, row["id_card_sealed"]) == account.id_card
    with pytest.raises(IntegrityError):
        pii.open_value("app_user", "name", row_id, row["phone_sealed"])  # another column of the row
    with pytest.raises(IntegrityError):
        pii.open_value("app_user", "phone", uuid.uuid4(), row["phone_sealed"])  # the column of another row


async def test_the_blind_index_finds_the_account_by_its_exact_phone_and_id_card_only(new_account, pool, pii):
    account = await new_account(id_card=True)
    by_phone = await pool.fetchval(
        "SELECT id::text FROM app_user WHERE phone_index = $1", pii.index(account.phone)
    )
    by_card = await pool.fetchval(
        "SELECT id::text FROM app_user WHERE id_card_index = $1", pii.index(account.id_card.lower())
    )
    assert by_phone == by_card == account.id
    neighbour = f"{int(account.phone) + 1}"
    assert await pool.fetchval("SELECT id FROM app_user WHERE phone_index = $1", pii.index(neighbour)) is None
    assert account.phone not in pii.index(account.phone)


async def test_the_demo_accounts_phones_are_sealed_and_found_through_the_index_too(pool, pii):
    found = await pool.fetchrow(
        "SELECT login, phone_sealed FROM app_user WHERE phone_index = $1", pii.index("13900000001")
    )
    assert found["login"] == "pujiang"
    assert b"13900000001" not in found["phone_sealed"]
    plain = await pool.fetchval("SELECT count(*) FROM app_user u WHERE u::text LIKE '%13900000001%'")
    assert plain == 0


async def test_a_person_sees_their_own_name_and_others_see_it_masked(new_account, open_client, admin):
    account = await new_account()
    client = await open_client(account)
    assert (await client.get("/api/v1/me")).json()["user"]["display_name"] == account.name
    listed = (await admin.get("/api/v1/admin/users")).json()["items"]
    [mine] = [u for u in listed if u["login"] == account.login]
    assert mine["name_masked"] == account.name[0] + "**"
    assert mine["phone_masked"] == account.phone[:3] + "****" + account.phone[-4:]


async def test_the_demo_sms_inbox_shows_the_number_masked(new_account, open_client, fresh_sms_window):
    account = await new_account()
    client = await open_client()
    await client.post("/api/v1/login/sms/code", json={"phone": account.phone})
    assert await sms_code(client, account.phone) is not None
    inbox = await client.get("/api/v1/dev/sms", params={"phone": account.phone})
    assert account.phone not in inbox.text


async def test_redis_key_names_never_spell_out_a_phone_number(anonymous, redis, settings, fresh_sms_window):
    phone = new_phone()
    response = await anonymous.post("/api/v1/login/sms/code", json={"phone": phone})
    assert response.status_code == 200
    names = [k.decode() async for k in redis.scan_iter(match=f"{settings.redis_prefix}identity:*")]
    assert names  # the code, its cooldown and the per-phone window were recorded
    assert not [n for n in names if phone in n]
