"""Benchmark: deduplication quality and time on a synthetic registry with corrupted duplicates.

    .venv/bin/python bench/bench_dedup.py [--children 100000] [--share 0.05] [--threads N]

1. Generates a synthetic registry (no trajectories) and a SYNTHETIC set of corrupted duplicates of
   ``share`` of its children (crecer.lib.synthetic.duplicates: surnames swapped or missing, accents,
   letters changed by ear, typing slips, second given name or particles dropped, dates with day and
   month swapped, a digit wrong or a day off; no document; often no mother, sometimes moved).
2. Loads the registry into a fresh SQLite database (or PostgreSQL with --postgres) and imports the
   duplicates as another source would.
3. Times ``crecer dedup --out pairs.csv`` and scores its pairs against the truth: precision and recall
   of the ``match`` pairs, and of every proposed pair (match + review).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from crecer.lib.synthetic.duplicates import corrupt  # noqa: E402

AS_OF = dt.date(2026, 6, 30)


def crecer(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "crecer.cli", *args], env=env, check=False, capture_output=True, text=True
    )
    if done.returncode not in (0, 3):  # 3: some rows rejected (reported)
        sys.exit(f"crecer {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--keep", action="store_true", help="reuse the loaded database of an earlier run")
    args = parser.parse_args()

    work = args.out / f"dedup-{args.children}"
    env = dict(os.environ, CRECER_PROFILE="cl", CRECER_DATA_DIR=str(work), LANGUAGE="en", LC_ALL="C.UTF-8")
    env["DATABASE_URL"] = f"sqlite:///{work / 'crecer.sqlite3'}"
    if args.postgres:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/crecer_dedup"
    country, dups, truth_file = work / "country", work / "duplicates.csv", work / "truth.json"
    if not (args.keep and truth_file.exists()):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        seconds, _ = crecer(
            [
                "generate",
                "--children",
                str(args.children),
                "--seed",
                str(args.seed),
                "--as-of",
                AS_OF.isoformat(),
                "--no-trajectories",
                "--out",
                str(country),
                "--quiet",
            ],
            env,
        )
        rows = list(csv.DictReader((country / "children.csv").open(encoding="utf-8")))
        territories = sorted({r["territory_code"] for r in rows})
        corrupted = corrupt(rows, args.share, args.seed, territories, AS_OF)
        with dups.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(corrupted.rows)
        truth_file.write_text(json.dumps({"pairs": corrupted.truth, "kinds": corrupted.kinds}))
        print(
            f"generated {args.children:,} children and {len(corrupted.rows):,} SYNTHETIC corrupted duplicates in {seconds:.1f} s"
        )
        if args.postgres:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS crecer_dedup")
                conn.execute("CREATE DATABASE crecer_dedup")
        crecer(["migrate", "-v0"], env)
        seconds, _ = crecer(["load", str(country), "--quiet"], env)
        print(f"registry loaded in {seconds:.1f} s")
        seconds, out = crecer(["import", "children", str(dups), "--quiet"], env)
        print(f"duplicates imported in {seconds:.1f} s: {out.strip().splitlines()[0]}")
    truth_data = json.loads(truth_file.read_text())
    truth = {frozenset(p) for p in truth_data["pairs"]}
    pairs_file = work / "pairs.csv"
    threads = ["--threads", str(args.threads)] if args.threads else []
    seconds, out = crecer(["dedup", "--out", str(pairs_file), *threads], env)
    print(out.strip())
    print(f"crecer dedup: {seconds:.1f} s for {args.children + len(truth):,} records")
    proposed = [
        (frozenset((r["external_id_a"], r["external_id_b"])), r["decision"])
        for r in csv.DictReader(pairs_file.open(encoding="utf-8"))
    ]
    for label, chosen in (
        ("match", {p for p, d in proposed if d == "match"}),
        ("match + review", {p for p, _ in proposed}),
    ):
        hits = len(chosen & truth)
        precision = hits / len(chosen) if chosen else 0.0
        recall = hits / len(truth)
        print(f"{label:15} pairs {len(chosen):7,}  precision {precision:.4f}  recall {recall:.4f}")
    missed = truth - {p for p, _ in proposed}
    by_kind: Counter[str] = Counter()
    for pair in missed:
        for external in pair:
            by_kind.update(truth_data["kinds"].get(external, []))
    print(f"duplicates never proposed: {len(missed):,} (their mistakes: {dict(by_kind.most_common())})")


if __name__ == "__main__":
    main()
