"""Run the Locust users of `loadtest/locustfile.py` headless, for a bounded time, against a
throwaway server and worker (`loadtest.stack`), then print Locust's summary and a short table.

Locust runs as a subprocess: its gevent monkey-patching stays in that process and never meets
this process's asyncio code (the stack is started and torn down here, with asyncio).
Exit status: Locust's (non-zero when any request failed), 2 when Locust did not finish in time.
Must not: run unbounded, target anything but the 127.0.0.1 server it started, or leave
processes, its database or its Redis keys behind.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from loadtest.stack import running_stack

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_TIMEOUT_S = 10  # Locust lets running tasks finish this long after --run-time
EXIT_GRACE_S = 60  # spawning, stopping and writing reports must fit in this on top of the run time
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


def duration_s(text: str) -> int:
    """Locust's time strings ("30s", "2m", "1h30m", "45") in seconds."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30s, 2m, 1h30m)")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total < 1:
        raise argparse.ArgumentTypeError("the run time must be at least 1s")
    return total


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest.run_locust", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100, help="simulated applicants (default 100)")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second (default 20)")
    parser.add_argument(
        "--run-time", type=duration_s, default=30, help="how long to run, e.g. 30s, 2m (default 30s)"
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.spawn_rate <= 0:
        parser.error("--users and --spawn-rate must be positive")
    return args


def locust_command(host: str, args: argparse.Namespace, summary: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.run_time}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--host",
        host,
        "--summary-json",
        str(summary),
        "--loglevel",
        "WARNING",
    ]


def locust_env(password: str) -> dict[str, str]:
    """The locustfile reads the demo password from the environment: it stays off the command line."""
    return {**os.environ, "TONGBAN_DEMO_PASSWORD": password}


def print_summary(path: Path) -> None:
    """One line per request name from the file the locustfile writes as Locust quits (times in ms)."""
    if not path.exists():
        print(f"no statistics written ({path.name} is missing)")
        return
    summary = json.loads(path.read_text(encoding="utf-8"))
    head = ("method", "name", "requests", "failures", "p50", "p95", "p99", "max", "req/s")
    keys = ("method", "name", "requests", "failures", "p50_ms", "p95_ms", "p99_ms", "max_ms", "per_s")
    table = [head] + [tuple(_cell(row[key]) for key in keys) for row in summary["rows"]]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    for line in table:
        cells = (
            f"{v:<{w}}" if i < 2 else f"{v:>{w}}" for i, (v, w) in enumerate(zip(line, widths, strict=True))
        )
        print("  ".join(cells).rstrip())
    for error in summary["errors"]:
        print(f"error: {error['count']} × {error['name']}: {error['error']}")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("locust") is None:  # finds the package without importing (patching) it
        print("error: locust is not installed in this environment (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"run_locust  {datetime.now(UTC).isoformat(timespec='seconds')}  {os.cpu_count()} cpus  load {load}"
    )
    print(f"command: python -m loadtest.run_locust {shown}".rstrip(), flush=True)
    with running_stack("locust") as stack:
        summary = stack.var_dir / "locust-summary.json"
        command = locust_command(stack.server.url, args, summary)
        print("locust: " + " ".join(command[1:]), flush=True)
        started = time.perf_counter()
        try:
            limit_s = args.run_time + STOP_TIMEOUT_S + EXIT_GRACE_S
            code = subprocess.run(command, env=locust_env(stack.password), timeout=limit_s).returncode
        except subprocess.TimeoutExpired:  # subprocess.run has killed it
            print("error: locust did not finish in time", file=sys.stderr)
            code = 2
        print(f"locust exited with {code} after {time.perf_counter() - started:.1f}s; statistics (ms):")
        print_summary(summary)
        problems, examples = stack.log_problems()
        print(f"server and worker logs: {problems} warning/error lines")
        for example in examples:
            print(f"  {example}")
    return code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the stack has been torn down on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
