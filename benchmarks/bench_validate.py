"""Benchmark: read and validate a generated data set (not a test; run by hand).

    .venv/bin/python benchmarks/bench_validate.py --customers 100000
    .venv/bin/python benchmarks/bench_validate.py --data bench-data/reader-20k

Generates the data set once (``powerprofile.datasets.write_utility_data``) under
``bench-data/`` unless ``--data`` names one, then reports CPU seconds (all threads of
the process), wall seconds and rows per CPU-second for:

1. validation alone of the usage table (every part already read into memory; the
   per-part validation that every route shares);
2. the streaming reader, ``validate_folder`` (read and validate part by part, keep
   only the report): memory holds one part;
3. ``load_tables`` (the same, keeping every validated part);
4. with ``--quarantine``: the streaming reader in quarantine mode with 1,000 negative
   kWh planted in the first usage part, writing per-part quarantine files.

Peak RSS is printed after each step (it only grows; run steps separately with
``--only`` to see each one's own peak).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


class _Clock:
    def __enter__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall


def _say(what: str, rows: int, c: _Clock) -> None:
    print(
        f"{what}: {rows:,} rows, {c.cpu:.2f} CPU-s ({rows / c.cpu / 1e6:.1f} M rows/CPU-s), "
        f"{c.wall:.2f} s wall; peak RSS {_rss_gb():.2f} GB",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument(
        "--only", choices=["usage", "stream", "load"], default=None, help="run one step only"
    )
    ap.add_argument("--quarantine", action="store_true", help="also time quarantine mode")
    args = ap.parse_args()
    data = args.data or Path("bench-data") / f"validate-{args.customers}"
    if not (data / "dataset.json").exists():
        from powerprofile.datasets import write_utility_data

        t0 = time.perf_counter()
        write_utility_data(data, n_customers=args.customers, seed=0, progress=False)
        print(f"generated {data} in {time.perf_counter() - t0:.1f} s")

    from powerprofile.schema import load_tables, validate_folder
    from powerprofile.schema._folder import _read_files, open_folder
    from powerprofile.schema._validate import PartContext, check_part

    folder = open_folder(data)
    n_all = sum(folder.declared.row_counts.values()) or None

    if args.only in (None, "usage"):
        src = folder.sources["usage"]
        cust = folder.sources["customers"]
        res = check_part("customers", _read_files(cust, cust.files))
        ctx = PartContext(data_end=folder.data_end, all_ids=res.ids, kept_ids=res.kept_ids)
        P = folder.declared.n_partitions
        rows, cpu, wall = 0, 0.0, 0.0
        for p, f in enumerate(src.files):  # one part in memory at a time
            raw = _read_files(src, [f])
            rows += len(raw)
            with _Clock() as c:
                part_ctx = PartContext(**{**ctx.__dict__, "file": str(f)})
                if src.partitioned:
                    part_ctx.partition = (p, P)
                check_part("usage", raw, part_ctx)
            cpu, wall = cpu + c.cpu, wall + c.wall
            del raw
        c.cpu, c.wall = cpu, wall
        _say("validation of usage (parts already read)", rows, c)

    if args.only in (None, "stream"):
        with _Clock() as c:
            validate_folder(data)
        _say("validate_folder (read + validate part by part, strict, clean)", n_all, c)

    if args.only in (None, "load"):
        with _Clock() as c:
            tables = load_tables(data)
        _say("load_tables (read + validate, keep everything)", n_all, c)
        del tables

    if args.quarantine:
        import pyarrow.parquet as pq

        tmp = Path(tempfile.mkdtemp())
        try:
            copy = tmp / "data"
            shutil.copytree(data, copy, ignore=shutil.ignore_patterns("truth"))
            f = copy / "usage" / "part-00000.parquet"
            t = pq.read_table(f)
            kwh = t.column("kwh").to_numpy().copy()
            bad = np.random.default_rng(0).choice(len(kwh), size=1000, replace=False)
            kwh[bad] = -1.0
            pq.write_table(t.set_column(t.column_names.index("kwh"), "kwh", [kwh]), f)
            with _Clock() as c:
                report = validate_folder(copy, errors="quarantine", quarantine=tmp / "q")
            _say("validate_folder (quarantine, 1,000 bad usage rows)", n_all, c)
            print(report[["table", "column", "check", "n_rows", "action"]].to_string())
            print(sorted(p.relative_to(tmp / "q").as_posix() for p in (tmp / "q").rglob("*")))
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
