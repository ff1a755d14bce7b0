"""The `tongban` command as an operator uses it: `run` supervises everything and Ctrl-C stops it
all; `services` starts, reports and stops the embedded servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.seed import stable_id
from tests.support.clients import DEMO_PASSWORD
from tests.support.processes import free_port

BANNER_TIMEOUT_S = 90.0


def _read_until(proc: subprocess.Popen[str], needle: str, timeout_s: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not printed; output:\n{''.join(seen)}")


def test_run_starts_server_and_worker_prints_the_url_and_logins_and_ctrl_c_stops_everything(env, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "run"],
        env={
            **os.environ,
            **env,
            "TONGBAN_PORT": str(port),
            "TONGBAN_LOG_JSON": "false",
            "TONGBAN_LOG_LEVEL": "ERROR",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        output = _read_until(proc, "Ctrl-C stops everything", BANNER_TIMEOUT_S)
        assert f"tongban is running at http://127.0.0.1:{port}/" in output
        assert "pujiang" in output
        assert "zhujian" in output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/readyz").status_code == 200  # the banner comes only once it is ready
            assert (
                client.post("/api/v1/login", json={"login": "pujiang", "password": DEMO_PASSWORD}).status_code
                == 200
            )
            codes = {p["code"]: p["id"] for p in client.get("/api/v1/projects").json()["items"]}
            assert "2026-310115-47-01-000123" in codes  # demo data was seeded
            project_id = codes["2026-310115-47-01-000123"]
            documents = client.get(f"/api/v1/projects/{project_id}/documents").json()["items"]
            by_title = {d["title"]: d for d in documents}
            assert [d["form"] for d in documents] == ["bim_building", "bim_building"]  # demo filling forms
            report = client.get(
                f"/api/v1/documents/{by_title['1号楼 BIM 建筑信息填报']['id']}/validation"
            ).json()
            assert [e["path"] for e in report["errors"]] == ["loads[2].live_load"]  # left for the visitor
            drawings = client.get(f"/api/v1/projects/{project_id}/drawings", params={"q": "建施"}).json()
            assert drawings["total"] > 10  # a demo catalogue of several search pages
            with_file = next(d for d in drawings["items"] if d["latest_version"] >= 1)
            pdf = client.get(f"/api/v1/drawings/{with_file['id']}/versions/1/file")
            assert pdf.content.startswith(b"%PDF-1.7")
            assert pdf.content.rstrip().endswith(b"%%EOF")
            deadline = time.monotonic() + 120  # the demo deliverables, rendered by the worker `run` started
            while time.monotonic() < deadline:
                made = client.get(f"/api/v1/projects/{project_id}/deliverables").json()["deliverables"]
                if len(made) == 2 and all(d["status"] == "draft" for d in made):
                    break
                time.sleep(1)
            assert sorted(d["kind"] for d in made) == ["load_calculation", "structure_notes"]
            assert all(d["status"] == "draft" and d["previews"] for d in made), made
            second = codes["2026-310115-47-01-000456"]  # its 开工一件事 application, signed and submitted
            progress = client.get(f"/api/v1/projects/{second}/kaigong").json()
            assert sorted(c["item_code"] for c in progress["cases"]) == [
                "JLZL",
                "LSPS",
                "MFJS",
                "SGXK",
                "XFSJ",
            ]
            attached = client.get(f"/api/v1/projects/{second}/kaigong/materials").json()["materials"]
            assert {"SG01", "PS01", "JL01"} <= {m["code"] for m in attached}  # its required materials
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as supplier:
            login = supplier.post("/api/v1/login", json={"login": "huadong", "password": DEMO_PASSWORD})
            assert login.status_code == 200
            bid = stable_id("bid", "demo")  # its sample model is checked by the worker `run` started
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                answer = supplier.get(f"/api/v1/bids/{bid}/checks")
                assert answer.status_code == 200, answer.text
                checks = answer.json()["items"]
                if checks and checks[0]["status"] in ("passed", "failed", "error"):
                    break
                time.sleep(1)
            assert checks[0]["status"] == "failed", checks
            report = supplier.get(f"/api/v1/bim/checks/{checks[0]['id']}/report").json()
            ids_stage = next(s for s in report["stages"] if s["stage"] == "ids")
            missing = {row["name"] for row in ids_stage["data"]["completeness"]["fill_in"]}
            assert {"一层外墙-02"} <= missing  # the walls left without a fire rating
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        with httpx.Client(timeout=2) as client:
            try:
                client.get(f"http://127.0.0.1:{port}/healthz")
                raise AssertionError("the web server still answers after Ctrl-C")
            except httpx.ConnectError:
                pass
    finally:
        if proc.poll() is None:  # a failed assertion: stop it as a person would, so its children stop too
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_services_start_reports_and_stops_the_embedded_redis_of_a_var_directory(env, tmp_path: Path):
    own = {**os.environ, **env, "TONGBAN_VAR_DIR": str(tmp_path / "var")}
    del own["TONGBAN_REDIS_URL"]  # the database stays the configured one; only Redis is embedded

    def tongban(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "server.cli", *args], env=own, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "redis: stopped" in tongban("services", "status")
    started = tongban("services", "start")
    assert "redis: unix://" in started
    assert "redis: running" in tongban("services", "status")
    assert "redis" in tongban("services", "stop")
    assert "redis: stopped" in tongban("services", "status")
