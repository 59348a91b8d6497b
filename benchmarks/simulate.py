"""Time `patas simulate` on a fresh SQLite data dir and print the figures.

    python benchmarks/simulate.py --men 1355        # the pilot's size

Prints wall time, CPU time (the simulate process's own, from getrusage) and the load average
around it, ticks, messages each way, lost messages, peak memory, and where the loop's CPU time
went by phase (from the summary the command writes). Not run in CI: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--men", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--effect", type=float, default=0.3)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="patas-sim-"))
    env = {**os.environ, "PATAS_DATA_DIR": str(data), "PATAS_LOG_LEVEL": "WARNING"}
    env.pop("PATAS_DATABASE_URL", None)
    patas = [sys.executable, "-m", "patas"]
    subprocess.run([*patas, "migrate", "-v0"], env=env, check=True)
    load_before = os.getloadavg()[0]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    subprocess.run(
        [
            *patas,
            "simulate",
            "--men",
            str(args.men),
            "--days",
            str(args.days),
            "--seed",
            str(args.seed),
            "--effect",
            str(args.effect),
            "--out",
            str(data / "out"),
            "--no-progress",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = json.loads((data / "out" / "summary.json").read_text())
    print(
        f"men={args.men} days={args.days} wall={wall:.1f}s cpu={cpu:.1f}s "
        f"load={load_before:.1f}->{os.getloadavg()[0]:.1f} peak={peak:.0f}MiB"
    )
    print(
        f"simulate loop: wall={summary['seconds']}s cpu={summary.get('cpu_seconds')}s "
        f"ticks={summary['ticks']}"
    )
    phases = summary.get("cpu_by_phase", {})
    print("loop cpu by phase: " + ", ".join(f"{k} {v}s" for k, v in phases.items()))
    print(
        f"inbound posted/stored={summary['inbound_posted']}/{summary['inbound_stored']} "
        f"outbound sent/received by fake={summary['outbound_sent_by_patas']}/"
        f"{summary['outbound_received_by_fake']} lost={summary['lost']}"
    )
    print(f"enrolled={summary['enrolled']} completed={summary['completed']} arms={summary['arms']}")
    print("; ".join(summary["notes"]))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
