"""Bad input gets a clear JSON error with the right status and writes nothing."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from starlette.routing import Route

from server.app import create_app
from server.config import Settings
from tests.conftest import unique_code


async def _project_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/v1/projects")).json()["items"])


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, str] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]  # a Chinese sentence for the user
    return error


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"code": "X-1', {"content-type": "application/json"}, 400, "malformed_json"),
        (b"\xff\xfe{}", {"content-type": "application/json"}, 400, "malformed_json"),
        (b'{"code": 12345, "name": ["a"]}', {"content-type": "application/json"}, 422, "invalid_input"),
        (
            '{"code": "ok-code-1", "name": "名称", "admin": true}'.encode(),
            {"content-type": "application/json"},
            422,
            "invalid_input",
        ),
        (b"[]", {"content-type": "application/json"}, 422, "invalid_input"),
        (
            b"code=X&name=Y",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
    ],
    ids=["truncated", "not-utf8", "wrong-types", "unknown-field", "array", "form-encoded"],
)
async def test_a_bad_project_body_is_refused_with_a_json_error_and_nothing_is_written(
    as_user, body, headers, status, code
):
    applicant = await as_user("pujiang")
    before = await _project_count(applicant)
    response = await applicant.post("/api/v1/projects", content=body, headers=headers)
    _assert_error(response, status, code)
    assert await _project_count(applicant) == before


async def test_a_validation_error_names_each_wrong_field(as_user):
    applicant = await as_user("pujiang")
    response = await applicant.post("/api/v1/projects", json={"code": "a!", "name": ""})
    error = _assert_error(response, 422, "invalid_input")
    assert {f["field"] for f in error["fields"]} == {"code", "name"}  # type: ignore[index]


async def test_a_body_over_the_json_limit_is_refused_with_413_whether_declared_or_streamed(as_user, settings):
    applicant = await as_user("pujiang")
    before = await _project_count(applicant)
    oversize = b'{"code": "BIG-1", "name": "' + b"x" * settings.max_json_bytes + b'"}'
    declared = await applicant.post(
        "/api/v1/projects", content=oversize, headers={"content-type": "application/json"}
    )
    _assert_error(declared, 413, "payload_too_large")

    async def chunks():
        for start in range(0, len(oversize), 1 << 20):
            yield oversize[start : start + (1 << 20)]

    streamed = await applicant.post(
        "/api/v1/projects", content=chunks(), headers={"content-type": "application/json"}
    )
    _assert_error(streamed, 413, "payload_too_large")
    assert await _project_count(applicant) == before


async def test_unknown_routes_and_wrong_methods_answer_json_404_and_405(anonymous):
    _assert_error(await anonymous.get("/api/v1/no-such-thing"), 404, "not_found")
    _assert_error(await anonymous.delete("/api/v1/projects"), 405, "method_not_allowed")


async def test_an_unknown_project_is_404_and_a_malformed_id_is_404(as_user):
    applicant = await as_user("pujiang")
    _assert_error(
        await applicant.get("/api/v1/projects/00000000-0000-0000-0000-000000000000"), 404, "not_found"
    )
    _assert_error(await applicant.get("/api/v1/projects/not-a-uuid"), 404, "not_found")


async def test_a_duplicate_project_code_is_a_409_conflict_and_the_first_project_is_intact(as_user):
    applicant = await as_user("pujiang")
    code = unique_code()
    first = await applicant.post("/api/v1/projects", json={"code": code, "name": "第一个项目"})
    assert first.status_code == 201
    second = await applicant.post("/api/v1/projects", json={"code": code, "name": "重复的项目"})
    _assert_error(second, 409, "conflict")
    names = [
        p["name"] for p in (await applicant.get("/api/v1/projects")).json()["items"] if p["code"] == code
    ]
    assert names == ["第一个项目"]


async def test_a_retried_registration_gets_the_same_project_back_and_another_enterprise_a_409(as_user):
    applicant = await as_user("pujiang")
    body = {"code": unique_code(), "name": "重试登记的项目"}
    first = await applicant.post("/api/v1/projects", json=body)
    retry = await applicant.post("/api/v1/projects", json=body)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert [p["code"] for p in (await applicant.get("/api/v1/projects")).json()["items"]].count(
        body["code"]
    ) == 1
    other = await as_user("shencheng")
    _assert_error(await other.post("/api/v1/projects", json=body), 409, "conflict")


async def test_every_response_carries_a_request_id_and_echoes_a_sane_incoming_one(anonymous):
    echoed = await anonymous.get("/healthz", headers={"x-request-id": "trace-abc-12345"})
    assert echoed.headers["x-request-id"] == "trace-abc-12345"
    replaced = await anonymous.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_an_unexpected_crash_in_a_handler_is_a_json_500_without_details(tmp_path):
    app = create_app(Settings(var_dir=tmp_path))

    async def explode(request):
        raise RuntimeError("secret internal detail")

    app.router.routes.append(Route("/explode", explode))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/explode")
    error = _assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert error["message"] == "服务器内部错误"


async def test_the_server_logs_one_json_line_per_request_with_its_request_id(anonymous, server):
    await anonymous.get("/api/v1/no-such-thing", headers={"x-request-id": "log-trace-0001"})

    def mine() -> list[dict]:
        lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
        return [e for e in lines if e.get("request_id") == "log-trace-0001" and e["event"] == "http.request"]

    # The line is written just after the response is sent: give the server a moment, within a bound.
    async with asyncio.timeout(5):
        while not mine():  # noqa: ASYNC110 - another process writes the file; nothing to await
            await asyncio.sleep(0.02)
    entries = mine()
    assert len(entries) == 1
    assert (entries[0]["status"], entries[0]["path"], entries[0]["method"]) == (
        404,
        "/api/v1/no-such-thing",
        "GET",
    )
    assert isinstance(entries[0]["duration_ms"], float)
