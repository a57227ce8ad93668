"""Feature-building benchmark (run by hand, not a test).

Measures, each in a fresh subprocess so peak memory is its own (summed over the
process tree, sampled every 0.1 s):

* ``ours``    — ``powerprofile.build_features`` on a data-set folder (Parquet read
  included), the whole feature set, one snapshot at the data's end; with
  ``--training``, what the job's feature stage does instead: ``build_training_frame``
  over the 12 monthly training snapshots (90-day horizon) plus the scoring snapshot
  (13 snapshots);
* ``pandas``  — a straightforward pandas ``groupby().apply`` implementation of the
  same usage features (same point-in-time rules);
* ``tsfresh`` — tsfresh ``extract_features`` with ``MinimalFCParameters`` on the daily
  kWh series (optional dependency).

Examples
--------
::

    nice python benchmarks/bench_features.py --data bench-data/gen-100k --peers
    nice python benchmarks/bench_features.py --data bench-data/gen-1m --n-jobs 2
    python benchmarks/bench_features.py --customers 20000        # generates data first
    python benchmarks/bench_features.py --data bench-data/f20k --training

``rows_per_cpu_s`` is the folder's usage rows divided by the CPU seconds of the whole
child process (start-up and imports included), whatever the number of snapshots;
``rows_per_build_cpu_s`` divides by the CPU seconds of the build call alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

WINDOWS = (30, 90, 180, 365)


# ----------------------------------------------------------------------------- helpers
def _info(data: Path) -> dict:
    return json.loads((data / "dataset.json").read_text())


def _usage_files(data: Path) -> list[Path]:
    folder = data / "usage"
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else [data / "usage.parquet"]


def _count_rows(data: Path, table: str) -> int:
    folder = data / table
    files = (
        sorted(folder.glob("part-*.parquet")) if folder.is_dir() else [data / f"{table}.parquet"]
    )
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files if f.exists())


def _snapshot(data: Path, given: str | None) -> pd.Timestamp:
    if given:
        return pd.Timestamp(given)
    return pd.Timestamp(_info(data)["data_end"]) + pd.Timedelta(days=1)


def _peer_customers(data: Path, n: int | None):
    """The first ``n`` customers of the first usage part (``n < 0``: the first ``-n`` whole parts)."""
    files = _usage_files(data)
    if not n:
        return files, None
    if n < 0:
        return files[:-n], None
    ids = pq.read_table(files[0], columns=["customer_id"]).column(0).unique().to_pylist()
    return files[:1], set(ids[:n])


def _read_usage(f: Path, keep, T: pd.Timestamp) -> pd.DataFrame:
    cols = [
        c
        for c in (
            "customer_id",
            "date",
            "kwh",
            "peak_kwh",
            "flat_kwh",
            "valley_kwh",
            "read_quality",
            "recorded_at",
        )
        if c in pq.read_schema(f).names
    ]
    df = pd.read_parquet(f, columns=cols)
    if keep is not None:
        df = df[df["customer_id"].isin(keep)]
    # point in time: dated and recorded before T, latest version of each day
    m = df["date"] < T
    if "recorded_at" in df.columns:
        m &= df["recorded_at"].isna() | (df["recorded_at"] < T)
        df = df[m].sort_values(["customer_id", "date", "recorded_at"])
        df = df.drop_duplicates(["customer_id", "date"], keep="last")
    else:
        df = df[m]
    return df


# ----------------------------------------------------------------------------- runs
def training_snapshots(T: pd.Timestamp, horizon_days: int = 90, n: int = 12) -> list:
    """The job's default training snapshots: ``n`` month starts whose horizon ends by ``T``."""
    last = (T - pd.Timedelta(days=horizon_days)).to_period("M").to_timestamp()
    return sorted(last - pd.DateOffset(months=i) for i in range(n))


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its waited-for children."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def run_ours(data: Path, T, n_jobs: int, training: bool = False) -> dict:
    from powerprofile.features import build_features, build_training_frame

    t0 = time.perf_counter()
    c0 = _cpu()
    rows = 0
    if training:
        train = build_training_frame(data, training_snapshots(T), 90, n_jobs=n_jobs)
        rows = len(train)
        del train
    frame = build_features(data, T, n_jobs=n_jobs)
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "build_cpu_s": _cpu() - c0,
        "rows_out": rows + len(frame),
        "features": frame.shape[1],
    }


def _pandas_one(g: pd.DataFrame, T: pd.Timestamp) -> pd.Series:
    out = {}
    age = (T - g["date"]).dt.days
    x_all = g["kwh"]
    for w in WINDOWS:
        win = g[age <= w]
        x = win["kwh"]
        mean = x.mean()
        out[f"kwh_mean_{w}d"] = mean
        out[f"kwh_cv_{w}d"] = x.std(ddof=0) / mean if len(x) > 1 and mean > 0 else np.nan
        if len(x) > 1:
            t = (win["date"] - T).dt.days.to_numpy(dtype=float)
            out[f"kwh_slope_{w}d"] = np.polyfit(t, x.to_numpy(), 1)[0]
        else:
            out[f"kwh_slope_{w}d"] = np.nan
        z = (x == 0).astype(int)
        out[f"kwh_zero_days_{w}d"] = z.sum()
        consecutive = (win["date"].diff().dt.days != 1) | (z.diff() != 0)
        runs = z.groupby(consecutive.cumsum()).sum()
        out[f"kwh_longest_zero_run_{w}d"] = runs.max() if len(runs) else 0
        out[f"kwh_read_days_{w}d"] = x.count()
        we = win["date"].dt.day_of_week >= 5
        out[f"kwh_weekend_ratio_{w}d"] = x[we].mean() / x[~we].mean()
        if "read_quality" in win.columns:
            out[f"estimated_read_share_{w}d"] = (win["read_quality"] == "estimated").mean()
        if "peak_kwh" in win.columns:
            tot = win[["peak_kwh", "flat_kwh", "valley_kwh"]].sum().sum()
            for p in ("peak", "flat", "valley"):
                out[f"{p}_share_{w}d"] = win[f"{p}_kwh"].sum() / tot if tot > 0 else np.nan
    out["usage_drop_ratio"] = x_all[age <= 30].mean() / x_all[(age > 30) & (age <= 120)].mean()
    out["kwh_yoy_change"] = x_all[age <= 90].mean() / x_all[(age > 365) & (age <= 455)].mean() - 1
    month = g["date"].dt.month
    last = age <= 365
    shoulder = x_all[last & month.isin([3, 4, 5, 9, 10, 11])].mean()
    out["kwh_summer_ratio"] = x_all[last & month.isin([6, 7, 8])].mean() / shoulder
    out["kwh_winter_ratio"] = x_all[last & month.isin([12, 1, 2])].mean() / shoulder
    out["days_since_last_read"] = age.min()
    return pd.Series(out)


def run_pandas(data: Path, T, n_customers) -> dict:
    files, keep = _peer_customers(data, n_customers)
    t0 = time.perf_counter()
    rows, frames = 0, []
    for f in files:
        df = _read_usage(f, keep, T)
        df = df[df["date"] >= T - pd.Timedelta(days=455)]
        frames.append(df.groupby("customer_id", sort=True).apply(_pandas_one, T=T))
    out = pd.concat(frames)
    wall = time.perf_counter() - t0
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    if keep is not None:
        rows = len(pd.read_parquet(files[0], columns=["customer_id"]).query("customer_id in @keep"))
    return {"wall_s": wall, "rows_in": rows, "rows_out": len(out), "features": out.shape[1]}


def run_tsfresh(data: Path, T, n_customers, n_jobs: int) -> dict:
    from tsfresh import extract_features
    from tsfresh.feature_extraction import MinimalFCParameters

    files, keep = _peer_customers(data, n_customers)
    t0 = time.perf_counter()
    rows, frames = 0, []
    for f in files:
        df = _read_usage(f, keep, T)[["customer_id", "date", "kwh"]]
        df["customer_id"] = df["customer_id"].astype(object)
        frames.append(
            extract_features(
                df,
                column_id="customer_id",
                column_sort="date",
                default_fc_parameters=MinimalFCParameters(),
                n_jobs=n_jobs,
                disable_progressbar=True,
            )
        )
    out = pd.concat(frames)
    wall = time.perf_counter() - t0
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    if keep is not None:
        rows = len(pd.read_parquet(files[0], columns=["customer_id"]).query("customer_id in @keep"))
    return {"wall_s": wall, "rows_in": rows, "rows_out": len(out), "features": out.shape[1]}


# ----------------------------------------------------------------------------- driver
def _tree_rss(proc) -> int:
    import psutil

    try:
        p = psutil.Process(proc.pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(args: list[str]) -> dict:
    """Run this script with ``args`` in a subprocess; return its result plus peak tree RSS."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    peak = [0]

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc))
            time.sleep(0.1)

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    out, _ = proc.communicate()
    th.join()
    if proc.returncode != 0:
        return {"error": f"exit code {proc.returncode}"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_gb"] = peak[0] / 1e9
    res["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    res["load_avg"] = max(load, os.getloadavg()[0])
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="data-set folder (partitioned Parquet)")
    ap.add_argument(
        "--customers",
        type=int,
        default=100_000,
        help="without --data: use bench-data/gen-100k or -1m if complete, else generate",
    )
    ap.add_argument("--snapshot", default=None, help="default: the day after the data's end")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument(
        "--training",
        action="store_true",
        help="ours: the training frame over 12 monthly snapshots plus the scoring snapshot",
    )
    ap.add_argument("--peers", action="store_true", help="also run the pandas and tsfresh peers")
    ap.add_argument(
        "--peer-customers",
        type=int,
        default=None,
        help="run the peers on the first N customers of the first part, or with -K on the "
        "first K whole parts (default: all)",
    )
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument(
        "--peer-list", default="pandas,tsfresh", help="which peers to run (comma-separated)"
    )
    ap.add_argument("--run", choices=["ours", "pandas", "tsfresh"], help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.run:  # child process
        T = pd.Timestamp(a.snapshot)
        if a.run == "ours":
            res = run_ours(a.data, T, a.n_jobs, a.training)
        elif a.run == "pandas":
            res = run_pandas(a.data, T, a.peer_customers)
        else:
            res = run_tsfresh(a.data, T, a.peer_customers, a.n_jobs)
        print(json.dumps(res))
        return 0

    data = a.data
    if data is None:
        name = {100_000: "gen-100k", 1_000_000: "gen-1m"}.get(a.customers, f"gen-{a.customers}")
        data = Path("bench-data") / name
        if not (data / "dataset.json").exists():
            from powerprofile.datasets import write_utility_data

            data = Path(tempfile.mkdtemp(prefix="bench-features-")) / name
            t0 = time.perf_counter()
            write_utility_data(data, a.customers, progress=True)
            print(f"generated {data} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    info = _info(data)
    T = _snapshot(data, a.snapshot)
    n_usage = _count_rows(data, "usage")
    other = {t: _count_rows(data, t) for t in ("bills", "payments", "interactions", "events")}
    print(
        f"data {data}: {info.get('n_customers'):,} customers, {n_usage:,} usage rows, "
        f"{other}, snapshot {T.date()}, n_jobs={a.n_jobs}, cpus={os.cpu_count()}",
        file=sys.stderr,
    )
    common = ["--data", str(data), "--snapshot", str(T.date()), "--n-jobs", str(a.n_jobs)]
    rows = []
    if not a.skip_ours:
        r = measure(["--run", "ours", *common, *(["--training"] if a.training else [])])
        label = "training (12 snapshots) + scoring" if a.training else "build_features"
        r.update(method=f"powerprofile {label} (all features)", rows_in=n_usage)
        rows.append(r)
    if a.peers:
        peer = [*common] + ([f"--peer-customers={a.peer_customers}"] if a.peer_customers else [])
        for name, label in (
            ("pandas", "pandas groupby().apply (usage features)"),
            ("tsfresh", "tsfresh MinimalFCParameters (kWh series)"),
        ):
            if name not in a.peer_list.split(","):
                continue
            r = measure(["--run", name, *peer])
            r["method"] = label
            rows.append(r)
    table = pd.DataFrame(rows)
    if "wall_s" in table:
        table["usage_rows_per_s"] = table["rows_in"] / table["wall_s"]
        table["rows_per_cpu_s"] = table["rows_in"] / table["cpu_s"]
        if "build_cpu_s" in table:  # without interpreter start-up and imports
            table["rows_per_build_cpu_s"] = table["rows_in"] / table["build_cpu_s"]
        base = table["rows_per_cpu_s"].iloc[0] if not a.skip_ours else np.nan
        table["ours_speedup_x"] = base / table["rows_per_cpu_s"]  # per CPU second: fair under load
    cols = [
        c
        for c in (
            "method",
            "rows_in",
            "rows_out",
            "features",
            "wall_s",
            "cpu_s",
            "build_cpu_s",
            "usage_rows_per_s",
            "rows_per_cpu_s",
            "rows_per_build_cpu_s",
            "peak_rss_gb",
            "ours_speedup_x",
            "load_avg",
            "error",
        )
        if c in table
    ]
    with pd.option_context("display.width", 200, "display.float_format", "{:,.2f}".format):
        print(table[cols].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
