"""Bid sessions (评标会议) through the HTTP API and the websocket, against the real server: setting one
up, who may see it, annotations, presence and time online, reminders fired by durable timers, and
input that must be refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from server.seed import stable_id
from tests.server.bids.conftest import EXPERT_ID, MakeMember, create_bid
from tests.support.clients import frame_of_type, next_frame, open_ws

ORGANISER_ID = str(stable_id("user", "bidadmin"))
TIMER_WAIT_S = 10.0
POLL_S = 0.1
# The session's own events (presence comes and goes with the test's websockets).
BID_EVENTS = (
    "SELECT count(*) FROM actor_event WHERE actor_kind = 'bid' AND actor_id = $1 AND type LIKE 'bid.%'"
)
TIMERS = "SELECT 1 FROM actor_timer WHERE actor_kind = 'bid' AND actor_id = $1"


def expert_row(bid: dict[str, Any], user_id: str = EXPERT_ID) -> dict[str, Any]:
    row: dict[str, Any] = next(e for e in bid["experts"] if e["user_id"] == user_id)
    return row


async def close_code(ws: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await next_frame(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def presence_of(
    ws: Any, type_: str, user_id: str | None = None, conn: str | None = None
) -> dict[str, Any]:
    """The next presence frame of this type about this user (or connection), skipping others'."""
    while True:
        frame = await frame_of_type(ws, type_)
        if (user_id is None or frame["data"].get("user_id") == user_id) and (
            conn is None or frame["data"]["conn"] == conn
        ):
            return frame


# -- creation and access ----------------------------------------------------------------------------------


async def test_an_organiser_sets_up_a_session_and_it_is_listed_for_the_organiser_and_its_expert(as_user):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")

    bid = await create_bid(organiser, name="张江人才公寓总承包评标")

    assert bid["name"] == "张江人才公寓总承包评标"
    assert bid["org_id"] == str(stable_id("org", "DEPT-ZJW"))
    assert bid["experts"] == [
        {"user_id": EXPERT_ID, "name": "周*", "login": "expert", "online": False, "status_label": "离线",
         "online_since": None, "seconds_online": 0, "open_annotations": 0}
    ]  # fmt: skip
    assert (bid["reminders"], bid["pending_reminders"], bid["connections"]) == ([], [], {})
    for client in (organiser, expert):
        listed = {b["id"]: b for b in (await client.get("/api/v1/bids")).json()["items"]}
        assert listed[bid["id"]]["experts"] == 1
        shown = await client.get(f"/api/v1/bids/{bid['id']}")
        assert shown.status_code == 200
        assert shown.json()["name"] == bid["name"]


async def test_the_journal_and_the_session_rows_hold_the_experts_but_never_their_full_names(
    server, as_user, pool
):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    ws = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", expert)
    try:
        await presence_of(ws, "presence.joined", EXPERT_ID)
    finally:
        await ws.close()
    async with pool.acquire() as conn:
        experts = await conn.fetch(
            "SELECT user_id FROM bid_session_expert WHERE session_id = $1", uuid.UUID(bid["id"])
        )
        payloads = await conn.fetch(
            "SELECT type, payload::text AS text FROM actor_event"
            " WHERE actor_kind = 'bid' AND actor_id = $1 ORDER BY seq",
            uuid.UUID(bid["id"]),
        )
    assert [str(r["user_id"]) for r in experts] == [EXPERT_ID]
    assert payloads[0]["type"] == "bid.created"
    assert all("周涛" not in r["text"] for r in payloads)


async def test_another_units_organiser_and_an_expert_not_on_the_session_get_404_everywhere(
    server, as_user, make_member: MakeMember
):
    bid = await create_bid(await as_user("bidadmin"))
    stranger_organiser = await make_member("bid_admin", "DEPT-XF")
    stranger_expert = await make_member("bid_expert", "DEPT-ZJW")
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    for member in (stranger_organiser, stranger_expert):
        client = member.client
        assert (await client.get(f"/api/v1/bids/{bid['id']}")).status_code == 404
        assert bid["id"] not in {b["id"] for b in (await client.get("/api/v1/bids")).json()["items"]}
        annotated = await client.put(
            f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}", json={"open": True}
        )
        assert annotated.status_code == 404
        assert (await client.get(f"/bids/{bid['id']}")).status_code == 404
        ws = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", client)
        assert await close_code(ws) == 4404
    reminded = await stranger_organiser.client.post(f"/api/v1/bids/{bid['id']}/reminders", json={"at": at})
    assert reminded.status_code == 404


async def test_the_expert_may_not_schedule_reminders_and_the_organiser_records_no_annotations(as_user):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    assert (await expert.post(f"/api/v1/bids/{bid['id']}/reminders", json={"at": at})).status_code == 403
    annotated = await organiser.put(
        f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}", json={"open": True}
    )
    assert annotated.status_code == 404


async def test_websockets_without_a_login_or_without_bid_read_are_refused(server, as_user, anonymous):
    bid = await create_bid(await as_user("bidadmin"))
    assert await close_code(await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", None)) == 4401
    applicant = await as_user("pujiang")
    assert await close_code(await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", applicant)) == 4403


# -- annotations -----------------------------------------------------------------------------------------


async def test_unfinished_annotations_are_counted_per_expert_and_recording_one_again_changes_nothing(as_user):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    first, second = uuid.uuid4(), uuid.uuid4()
    path = f"/api/v1/bids/{bid['id']}/annotations"

    opened = (await expert.put(f"{path}/{first}", json={"open": True})).json()
    again = (await expert.put(f"{path}/{first}", json={"open": True})).json()
    both = (await expert.put(f"{path}/{second}", json={"open": True})).json()
    done = (await expert.put(f"{path}/{first}", json={"open": False})).json()
    done_again = (await expert.put(f"{path}/{first}", json={"open": False})).json()
    finished_new = (await expert.put(f"{path}/{uuid.uuid4()}", json={"open": False})).json()

    counts = [
        expert_row(b)["open_annotations"] for b in (opened, again, both, done, done_again, finished_new)
    ]
    assert counts == [1, 1, 2, 1, 1, 1]
    assert again["seq"] == opened["seq"]
    assert done_again["seq"] == done["seq"]
    assert expert_row((await organiser.get(f"/api/v1/bids/{bid['id']}")).json())["open_annotations"] == 1


async def test_an_annotation_of_one_expert_cannot_be_recorded_by_another(as_user, make_member: MakeMember):
    colleague = await make_member("bid_expert")
    bid = await create_bid(await as_user("bidadmin"), EXPERT_ID, colleague.id)
    annotation = f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}"
    assert (await (await as_user("expert")).put(annotation, json={"open": True})).status_code == 200

    taken = await colleague.client.put(annotation, json={"open": False})

    assert taken.status_code == 409


# -- presence ----------------------------------------------------------------------------------------------


async def test_an_expert_connecting_shows_online_to_other_subscribers_and_offline_after_leaving_with_time_counted(
    server, as_user
):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    watcher = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", organiser)
    try:
        snapshot = await next_frame(watcher)
        assert snapshot["type"] == "snapshot"
        assert expert_row(snapshot["data"])["status_label"] == "离线"
        await presence_of(watcher, "presence.joined", ORGANISER_ID)  # the watcher's own connection

        connected = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", expert)
        joined = await presence_of(watcher, "presence.joined", EXPERT_ID)
        assert joined["data"]["name"] == "周*"
        online = (await organiser.get(f"/api/v1/bids/{bid['id']}")).json()
        assert (expert_row(online)["online"], expert_row(online)["status_label"]) == (True, "在线")
        assert online["connections"] == {joined["data"]["conn"]: EXPERT_ID}

        await asyncio.sleep(1.2)  # time online is what is being measured
        await connected.close()
        await presence_of(watcher, "presence.left", conn=joined["data"]["conn"])
    finally:
        await watcher.close()
    offline = expert_row((await organiser.get(f"/api/v1/bids/{bid['id']}")).json())
    assert (offline["online"], offline["status_label"], offline["online_since"]) == (False, "离线", None)
    assert 1 <= offline["seconds_online"] < 30


async def test_time_online_adds_up_over_visits_and_two_tabs_of_one_expert_are_one_visit(server, as_user):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    path = f"/ws/bids/{bid['id']}"
    watcher = await open_ws(server.ws_url, path, organiser)
    try:
        tab1 = await open_ws(server.ws_url, path, expert)
        first = await presence_of(watcher, "presence.joined", EXPERT_ID)
        tab2 = await open_ws(server.ws_url, path, expert)
        second = await presence_of(watcher, "presence.joined", EXPERT_ID)
        await tab1.close()
        await presence_of(watcher, "presence.left", conn=first["data"]["conn"])
        still = expert_row((await organiser.get(f"/api/v1/bids/{bid['id']}")).json())
        assert still["online"]  # the second tab is still open
        assert datetime.fromisoformat(still["online_since"]) == datetime.fromisoformat(first["at"])
        await asyncio.sleep(1.1)
        await tab2.close()
        await presence_of(watcher, "presence.left", conn=second["data"]["conn"])
        after_first = expert_row((await organiser.get(f"/api/v1/bids/{bid['id']}")).json())["seconds_online"]
        assert after_first >= 1

        tab3 = await open_ws(server.ws_url, path, expert)
        third = await presence_of(watcher, "presence.joined", EXPERT_ID)
        await asyncio.sleep(1.1)
        during = expert_row((await organiser.get(f"/api/v1/bids/{bid['id']}")).json())
        assert during["online"]
        assert during["seconds_online"] >= after_first + 1  # the view adds now − since
        await tab3.close()
        await presence_of(watcher, "presence.left", conn=third["data"]["conn"])
    finally:
        await watcher.close()
    total = expert_row((await organiser.get(f"/api/v1/bids/{bid['id']}")).json())["seconds_online"]
    assert total >= after_first + 1


# -- reminders ---------------------------------------------------------------------------------------------


async def test_a_reminder_timer_fires_at_its_time_and_reminds_live_only_the_experts_with_unfinished_annotations(
    server, as_user, make_member: MakeMember, pool
):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    idle = await make_member("bid_expert")
    bid = await create_bid(organiser, EXPERT_ID, idle.id)
    for _ in range(2):
        await expert.put(f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}", json={"open": True})
    watcher = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}", organiser)
    try:
        assert (await next_frame(watcher))["type"] == "snapshot"
        at = datetime.now(UTC) + timedelta(seconds=1)
        scheduled = await organiser.post(f"/api/v1/bids/{bid['id']}/reminders", json={"at": at.isoformat()})
        assert scheduled.status_code == 200, scheduled.text
        [pending] = scheduled.json()["pending_reminders"]

        announced = await frame_of_type(watcher, "bid.reminder_scheduled")
        sent = await frame_of_type(watcher, "bid.reminder_sent", timeout=TIMER_WAIT_S)
        fired = await frame_of_type(watcher, "bid.reminder_fired", timeout=TIMER_WAIT_S)
    finally:
        await watcher.close()
    assert announced["data"]["reminder_id"] == pending["reminder_id"]
    assert datetime.fromisoformat(sent["at"]) >= at
    assert (sent["data"]["expert_id"], sent["data"]["open_annotations"]) == (EXPERT_ID, 2)
    assert "2 条批注未处理" in sent["data"]["reason"]
    assert fired["data"] == {"reminder_id": pending["reminder_id"], "reminded": 1}  # not the idle expert
    view = (await organiser.get(f"/api/v1/bids/{bid['id']}")).json()
    assert view["pending_reminders"] == []
    assert [(r["expert_id"], r["expert_name"]) for r in view["reminders"]] == [(EXPERT_ID, "周*")]


async def test_a_reminder_delivered_twice_is_sent_once(server, as_user, pool):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    bid = await create_bid(organiser)
    bid_id = uuid.UUID(bid["id"])
    await expert.put(f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}", json={"open": True})
    at = datetime.now(UTC) + timedelta(seconds=1)
    scheduled = await organiser.post(f"/api/v1/bids/{bid['id']}/reminders", json={"at": at.isoformat()})
    [pending] = scheduled.json()["pending_reminders"]
    watcher = await open_ws(server.ws_url, f"/ws/bids/{bid['id']}?since=0", organiser)
    try:
        await frame_of_type(watcher, "bid.reminder_fired", timeout=TIMER_WAIT_S)
    finally:
        await watcher.close()
    async with pool.acquire() as conn:
        before = await conn.fetchval(BID_EVENTS, bid_id)
        # The same timer message again, as a node that died between handling and deleting would leave it.
        await conn.execute(
            "INSERT INTO actor_timer (actor_kind, actor_id, key, fire_at, message)"
            " VALUES ('bid', $1, 'again', now(), $2)",
            bid_id, {"type": "bid.send_reminders", "reminder_id": pending["reminder_id"]},
        )  # fmt: skip
        # Until the server's timer poller has delivered it and deleted it.
        for _ in range(int(TIMER_WAIT_S / POLL_S)):
            if not await conn.fetchval(TIMERS, bid_id):
                break
            await asyncio.sleep(POLL_S)
        else:
            pytest.fail("the timer was not delivered")
        after = await conn.fetchval(BID_EVENTS, bid_id)
    assert after == before
    assert "timers.unknown_message" not in server.output()  # it was delivered, not discarded
    assert len((await organiser.get(f"/api/v1/bids/{bid['id']}")).json()["reminders"]) == 1


# -- refused input -----------------------------------------------------------------------------------------


async def test_unknown_or_non_expert_accounts_cannot_be_made_experts(as_user):
    organiser = await as_user("bidadmin")
    unknown, applicant = str(uuid.uuid4()), str(stable_id("user", "pujiang"))

    response = await organiser.post(
        "/api/v1/bids", json={"name": "评标会议", "expert_ids": [EXPERT_ID, unknown, applicant]}
    )

    assert response.status_code == 422
    assert response.json()["error"]["experts"] == [unknown, applicant]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "评标会议"},
        {"name": "评标会议", "expert_ids": []},
        {"name": "评标会议", "expert_ids": EXPERT_ID},
        {"name": "评标会议", "expert_ids": ["not-a-uuid"]},
        {"name": "评标会议", "expert_ids": [EXPERT_ID, EXPERT_ID]},
        {"name": "评", "expert_ids": [EXPERT_ID]},
        {"name": 42, "expert_ids": [EXPERT_ID]},
        {"name": "评标会议", "expert_ids": [EXPERT_ID], "org_id": str(uuid.uuid4())},
        [],
    ],
    ids=[
        "no experts",
        "empty experts",
        "not a list",
        "not a uuid",
        "duplicate",
        "short name",
        "number name",
        "extra field",
        "array",
    ],
)
async def test_a_malformed_session_is_refused_with_422(as_user, body):
    response = await (await as_user("bidadmin")).post("/api/v1/bids", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("body", [{}, {"open": "yes"}, {"open": 1}, {"open": None}, {"open": True, "x": 1}])
async def test_a_malformed_annotation_is_refused_with_422(as_user, body):
    bid = await create_bid(await as_user("bidadmin"))
    response = await (await as_user("expert")).put(
        f"/api/v1/bids/{bid['id']}/annotations/{uuid.uuid4()}", json=body
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "at",
    ["2030-01-01T09:00:00", "tomorrow", "", None, "2020-01-01T09:00:00+08:00", "2099-01-01T09:00:00+08:00"],
    ids=["no time zone", "words", "empty", "null", "past", "too far ahead"],
)
async def test_a_malformed_or_out_of_range_reminder_time_is_refused_with_422(as_user, at):
    organiser = await as_user("bidadmin")
    bid = await create_bid(organiser)
    response = await organiser.post(f"/api/v1/bids/{bid['id']}/reminders", json={"at": at})
    assert response.status_code == 422, response.text
    assert (await organiser.get(f"/api/v1/bids/{bid['id']}")).json()["pending_reminders"] == []


async def test_an_unknown_session_is_404_on_every_route(server, as_user):
    organiser, expert = await as_user("bidadmin"), await as_user("expert")
    missing = uuid.uuid4()
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await organiser.get(f"/api/v1/bids/{missing}")).status_code == 404
    assert (await organiser.post(f"/api/v1/bids/{missing}/reminders", json={"at": at})).status_code == 404
    assert (
        await expert.put(f"/api/v1/bids/{missing}/annotations/{uuid.uuid4()}", json={"open": True})
    ).status_code == 404
    assert (await organiser.get(f"/bids/{missing}")).status_code == 404
    assert await close_code(await open_ws(server.ws_url, f"/ws/bids/{missing}", organiser)) == 4404


@pytest.mark.parametrize(
    "name",
    ["' OR '1'='1'; DROP TABLE bid_session; --", "<script>alert(1)</script>", "\x00\x1b[31m", "测" * 10_000],
)
async def test_hostile_text_in_a_session_name_is_refused_or_stored_as_plain_text(as_user, name):
    organiser = await as_user("bidadmin")
    response = await organiser.post("/api/v1/bids", json={"name": name, "expert_ids": [EXPERT_ID]})
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert (await organiser.get(f"/api/v1/bids/{response.json()['id']}")).json()["name"] == name
