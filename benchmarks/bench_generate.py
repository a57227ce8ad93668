"""Benchmark of the synthetic data generator (wall time, rows written, peak RSS).

Usage::

    python benchmarks/bench_generate.py --customers 100000 --out bench-data/gen-100k
    nice python benchmarks/bench_generate.py --customers 1000000 --partitions 64 \
        --out bench-data/gen-1m
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from powerprofile.datasets import write_utility_data


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--out", required=True)
    p.add_argument("--partitions", type=int, default=None)
    p.add_argument("--chunk", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default="2024-01-01")
    p.add_argument("--end", default="2025-12-31")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    out = write_utility_data(
        a.out,
        a.customers,
        a.start,
        a.end,
        a.seed,
        n_partitions=a.partitions,
        chunk_customers=a.chunk,
        progress=True,
    )
    wall = time.perf_counter() - t0
    meta = json.loads((Path(out) / "dataset.json").read_text())
    rows = meta["row_counts"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_gb = usage.ru_maxrss / 1024**2
    size_gb = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file()) / 1024**3
    report = {
        "customers": a.customers,
        "chunk_customers": a.chunk,
        "n_partitions": meta["n_partitions"],
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "rows": rows,
        "rows_total": sum(rows.values()),
        "usage_rows_per_s": round(rows["usage"] / wall),
        "peak_rss_gb": round(peak_gb, 2),
        "size_on_disk_gb": round(size_gb, 2),
        "out": str(out),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
