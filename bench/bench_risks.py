"""Benchmark: `crecer risks recompute` — every risk rule over every child and pregnancy of a loaded country.

    CRECER_DATA_DIR=bench/out/load-cl-1000000 \\
    DATABASE_URL=sqlite:///bench/out/load-cl-1000000/crecer.sqlite3 \\
        .venv/bin/python bench/bench_risks.py [--repeat 2]

Point it at a database loaded with ``bench/bench_generate_load.py`` (SQLite or PostgreSQL). It runs the
real command (as an administrator would after publishing a new rule version) and prints its time, the
children and pregnancies per second, and the flags it raised and resolved. The second run finds the
flags already in place (nothing to raise): it shows the cost of evaluating alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    from crecer.registry.models import Child, Pregnancy

    children, pregnancies = Child.unscoped.count(), Pregnancy.unscoped.count()
    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)').split(':')[0]}")
    print(f"children: {children:,}  pregnancies: {pregnancies:,}")
    env = dict(os.environ, LANGUAGE="en", LC_ALL="C.UTF-8")
    for run in range(1, args.repeat + 1):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "crecer.cli", "risks", "recompute", "--quiet"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        print(
            f"run {run}: {seconds:8.1f} s  ({(children + pregnancies) / seconds:,.0f} subjects/s)  "
            f"{done.stdout.strip()}"
        )


if __name__ == "__main__":
    main()
