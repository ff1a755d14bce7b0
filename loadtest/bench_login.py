"""Benchmark of identity: how many logins a second the server sustains (argon2id cost against many
concurrent users), SMS-code logins, and what a request's authentication costs with a cookie session
or an API token, against its own server on 127.0.0.1 (`loadtest.stack`, no worker).

Measures, in this order, and prints one table:
  0. argon2id alone: one password verification in this process, as the server runs it;
  1. POST /api/v1/admin/users as the demo "admin": `--accounts` throwaway applicants (one hash each);
  2. POST /api/v1/login (password) at each `--concurrency`, each login as the next account in turn,
     with the server's CPU time per login; during the last level, another user sends requests back
     to back (one that needs a database connection, one that does not), to show what a login
     storm does to everyone else, against the same requests alone;
  3. SMS-code login (request a code, read it from the dev inbox, log in with it) at
     `--sms-concurrency`, each on its own account's phone (the 60 s resend cooldown is per phone);
  4. GET /api/v1/me at `--me-concurrency` with a cookie session, with one API token shared by every
     caller, and with one token per caller (a token costs a database lookup and write per request).
Closed loops (see `loadtest.bench_skeleton`), each caller with its own keep-alive connection.

SMS callers each connect from their own loopback address (127.0.1.x), as phones behind different
addresses would: one address may ask for 30 codes an hour (`server/identity/sms_codes.py` IP_LIMIT).
Exit status: 0 when every operation succeeded, 1 when any failed.
Must not: run unbounded, talk to anything but the 127.0.0.1 server it started, send a wrong
password (five lock an account for 15 minutes), or leave processes, its database or Redis keys behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from loadtest.bench_skeleton import (
    CSRF_HEADER,
    HTTP_TIMEOUT_S,
    OPERATION_ERRORS,
    WARMUP_REQUESTS,
    Failed,
    Series,
    closed_loop,
    describe_machine,
    expect,
    finish,
    int_list,
    print_table,
    report,
    report_failures,
    rss_mb,
)
from loadtest.stack import ADMIN_LOGIN, LOGIN, Stack, new_password, running_stack
from server import db
from server.identity.passwords import MEMORY_COST_KIB, TIME_COST, hash_password, verify_password
from server.seed import stable_id

BENCH_ORG = "91310115MA1K4AB12X"  # 上海浦江置业有限公司 (server/seed.py ORGANIZATIONS)
PHONE_BASE = 13_700_000_000  # bench phones 137xxxxxxxx; the demo accounts have 139000000xx
SMS_SOURCE_NET = "127.0.1."  # caller k connects from 127.0.1.(k+1)
SMS_CODES_PER_ADDRESS = 25  # under the server's 30 codes per address and hour, with room to spare
ACCOUNT_CREATORS = 10
TOKEN_SCOPES = ["project.read", "project.create"]
ARGON2_SAMPLES = 15
PROBE_MAX = 10_000  # requests of a probe, whatever happens (it stops with the series it watches)
PROBE_ALONE_REQUESTS = 200
# What another user does during the login storm: one request needs a pooled database connection,
# the other only the session (Redis). If only the first suffers, the pool is what logins exhaust.
PROBES = ("/api/v1/projects", "/api/v1/me")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
DATABASE_BACKENDS = """
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"""


@dataclass
class Accounts:
    logins: list[str]
    phones: list[str]
    password: str


def cpu_s(pid: int) -> float:
    """User + system CPU time of a process and all its threads (Linux /proc), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime: fields 14, 15 of stat(5)


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Target:
    """The stack under test, and a connection of our own to its database for finding its backends."""

    url: str
    server_pid: int
    db: Any  # asyncpg.Connection (untyped library)

    async def database_pids(self) -> list[int]:
        return [int(row["pid"]) for row in await self.db.fetch(DATABASE_BACKENDS)]

    async def database_cpu_s(self, pids: Sequence[int]) -> dict[int, float]:
        found = {}
        for pid in {*pids, *await self.database_pids()}:
            with contextlib.suppress(OSError):  # a backend that has exited meanwhile
                found[pid] = cpu_s(pid)
        return found


@contextlib.asynccontextmanager
async def cpu_noted(series: Series, target: Target) -> AsyncIterator[None]:
    """Note the CPU time per successful operation of the server, of the PostgreSQL backends serving
    its database, and of this load generator. Redis, shared with other users of the machine, is not
    counted."""
    database_before = await target.database_cpu_s([])
    server_before, client_before = cpu_s(target.server_pid), time.process_time()
    yield
    server, client = cpu_s(target.server_pid) - server_before, time.process_time() - client_before
    database_after = await target.database_cpu_s(list(database_before))
    database = sum(t - database_before.get(pid, 0.0) for pid, t in database_after.items())
    ops = max(series.succeeded, 1)
    cores = server / series.wall_s if series.wall_s else float("nan")
    series.note = (f"{series.note}; " if series.note else "") + (
        f"CPU per op: server {server / ops * 1000:.1f} ms ({cores:.2f} cores), "
        f"PostgreSQL {f'{database / ops * 1000:.1f} ms' if database_after else 'n/a (not local)'}, "
        f"bench {client / ops * 1000:.1f} ms"
    )


def new_client(
    base_url: str, *, source: str | None = None, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(limits=_ONE_CONNECTION, local_address=source)
    return httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S, transport=transport, headers=headers)


@contextlib.asynccontextmanager
async def clients_of(made: list[httpx.AsyncClient]) -> AsyncIterator[list[httpx.AsyncClient]]:
    try:
        yield made
    finally:
        for client in made:
            await client.aclose()


async def log_in(client: httpx.AsyncClient, login: str, password: str) -> dict[str, object]:
    """A password login on `client`, whose later requests then carry the session and its CSRF token."""
    body = {"login": login, "password": password}
    session: dict[str, object] = expect(await client.post("/api/v1/login", json=body), 200).json()
    if not isinstance(session.get("csrf_token"), str) or session.get("password_expired"):
        raise Failed(
            f"login of {login} answered {sorted(session)} (password_expired {session.get('password_expired')})"
        )
    client.headers[CSRF_HEADER] = str(session["csrf_token"])
    return session


def argon2_series() -> Series:
    """One password verification at the server's cost parameters, in this process, one thread."""
    password = new_password()
    stored = hash_password(password)
    series = Series("argon2", f"verify (t={TIME_COST}, {MEMORY_COST_KIB // 1024} MiB), in-process", 1)
    started = time.perf_counter()
    for _ in range(ARGON2_SAMPLES):
        began = time.perf_counter()
        if not verify_password(stored, password).matches:
            series.fail(Failed("argon2 did not match its own hash"))
            continue
        series.latencies_s.append(time.perf_counter() - began)
    series.wall_s = time.perf_counter() - started
    ceiling = (os.cpu_count() or 1) / statistics.median(series.latencies_s)
    series.note = f"{os.cpu_count()} cores ⇒ at most ~{ceiling:.0f} logins/s if hashing were all they did"
    return report(series)


async def create_accounts(admin: httpx.AsyncClient, target: Target, count: int) -> tuple[Accounts, Series]:
    accounts = Accounts(
        [f"bench{k:03d}" for k in range(count)], [str(PHONE_BASE + k) for k in range(count)], new_password()
    )
    org_id = str(stable_id("org", BENCH_ORG))
    creators = [
        admin,
        *(new_client(target.url, headers=dict(admin.headers)) for _ in range(ACCOUNT_CREATORS - 1)),
    ]
    for creator in creators[1:]:
        creator.cookies = admin.cookies
    numbers = itertools.count()

    async def op(k: int) -> None:
        n = next(numbers)
        body = {
            "login": accounts.logins[n], "name": f"压测用户{n}", "org_id": org_id, "role": "applicant",
            "phone": accounts.phones[n], "password": accounts.password,
        }  # fmt: skip
        expect(await creators[k].post("/api/v1/admin/users", json=body), 201)

    series = Series("setup", "POST /api/v1/admin/users (one hash each)", ACCOUNT_CREATORS)
    async with clients_of(creators[1:]), cpu_noted(series, target):
        await closed_loop(series, count, op)
    return accounts, report(series)


async def bench_password_logins(
    target: Target, accounts: Accounts, levels: Sequence[int], total: int, probes: Sequence[httpx.AsyncClient]
) -> list[Series]:
    """Each level on fresh connections; the highest level runs `watched_by` the probes."""
    results: list[Series] = []
    turns = itertools.count()
    for level in levels:
        async with clients_of([new_client(target.url) for _ in range(level)]) as callers:

            async def op(k: int) -> None:
                n = next(turns) % len(accounts.logins)
                await log_in(callers[k], accounts.logins[n], accounts.password)
                callers[k].cookies.clear()

            series = Series("password", "POST /api/v1/login", level)
            watched: list[Series] = []
            async with cpu_noted(series, target):
                if level == max(levels):
                    watched = await watched_by(probes, closed_loop(series, total, op))
                else:
                    await closed_loop(series, total, op)
            results.append(report(series))
            for probe in watched:
                probe.what += f" during c={level} logins"
                results.append(report(probe))
    return results


async def probe_alone(probes: Sequence[httpx.AsyncClient], total: int) -> list[Series]:
    """The probes' requests without other load: the baseline of `watched_by`."""
    results = []
    for path, client in zip(PROBES, probes, strict=True):
        expect(await client.get(path), 200)

        async def op(k: int, client: httpx.AsyncClient = client, path: str = path) -> None:
            expect(await client.get(path), 200)

        results.append(report(await closed_loop(Series("probe", f"GET {path} alone", 1), total, op)))
    return results


async def watched_by(probes: Sequence[httpx.AsyncClient], load: Awaitable[Series]) -> list[Series]:
    """Await `load` while each probe sends its request back to back (another user, in its own
    session); returns one series per probe."""
    done = asyncio.Event()
    watched = [Series("probe", f"GET {path}", 1) for path in PROBES]

    async def watch(series: Series, client: httpx.AsyncClient, path: str) -> None:
        started = time.perf_counter()
        while not done.is_set() and series.count < PROBE_MAX:
            began = time.perf_counter()
            try:
                expect(await client.get(path), 200)
            except (Failed, *OPERATION_ERRORS) as exc:
                series.fail(exc)
            else:
                series.latencies_s.append(time.perf_counter() - began)
        series.wall_s = time.perf_counter() - started

    async def run_load() -> None:
        try:
            await load
        finally:
            done.set()

    async with asyncio.TaskGroup() as group:
        for series, client, path in zip(watched, probes, PROBES, strict=True):
            group.create_task(watch(series, client, path))
        group.create_task(run_load())
    return watched


async def bench_sms_logins(target: Target, accounts: Accounts, concurrency: int, total: int) -> Series:
    sources = [f"{SMS_SOURCE_NET}{k + 1}" for k in range(concurrency)]
    phones = iter(accounts.phones[:total])  # each phone once: a second code within 60 s is refused

    async with clients_of([new_client(target.url, source=s) for s in sources]) as callers:

        async def op(k: int) -> None:
            phone, client = next(phones), callers[k]
            expect(await client.post("/api/v1/login/sms/code", json={"phone": phone}), 200)
            inbox = expect(await client.get("/api/v1/dev/sms", params={"phone": phone}), 200).json()
            body = {"phone": phone, "code": inbox["params"]["code"]}
            expect(await client.post("/api/v1/login/sms", json=body), 200)
            client.cookies.clear()

        series = Series("sms", "code → dev inbox → POST /api/v1/login/sms", concurrency)
        async with cpu_noted(series, target):
            await closed_loop(series, total, op)
    return report(series)


async def make_token(session: httpx.AsyncClient, name: str) -> str:
    body = {"name": name, "scopes": TOKEN_SCOPES}
    token = str(expect(await session.post("/api/v1/account/tokens", json=body), 201).json()["token"])
    if not token.startswith("tbk_"):
        raise Failed("the token does not start with tbk_")
    return token


async def bench_me(target: Target, session: httpx.AsyncClient, level: int, total: int) -> list[Series]:
    """GET /api/v1/me as one user: a cookie session, one token for all callers, one token each."""
    url = target.url
    shared = await make_token(session, "bench shared")
    own = [await make_token(session, f"bench {k}") for k in range(level)]
    variants = {
        "cookie session": [{"Cookie": f"tb_session={session.cookies['tb_session']}"}] * level,
        "one API token, all callers": [{"Authorization": f"Bearer {shared}"}] * level,
        "an API token per caller": [{"Authorization": f"Bearer {t}"} for t in own],
    }
    results = []
    for what, headers in variants.items():
        async with clients_of([new_client(url, headers=h) for h in headers]) as callers:
            for client in [*callers, *[callers[0]] * WARMUP_REQUESTS]:
                expect(await client.get("/api/v1/me"), 200)

            async def op(k: int) -> None:
                if expect(await callers[k].get("/api/v1/me"), 200).json()["user"]["login"] != LOGIN:
                    raise Failed("/api/v1/me answered another user")

            series = Series("me", f"GET /api/v1/me, {what}", level)
            async with cpu_noted(series, target):
                await closed_loop(series, total, op)
            results.append(report(series))
    return results


async def run(stack: Stack, args: argparse.Namespace) -> list[Series]:
    url = stack.server.url
    target = Target(url, stack.server.proc.pid, await db.connect(stack.database_url))
    try:
        async with clients_of([new_client(url), new_client(url)]) as (admin, user):
            await log_in(admin, ADMIN_LOGIN, stack.password)
            await log_in(user, LOGIN, stack.password)
            results = [argon2_series()]
            print("accounts", flush=True)
            accounts, created = await create_accounts(admin, target, args.accounts)
            results.append(created)
            probes = [user, new_client(url, headers=dict(user.headers))]
            probes[1].cookies = user.cookies
            async with clients_of(probes[1:]):
                results += await probe_alone(probes, PROBE_ALONE_REQUESTS)
                print("password logins", flush=True)
                results += await bench_password_logins(
                    target, accounts, args.concurrency, args.logins, probes
                )
            print("sms logins", flush=True)
            results.append(await bench_sms_logins(target, accounts, args.sms_concurrency, args.sms_logins))
            print("authenticated requests", flush=True)
            results += await bench_me(target, user, args.me_concurrency, args.requests)
    finally:
        await target.db.close()
    return results


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_login", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--accounts", type=int, default=100, help="throwaway applicants to create (default 100)")
    add("--logins", type=int, default=300, help="password logins per concurrency level (default 300)")
    add(
        "--concurrency", type=int_list, default=[1, 10, 100], help="password-login callers (default 1,10,100)"
    )
    add("--sms-logins", type=int, default=100, help="SMS-code logins, at most one per account (default 100)")
    add("--sms-concurrency", type=int, default=10, help="SMS-login callers (default 10)")
    add("--requests", type=int, default=2000, help="GET /api/v1/me per authentication variant (default 2000)")
    add("--me-concurrency", type=int, default=10, help="callers of GET /api/v1/me (default 10)")
    args = parser.parse_args(argv)
    if (
        min(
            args.accounts,
            args.logins,
            args.sms_logins,
            args.sms_concurrency,
            args.requests,
            args.me_concurrency,
        )
        < 1
    ):
        parser.error("counts and concurrencies must be positive")
    if args.sms_logins > args.accounts:
        parser.error(
            "--sms-logins may not exceed --accounts: each SMS login needs a phone not used in the last 60 s"
        )
    if args.sms_logins > SMS_CODES_PER_ADDRESS * args.sms_concurrency or args.sms_concurrency > 250:
        parser.error(f"at most {SMS_CODES_PER_ADDRESS} SMS logins per caller, and at most 250 callers")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"bench_login  {describe_machine()}\ncommand: python -m loadtest.bench_login {shown}".rstrip())
    started = time.perf_counter()
    with running_stack("login", with_worker=False) as stack:
        pid = stack.server.proc.pid
        rss_before = rss_mb(pid)
        results = asyncio.run(run(stack, args))
        rss_after, rss_peak = rss_mb(pid), peak_rss_mb(pid)
        problems, examples = stack.log_problems()
    print_table(results)
    failed = report_failures(results)
    print(
        f"server RSS {rss_before:.0f} MB after start, {rss_after:.0f} MB at the end, peak {rss_peak:.0f} MB"
    )
    print(f"server logs: {problems} warning/error lines")
    for example in examples:
        print(f"  {example}")
    return finish(started, failed)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the stack has been torn down on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
