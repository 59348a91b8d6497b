"""Does the simulated trial recover the truth? Coverage of the report's 95% CIs over seeds.

    python benchmarks/coverage.py --seeds 50 --men 2000 --effect 0.3 --jobs 2
    python benchmarks/coverage.py --seeds 3 --men 100            # a quick check

Runs `patas simulate --seed S` for each seed in a fresh SQLite data dir (a subprocess each, up
to --jobs at a time), reads the trial report's `trial/estimates.csv`, and compares each
outcome's estimate and 95% CI with the true effect in the report's units
(`patas.simulation.truth`, not --effect itself: see docs/simulation.md). Prints a line per
seed, then per outcome: coverage (share of CIs containing the truth) with its exact binomial
95% interval, mean bias, mean CI width, and the mean SE next to the SD of the estimates.
Writes `per-seed.csv` and `coverage.json` to --out. Not run in CI: it takes hours at 2,000 men.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

TRIAL_COLUMNS = ["family", "outcome", "estimate", "std_error", "ci_low", "ci_high", "n"]


class _SeedSink:
    """Appends each finished seed's rows to one CSV (header once), safe across worker threads."""

    def __init__(self, path: Path) -> None:
        self.path, self.lock = path, threading.Lock()

    def keep(self, rows: pd.DataFrame | None) -> pd.DataFrame | None:
        if rows is not None and len(rows):
            with self.lock:
                header = not self.path.exists() or self.path.stat().st_size == 0
                rows.to_csv(self.path, mode="a", header=header, index=False)
        return rows


def main() -> None:
    args = _arguments()
    if args.combine:
        _combine(args)
        return
    out = Path(args.out or tempfile.mkdtemp(prefix="cov-results-", dir=args.tmp))
    out.mkdir(parents=True, exist_ok=True)
    started, load_before = time.perf_counter(), os.getloadavg()
    truth = _truth(args)
    print(f"load average {load_before[0]:.1f} at the start; results go to {out}")
    print(f"truth ({args.truth_men} drawn men, seed {args.truth_seed}), effect {args.effect}:")
    for row in truth.itertuples():
        print(f"  {row.family:9} {row.outcome:20} {row.truth:+.4f} (MC SE {row.mc_se:.4f})")
    sys.stdout.flush()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    # Each seed's rows are appended as soon as it ends, so a run stopped part-way (or one
    # session of a longer campaign) keeps what it measured; --combine summarises such files.
    sink = _SeedSink(out / "per-seed.csv")
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(lambda seed: sink.keep(_run_seed(seed, args, truth)), seeds))
    rows = pd.concat([r for r in runs if r is not None and len(r)], ignore_index=True)
    summary = _summarise(rows, truth) if len(rows) else pd.DataFrame()
    _print_summary(summary, args, runs)
    report = {
        "args": vars(args),
        "seeds_failed": [s for s, r in zip(seeds, runs, strict=True) if r is None or not len(r)],
        "truth": truth.to_dict("records"),
        "summary": summary.to_dict("records"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
    }
    (out / "coverage.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {out / 'per-seed.csv'} and {out / 'coverage.json'}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--men", type=int, default=2000)
    parser.add_argument("--effect", type=float, default=0.3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--program", default=None)
    parser.add_argument("--truth-men", type=int, default=20_000)
    parser.add_argument("--truth-seed", type=int, default=2026)
    parser.add_argument("--out", default=None, help="where per-seed.csv and coverage.json go")
    parser.add_argument("--tmp", default="/tmp", help="parent of the per-seed data dirs")
    parser.add_argument("--keep", action="store_true", help="keep each seed's data dir")
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="CSV",
        help="summarise per-seed.csv files of earlier runs (same men, days, effect) and exit",
    )
    return parser.parse_args()


def _truth(args: argparse.Namespace) -> pd.DataFrame:
    """The true effects, computed in this process (Django set up on a scratch data dir)."""
    os.environ["PATAS_DATA_DIR"] = tempfile.mkdtemp(prefix="cov-truth-", dir=args.tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    import django

    django.setup()
    from patas.simulation.truth import truth_table

    return truth_table(args.effect, program_id=args.program, n=args.truth_men, seed=args.truth_seed)


def _run_seed(seed: int, args: argparse.Namespace, truth: pd.DataFrame) -> pd.DataFrame | None:
    data = Path(tempfile.mkdtemp(prefix=f"cov-seed{seed}-", dir=args.tmp))
    env = {**os.environ, "PATAS_DATA_DIR": str(data), "PATAS_LOG_LEVEL": "WARNING"}
    env.pop("PATAS_DATABASE_URL", None)
    patas = [sys.executable, "-m", "patas"]
    command = [*patas, "simulate", "--men", str(args.men), "--days", str(args.days)]
    command += ["--seed", str(seed), "--effect", str(args.effect), "--out", str(data / "out")]
    command += ["--no-progress"] + (["--program", args.program] if args.program else [])
    log = data / "simulate.log"
    with log.open("w") as sink:
        migrate = [*patas, "migrate", "-v0"]
        migrated = subprocess.run(migrate, env=env, stdout=sink, stderr=sink, check=False)
    if migrated.returncode:
        print(f"seed {seed}: migrate failed (see {log})", flush=True)
        return None
    started = time.perf_counter()
    code, cpu = _run_measured(command, env, log)
    wall = time.perf_counter() - started
    estimates = data / "out" / "trial" / "estimates.csv"
    if code != 0 or not estimates.exists():  # the data dir is kept for a look
        print(f"seed {seed}: simulate exited {code}, no estimates (see {data})", flush=True)
        return None
    rows = _compare(pd.read_csv(estimates), truth)
    rows.insert(0, "seed", seed)
    rows["men"], rows["days"], rows["effect"] = args.men, args.days, args.effect
    rows["wall_seconds"], rows["cpu_seconds"] = round(wall, 1), round(cpu, 1)
    rows["load_average"] = round(os.getloadavg()[0], 1)
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    _print_seed(seed, rows)
    return rows


def _run_measured(command: list[str], env: dict[str, str], log: Path) -> tuple[int, float]:
    """Exit code and CPU seconds (user + system) of one subprocess, from its own rusage."""
    with log.open("a") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _compare(estimates: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per outcome with a truth: the report's estimate, SE, CI, and whether it covers."""
    treated = estimates[estimates.arm != "control"][TRIAL_COLUMNS]
    rows = treated.merge(truth[["outcome", "truth", "mc_se"]], on="outcome", how="inner")
    # An outcome the report could not estimate (empty CI, reason in `note`) is counted apart:
    # it is neither a hit nor a miss of the interval.
    rows["estimated"] = rows.ci_low.notna() & rows.ci_high.notna()
    rows["covered"] = (rows.ci_low <= rows.truth) & (rows.truth <= rows.ci_high)
    rows["error"] = rows.estimate - rows.truth
    return rows


def _print_seed(seed: int, rows: pd.DataFrame) -> None:
    primary = rows[rows.family == "primary"]
    shown = "  ".join(
        f"{r.outcome} {r.estimate:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
        f"{'' if r.covered else ' MISS' if r.estimated else ' NOT ESTIMATED'} (n={r.n})"
        for r in primary.itertuples()
    )
    first = rows.iloc[0]
    print(
        f"seed {seed}: wall {first.wall_seconds}s cpu {first.cpu_seconds}s "
        f"load {first.load_average}  {shown}",
        flush=True,
    )


def _combine(args: argparse.Namespace) -> None:
    """One summary over several runs' per-seed rows; a seed found twice counts once (the last)."""
    rows = pd.concat([pd.read_csv(path) for path in args.combine], ignore_index=True)
    rows = rows.drop_duplicates(subset=["seed", "outcome"], keep="last")
    for setting in ("men", "days", "effect"):
        if setting in rows and rows[setting].nunique() > 1:
            raise SystemExit(
                f"the files mix runs of different --{setting}: {rows[setting].unique()}"
            )
        if setting in rows:
            setattr(args, setting, rows[setting].iloc[0])
    truth = rows.groupby("outcome", as_index=False).first()[["family", "outcome", "truth"]]
    truth = truth.assign(order=truth.family.map(_FAMILY_ORDER)).sort_values(["order", "outcome"])
    seeds = sorted(rows.seed.unique())
    print(f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]}) from {len(args.combine)} file(s)")
    _print_summary(_summarise(rows, truth), args, [rows[rows.seed == s] for s in seeds])


_FAMILY_ORDER = {"primary": 0, "secondary": 1}


def _summarise(rows: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for row in truth.itertuples():
        every = rows[rows.outcome == row.outcome]
        runs = every[every.estimated] if "estimated" in every else every
        if not len(runs):
            continue
        covered = int(runs.covered.sum())
        low, high = stats.binomtest(covered, len(runs)).proportion_ci(method="exact")
        records.append(
            {
                "family": row.family,
                "outcome": row.outcome,
                "truth": row.truth,
                "seeds": len(runs),
                "not_estimated": len(every) - len(runs),
                "covered": covered,
                "coverage": covered / len(runs),
                "coverage_ci_low": low,
                "coverage_ci_high": high,
                "mean_estimate": runs.estimate.mean(),
                "mean_bias": runs.error.mean(),
                "bias_se": runs.error.std(ddof=1) / len(runs) ** 0.5 if len(runs) > 1 else None,
                "mean_ci_width": (runs.ci_high - runs.ci_low).mean(),
                "mean_se": runs.std_error.mean(),
                "sd_of_estimates": runs.estimate.std(ddof=1) if len(runs) > 1 else None,
                "mean_n": runs.n.mean(),
            }
        )
    return pd.DataFrame.from_records(records)


def _print_summary(summary: pd.DataFrame, args: argparse.Namespace, runs: list[Any]) -> None:
    done = sum(1 for r in runs if r is not None and len(r))
    print(
        f"\n{done}/{len(runs)} seeds with a report; men={args.men} days={args.days} "
        f"effect={args.effect}; load average now {os.getloadavg()[0]:.1f}"
    )
    if not len(summary):
        return
    print(
        f"{'outcome':22} {'truth':>8} {'coverage':>9} {'95% CI':>15} {'bias':>8} "
        f"{'(SE)':>7} {'CI width':>9} {'mean SE':>8} {'SD est':>7} {'mean n':>7}"
    )
    for r in summary.itertuples():
        print(
            f"{r.outcome:22} {r.truth:+8.4f} {r.covered:>3}/{r.seeds:<3} {r.coverage:4.0%} "
            f"[{r.coverage_ci_low:.2f}, {r.coverage_ci_high:.2f}] {r.mean_bias:+8.4f} "
            f"{_fmt(r.bias_se):>7} {r.mean_ci_width:9.3f} {r.mean_se:8.3f} "
            f"{_fmt(r.sd_of_estimates):>7} {r.mean_n:7.0f}"
            + (f"  (not estimated in {r.not_estimated} seeds)" if r.not_estimated else "")
        )


def _fmt(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.3f}"


if __name__ == "__main__":
    main()
