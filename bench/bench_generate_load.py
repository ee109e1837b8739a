"""Benchmark: `crecer generate` then `crecer load` of a synthetic country into a fresh database.

    .venv/bin/python bench/bench_generate_load.py [--children 1000000] [--postgres] [--no-trajectories]

Runs the real commands (as a user would) against a new SQLite file under bench/out/ (or, with
--postgres, a database ``crecer_bench`` created afresh on the local server) and prints the time of
each step, the rows per second of each file and the database size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRECER = [sys.executable, "-m", "crecer.cli"]


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*CRECER, *args], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default="cl")
    parser.add_argument("--postgres", action="store_true", help="use a fresh crecer_bench database on 127.0.0.1:5432")
    parser.add_argument("--no-trajectories", action="store_true", help="the registry only (as issue 2 measures it)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    suffix = ("-registry" if args.no_trajectories else "") + ("-pg" if args.postgres else "")
    work = args.out / f"load-{args.profile}-{args.children}{suffix}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, CRECER_PROFILE=args.profile, CRECER_DATA_DIR=str(work), LANGUAGE="en", LC_ALL="C.UTF-8")
    env["DATABASE_URL"] = f"sqlite:///{work / 'crecer.sqlite3'}"
    if args.postgres:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS crecer_bench")
            conn.execute("CREATE DATABASE crecer_bench")
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/crecer_bench"
    country = work / "country"
    seconds_generate, _ = run(
        [
            "generate",
            "--children",
            str(args.children),
            "--seed",
            str(args.seed),
            "--out",
            str(country),
            "--quiet",
            *(["--no-trajectories"] if args.no_trajectories else []),
        ],
        env,
    )
    seconds_migrate, _ = run(["migrate", "-v0"], env)
    seconds_load, out = run(["load", str(country), "--quiet"], env)
    manifest = json.loads((country / "manifest.json").read_text())
    print(f"children: {args.children:,}  profile: {args.profile}  database: {env['DATABASE_URL'].split(':')[0]}")
    print(f"generate: {seconds_generate:8.1f} s  ({args.children / seconds_generate:,.0f} children/s)")
    print(f"migrate:  {seconds_migrate:8.1f} s")
    print(f"load:     {seconds_load:8.1f} s  ({sum(manifest['counts'].values()) / seconds_load:,.0f} rows/s overall)")
    for line in out.splitlines():
        match = re.match(r"(\w+): (\d+) \w+.*\(([\d.]+) s\)", line)  # any language
        if match:
            kind, rows, secs = match.group(1), int(match.group(2)), float(match.group(3))
            rate = f"{rows / secs:>10,.0f} rows/s" if secs >= 0.05 else "         —"
            print(f"  {kind:<14} {rows:>10,} rows {secs:8.1f} s {rate}")
    database = work / "crecer.sqlite3"
    if database.exists():
        print(f"SQLite file: {database.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
