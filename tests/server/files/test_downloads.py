"""Downloading one version of a drawing: the exact bytes, single byte ranges for resuming (206, 416,
If-Range), the SM3 as ETag, a UTF-8 file name, every download audited, and nothing for those who
may not read the project."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from server.files.downloads import RangeNotSatisfiable, byte_range, content_disposition
from server.security.sm3 import sm3_hex
from tests.support.uploads import pdf_bytes, project_with_drawings, upload_version

SIZE = 2_500_000  # more than two of the storage's 1 MB read chunks


@pytest.fixture
async def stored(as_user) -> dict[str, Any]:
    """A project of pujiang's with one entry in two versions; the second is `data`."""
    owner = await as_user("pujiang")
    made = await project_with_drawings(owner, 1)
    drawing = made["drawings"][0]
    await upload_version(owner, drawing["id"], pdf_bytes(1000, seed=7), "总平面图.pdf")
    data = pdf_bytes(SIZE, seed=8)
    await upload_version(owner, drawing["id"], data, "总平面图 修改版.pdf")
    url = f"/api/v1/drawings/{drawing['id']}/versions/2/file"
    return {"owner": owner, "drawing": drawing, "project": made["project"], "data": data, "url": url}


async def test_a_version_downloads_whole_with_its_sm3_as_etag_and_a_utf8_name(stored):
    owner, data = stored["owner"], stored["data"]
    response = await owner.get(stored["url"])
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["etag"] == f'"{sm3_hex(data)}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="drawing-v2.pdf"')
    assert f"filename*=UTF-8''{quote('总平面图 修改版.pdf', safe='')}" in disposition
    older = await owner.get(stored["url"].replace("/versions/2/", "/versions/1/"))
    assert (older.status_code, older.content) == (200, pdf_bytes(1000, seed=7))  # old versions stay readable
    again = await owner.get(stored["url"], headers={"If-None-Match": response.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_single_ranges_answer_206_with_the_exact_bytes_and_past_the_end_416(stored):
    owner, data, url = stored["owner"], stored["data"], stored["url"]
    cases = {
        "bytes=1000-1048575": (1000, 1048576),  # a middle range crossing no chunk
        "bytes=1048000-2097999": (1048000, 2098000),  # across two storage chunks
        "bytes=-500": (SIZE - 500, SIZE),
        f"bytes={SIZE - 10}-": (SIZE - 10, SIZE),
        f"bytes={SIZE - 5}-{SIZE + 100}": (SIZE - 5, SIZE),  # an end past the file is cut to it
        "bytes=0-0": (0, 1),
    }
    for header, (start, end) in cases.items():
        response = await owner.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == data[start:end], header
        assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}", header
        assert response.headers["content-length"] == str(end - start), header
    for header in (f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 10}", "bytes=-0"):
        response = await owner.get(url, headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{SIZE}"
        assert response.json()["error"]["code"] == "range_not_satisfiable"
    for header in ("bytes=0-5,10-20", "bytes=9-3", "items=0-5", "bytes=abc", "bytes=" + "9" * 30 + "-"):
        response = await owner.get(url, headers={"Range": header})
        assert (response.status_code, len(response.content)) == (200, SIZE), header  # ignored: whole file


async def test_if_range_with_another_etag_sends_the_whole_file_and_a_resumed_download_assembles(stored):
    owner, data, url = stored["owner"], stored["data"], stored["url"]
    stale = await owner.get(url, headers={"Range": "bytes=100-199", "If-Range": '"0000"'})
    assert (stale.status_code, stale.content) == (200, data)
    weak = await owner.get(url, headers={"Range": "bytes=100-199", "If-Range": f'W/"{sm3_hex(data)}"'})
    assert weak.status_code == 200

    received = bytearray()
    async with owner.stream("GET", url) as first:  # a download cut off after the first megabyte or so
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        async for chunk in first.aiter_raw():
            received += chunk
            if len(received) >= 1_000_000:
                break
    assert 0 < len(received) < SIZE
    rest = await owner.get(url, headers={"Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(received)}-{SIZE - 1}/{SIZE}"
    assert sm3_hex(bytes(received) + rest.content) == sm3_hex(data) == etag.strip('"')
    by_date = await owner.get(url, headers={"Range": "bytes=0-9", "If-Range": last_modified})
    assert (by_date.status_code, by_date.content) == (206, data[:10])


async def test_every_download_is_audited_with_its_range(stored, pool):
    owner, url = stored["owner"], stored["url"]
    await owner.get(url, headers={"Range": "bytes=10-19"})
    await owner.get(url, headers={"Range": f"bytes={SIZE}-"})  # 416: nothing sent, nothing recorded
    rows = await pool.fetch(
        "SELECT actor_login, detail FROM audit_entry WHERE action = 'drawing.download' AND target = $1 ORDER BY seq",
        f"drawing:{stored['drawing']['id']}",
    )
    assert [(r["actor_login"], _json(r["detail"])["range"]) for r in rows] == [("pujiang", "10-19")]
    assert _json(rows[0]["detail"])["version"] == 2
    assert _json(rows[0]["detail"])["project_id"] == stored["project"]["id"]


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


async def test_only_readers_of_the_project_download_and_unknown_versions_are_404(stored, as_user):
    owner, url, drawing_id = stored["owner"], stored["url"], stored["drawing"]["id"]
    for login in ("shencheng", "zhujian", "huadong"):  # another enterprise; a reviewer not dispatched to
        client = await as_user(login)
        response = await client.get(url)
        assert response.status_code == 404, login
        assert response.json()["error"]["code"] == "not_found"
    admin = await as_user("admin")
    assert (await admin.get(url, headers={"Range": "bytes=0-3"})).content == b"%PDF"
    for path in (
        f"/api/v1/drawings/{drawing_id}/versions/3/file",
        f"/api/v1/drawings/{drawing_id}/versions/0/file",
        f"/api/v1/drawings/{drawing_id}/versions/99999999999999/file",
        f"/api/v1/drawings/{drawing_id}/versions/-1/file",
        f"/api/v1/drawings/{drawing_id}/versions/x/file",
        f"/api/v1/drawings/{uuid.uuid4()}/versions/1/file",
        "/api/v1/drawings/not-a-uuid/versions/1/file",
    ):
        response = await owner.get(path)
        assert response.status_code == 404, path
    async with httpx.AsyncClient(base_url=str(owner.base_url)) as anonymous:
        assert (await anonymous.get(url)).status_code == 401


def test_byte_range_parses_single_ranges_and_ignores_the_rest():
    assert byte_range(None, 10) is None
    assert byte_range("bytes=2-4", 10) == (2, 5)
    assert byte_range("bytes=-3", 10) == (7, 10)
    assert byte_range("bytes=-30", 10) == (0, 10)
    assert byte_range("bytes=8-", 10) == (8, 10)
    assert byte_range("bytes=1-2, 4-5", 10) is None
    assert byte_range("bytes=-", 10) is None
    for header in ("bytes=10-", "bytes=-0", "bytes=0-"):
        with pytest.raises(RangeNotSatisfiable):
            byte_range(header, 10 if header != "bytes=0-" else 0)


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    assert (
        content_disposition("plan A.pdf")
        == "attachment; filename=\"plan A.pdf\"; filename*=UTF-8''plan%20A.pdf"
    )
    assert content_disposition("平面图.dwg", "drawing-v3").startswith(
        'attachment; filename="drawing-v3.dwg";'
    )
    assert 'filename="a_b_.pdf"' in content_disposition('a"b;.pdf')
