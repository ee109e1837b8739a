"""Benchmark of the synthetic-country generator.

    .venv/bin/python bench/bench_generate.py [--children N] [--profile cl] [--seed S] [--out DIR] [--no-trajectories]

Generates N children (default 1,000,000) into bench/out/ (gitignored), with their trajectories
(encounters, measurements, screenings, deliveries, groups) unless --no-trajectories, and prints the
elapsed time, children per second, the time per stage and the rows and size of every file.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from crecer.lib.profiles import load  # noqa: E402
from crecer.lib.synthetic import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--profile", default="cl")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2025-06-30", help="reference date (ISO)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument(
        "--no-trajectories", action="store_true", help="only the registry files (no encounters, screenings...)"
    )
    args = parser.parse_args(argv)

    stages: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, time.perf_counter())

    manifest = generate(
        args.out,
        args.children,
        args.seed,
        load(args.profile),
        date.fromisoformat(args.as_of),
        progress,
        trajectories=not args.no_trajectories,
    )
    elapsed = time.perf_counter() - started

    what = "registry only" if args.no_trajectories else "with trajectories"
    print(f"profile {args.profile}, {args.children:,} children ({what}), seed {args.seed} -> {args.out}")
    print(f"elapsed {elapsed:.1f} s, {args.children / elapsed:,.0f} children/s")
    marks = [*sorted(stages.items(), key=lambda item: item[1]), ("end", started + elapsed)]
    for (stage, at), (_, following) in itertools.pairwise(marks):
        print(f"  {stage:<20} {following - at:6.1f} s")
    total_rows = 0
    size = 0
    for name, rows in manifest.counts.items():
        file_size = (args.out / name).stat().st_size
        total_rows += rows
        size += file_size
        print(f"  {name:<20} {rows:>10,} rows  {file_size / 1e6:8.1f} MB")
    print(f"  {'total':<20} {total_rows:>10,} rows  {size / 1e6:8.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
