"""Time `patas simulate` on a fresh SQLite data dir and print the figures.

    python benchmarks/simulate.py --men 1355        # the pilot's size

Prints wall time, ticks, messages each way, lost messages and peak memory (from the summary the
command writes). Not run in CI: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
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
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="patas-sim-"))
    env = {**os.environ, "PATAS_DATA_DIR": str(data), "PATAS_LOG_LEVEL": "WARNING"}
    env.pop("PATAS_DATABASE_URL", None)
    patas = [sys.executable, "-m", "patas"]
    subprocess.run([*patas, "migrate", "-v0"], env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [
            *patas,
            "simulate",
            "--men",
            str(args.men),
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
    summary = json.loads((data / "out" / "summary.json").read_text())
    print(
        f"men={args.men} wall={wall:.1f}s simulate={summary['seconds']}s ticks={summary['ticks']}"
    )
    print(
        f"inbound posted/stored={summary['inbound_posted']}/{summary['inbound_stored']} "
        f"outbound sent/received by fake={summary['outbound_sent_by_patas']}/"
        f"{summary['outbound_received_by_fake']} lost={summary['lost']}"
    )
    print(f"enrolled={summary['enrolled']} completed={summary['completed']} arms={summary['arms']}")
    print("; ".join(summary["notes"]))


if __name__ == "__main__":
    main()
