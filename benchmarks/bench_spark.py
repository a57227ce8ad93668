"""Benchmark of the Spark engine: in-process engine vs Spark ``local[1]`` and ``local[2]``.

Usage::

    .venv/bin/python benchmarks/bench_spark.py --data /work/bench-data/gen-100k \\
        --out /work/bench-data/spark-100k
    .venv/bin/python benchmarks/bench_spark.py --data ... --job   # the whole `powerprofile run`

Each measurement runs in its own child process, sampled with the process-tree sampler
of ``bench_pipeline.py`` (the Python driver, the JVM Spark starts and Spark's Python
workers are all descendants): wall time, CPU time (user + system over the tree) and peak
RSS summed over the tree.

Default: the feature stage, ``build_features(folder, snapshot)`` over the folder's hash
partitions (``--snapshots N`` monthly snapshots ending at the data's last month):

- ``in-process``: :func:`powerprofile.features.build_features` with ``n_jobs=1``
  and with ``n_jobs=2`` (worker processes);
- ``spark local[k]``: :func:`powerprofile.spark.build_features` on a ``local[k]``
  session; the session start (the JVM, and one Python worker per core with the library
  imported, as the job's validation stage leaves them before its features) is timed
  apart from the features, whose CPU time is also split by process: the driver, the
  JVM and the Python workers.

``--job`` instead runs ``powerprofile run`` on the folder with ``engine: local`` and
``engine: spark`` (``local[1]``, ``local[2]``) and reports each run's stage times from
its stage log. The 1 -> 2 core speed-up is the features wall time at ``local[1]``
over that at ``local[2]``. Results go to ``<out>/bench.json`` and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import BENCH_KEY, TreeSampler, _cli, _stage_log  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- child side


def _warm(task: int) -> int:
    """A task that starts a Spark Python worker with the library imported."""
    import powerprofile.features  # noqa: F401

    time.sleep(1.0)  # the tasks overlap, so each core's worker starts
    return task


def _cpu_by_kind() -> dict[str, float]:
    """CPU seconds so far of this process (``driver``), its JVM and its Python workers."""
    import psutil

    me = psutil.Process()
    out = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
    for p in [me, *me.children(recursive=True)]:
        try:
            with p.oneshot():
                t = p.cpu_times()
                name = p.name()
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        kind = "driver" if p.pid == me.pid else "jvm" if "java" in name else "workers"
        out[kind] += t.user + t.system
    return out


def _child(mode: str, data: str, snapshots: list[str]) -> None:
    """Run one measurement in this process; print one JSON line with the timings."""
    t0 = time.perf_counter()
    out = {"mode": mode}
    if mode.startswith("in-process"):
        from powerprofile.features import build_features

        n_jobs = int(mode.rsplit("-", 1)[-1][1:])
        t1 = time.perf_counter()
        X = build_features(data, snapshots, n_jobs=n_jobs)
    else:
        from powerprofile.spark import build_features, spark_session
        from powerprofile.spark._tasks import run_tasks

        master = mode.split(" ", 1)[1]
        spark = spark_session(master)
        spark.range(1).count()  # the JVM and the first job are up
        # one Python worker per core, started and importing the library, as in the job,
        # whose validation stage starts them before the features
        cores = master[6:-1] if master.startswith("local[") else ""
        run_tasks(spark, _warm, int(cores) if cores.isdigit() else os.cpu_count())
        cpu = _cpu_by_kind()
        t1 = time.perf_counter()
        out["session_s"] = round(t1 - t0, 2)
        X = build_features(spark, data, snapshots)
        # the feature stage's CPU by process; workers that exit lose their share
        after = _cpu_by_kind()
        out["features_cpu_s"] = {k: round(after[k] - cpu[k], 1) for k in cpu}
    out["features_s"] = round(time.perf_counter() - t1, 2)
    out["rows"] = len(X)
    print("BENCH " + json.dumps(out), flush=True)


# ---------------------------------------------------------------- parent side


def _measure(cmd: list[str], env: dict, cwd: Path, interval: float) -> dict:
    t0 = time.time()
    child = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(child.pid, interval)
    sampler.start()
    stdout, stderr = child.communicate()
    wall = time.time() - t0
    sampler.stopped.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{cmd!r} failed (exit {child.returncode}):\n{stderr[-3000:]}")
    res = {
        "wall_s": round(wall, 2),
        "cpu_s": round(sampler.samples[-1][2], 2) if sampler.samples else None,
        "peak_rss_gb": round(max((r for _, r, _ in sampler.samples), default=0) / 1024**3, 2),
    }
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            res.update(json.loads(line[6:]))
    return res


def _snapshots(data: Path, n: int) -> list[str]:
    import pandas as pd

    info = json.loads((data / "dataset.json").read_text(encoding="utf-8"))
    last = pd.Timestamp(info["data_end"]).to_period("M").to_timestamp()
    return [str(d.date()) for d in pd.date_range(end=last, periods=n, freq="MS")]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="a partitioned data-set folder")
    p.add_argument("--out", type=Path, required=True, help="bench output folder")
    p.add_argument("--snapshots", type=int, default=1)
    p.add_argument("--job", action="store_true", help="the whole `powerprofile run`")
    p.add_argument("--modes", default=None, help="comma-separated subset of the modes")
    p.add_argument("--interval", type=float, default=0.25)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--snap", action="append", default=[], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        _child(a.child, str(a.data), a.snap)
        return 0

    data, out = a.data.resolve(), a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("POWERPROFILE_PSEUDONYM_KEY", BENCH_KEY)
    load_before = os.getloadavg()
    results = []
    if a.job:
        modes = ["local", "spark local[1]", "spark local[2]"]
        modes = [m for m in modes if not a.modes or m in a.modes.split(",")]
        link = out / "configs"
        if not link.exists():
            link.symlink_to(ROOT / "configs", target_is_directory=True)
        for mode in modes:
            run_out = out / ("run-" + mode.replace(" ", "-").replace("[", "").replace("]", ""))
            cmd = _cli(
                "run",
                "--config",
                str(ROOT / "configs" / "default.yaml"),
                "--data",
                str(data),
                "--out",
                str(run_out),
                "--no-tracking",
                "-q",
                "--engine",
                mode.split(" ")[0],
            )
            if mode.startswith("spark"):
                cmd += ["--set", f"spark.master={mode.split(' ')[1]}"]
            print(f"running {mode} ...", file=sys.stderr, flush=True)
            res = _measure(cmd, env, out, a.interval)
            stages = _stage_log(run_out) or []
            res["stages"] = {s["stage"]: round(s["seconds"], 1) for s in stages}
            res["features_s"] = res["stages"].get("features")
            results.append({"mode": mode, **res})
    else:
        snaps = _snapshots(data, a.snapshots)
        modes = ["in-process n1", "in-process n2", "spark local[1]", "spark local[2]"]
        modes = [m for m in modes if not a.modes or m in a.modes.split(",")]
        for mode in modes:
            print(f"running {mode} ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, "--data", str(data), "--out", str(out)]
            cmd += ["--child", mode.replace(" n", "-n")] + [x for s in snaps for x in ("--snap", s)]
            results.append({**_measure(cmd, env, out, a.interval), "mode": mode})
            (out / "partial.json").write_text(json.dumps(results, indent=1) + "\n")

    by = {r["mode"]: r for r in results}
    speedup = None
    if "spark local[1]" in by and "spark local[2]" in by and by["spark local[2]"]["features_s"]:
        speedup = by["spark local[1]"]["features_s"] / by["spark local[2]"]["features_s"]
    info = json.loads((data / "dataset.json").read_text(encoding="utf-8"))
    report = {
        "data": str(data),
        "customers": info.get("n_customers"),
        "partitions": info.get("n_partitions"),
        "what": "powerprofile run" if a.job else f"build_features, {a.snapshots} snapshot(s)",
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "results": results,
        "features_speedup_1_to_2_cores": speedup,
    }
    (out / "bench.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(
        f"{report['what']} on {report['customers']:,} customers, {report['partitions']} "
        f"partitions; {os.cpu_count()} cores, load average {load_before[0]:.1f} before, "
        f"{report['load_average_after'][0]:.1f} after\n"
    )
    print(
        "| engine | wall (s) | features (s) | JVM start (s) | CPU (s) | peak RSS, tree (GB) "
        "| features CPU driver / JVM / workers (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        split = r.get("features_cpu_s")
        split = " / ".join(f"{split[k]:.1f}" for k in ("driver", "jvm", "workers")) if split else ""
        print(
            f"| {r['mode']} | {r['wall_s']:.1f} | {r.get('features_s') or float('nan'):.1f} | "
            f"{r.get('session_s', '')} | {r['cpu_s']:.1f} | {r['peak_rss_gb']:.2f} | {split} |"
        )
    if speedup:
        print(f"\nfeatures, local[1] -> local[2]: {speedup:.2f}x")
    if a.job:
        _print_stages(results)
    return 0


def _print_stages(results: list[dict]) -> None:
    """Seconds per stage of each run, and each Spark run's wall over the local engine's."""
    stages = []
    for r in results:
        stages += [s for s in r.get("stages", {}) if s not in stages]
    if not stages:
        return
    print("\n| stage | " + " | ".join(r["mode"] for r in results) + " |")
    print("|---|" + "---:|" * len(results))
    for st in stages:
        cells = [r.get("stages", {}).get(st) for r in results]
        print(f"| {st} | " + " | ".join("" if c is None else f"{c:.1f}" for c in cells) + " |")
    base = next((r for r in results if r["mode"] == "local"), None)
    for r in results:
        if base is not None and r is not base and base["wall_s"]:
            print(f"\n{r['mode']}: wall {r['wall_s'] / base['wall_s']:.2f}x the local engine's")


if __name__ == "__main__":
    sys.exit(main())
