"""Profile: CPU time and queries per request of the child API and the child page, measured in-process.

    .venv/bin/python bench/profile_requests.py [--children 3000] [--requests 300] [--compare SRC]
        [--profile api|page] [--top 25]

A figure that a machine shared with other busy processes disturbs little (unlike wrk's rate): each
request goes through the whole Django stack (middleware, authentication, view, template or JSON) with
Django's test client, in this process, as the health worker "salud" reading the showcase child:

- ``api``: ``GET /api/v1/children/{id}`` with her bearer token;
- ``page``: ``GET /children/{id}/`` (the child's page) with her session.

The database (SQLite in ``bench/out/profile/``, or DATABASE_URL) is prepared once as ``crecer demo``
does: a SYNTHETIC country of ``--children`` children. After a warm-up of 20 requests, ``--requests``
requests per target are timed with ``time.process_time`` (CPU of this process: Python, and SQLite's
own work, which runs in it; PostgreSQL's server work is not counted) and their queries counted.

``--compare SRC`` first runs the same measurement with the code of another checkout's ``src`` (say
``/work/main/src``) on the same database, so "before" and "after" come from one run. ``--profile TARGET``
prints cProfile's top functions (cumulative time) for that target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
DATA = HERE / "out" / "profile"


def measure(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    import cProfile
    import pstats

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crecer.access.actions import create_token
    from crecer.access.models import User
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.registry.models import Child
    from crecer.web.demo import showcase_child

    salud = User.objects.get(username="salud")
    child = showcase_child(salud)
    assert isinstance(child, Child)
    token = create_token(Actor(None, Channel.CLI), salud)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(salud)
    targets = {
        "api": (api, f"/api/v1/children/{child.pk}"),
        "page": (page, f"/children/{child.pk}/"),
    }
    figures: dict[str, dict[str, float]] = {}
    for name, (client, path) in targets.items():
        for _ in range(20):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        count = len(queries.captured_queries)
        profiler = cProfile.Profile() if args.profile == name else None
        began_cpu, began_wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            client.get(path)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began_wall
        figures[name] = {"cpu_ms": 1000 * cpu / args.requests, "wall_ms": 1000 * wall / args.requests, "queries": count}
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    return figures


def prepare(children: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
    django.setup()
    from django.core.management import call_command

    from crecer.access.models import User

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="salud").exists():
        began = time.perf_counter()
        call_command("demo", children=children, no_serve=True, verbosity=0)
        print(f"prepared the demo ({children} synthetic children) in {time.perf_counter() - began:.0f} s")


def show(label: str, figures: dict[str, dict[str, float]]) -> None:
    for name, f in figures.items():
        print(
            f"{label:8} {name:5} CPU {f['cpu_ms']:6.2f} ms/request   wall {f['wall_ms']:6.2f} ms   "
            f"{int(f['queries']):3d} queries/request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--children", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--compare", default=None, help="another checkout's src, measured first ('before')")
    parser.add_argument("--profile", default=None, choices=["api", "page"])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # the comparison's child run
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        DATA.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("CRECER_DATA_DIR", str(DATA))
    os.environ.setdefault("CRECER_LOG_LEVEL", "ERROR")
    if args.json:
        print("FIGURES " + json.dumps(measure(args)))
        return
    sys.path.insert(0, str(SRC))
    prepare(args.children)
    if args.compare:
        env = {**os.environ, "PYTHONPATH": args.compare}
        command = [sys.executable, __file__, "--json", "--requests", str(args.requests)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"the comparison failed:\n{done.stdout}\n{done.stderr}")
        line = next(x for x in done.stdout.splitlines() if x.startswith("FIGURES "))
        show("before", json.loads(line.removeprefix("FIGURES ")))
    show("now", measure(args))


if __name__ == "__main__":
    main()
