"""Benchmark crecer.lib.growth.csvio.process_csv end to end on a synthetic CSV.

Writes bench/out/zscores_input.csv (default 1,000,000 rows, plausible children 0-19 years with a
few bad rows and carried-through columns), runs process_csv once into bench/out/zscores_output.csv
and prints rows per second (reading, parsing, z-scores, formatting and writing, on one core).

    .venv/bin/python bench/bench_zscores_csv.py [--rows N] [--seed S] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from crecer.lib.growth.csvio import process_csv

OUT = Path(__file__).resolve().parent / "out"


def write_input(path: Path, rows: int, seed: int) -> None:
    """A synthetic survey: ages 0-19 y, growth-like measurements, ~0.1% deliberately bad rows."""
    rng = np.random.default_rng(seed)
    sex = rng.integers(1, 3, rows)
    age = rng.integers(0, 19 * 365, rows)
    months = age / 30.4375
    years = months / 12
    # Rough growth curves; the noise gives realistic z-score spreads.
    length = np.where(months < 60, 50 + 25 * np.log1p(months / 6), np.minimum(110 + 6 * (years - 5), 172))
    length = length * rng.normal(1, 0.04, rows)
    bmi = 15.5 + 0.35 * np.maximum(years - 6, 0)
    weight = np.where(months < 60, 3.3 + 3.5 * np.log1p(months / 2), bmi * (length / 100) ** 2)
    weight = weight * rng.normal(1, 0.1, rows)
    measure = np.where(months < 24, "l", "h")
    measure = np.where(rng.random(rows) < 0.05, "", measure)
    oedema = np.where(rng.random(rows) < 0.002, "y", "n")
    head = np.where(months < 60, 34 + 4 * np.log1p(months), np.nan)
    bad = rng.random(rows) < 0.001
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "sex", "age_days", "weight_kg", "length_cm", "measure", "oedema", "head_cm", "site"])
        for i in range(rows):
            wt = "abc" if bad[i] else f"{weight[i]:.2f}"
            hc = "" if np.isnan(head[i]) else f"{head[i]:.1f}"
            w.writerow([i + 1, sex[i], age[i], wt, f"{length[i]:.1f}", measure[i], oedema[i], hc, "Comuna Alta"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the synthetic input (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--keep", action="store_true", help="reuse bench/out/zscores_input.csv if it has --rows rows")
    args = ap.parse_args(argv)

    OUT.mkdir(exist_ok=True)
    src, dst = OUT / "zscores_input.csv", OUT / "zscores_output.csv"
    marker = OUT / "zscores_input.rows"
    if not (args.keep and src.exists() and marker.exists() and marker.read_text() == str(args.rows)):
        t = time.perf_counter()
        write_input(src, args.rows, args.seed)
        marker.write_text(str(args.rows))
        print(f"wrote {args.rows:,} input rows in {time.perf_counter() - t:.1f} s ({src.stat().st_size / 1e6:.0f} MB)")

    t = time.perf_counter()
    summary = process_csv(src, dst)
    elapsed = time.perf_counter() - t
    print(f"process_csv: {summary.rows:,} rows ({summary.errors:,} with an error) in {elapsed:.2f} s")
    print(f"throughput: {summary.rows / elapsed:,.0f} rows/s end to end (read, parse, z-scores, write; one core)")

    # The same file through the command a user runs (process start-up and settings included).
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "crecer.cli", "zscores", str(src), str(dst), "--quiet"],
        check=True,
        capture_output=True,
        env={**os.environ, "CRECER_DATA_DIR": str(OUT / "zscores-data")},
    )
    elapsed = time.perf_counter() - t
    print(f"crecer zscores: {summary.rows:,} rows in {elapsed:.2f} s = {summary.rows / elapsed:,.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
