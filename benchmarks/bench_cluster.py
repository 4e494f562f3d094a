"""Benchmark: scan throughput in this process against a local Dask cluster of 1 and 2 worker processes, same card.

Each configuration runs ``lta-jax scan --card CARD --out DIR --no-progress [--workers N]`` as a user would, in a fresh
output directory and with a fresh, empty compilation cache (``LTA_JAX_CACHE_DIR``), so every configuration pays its own
start-up and compilation. Reported per run:

* ``wall_s`` — the whole command, start-up and compilation included;
* ``steady_points_per_s`` — points per second once chunks flow: (chunks after the first) × chunk size over the time
  between the first and the last chunk file (their modification times), i.e. without start-up and compilation.

The card: M = 1 GeV (NH), the paper's large-LTA box (Sobol, seed 0), computed rates, T_end = 10 GeV, the fixed-grid
Magnus path with 400 steps (one vmapped call per chunk).

    python benchmarks/bench_cluster.py --points 1024 --chunk 32 --repeats 2 --out benchmarks/results/cluster.json
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CARD = """
[scan]
sampling = "sobol"
points = {points}
seed = 0
preset = "large-lta"
chunk = {chunk}

[fixed]
M = 1.0

[solver]
T_end = 10.0
grid_steps = 400
"""


def run_once(card: pathlib.Path, workers: int | None, n_points: int, chunk: int) -> dict:
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    env = dict(os.environ, LTA_JAX_CACHE_DIR=str(work / "cache"))
    cmd = [sys.executable, "-m", "lta_jax.cli.commands", "scan", "--card", str(card), "--out", str(work / "out"),
           "--no-progress"] + ([] if workers is None else ["--workers", str(workers)])
    t0 = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    report = json.loads(done.stdout)
    stamps = sorted(p.stat().st_mtime for p in (work / "out" / "chunks").glob("chunk_*.h5"))
    steady = (len(stamps) - 1) * chunk / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    first = stamps[0] - t0
    shutil.rmtree(work, ignore_errors=True)
    return {"wall_s": wall, "first_chunk_after_s": first, "steady_points_per_s": steady,
            "points_per_s_overall": n_points / wall, "failed": report["failed_now"], "executor": report["executor"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--chunk", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    card = pathlib.Path(tempfile.mkdtemp()) / "card.toml"
    card.write_text(CARD.format(points=args.points, chunk=args.chunk))
    configs = [None] + list(args.workers)
    rows = []
    for repeat in range(args.repeats):  # interleaved, so a drift of the machine hits every configuration alike
        for workers in configs:
            r = run_once(card, workers, args.points, args.chunk)
            r.update(workers=workers or 0, repeat=repeat)
            rows.append(r)
            print(f"{r['executor']:>34}: wall {r['wall_s']:6.1f} s, first chunk after {r['first_chunk_after_s']:5.1f} s,"
                  f" steady {r['steady_points_per_s']:6.1f} points/s", file=sys.stderr)
    summary = {}
    for workers in configs:
        mine = [r for r in rows if r["workers"] == (workers or 0)]
        summary["in-process" if workers is None else f"{workers} workers"] = {
            "median_wall_s": statistics.median(r["wall_s"] for r in mine),
            "median_steady_points_per_s": statistics.median(r["steady_points_per_s"] for r in mine),
            "median_first_chunk_after_s": statistics.median(r["first_chunk_after_s"] for r in mine)}
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
              "command": " ".join(sys.argv), "points": args.points, "chunk": args.chunk, "runs": rows,
              "summary": summary}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
