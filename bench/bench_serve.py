"""Benchmark: the server under load, with wrk on loopback: throughput and latency percentiles.

    .venv/bin/python bench/bench_serve.py [--children 3000] [--connections 32] [--duration 20]
        [--postgres postgres://postgres@127.0.0.1:5432/crecer_bench] [--databases sqlite,postgresql]
        [--servers waitress,gunicorn,gunicorn:2] [--workers N] [--targets api,page] [--compare SRC]
        [--compare-servers waitress]

Needs wrk (Debian: ``apt-get install -y wrk``). For each database (SQLite in ``bench/out/serve-sqlite/``;
PostgreSQL at ``--postgres``, or DATABASE_URL when it is a PostgreSQL address) the database is prepared
as ``crecer demo`` does (a SYNTHETIC country of ``--children`` children, the demo users, the showcase
child), then each server is started with ``crecer serve``, in turn:

- ``waitress``: the server before issue 12, one process with 8 threads (``--server waitress``), and
  on SQLite a new connection per request as then (``CRECER_DB_CONN_MAX_AGE=0``);
- ``gunicorn``: ``--workers`` processes (default as ``crecer serve``: one per core, at least 2) of 2 threads
  each; ``gunicorn:N`` in ``--servers`` runs N processes instead.

Each is loaded with ``--connections`` keep-alive connections (2 wrk threads) for ``--duration``
seconds, after a 5-second warm-up, on two targets read as the health worker "salud":

- ``api``: ``GET /api/v1/children/{id}`` with her bearer token;
- ``page``: ``GET /children/{id}/`` (the child's page) with her session cookie.

Every request is a real read of person data: it writes its read event to the audit trail. The script
prints requests/s, the median, p95 and p99 latency and any error (non-2xx answers, timeouts); a run
with errors is not a figure. wrk runs on the same machine and takes some of its CPU. Besides the server's
CPU per request it prints PostgreSQL's (every ``postgres`` process of the machine over the run): on one
machine the database's work takes from the same cores.

``--compare SRC`` runs everything first with the code of another checkout's ``src`` (say the commit
before a change, ``git worktree add --detach /tmp/before REV`` then ``--compare /tmp/before/src``), on
databases of its own prepared by its own demo (``bench/out/serve-*-compare``, PostgreSQL database
``NAME_compare``), so that the baseline and the change come from one run on one machine.
``--compare-servers`` gives that code its own servers: the code at issue 12's filing (c56e19d), whose
``crecer serve`` knew waitress only, runs as ``--compare-servers waitress``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SRC = HERE.parent / "src"

PREPARE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from crecer.access.actions import create_token
from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.web.demo import showcase_child
call_command("demo", children=int(os.environ["BENCH_CHILDREN"]), no_serve=True, verbosity=0)
salud = User.objects.get(username="salud")
child = showcase_child(salud)
client = Client()
client.force_login(salud)
print("PREPARED " + json.dumps({
    "child": child.pk,
    "token": create_token(Actor(None, Channel.CLI), salud),
    "session": client.cookies["sessionid"].value,
}))
"""


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(database: str, url: str | None, src: Path = SRC, label: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    env["CRECER_DATA_DIR"] = str(OUT / f"serve-{database}{'-' + label if label else ''}")
    env["CRECER_LOG_LEVEL"] = "ERROR"
    env.pop("DATABASE_URL", None)
    if url:
        env["DATABASE_URL"] = url
    return env


def own_cpu_seconds(process: Path) -> float:
    """CPU time (user + system) used so far by one process, its ``/proc/PID`` folder (not its children)."""
    fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU time (user + system) used so far by every PostgreSQL process of the machine (Linux /proc)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += own_cpu_seconds(entry)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def prepare(env: dict[str, str], children: int) -> dict[str, str]:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PREPARE],
        env={**env, "BENCH_CHILDREN": str(children)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"preparing the database failed:\n{done.stdout}\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("PREPARED "))
    print(f"  prepared in {time.perf_counter() - began:.0f} s")
    return dict(json.loads(line.removeprefix("PREPARED ")))


def knows_servers(src: Path) -> bool:
    """Whether the ``crecer serve`` of a code tree takes ``--server`` (before issue 12 it served with waitress
    only, and knew no such option)."""
    return '"--server"' in (src / "crecer" / "web" / "management" / "commands" / "serve.py").read_text()


def start(env: dict[str, str], server: str, workers: int, port: int, src: Path = SRC) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crecer.cli", "serve", "--port", str(port)]
    if knows_servers(src):
        command += ["--server", server]
    elif server != "waitress":
        sys.exit(f"the code of {src} serves with waitress only")
    if server == "gunicorn":
        command += ["--workers", str(workers)]
    else:
        command += ["--threads", "8"]  # waitress as before issue 12
    if server == "waitress" and "DATABASE_URL" not in env:
        env = {**env, "CRECER_DB_CONN_MAX_AGE": "0"}  # SQLite before issue 12: one connection per request
    # A session of its own: where the kernel shares CPU between sessions (autogroup), the server then
    # does not share its part with wrk.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the {server} server did not start")
            time.sleep(0.3)


def check(port: int, path: str, headers: dict[str, str]) -> None:
    """The target answers 200 with the child's data (not a redirect to the sign-in page)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    status = connection.getresponse().status
    connection.close()
    if status != 200:
        sys.exit(f"{path} answered {status}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its living descendants (Linux /proc)."""
    total = 0.0
    try:
        total += own_cpu_seconds(Path(f"/proc/{pid}"))
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def wrk(url: str, headers: dict[str, str], connections: int, duration: int) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    command += ["-s", str(HERE / "wrk_report.lua")]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    figures = {k: float(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist yet (the demo then migrates it)."""
    import psycopg

    address = url.replace("postgres://", "postgresql://", 1)
    name = address.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(address.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def run_code(
    args: argparse.Namespace, database: str, label: str, env: dict[str, str], src: Path = SRC
) -> list[tuple[Any, ...]]:
    """Prepare the database for one code tree and load each server of ``--servers`` with it."""
    rows: list[tuple[Any, ...]] = []
    print(f"{database}{' (' + label + ')' if label else ''}: preparing a SYNTHETIC country of {args.children} children")
    prepared = prepare(env, args.children)
    targets = {
        "api": (f"/api/v1/children/{prepared['child']}", {"Authorization": f"Bearer {prepared['token']}"}),
        "page": (f"/children/{prepared['child']}/", {"Cookie": f"sessionid={prepared['session']}"}),
    }
    servers = args.compare_servers if label and args.compare_servers else args.servers
    for spec in servers.split(","):
        # "gunicorn:3" is gunicorn with 3 workers; "gunicorn" uses --workers
        kind, _, count = spec.partition(":")
        workers = int(count or args.workers)
        server = f"gunicorn×{workers}" if kind == "gunicorn" else kind
        if label:
            server += f" ({label})"
        port = free_port()
        process = start(env, kind, workers, port, src)
        try:
            for target in args.targets.split(","):
                path, headers = targets[target]
                url = f"http://127.0.0.1:{port}{path}"
                check(port, path, headers)
                wrk(url, headers, args.connections, 5)  # warm-up: every worker connected, its caches filled
                before, before_db = cpu_seconds(process.pid), database_cpu_seconds()
                f = wrk(url, headers, args.connections, args.duration)
                # The server's CPU per request: what a quiet machine's cores must pay for each one,
                # a figure the other users of a shared machine disturb much less than the rate.
                done = int(f["requests"])
                cpu_ms = (cpu_seconds(process.pid) - before) * 1e3 / done if done else math.nan
                db_ms = (database_cpu_seconds() - before_db) * 1e3 / done if done else math.nan
                if not done:
                    print(f"  {server:<11} {target:<5} no request completed in {args.duration} s: not a figure")
                errors = int(f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"])
                row = (
                    database,
                    server,
                    target,
                    f["rps"],
                    f["p50"] / 1e3,
                    f["p95"] / 1e3,
                    f["p99"] / 1e3,
                    errors,
                    cpu_ms,
                    db_ms,
                )
                rows.append(row)
                print(
                    f"  {server:<11} {target:<5} {row[3]:8.1f} req/s  p50 {row[4]:7.1f} ms  "
                    f"p95 {row[5]:7.1f} ms  p99 {row[6]:7.1f} ms  errors {errors}  server CPU {cpu_ms:.1f} "
                    f"ms/request  PostgreSQL CPU {db_ms:.1f}",
                    flush=True,
                )
        finally:
            process.terminate()
            process.wait(timeout=60)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--children", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=max(2, cores()))
    parser.add_argument("--postgres", default=None, help="PostgreSQL address (default: DATABASE_URL if PostgreSQL)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--servers", default="waitress,gunicorn", help="in turn; gunicorn:N for N workers (e.g. waitress,gunicorn:2)"
    )
    parser.add_argument("--targets", default="api,page")
    parser.add_argument("--compare", type=Path, default=None, help="another checkout's src, run first (the baseline)")
    parser.add_argument(
        "--compare-servers", default=None, help="the servers of the --compare code (default: those of --servers)"
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: this benchmark needs it (Debian/Ubuntu: apt-get install -y wrk).")
    postgres = args.postgres or (
        os.environ["DATABASE_URL"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else None
    )
    databases = args.databases.split(",")
    if "postgresql" in databases and not postgres:
        print("PostgreSQL skipped: give --postgres URL (or DATABASE_URL) to include it.")
        databases.remove("postgresql")
    OUT.mkdir(exist_ok=True)
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if autogroup.is_file() and autogroup.read_text().strip() == "1":
        print(
            "NOTE: the kernel shares CPU between sessions (autogroup): on a machine shared with other busy "
            "sessions, the server gets about one session's share however many processes it runs."
        )
    load = os.getloadavg()
    print(
        f"{cores()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
        f"{args.connections} connections, {args.duration} s per figure, gunicorn workers: {args.workers}"
    )
    if "postgresql" in databases:
        ensure_database(postgres)
    rows = []
    codes = [("compare", args.compare.resolve()), ("", SRC)] if args.compare else [("", SRC)]
    for database in databases:
        for label, src in codes:
            url = postgres if database == "postgresql" else None
            if url and label:
                url = f"{url.split('?')[0]}_{label}"
                ensure_database(url)
            rows += run_code(args, database, label, environment(database, url, src, label), src)
    print()
    print(
        "| database | server | target | requests/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/request "
        "| PostgreSQL CPU ms/request |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        db = f"{r[9]:.1f}" if r[0] == "postgresql" else "–"
        print(
            f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.0f} | {r[4]:.0f} | {r[5]:.0f} | {r[6]:.0f} | {r[7]} | {r[8]:.1f} | {db} |"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
