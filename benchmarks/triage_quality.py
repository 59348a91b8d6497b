"""Precision and recall of the triage lexicon on our labelled set, and its cost per message.

    python benchmarks/triage_quality.py [--misses] [--csv tests/safety/data/labelled.csv]

The labelled set (text, language, categories, severity) was written by hand before the lexicon
was tuned; `--misses` lists every message the lexicon gets wrong, for the next round of work.
Timings are wall-clock on a shared machine: treat them as rough.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from patas.safety.triage import BUILTIN_DIR, CATEGORIES, load, triage  # noqa: E402


@dataclass
class Row:
    text: str
    language: str
    expected: set[str]
    severity: str


def read_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Row(
                r["text"],
                r["language"],
                {c for c in r["categories"].split("|") if c},
                r["severity"],
            )
            for r in csv.DictReader(handle)
        ]


def ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def score(rows: list[Row], predicted: list[set[str]], label: str) -> tuple[float, float]:
    wanted = [label in r.expected for r in rows]
    got = [label in p for p in predicted]
    tp = sum(w and g for w, g in zip(wanted, got, strict=True))
    return ratio(tp, sum(got)), ratio(tp, sum(wanted))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "tests/safety/data/labelled.csv")
    parser.add_argument("--misses", action="store_true", help="list wrong answers")
    args = parser.parse_args()
    lexicons = load([BUILTIN_DIR])
    rows = read_rows(args.csv)
    hits = [triage(r.text, lexicons) for r in rows]
    predicted = [{h.category for h in hs} for hs in hits]
    high_pred = [any(h.severity == "high" for h in hs) for hs in hits]
    print(
        f"{len(rows)} messages ({sum(bool(r.expected) for r in rows)} with a risk, "
        f"{sum(not r.expected for r in rows)} everyday talk)"
    )
    print(f"{'category':<20}{'precision':>10}{'recall':>8}{'n':>5}")
    for category in CATEGORIES:
        p, r = score(rows, predicted, category)
        n = sum(category in row.expected for row in rows)
        print(f"{category:<20}{p:>10.3f}{r:>8.3f}{n:>5}")
    any_p, any_r = score(
        [Row(r.text, r.language, {"any"} if r.expected else set(), "") for r in rows],
        [{"any"} if p else set() for p in predicted],
        "any",
    )
    print(f"{'any risk':<20}{any_p:>10.3f}{any_r:>8.3f}")
    high_rows = [r.severity == "high" for r in rows]
    caught = sum(bool(p) for p, w in zip(predicted, high_rows, strict=True) if w)
    flagged_high = sum(high_pred)
    high_ok = sum(hp and bool(r.expected) for hp, r in zip(high_pred, rows, strict=True))
    print(
        f"high severity: recall {ratio(caught, sum(high_rows)):.3f} (labelled high that raise "
        f"an alert: {caught}/{sum(high_rows)}), precision {ratio(high_ok, flagged_high):.3f} "
        f"(flagged high that are real risks: {high_ok}/{flagged_high})"
    )
    start = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for row in rows:
            triage(row.text, lexicons)
    per_message = (time.perf_counter() - start) / (rounds * len(rows))
    print(f"cost: {per_message * 1e6:.0f} us per message (mean of {rounds * len(rows)})")
    if args.misses:
        for row, pred in zip(rows, predicted, strict=True):
            if pred != row.expected:
                print(
                    f"  expected {sorted(row.expected) or '-'} got {sorted(pred) or '-'}: "
                    f"{row.text}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
