"""The tus 1.0 endpoint with a standard client (tuspy) and by hand: creation, chunks, checksums,
concatenation, termination, expiry, and every refusal the protocol and our rules call for."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis, create_pool

from server.app import arq_settings
from server.security.sm3 import sm3, sm3_hex
from tests.support.uploads import (
    pdf_bytes,
    project_with_drawings,
    start_raw_patch,
    tus_client,
    upload_version,
    uploader,
)

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {**TUS, "Content-Type": "application/offset+octet-stream"}


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(
    client: httpx.AsyncClient, length: int, drawing_id: str, name: str = "图纸.pdf", **headers: str
):
    return await client.post("/files/", headers={
        **TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(filename=name, drawing=drawing_id),
        **headers,
    })  # fmt: skip


async def offset_of(client: httpx.AsyncClient, location: str) -> int:
    response = await client.head(location, headers=TUS)
    assert response.status_code == 200, response.status_code
    return int(response.headers["upload-offset"])


async def versions(client: httpx.AsyncClient, drawing_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/drawings/{drawing_id}")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["versions"]
    return items


@pytest.fixture
async def owner(as_user) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await as_user("pujiang")
    return client


@pytest.fixture
async def catalogue(owner) -> dict[str, Any]:
    return await project_with_drawings(owner, count=3)


def blob_path(var_dir: Path, digest: str) -> Path:
    return var_dir / "files" / "blobs" / digest[:2] / digest[2:4] / digest


async def test_options_announce_the_version_extensions_checksums_and_maximum_size(anonymous):
    response = await anonymous.options("/files/")
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) >= {
        "creation", "creation-with-upload", "termination", "checksum", "expiration", "concatenation"
    }  # fmt: skip
    assert {"sha256", "sm3"} <= set(response.headers["tus-checksum-algorithm"].split(","))
    assert int(response.headers["tus-max-size"]) > 0


async def test_tuspy_uploads_a_file_in_chunks_and_it_becomes_the_entrys_next_version(
    owner, catalogue, var_dir
):
    drawing_id = catalogue["drawings"][0]["id"]
    first, second = pdf_bytes(3 * 1024 * 1024 + 17, seed=1), pdf_bytes(1024 * 1024, seed=2)
    await upload_version(owner, drawing_id, first, "建施-01 一层平面图.pdf", chunk_size=1024 * 1024)
    await upload_version(owner, drawing_id, second, "建施-01 一层平面图（修改）.pdf")
    found = await versions(owner, drawing_id)
    assert [(v["version"], v["sm3"], v["size"]) for v in found] == [
        (2, sm3_hex(second), len(second)), (1, sm3_hex(first), len(first))
    ]  # fmt: skip
    assert found[1]["file_name"] == "建施-01 一层平面图.pdf"
    assert blob_path(var_dir, sm3_hex(first)).read_bytes() == first


async def test_the_same_bytes_uploaded_twice_are_stored_once(owner, catalogue, var_dir):
    data = pdf_bytes(200_000, seed=3)
    for entry in catalogue["drawings"][:2]:
        await upload_version(owner, entry["id"], data, "同一文件.pdf")
    path = blob_path(var_dir, sm3_hex(data))
    assert path.read_bytes() == data
    assert path.stat().st_nlink == 1  # the parts were linked in and then removed: one copy


async def test_tuspy_with_its_checksum_option_uploads_and_each_chunk_is_verified(owner, catalogue):
    drawing_id = catalogue["drawings"][0]["id"]
    data = pdf_bytes(700_000, seed=4)
    up = uploader(
        owner, data, {"filename": "校验.pdf", "drawing": drawing_id}, 256 * 1024, upload_checksum=True
    )
    await asyncio.to_thread(up.upload)
    assert (await versions(owner, drawing_id))[0]["sm3"] == sm3_hex(data)


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
async def test_a_chunk_with_a_right_checksum_is_kept_and_a_wrong_one_is_refused_with_460(
    owner, catalogue, algorithm
):
    data = pdf_bytes(4096, seed=5)
    created = await create(owner, len(data), catalogue["drawings"][0]["id"])
    assert created.status_code == 201, created.text
    location = created.headers["location"]

    def digest(chunk: bytes) -> str:
        raw = hashlib.sha256(chunk).digest() if algorithm == "sha256" else sm3(chunk)
        return f"{algorithm} {base64.b64encode(raw).decode()}"

    wrong = await owner.patch(location, content=data[:2048], headers={
        **CHUNK, "Upload-Offset": "0", "Upload-Checksum": digest(data[:2048] + b"x")})  # fmt: skip
    assert wrong.status_code == 460
    assert wrong.json()["error"]["code"] == "checksum_mismatch"
    assert await offset_of(owner, location) == 0
    right = await owner.patch(location, content=data[:2048], headers={
        **CHUNK, "Upload-Offset": "0", "Upload-Checksum": digest(data[:2048])})  # fmt: skip
    assert right.status_code == 204
    assert right.headers["upload-offset"] == "2048"
    unknown = await owner.patch(location, content=data[2048:], headers={
        **CHUNK, "Upload-Offset": "2048", "Upload-Checksum": "md5 AAAA"})  # fmt: skip
    assert unknown.status_code == 400
    assert await offset_of(owner, location) == 2048


async def test_a_patch_at_the_wrong_offset_is_refused_with_409_and_changes_nothing(owner, catalogue):
    data = pdf_bytes(10_000, seed=6)
    location = (await create(owner, len(data), catalogue["drawings"][0]["id"])).headers["location"]
    first = await owner.patch(location, content=data[:4000], headers={**CHUNK, "Upload-Offset": "0"})
    assert first.status_code == 204
    again = await owner.patch(location, content=data[:4000], headers={**CHUNK, "Upload-Offset": "0"})
    assert again.status_code == 409
    assert again.json()["error"]["offset"] == 4000
    ahead = await owner.patch(location, content=data[5000:], headers={**CHUNK, "Upload-Offset": "5000"})
    assert ahead.status_code == 409
    rest = await owner.patch(location, content=data[4000:], headers={**CHUNK, "Upload-Offset": "4000"})
    assert rest.status_code == 204
    assert (await versions(owner, catalogue["drawings"][0]["id"]))[0]["sm3"] == sm3_hex(data)


async def test_creation_with_upload_takes_the_first_chunk_in_the_post(owner, catalogue):
    data = pdf_bytes(3000, seed=7)
    created = await create(
        owner, len(data), catalogue["drawings"][0]["id"], "一次上传.pdf",
        **{"Content-Type": "application/offset+octet-stream"},
    )  # fmt: skip
    assert created.status_code == 201
    response = await owner.post("/files/", content=data, headers={
        **CHUNK, "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(filename="一次上传.pdf", drawing=catalogue["drawings"][1]["id"]),
    })  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.headers["upload-offset"] == str(len(data))
    assert (await versions(owner, catalogue["drawings"][1]["id"]))[0]["sm3"] == sm3_hex(data)


async def test_requests_without_the_tus_version_header_are_refused_with_412(owner, catalogue):
    response = await owner.post("/files/", headers={"Upload-Length": "10"})
    assert response.status_code == 412
    assert response.headers["tus-resumable"] == "1.0.0"


async def test_uploads_over_the_maximum_size_or_the_enterprise_quota_are_refused_with_413(owner, catalogue):
    maximum = int((await owner.options("/files/")).headers["tus-max-size"])
    drawing_id = catalogue["drawings"][0]["id"]
    too_big = await create(owner, maximum + 1, drawing_id)
    assert too_big.status_code == 413
    reserved = []
    try:
        for _ in range(20):  # each reserves the maximum: the quota runs out long before the loop ends
            response = await create(owner, maximum, drawing_id)
            if response.status_code != 201:
                break
            reserved.append(response.headers["location"])
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "quota_exceeded"
    finally:
        for location in reserved:
            assert (await owner.delete(location, headers=TUS)).status_code == 204
    assert (await create(owner, 100, drawing_id)).status_code == 201  # terminating gave the quota back


async def test_another_users_or_an_unknown_upload_answers_404(owner, catalogue, as_user):
    location = (await create(owner, 100, catalogue["drawings"][0]["id"])).headers["location"]
    stranger = await as_user("shencheng")
    assert (await stranger.head(location, headers=TUS)).status_code == 404
    patch = await stranger.patch(location, content=b"%PDF-", headers={**CHUNK, "Upload-Offset": "0"})
    assert patch.status_code == 404
    assert (await stranger.delete(location, headers=TUS)).status_code == 404
    assert (await owner.head(f"/files/{uuid.uuid4()}", headers=TUS)).status_code == 404
    assert await offset_of(owner, location) == 0


async def test_uploading_to_another_enterprises_catalogue_or_without_a_target_is_refused(
    owner, catalogue, as_user
):
    stranger = await as_user("shencheng")
    response = await create(stranger, 100, catalogue["drawings"][0]["id"])
    assert response.status_code == 404
    reviewer = await as_user("zhujian")
    assert (await create(reviewer, 100, catalogue["drawings"][0]["id"])).status_code == 403
    no_target = await owner.post("/files/", headers={**TUS, "Upload-Length": "10",
                                                     "Upload-Metadata": metadata(filename="a.pdf")})  # fmt: skip
    assert no_target.status_code == 422
    bad_metadata = await owner.post(
        "/files/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": "a b c,"}
    )
    assert bad_metadata.status_code == 400


async def test_names_are_sanitised_and_names_with_control_characters_refused(owner, catalogue):
    drawing_id = catalogue["drawings"][2]["id"]
    data = pdf_bytes(1000, seed=8)
    await upload_version(owner, drawing_id, data, "../../etc/passwd.pdf")
    assert (await versions(owner, drawing_id))[0]["file_name"] == "passwd.pdf"
    nul = await create(owner, 100, drawing_id, "a\x00b.pdf")
    assert nul.status_code == 422
    newline = await create(owner, 100, drawing_id, "a\nb.pdf")
    assert newline.status_code == 422


async def test_content_that_is_no_allowed_type_or_disagrees_with_its_extension_is_refused_with_415(
    owner, catalogue
):
    drawing_id = catalogue["drawings"][0]["id"]
    before = len(await versions(owner, drawing_id))
    for name, data in (("程序.pdf", b"MZ\x90\x00" + bytes(5000)), ("图纸.dwg", pdf_bytes(5000, seed=9))):
        location = (await create(owner, len(data), drawing_id, name)).headers["location"]
        response = await owner.patch(location, content=data, headers={**CHUNK, "Upload-Offset": "0"})
        assert response.status_code == 415, response.text
        assert (await owner.head(location, headers=TUS)).status_code == 404  # the upload is gone
    assert len(await versions(owner, drawing_id)) == before


async def test_termination_removes_the_upload_and_its_bytes(owner, catalogue, var_dir):
    data = pdf_bytes(5000, seed=10)
    location = (await create(owner, len(data), catalogue["drawings"][0]["id"])).headers["location"]
    await owner.patch(location, content=data[:3000], headers={**CHUNK, "Upload-Offset": "0"})
    part = var_dir / "files" / "parts" / location.rsplit("/", 1)[-1]
    assert part.stat().st_size == 3000
    assert (await owner.delete(location, headers=TUS)).status_code == 204
    assert not part.exists()
    assert (await owner.head(location, headers=TUS)).status_code == 404


async def test_two_concurrent_patches_to_one_upload_are_not_interleaved(owner, catalogue):
    data = pdf_bytes(600_000, seed=11)
    location = (await create(owner, len(data), catalogue["drawings"][0]["id"])).headers["location"]
    release = asyncio.Event()

    async def slow_body():
        yield data[:100_000]
        await release.wait()
        yield data[100_000:300_000]

    first = asyncio.create_task(owner.patch(location, content=slow_body(), headers={
        **CHUNK, "Upload-Offset": "0", "Content-Length": "300000"}))  # fmt: skip
    await asyncio.sleep(0.5)
    second = await owner.patch(location, content=data[:300_000], headers={**CHUNK, "Upload-Offset": "0"})
    assert second.status_code == 423
    release.set()
    assert (await first).status_code == 204
    rest = await owner.patch(location, content=data[300_000:], headers={**CHUNK, "Upload-Offset": "300000"})
    assert rest.status_code == 204
    assert (await versions(owner, catalogue["drawings"][0]["id"]))[0]["sm3"] == sm3_hex(data)


async def test_a_cut_connection_keeps_the_bytes_that_arrived_and_the_client_resumes_from_there(
    owner, catalogue
):
    data = pdf_bytes(2 * 1024 * 1024, seed=12)
    drawing_id = catalogue["drawings"][1]["id"]
    location = (await create(owner, len(data), drawing_id)).headers["location"]
    writer = await start_raw_patch(owner, owner.base_url.port, location, 0, len(data), data[:700_000])
    await asyncio.sleep(0.5)
    writer.close()
    for _ in range(50):
        stored = await offset_of(owner, location)
        if stored > 0:
            break
        await asyncio.sleep(0.1)
    assert 0 < stored <= 700_000
    up = tus_client(owner).uploader(file_stream=io.BytesIO(data), url=str(owner.base_url.join(location)),
                                    chunk_size=512 * 1024)  # fmt: skip
    assert up.offset == stored
    await asyncio.to_thread(up.upload)
    assert (await versions(owner, drawing_id))[0]["sm3"] == sm3_hex(data)


async def test_parallel_partial_uploads_are_concatenated_into_one_version(owner, catalogue):
    data = pdf_bytes(4 * 1024 * 1024 + 3, seed=13)
    drawing_id = catalogue["drawings"][2]["id"]
    quarter = len(data) // 4
    pieces = [data[i * quarter : (i + 1) * quarter if i < 3 else len(data)] for i in range(4)]

    def upload_partial(piece: bytes) -> str:
        client = tus_client(owner)
        client.set_headers({"Upload-Concat": "partial"})
        up = client.uploader(file_stream=io.BytesIO(piece), chunk_size=512 * 1024)
        up.upload()
        return str(up.url)

    urls = await asyncio.gather(*(asyncio.to_thread(upload_partial, p) for p in pieces))
    paths = " ".join(httpx.URL(u).path for u in urls)
    unfinished = await owner.post(
        "/files/", headers={**TUS, "Upload-Length": "10", "Upload-Concat": "partial"}
    )
    refused = await owner.post("/files/", headers={
        **TUS, "Upload-Concat": f"final;{paths} {unfinished.headers['location']}",
        "Upload-Metadata": metadata(filename="合并.pdf", drawing=drawing_id)})  # fmt: skip
    assert refused.status_code == 409
    final = await owner.post("/files/", headers={
        **TUS, "Upload-Concat": f"final;{paths}",
        "Upload-Metadata": metadata(filename="合并.pdf", drawing=drawing_id)})  # fmt: skip
    assert final.status_code == 201, final.text
    head = await owner.head(final.headers["location"], headers=TUS)
    assert head.headers["upload-concat"].startswith("final;")
    assert head.headers["upload-offset"] == str(len(data))
    assert (await versions(owner, drawing_id))[0]["sm3"] == sm3_hex(data)
    patch = await owner.patch(
        final.headers["location"], content=b"x", headers={**CHUNK, "Upload-Offset": "0"}
    )
    assert patch.status_code == 403
    for url in urls:  # the pieces were consumed
        assert (await owner.head(httpx.URL(url).path, headers=TUS)).status_code == 404


async def test_an_expired_upload_answers_410_and_the_workers_sweep_removes_it(
    owner, catalogue, pool, settings, worker, var_dir
):
    data = pdf_bytes(5000, seed=14)
    location = (await create(owner, len(data), catalogue["drawings"][0]["id"])).headers["location"]
    created = await owner.patch(location, content=data[:1000], headers={**CHUNK, "Upload-Offset": "0"})
    assert "upload-expires" in created.headers
    upload_id = uuid.UUID(location.rsplit("/", 1)[-1])
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE file_upload SET expires_at = now() - interval '1 second' WHERE id = $1", upload_id
        )
    assert (await owner.head(location, headers=TUS)).status_code == 410
    patch = await owner.patch(location, content=data[1000:], headers={**CHUNK, "Upload-Offset": "1000"})
    assert patch.status_code == 410
    arq: ArqRedis = await create_pool(
        arq_settings(settings.redis_url, settings), default_queue_name=settings.arq_queue
    )
    try:
        job = await arq.enqueue_job("sweep_expired_uploads")
        assert job is not None
        assert await job.result(timeout=30) >= 1
    finally:
        await arq.aclose()
    assert (await owner.head(location, headers=TUS)).status_code == 404
    assert not (var_dir / "files" / "parts" / str(upload_id)).exists()
