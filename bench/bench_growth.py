"""Benchmark crecer.lib.growth.zscores: z-scores per second on one core, in memory.

One z-score = one indicator evaluated for one measurement row, whether or not WHO's rules allow a
value there (a 10-year-old has no weight-for-length z-score, but it was decided and costs work).
The default run is 1,000,000 synthetic children aged 0-19 years with weight, length/height,
position, oedema, head and arm circumference, times the six indicators (wfa, lhfa, wflh, bmi,
hcfa, acfa) = 6,000,000 z-scores per call; the best of --repeat calls is reported. Flags are
computed too (they come with every call). numpy's element-wise kernels are single-threaded.

    .venv/bin/python bench/bench_growth.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from crecer.lib.growth import INDICATORS, zscores


def synthetic(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Children 0-19 years with roughly plausible measurements (some beyond +/-3 SD, some missing)."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(0, 19 * 365.25, rows)
    years = age / 365.25
    length = np.where(years < 5, 50 + 25 * np.log1p(years * 2), np.minimum(110 + 6 * (years - 5), 172))
    length *= rng.normal(1, 0.04, rows)
    bmi = 15.5 + 0.35 * np.maximum(years - 6, 0)
    weight = np.where(years < 5, 3.3 + 3.5 * np.log1p(years * 6), bmi * (length / 100) ** 2)
    weight *= rng.normal(1, 0.12, rows)
    weight[rng.random(rows) < 0.01] = np.nan
    return {
        "sex": rng.integers(1, 3, rows).astype(np.int8),
        "age_days": age,
        "weight_kg": weight,
        "length_cm": length,
        "measure": np.where(rng.random(rows) < 0.1, "", np.where(years < 2, "l", "h")),
        "oedema": rng.random(rows) < 0.002,
        "head_cm": (34 + 4 * np.log1p(years * 12)) * rng.normal(1, 0.03, rows),
        "muac_cm": (13.5 + 0.3 * years) * rng.normal(1, 0.08, rows),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="measurement rows (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls; the best is reported (default 3)")
    ap.add_argument("--seed", type=int, default=20260101)
    args = ap.parse_args(argv)

    data = synthetic(args.rows, args.seed)
    zscores(**{k: v[:1000] for k, v in data.items()})  # load the tables outside the timing

    best = float("inf")
    result: dict[str, np.ndarray] = {}
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = zscores(**data)
        best = min(best, time.perf_counter() - t)
    total = args.rows * len(INDICATORS)
    valued = sum(int(np.count_nonzero(~np.isnan(result[f"z_{name}"]))) for name in INDICATORS)
    print(f"rows: {args.rows:,} x {len(INDICATORS)} indicators = {total:,} z-scores per call (+ flags)")
    print(f"best of {args.repeat}: {best:.3f} s -> {total / best:,.0f} z-scores/s on one core")
    print(f"  ({valued:,} of them have a value; the rest are outside the WHO ranges: {valued / best:,.0f} values/s)")

    print("per indicator (one at a time, best of the same repeats):")
    for name in INDICATORS:
        t_best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            zscores(**data, indicators=(name,))
            t_best = min(t_best, time.perf_counter() - t)
        print(f"  {name:<5} {t_best:.3f} s  {args.rows / t_best:,.0f} z-scores/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
