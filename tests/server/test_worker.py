"""The arq worker's shared state: arq gives every job a copy of the worker's `ctx`, so whatever jobs
must share (the limit on BIM checks at once, the document rendering processes, the key ring) is made
once at startup, and every job's copy refers to the same objects."""

from __future__ import annotations

from typing import Any

from docgen.pdf.template import sample_data
from docgen.stamp import Stamp
from server.worker import worker_settings


async def test_every_jobs_copy_of_ctx_shares_the_bim_gate_and_the_rendering_processes(settings, service_urls):
    worker = worker_settings(
        settings.model_copy(update={"bim_checks_at_once": 1, "docgen_processes": 1}),
        service_urls.database, service_urls.redis,
    )  # fmt: skip
    ctx: dict[str, Any] = {}
    await worker.on_startup(ctx)
    try:
        first, second = {**ctx, "job_id": "a"}, {**ctx, "job_id": "b"}  # what arq does for each job
        async with first["bim_gate"]:
            assert second["bim_gate"].locked()  # one check at a time, across jobs
        assert first["renderers"] is second["renderers"]
        stamp = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")
        permit = sample_data("construction_permit")
        one = await first["renderers"].render("construction_permit", permit, stamp, None)
        two = await second["renderers"].render("construction_permit", permit, stamp, None)
        assert one.files["pdf"] == two.files["pdf"]  # deterministic, and rendered by the one pool
        invalid = await second["renderers"].render("construction_permit", {}, stamp, None)
        assert isinstance(invalid, list)
        assert {p["field"] for p in invalid} >= {"permit_no", "construction_unit"}
    finally:
        await worker.on_shutdown(ctx)
