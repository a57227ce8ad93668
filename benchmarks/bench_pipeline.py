"""Benchmark of the whole job: `powerprofile run` with wall, CPU and peak RSS per stage.

Usage::

    .venv/bin/python benchmarks/bench_pipeline.py --customers 3000 --partitions 4
    nice .venv/bin/python benchmarks/bench_pipeline.py --customers 100000 --partitions 8

Generates the data set with ``powerprofile sample`` when ``--data`` (default
``bench-data/pipeline-<N>[-p<P>]`` in the checkout) has no ``dataset.json``, then runs
``powerprofile run`` on it as a child process, with MLflow tracking to a SQLite store
inside the bench output folder (default ``bench-data/pipeline-<N>[-p<P>]-out``). The
pseudonymisation key comes from ``POWERPROFILE_PSEUDONYM_KEY``; when it is not set, a
fixed benchmark key (not a secret, for benchmarks only) is used.

While the job runs, a thread samples the whole process tree (the job and every process
it starts) every ``--interval`` seconds with psutil: resident memory summed over the
tree, and CPU time (user + system, including finished children). Samples are attributed
to the job's stages with the stage log the job writes (``stages.jsonl``, found through
``run_summary.json``); when the job fails before writing it, the stage ends are taken
from its ``<stage> done in`` log lines as they arrive. Printed: one Markdown table with
wall time, CPU time, mean CPU use (CPU / wall, in cores) and peak RSS per stage and in
total. ``startup`` is the time before the first stage (interpreter, imports, config),
``finish`` the time after the last one (summary, swapping the outputs in, exit). The
total CPU time is the kernel's account of the finished job (``wait4``: the job and its
waited-for descendants), and the largest single process's own peak (``ru_maxrss``) is
shown beside the sampled peak of the tree. The same figures go to
``bench.json`` and the raw samples to ``samples.csv`` in the output folder; the job's
log and printed outputs to ``run.log``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
# a fresh random key per benchmark run when none is set: synthetic data only, never a
# fixed string in the source
BENCH_KEY = secrets.token_hex(32)
_DONE = re.compile(r"powerprofile: INFO: (\w+) done in [0-9.]+ s")


def _cli(*args: str) -> list[str]:
    """Command line running the ``powerprofile`` CLI of this interpreter."""
    script = Path(sys.executable).with_name("powerprofile")
    if script.exists():
        return [str(script), *args]
    code = "import sys; from powerprofile.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, *args]


def _children_usage() -> tuple[float, float]:
    """CPU seconds and largest max RSS (GB) of this process's finished, waited-for children."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024**2


class TreeSampler(threading.Thread):
    """Samples (time, RSS bytes, CPU seconds) of a process and its descendants."""

    def __init__(self, pid: int, interval: float):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int, float]] = []
        self.stopped = threading.Event()
        self._known: dict[int, psutil.Process] = {}

    def _tree(self) -> list[psutil.Process]:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        # keep one Process object per pid so cpu_times() keeps working on the same process
        return [self._known.setdefault(p.pid, p) for p in procs]

    def sample(self) -> None:
        rss, cpu = 0, 0.0
        for p in self._tree():
            try:
                with p.oneshot():
                    mem = p.memory_info().rss
                    t = p.cpu_times()
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            rss += mem
            # a live process's own time plus its finished, reaped children's
            cpu += t.user + t.system + t.children_user + t.children_system
        if rss:
            self.samples.append((time.time(), rss, cpu))

    def run(self) -> None:
        while not self.stopped.is_set():
            self.sample()
            self.stopped.wait(self.interval)


def _stage_log(out: Path) -> list[dict] | None:
    summary = out / "run_summary.json"
    if not summary.exists():
        return None
    path = json.loads(summary.read_text(encoding="utf-8")).get("outputs", {}).get("stage_log")
    if not path or not Path(path).exists():
        return None
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x]


def _stages_from_log_lines(lines: list[tuple[float, str]], start: float) -> list[dict]:
    """Stage ends as the ``<stage> done in`` log lines arrived (for a job that failed)."""
    out, t = [], start
    for when, line in lines:
        m = _DONE.search(line)
        if m:
            out.append({"stage": m.group(1), "start": t, "end": when})
            t = when
    return out


def _cpu_at(samples, t: float) -> float:
    """Cumulative CPU seconds of the tree at time ``t``, interpolated between samples."""
    if not samples or t <= samples[0][0]:
        return 0.0 if not samples or t < samples[0][0] else samples[0][2]
    for (t0, _, c0), (t1, _, c1) in zip(samples, samples[1:], strict=False):
        if t0 <= t <= t1:
            return c0 + (c1 - c0) * (t - t0) / (t1 - t0) if t1 > t0 else c1
    return samples[-1][2]


def _peak_rss(samples, start: float, end: float) -> int:
    """Largest tree RSS sampled in [start, end] (or the samples around a short stage)."""
    inside = [r for t, r, _ in samples if start <= t <= end]
    if inside:
        return max(inside)
    before = [r for t, r, _ in samples if t < start][-1:]
    after = [r for t, r, _ in samples if t > end][:1]
    return max(before + after, default=0)


def _rows(stages: list[dict], samples, t_start: float, t_end: float, cpu_total: float):
    spans = []
    if stages:
        if stages[0]["start"] > t_start:  # from the stage log (log lines: in the first stage)
            spans.append(("startup", t_start, stages[0]["start"]))
        spans += [(s["stage"], s["start"], s["end"]) for s in stages]
        last = stages[-1]
        tail = "finish" if last["stage"] == "report" else f"(failed after {last['stage']})"
        spans.append((tail, last["end"], t_end))
    rows = []
    for name, a, b in spans:
        wall = max(b - a, 0.0)
        cpu = _cpu_at(samples, b) - _cpu_at(samples, a)
        rows.append((name, wall, cpu, _peak_rss(samples, a, b)))
    peak = max((r for _, r, _ in samples), default=0)
    rows.append(("**total**", t_end - t_start, cpu_total, peak))
    return rows


def _table(rows, largest_gb: float) -> str:
    head = (
        "| stage | wall (s) | CPU (s) | CPU / wall | peak RSS (GB) |\n|---|---:|---:|---:|---:|\n"
    )
    body = ""
    for name, wall, cpu, rss in rows:
        ratio = f"{cpu / wall:.2f}" if wall > 0 else ""
        body += f"| {name} | {wall:.1f} | {cpu:.1f} | {ratio} | {rss / 1024**3:.2f} |\n"
    note = (
        f"\nPeak RSS is the sampled sum over the process tree; the largest single "
        f"process peaked at {largest_gb:.2f} GB (ru_maxrss).\n"
    )
    return head + body + note


def _generate(args, data: Path, env: dict) -> dict | None:
    if (data / "dataset.json").exists():
        return None
    data.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["sample", "--customers", str(args.customers), "--seed", str(args.seed)]
    if args.partitions:
        cmd += ["--partitions", str(args.partitions)]
    cmd += ["--out", str(data), "--quiet"]
    print(f"generating {data} ...", file=sys.stderr, flush=True)
    cpu0, _ = _children_usage()
    t0 = time.time()
    subprocess.run(_cli(*cmd), check=True, env=env, cwd=ROOT)
    cpu1, rss = _children_usage()
    return {"wall_s": round(time.time() - t0, 1), "cpu_s": round(cpu1 - cpu0, 1), "max_rss_gb": rss}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=3000)
    p.add_argument("--partitions", type=int, default=None)
    p.add_argument("--data", type=Path, default=None, help="data folder (generated if missing)")
    p.add_argument("--out", type=Path, default=None, help="bench output folder")
    p.add_argument("--config", type=Path, default=None, help="job config (default: the CLI's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--interval", type=float, default=0.2, help="sampling period (s)")
    a = p.parse_args(argv)

    name = f"pipeline-{a.customers}" + (f"-p{a.partitions}" if a.partitions else "")
    data = (a.data or ROOT / "bench-data" / name).resolve()
    out_root = (a.out or ROOT / "bench-data" / f"{name}-out").resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    config = (a.config or ROOT / "configs" / "default.yaml").resolve()

    env = dict(os.environ)
    if not env.get("POWERPROFILE_PSEUDONYM_KEY"):
        env["POWERPROFILE_PSEUDONYM_KEY"] = BENCH_KEY
        print(
            "POWERPROFILE_PSEUDONYM_KEY not set: using a random key for this run", file=sys.stderr
        )
    generated = _generate(a, data, env)

    # the job runs in the bench folder (MLflow's database and artifacts land there); the
    # config's relative paths (configs/tags.yaml, ...) resolve through a link to the checkout
    link = out_root / "configs"
    if not link.exists():
        link.symlink_to(ROOT / "configs", target_is_directory=True)
    run_out = out_root / "run"
    cmd = _cli(
        "run",
        "--config",
        str(config),
        "--data",
        str(data),
        "--out",
        str(run_out),
        "--seed",
        str(a.seed),
        "--tracking-uri",
        f"sqlite:///{out_root / 'mlflow.db'}",
        "--set",
        "progress=false",
        *[x for kv in a.set for x in ("--set", kv)],
    )
    t_start = time.time()
    child = subprocess.Popen(
        cmd, cwd=out_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(child.pid, a.interval)
    sampler.start()
    lines: list[tuple[float, str]] = []

    def read_stderr():
        for line in child.stderr:
            lines.append((time.time(), line))

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    stdout = child.stdout.read()
    # wait4: the job's own account (CPU of it and its waited-for descendants, largest RSS)
    _, status, usage = os.wait4(child.pid, 0)
    t_end = time.time()
    code = child.returncode = os.waitstatus_to_exitcode(status)
    sampler.stopped.set()
    sampler.join()
    reader.join()
    cpu_total = usage.ru_utime + usage.ru_stime
    largest = usage.ru_maxrss / 1024**2

    log_text = "".join(x for _, x in lines) + (stdout or "")
    (out_root / "run.log").write_text(log_text, encoding="utf-8")
    stages = _stage_log(run_out) if code == 0 else None
    if stages is None:
        stages = _stages_from_log_lines(lines, t_start)
    rows = _rows(stages, sampler.samples, t_start, t_end, cpu_total)

    with open(out_root / "samples.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["t_s", "rss_bytes", "cpu_s"])
        w.writerows((round(t - t_start, 3), r, round(c, 3)) for t, r, c in sampler.samples)
    report = {
        "customers": a.customers,
        "partitions": a.partitions,
        "data": str(data),
        "out": str(run_out),
        "exit_code": code,
        "generated": generated,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "stages": [
            {"stage": n, "wall_s": round(w, 2), "cpu_s": round(c, 2), "peak_rss_gb": r / 1024**3}
            for n, w, c, r in rows
        ],
        "largest_process_max_rss_gb": largest,
        "sampled_cpu_s": round(sampler.samples[-1][2], 2) if sampler.samples else None,
    }
    (out_root / "bench.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")

    print(
        f"`powerprofile run` on {a.customers:,} customers"
        + (f", {a.partitions} partitions" if a.partitions else "")
        + f" ({data}); exit {code}; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores\n"
    )
    if generated:
        print(f"data generated first: {generated['wall_s']} s wall, {generated['cpu_s']} s CPU\n")
    print(_table(rows, largest))
    if code != 0:
        tail = "".join(x for _, x in lines[-20:])
        print(f"the job failed (exit {code}); last log lines:\n{tail}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
