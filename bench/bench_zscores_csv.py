"""Benchmark ``crecer zscores`` end to end against the cgmzscore package, in one run.

Writes bench/out/zscores_input.csv (default 1,000,000 synthetic rows: plausible children 0-19 years,
a few bad rows, carried-through columns), then, taking turns ``--repeat`` times (default 3):

1. ``crecer zscores IN.csv OUT.csv`` as a user runs it (a new process: interpreter start, reading,
   validation, the five WHO z-scores and four flags per row, formatting, writing; the console script
   runs this command without setting Django up);
2. cgmzscore (PyPI, pinned in bench/requirements.txt), one row at a time as its README shows:
   ``z_score_wfa``, ``z_score_lhfa`` and ``z_score_wfl`` (it switches to weight-for-height itself),
   the three indicators it has, on the first ``--cgm-rows`` rows of the same file that are in its
   age range (0-1856 days; it has no 5-19 year reference). Only the calls are timed (no file
   reading or writing), which favours cgmzscore. It is slow, so it runs on that sample.

It prints each turn's rows per second and ratio, the best of each and their ratio, with the
machine's speed reference (``sum(range(10**8))``) and the load average taken in the same run; then
``process_csv`` in this process (no process start) and, with ``--with-reference``, the plain
csv-module path it replaced (``process_csv_reference``), checked to give the same bytes.

    .venv/bin/pip install -r bench/requirements.txt   # cgmzscore, for the comparison
    .venv/bin/python bench/bench_zscores_csv.py [--rows N] [--cgm-rows N] [--repeat R] [--keep] [--with-reference]
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from crecer.lib.growth.csvio import process_csv, process_csv_reference

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


def machine_reference() -> float:
    """Seconds for ``sum(range(10**8))`` in a fresh interpreter (the figure docs/benchmarks.md quotes)."""
    code = "import time;t=time.time();sum(range(10**8));print(time.time()-t)"
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def cgmzscore_rate(src: Path, rows: int) -> tuple[float, dict[str, list[float | None]], int] | None:
    """cgmzscore on the first ``rows`` rows aged 0-1856 days: (rows/s, z-scores by id, failed calls)."""
    try:
        from cgmzscore.src.main import z_score_lhfa, z_score_wfa, z_score_wfl
    except ImportError:
        return None
    sexes = {"1": "M", "2": "F"}
    sample = []
    with src.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["age_days"].isdigit() and int(row["age_days"]) <= 1856:
                sample.append((row["id"], row["weight_kg"], row["age_days"], sexes[row["sex"]], row["length_cm"]))
                if len(sample) == rows:
                    break
    failed = 0
    results: dict[str, list[float | None]] = {}
    t = time.perf_counter()
    for key, weight, age, sex, length in sample:
        # cgmzscore raises for values outside its tables (and for "abc"): a user has to catch that.
        z: list[float | None] = [None, None, None]
        try:
            z[0] = z_score_wfa(weight=weight, age_in_days=age, sex=sex)
        except Exception:
            failed += 1
        try:
            z[1] = z_score_lhfa(age_in_days=age, sex=sex, height=length)
        except Exception:
            failed += 1
        try:
            z[2] = z_score_wfl(weight=weight, age_in_days=age, sex=sex, height=length)
        except Exception:
            failed += 1
        results[key] = z
    elapsed = time.perf_counter() - t
    return len(sample) / elapsed, results, failed


def agreement(dst: Path, cgm: dict[str, list[float | None]]) -> str:
    """How often cgmzscore's value is within 0.01 of crecer's, per indicator, on the rows both computed."""
    same = [0, 0, 0]
    both = [0, 0, 0]
    with dst.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            theirs = cgm.get(row["id"])
            if theirs is None:
                continue
            for k, column in enumerate(("z_wfa", "z_lhfa", "z_wflh")):
                value = theirs[k]
                if value is not None and row[column]:
                    both[k] += 1
                    same[k] += abs(float(row[column]) - value) <= 0.0100001
    names = ("wfa", "lhfa", "wfl/wfh")
    return ", ".join(f"{n} {s / b:.1%} of {b:,}" if b else f"{n} -" for n, s, b in zip(names, same, both, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the synthetic input (default 1,000,000)")
    ap.add_argument("--cgm-rows", type=int, default=20_000, help="rows timed with cgmzscore (default 20,000)")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--keep", action="store_true", help="reuse bench/out/zscores_input.csv if it has --rows rows")
    ap.add_argument("--repeat", type=int, default=3, help="turns of the command and cgmzscore; the best of each (3)")
    ap.add_argument("--with-reference", action="store_true", help="also time process_csv_reference (slow)")
    args = ap.parse_args(argv)

    OUT.mkdir(exist_ok=True)
    src, dst = OUT / "zscores_input.csv", OUT / "zscores_output.csv"
    marker = OUT / "zscores_input.rows"
    if not (args.keep and src.exists() and marker.exists() and marker.read_text() == str(args.rows)):
        t = time.perf_counter()
        write_input(src, args.rows, args.seed)
        marker.write_text(str(args.rows))
        print(
            f"wrote {args.rows:,} synthetic input rows in {time.perf_counter() - t:.1f} s ({src.stat().st_size / 1e6:.0f} MB)"
        )

    print(f"machine: sum(range(10**8)) takes {machine_reference():.2f} s; load average {os.getloadavg()[0]:.2f}")
    if importlib.util.find_spec("cgmzscore") is None:
        print("cgmzscore is not installed: .venv/bin/pip install -r bench/requirements.txt")
        return 2

    # The command (a new process, as a user runs it) and cgmzscore, taking turns --repeat times.
    command_best = cgm_best = 0.0
    results: dict[str, list[float | None]] = {}
    for turn in range(1, args.repeat + 1):
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "crecer.cli", "zscores", str(src), str(dst)],
            check=True,
            capture_output=True,
            env={**os.environ, "CRECER_DATA_DIR": str(OUT / "zscores-data")},
        )
        command_s = time.perf_counter() - t
        cgm = cgmzscore_rate(src, args.cgm_rows)
        assert cgm is not None
        rate, results, failed = cgm
        command_best, cgm_best = max(command_best, args.rows / command_s), max(cgm_best, rate)
        print(
            f"run {turn}: crecer zscores {args.rows:,} rows in {command_s:.2f} s = {args.rows / command_s:,.0f} rows/s "
            f"end to end; cgmzscore {rate:,.0f} rows/s; ratio {args.rows / command_s / rate:,.1f}x "
            f"(load average {os.getloadavg()[0]:.2f})"
        )
    print(f"  crecer zscores said: {done.stdout.decode().strip()}")
    print(
        f"  cgmzscore 3.3.1: wfa, lhfa and wfl/wfh per row on {len(results):,} rows aged 0-1856 days of the same "
        f"file, calls only ({failed:,} calls raised)"
    )
    print(f"  same value as crecer (within 0.01) where both give one: {agreement(dst, results)}")
    print(
        f"best of {args.repeat}: crecer zscores {command_best:,.0f} rows/s, cgmzscore {cgm_best:,.0f} rows/s: "
        f"crecer zscores is {command_best / cgm_best:,.1f}x cgmzscore per row"
    )

    # The library function in this process (no process start), and the plain path it replaced.
    t = time.perf_counter()
    summary = process_csv(src, dst)
    elapsed = time.perf_counter() - t
    print(
        f"process_csv: {summary.rows:,} rows ({summary.errors:,} with an error) in {elapsed:.2f} s = "
        f"{summary.rows / elapsed:,.0f} rows/s"
    )
    if args.with_reference:
        ref = OUT / "zscores_output_reference.csv"
        t = time.perf_counter()
        process_csv_reference(src, ref)
        elapsed = time.perf_counter() - t
        same = "same bytes" if filecmp.cmp(dst, ref, shallow=False) else "DIFFERENT BYTES"
        print(f"process_csv_reference (csv module): {elapsed:.2f} s = {summary.rows / elapsed:,.0f} rows/s ({same})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
