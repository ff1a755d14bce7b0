"""Locust users of the walking skeleton: an enterprise applicant who logs in once, then lists its
projects, registers new ones and opens project pages.

`python -m loadtest.run_locust` starts a throwaway server and worker and runs this file headless
against them, handing it their demo password in TONGBAN_DEMO_PASSWORD (the variable the server
reads too). `TONGBAN_DEMO_PASSWORD=… locust -f loadtest/locustfile.py --host http://127.0.0.1:8000`
runs it against a server you started (never against one you do not own).
Must not: import project modules: Locust monkey-patches this process with gevent, and the
project's code is asyncio code; the standard library and Locust are all this file needs.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

LOGIN = "pujiang"  # a demo applicant: may register projects and read its own
PROJECT_NAME = "压测项目"
CSRF_HEADER = "X-CSRF-Token"
REMEMBERED_PROJECTS = 50  # ids a user keeps to open pages of
PERCENTILES = (0.5, 0.95, 0.99)


def add_options(parser: Any) -> None:
    parser.add_argument("--summary-json", default="", help="write the final statistics to this JSON file")
    # From the environment, so the password stays off the command line (and out of `ps`).
    parser.add_argument(
        "--demo-password",
        default="",
        env_var="TONGBAN_DEMO_PASSWORD",
        help="password of the demo accounts (default: $TONGBAN_DEMO_PASSWORD)",
    )


def write_summary(environment: Environment, **kwargs: Any) -> None:
    """The final figures per request name, for `run_locust` (Locust's own --json empties its
    statistics before it prints its summary, and its CSV is only rewritten once a second)."""
    path = environment.parsed_options.summary_json if environment.parsed_options else ""
    if not path:
        return
    stats = environment.stats
    rows = [
        {
            "method": entry.method or "",
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            **{f"p{round(q * 100)}_ms": entry.get_response_time_percentile(q) for q in PERCENTILES},
            "max_ms": entry.max_response_time,
            "per_s": entry.total_rps,
        }
        for entry in [*sorted(stats.entries.values(), key=lambda e: (e.name, e.method or "")), stats.total]
    ]
    errors = [{"name": e.name, "error": str(e.error), "count": e.occurrences} for e in stats.errors.values()]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"rows": rows, "errors": errors}, handle, ensure_ascii=False, indent=2)


def require_password(environment: Environment, **kwargs: Any) -> None:
    """Refuse to start without the password: every user would fail its login, and five failures lock
    the account for a quarter of an hour (等保 lockout)."""
    if environment.parsed_options is not None and not environment.parsed_options.demo_password:
        raise SystemExit("locustfile: set TONGBAN_DEMO_PASSWORD (or --demo-password) to the demo password")


# Locust's event hooks are untyped.
events.init_command_line_parser.add_listener(add_options)  # type: ignore[no-untyped-call]
events.init.add_listener(require_password)  # type: ignore[no-untyped-call]
events.quitting.add_listener(write_summary)  # type: ignore[no-untyped-call]


def _failed(response: Any) -> str:
    """What went wrong, for Locust's error report (status 0 means no HTTP answer at all)."""
    return f"answered {response.status_code}" if response.status_code else f"no answer: {response.error!r}"


class Applicant(FastHttpUser):
    """Think time of 0.5-1.5 s between actions: 100 users offer about 100 requests/s."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.project_ids: list[str] = []
        self.csrf_headers: dict[str, str] = {}
        options = self.environment.parsed_options
        body = {"login": LOGIN, "password": options.demo_password if options else ""}
        with self.client.post("/api/v1/login", json=body, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(_failed(response))
                return
            # Sent back on every state-changing request, as the pages' common.js does.
            self.csrf_headers = {CSRF_HEADER: response.json()["csrf_token"]}

    def remember(self, project_id: str) -> None:
        self.project_ids.append(project_id)
        del self.project_ids[:-REMEMBERED_PROJECTS]

    @task(5)
    def list_projects(self) -> None:
        with self.client.get("/api/v1/projects", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(_failed(response))
                return
            items = response.json()["items"]
            if not self.project_ids:
                for item in items[:REMEMBERED_PROJECTS]:
                    self.remember(item["id"])

    @task(1)
    def register_project(self) -> None:
        n = uuid.uuid4().int  # a 项目代码 with the GB/T 40058-2021 structure
        body = {"code": f"2026-33{n % 10**4:04d}-47-01-{n // 10**4 % 10**6:06d}", "name": PROJECT_NAME}
        with self.client.post(
            "/api/v1/projects", json=body, headers=self.csrf_headers, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(_failed(response))
                return
            self.remember(response.json()["id"])

    @task(3)
    def open_project_page(self) -> None:
        if not self.project_ids:
            self.register_project()
            return
        project_id = random.choice(self.project_ids)
        with self.client.get(
            f"/projects/{project_id}", name="/projects/[id]", catch_response=True
        ) as response:
            if response.status_code != 200 or "<html" not in response.text:
                response.failure(_failed(response))
