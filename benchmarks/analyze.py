"""Benchmark `patas analyze`: (a) 2,710 rows x 40 outcomes x 2,000 RI draws; (b) 1,000,000 rows
x 10 outcomes without RI. Prints wall and CPU time and peak memory (the process' max RSS).

Run: python benchmarks/analyze.py [--only a|b]
Each case writes its data file, then runs the command end to end (read, estimate, write CSVs and
the HTML report), as a researcher would.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")


def make_case(n: int, outcomes: int, draws: int, folder: Path) -> tuple[Path, Path]:
    from patas.trials.synthetic import trial_data

    data = trial_data(n, outcomes, seed=11)
    rng = np.random.default_rng(3)
    for k in range(1, outcomes + 1):  # item non-response on top of survey non-response
        data.loc[rng.random(len(data)) < 0.02, f"y{k}"] = np.nan
    path = folder / f"data_{n}.parquet"
    data.to_parquet(path, index=False)
    names = [f"y{k}" for k in range(1, outcomes + 1)]
    plan = {
        "title": f"benchmark {n} rows",
        "treatment": "treat",
        "families": {"primary": names[:4], "secondary": names[4:]},
        "covariates": ["age", "x_baseline"],
        "covariate_adjustment": "lin",
        "strata": ["batch", "violence_bl"],
        "se": "HC2",
        "ri": {"draws": draws, "seed": 1},
    }
    plan_path = folder / f"plan_{n}.yaml"
    plan_path.write_text(yaml.safe_dump(plan))
    return path, plan_path


def run_case(label: str, n: int, outcomes: int, draws: int, limit: float) -> bool:
    from django.core.management import call_command

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, plan = make_case(n, outcomes, draws, folder)
        started, cpu = time.perf_counter(), time.process_time()
        call_command("analyze", data=str(data), plan=str(plan), out=str(folder / "out"))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = elapsed < limit
    print(
        f"({label}) {n:,} rows x {outcomes} outcomes x {draws} RI draws: {elapsed:.1f} s wall, "
        f"{cpu:.1f} s CPU (limit {limit:.0f} s, {'ok' if ok else 'TOO SLOW'}); "
        f"peak RSS of the process so far {rss:.0f} MiB"
    )
    return ok


def main() -> int:
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["a", "b"])
    args = parser.parse_args()
    ok = True
    if args.only in (None, "a"):
        ok &= run_case("a", 2710, 40, 2000, 60)
    if args.only in (None, "b"):
        ok &= run_case("b", 1_000_000, 10, 0, 60)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
