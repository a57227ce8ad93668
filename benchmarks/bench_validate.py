"""Benchmark: load and validate a generated data set (not a test; run by hand).

    .venv/bin/python benchmarks/bench_validate.py --customers 100000

Generates the data set once (``powerprofile.datasets.write_utility_data``) under
``bench-data/``, then reports, for ``load_tables``: reading time, validation time,
rows per second and peak RSS; and the same for an injected-defects run in quarantine
mode on the usage table.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument(
        "--quarantine", action="store_true", help="also time a lenient run with defects"
    )
    args = ap.parse_args()
    data = args.data or Path("bench-data") / f"validate-{args.customers}"
    if not (data / "dataset.json").exists():
        from powerprofile.datasets import write_utility_data

        t0 = time.perf_counter()
        write_utility_data(data, n_customers=args.customers, seed=0, progress=False)
        print(f"generated {data} in {time.perf_counter() - t0:.1f} s")

    from powerprofile.schema import TABLE_ORDER, format_report, load_tables, validate_tables
    from powerprofile.schema._io import find_table_source, read_dataset_info, read_table

    # 1. what a user calls: read + validate, raw columns released as they are validated
    t0 = time.perf_counter()
    tables = load_tables(data)
    t_load = time.perf_counter() - t0
    n_rows = sum(tables.row_counts().values())
    print(
        f"load_tables (strict, clean): {n_rows:,} rows in {t_load:.1f} s, "
        f"{n_rows / t_load / 1e6:.2f} M rows/s; peak RSS {_rss_gb():.2f} GB"
    )
    del tables

    # 2. the split between reading and validating, raw frames kept alive by the caller
    t0 = time.perf_counter()
    frames = {n: read_table(find_table_source(data, n)) for n in TABLE_ORDER}
    t_read = time.perf_counter() - t0
    n_rows = sum(len(f) for f in frames.values())
    print(
        f"read {n_rows:,} rows ({len(frames['usage']):,} usage) in {t_read:.1f} s; "
        f"peak RSS {_rss_gb():.2f} GB"
    )
    end = read_dataset_info(data).get("data_end")
    t0 = time.perf_counter()
    tables = validate_tables(frames, data_end=end)
    t_val = time.perf_counter() - t0
    print(
        f"validate_tables (strict, clean): {t_val:.1f} s, {n_rows / t_val / 1e6:.1f} M rows/s; "
        f"peak RSS {_rss_gb():.2f} GB"
    )
    if args.quarantine:
        usage = frames["usage"]
        rng = np.random.default_rng(0)
        bad = rng.choice(len(usage), size=1000, replace=False)
        kwh = usage["kwh"].to_numpy(copy=True)
        kwh[bad] = -1.0
        frames["usage"] = usage.assign(kwh=kwh)
        del tables, usage
        t0 = time.perf_counter()
        tables = validate_tables(frames, errors="quarantine", data_end=end)
        t_q = time.perf_counter() - t0
        print(
            f"validate_tables (quarantine, 1,000 bad usage rows): {t_q:.1f} s; "
            f"peak RSS {_rss_gb():.2f} GB"
        )
        print(format_report(tables))


if __name__ == "__main__":
    main()
