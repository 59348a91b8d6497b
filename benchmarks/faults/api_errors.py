"""Fault 3: the Cloud API answers 130429 and 5xx to every send for a while, then recovers.

    python benchmarks/faults/api_errors.py [--seconds 60] [--messages 3000] [--mps 200]
                                           [--database sqlite|postgresql] [--server URL]

Queues N texts, starts the fake Cloud API with every send failing (60% 130429 "throughput limit",
the rest HTTP 503) and one `patas worker`. The storm starts at the first send the fake sees and
lasts --seconds; then the fake accepts everything. Counted at the fake by text.

Guarantees checked (exit status 1 if any is broken): every text delivered once after the storm
(none lost or failed, none twice); the sender backs off during the storm (attempts per second
well under the limit); at no time more than --mps requests in any 1 s window at the fake,
counting refused attempts as well as accepted ones.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

import common

PER_MAN = 2
STORM = "130429=0.6,503=1"


def max_in_window(times: list[float], window: float = 1.0) -> int:
    ordered, best, start = sorted(times), 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] + window <= moment:
            start += 1
        best = max(best, end - start + 1)
    return best


def settled(url: str) -> int:
    """Rows that are done: sent, or failed for good (a failure is counted as lost)."""
    return int(
        common.scalar(
            url,
            "SELECT count(*) FROM messaging_message WHERE direction = 'out' "
            "AND status IN ('sent', 'failed', 'needs_template', 'cancelled')",
        )
    )


def storm(st: common.Stage, seconds: float) -> tuple[float, float]:
    """Wait for the first attempt, let the storm run `seconds`, end it; (start, end)."""

    def attempts() -> int:
        stats = common.fetch(f"{st.fake_url}/_fake/stats")
        return int(stats["accepted"]) + int(stats["rejected"])

    common.until(attempts, 120, "the first send", every=0.1)
    began = time.time()
    time.sleep(seconds)
    st.configure_fake({"error_rates": {}})
    return began, time.time()


def check(
    received: list[dict[str, Any]],
    rejected: list[dict[str, Any]],
    rows: dict[str, str],
    duration: float,
    mps: float,
) -> tuple[dict[str, Any], list[str]]:
    per_text = Counter(r["body"]["text"]["body"] for r in received)
    lost = [t for t in rows if per_text[t] == 0]
    failed = [t for t, status in rows.items() if status != "sent"]
    duplicates = sum(n - 1 for n in per_text.values())
    # `arrived` (the kernel's receive time, when the fake records it) is what Meta counts;
    # refusals carry only the moment the fake handled them.
    accepted = [r.get("arrived", r["at"]) for r in received]
    attempts = accepted + [r["at"] for r in rejected]
    # In the fake's own clock: the storm began with the first attempt it saw.
    began = min(attempts, default=0.0)
    ended = began + duration
    in_storm = [at for at in attempts if began <= at < ended]
    codes = Counter(r["code"] for r in rejected)
    peak_all, peak_accepted = max_in_window(attempts), max_in_window(accepted)
    counts = {
        "sent": len(rows),
        "delivered": len(per_text),
        "duplicates": duplicates,
        "lost": len(lost),
        "refused": dict(codes),
        "attempts_in_storm": len(in_storm),
        "storm_rate": f"{len(in_storm) / max(ended - began, 0.001):.1f}/s",
        "max_in_1s_all": peak_all,
        "max_in_1s_accepted": peak_accepted,
    }
    problems = []
    if lost or failed:
        problems.append(f"{len(lost)} texts never delivered, {len(failed)} rows not sent")
    if duplicates:
        problems.append(f"{duplicates} texts delivered twice")
    if peak_all > mps:
        problems.append(f"{peak_all} requests in one second at the fake (limit {mps:.0f})")
    if len(in_storm) / max(ended - began, 0.001) > mps / 2:
        problems.append("no back-off: the storm got more than half the limit in attempts")
    return counts, problems


def run(args: argparse.Namespace) -> int:
    men = args.messages // PER_MAN
    env = {"PATAS_WHATSAPP_MPS": str(args.mps)}
    with common.stage("api", args.database, args.server, args.keep, **env) as st:
        st.migrate()
        total = st.queue_texts(men, PER_MAN)
        st.start_fake("--error-rate", STORM)
        st.start_worker("w0")
        began, ended = storm(st, args.seconds)
        print(f"storm of 130429 and 503 for {ended - began:.1f} s, then all accepted")
        problems: list[str] = []
        try:
            common.until(lambda: settled(st.database_url) >= total, args.deadline, "every row")
        except TimeoutError as exc:
            problems.append(str(exc))
        print(f"all rows settled {time.time() - ended:.1f} s after the storm")
        received, rejected = st.fake_received(), st.fake_rejected()
        rows = dict(
            common.query(
                st.database_url,
                "SELECT text, status FROM messaging_message WHERE direction = 'out'",
            )
        )
        code = st.stop("w0")
        counts, more = check(received, rejected, rows, ended - began, args.mps)
        problems += more
        if code != 0:
            problems.append(f"the worker's exit code {code}")
        print(common.counts_line("130429 and 5xx storm", **counts))
        print(st.log_summary())
        print(common.machine(st))
    return common.verdict(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long every send fails")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--mps", type=float, default=200.0)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--server", default=common.PG_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
