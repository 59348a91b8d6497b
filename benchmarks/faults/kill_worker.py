"""Fault 1: kill -9 the worker that holds the sender lease, mid-batch (PostgreSQL).

    python benchmarks/faults/kill_worker.py [--messages 10000] [--workers 3] [--mps 1000]
                                            [--kill-after 0.3] [--server postgres://...]

Queues N texts (4 per man), starts the fake Cloud API and W `patas worker` processes, waits until
a share of the rows is sent, then SIGKILLs the lease holder. Another worker must take over and
send the rest. Counted at the fake by text (each text is unique to one outbox row):
delivered = distinct texts received, duplicates = receipts beyond the first, lost = rows never
received (or not `sent` at the end). Guarantees checked (exit status 1 if broken): nothing lost,
every row sent, duplicates only among the rows the killed worker had claimed and not recorded
(sending is at least once: a send that reached Meta before the kill is sent again), each man's
texts first received in order, the surviving workers exit cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections import Counter, defaultdict
from typing import Any

import common

LEASE = f"sender:{common.PHONE_NUMBER_ID}"
PER_MAN = 4


def sent_rows(url: str) -> int:
    return int(common.scalar(url, "SELECT count(*) FROM messaging_message WHERE status = 'sent'"))


def lease_holder(url: str) -> str:
    rows = common.query(url, "SELECT holder FROM core_joblease WHERE name = %s", (LEASE,))
    return str(rows[0][0]) if rows else ""


def kill_holder(stage: common.Stage, workers: list[str]) -> tuple[str, int, float]:
    """SIGKILL the lease holder; its name, the rows it left `sending`, and when."""
    common.until(lambda: lease_holder(stage.database_url) in workers, 60, "a holder")
    holder = lease_holder(stage.database_url)
    os.kill(stage.processes[holder].pid, signal.SIGKILL)
    killed_at = time.monotonic()
    stage.killed_wall = time.time()  # the fake stamps receipts with time.time()
    stage.processes.pop(holder).wait(10)
    at_risk = int(
        common.scalar(
            stage.database_url,
            "SELECT count(*) FROM messaging_message WHERE status = 'sending' AND leased_by = %s",
            (holder,),
        )
    )
    return holder, at_risk, killed_at


def check(
    received: list[dict[str, Any]], rows: dict[str, tuple[str, str]], at_risk: int
) -> tuple[dict[str, int], list[str]]:
    """Counts from the fake's record against the outbox rows (text -> (status, wamid))."""
    per_text = Counter(r["body"]["text"]["body"] for r in received)
    duplicates = sum(n - 1 for n in per_text.values())
    lost = [t for t in rows if t not in per_text]
    unsent = [t for t, (status, _) in rows.items() if status != "sent"]
    wamids: dict[str, set[str]] = defaultdict(set)
    for r in received:
        wamids[r["body"]["text"]["body"]].add(r["wamid"])
    unknown_wamid = [t for t, (_, w) in rows.items() if t in wamids and w not in wamids[t]]
    first_order: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for r in received:
        text = r["body"]["text"]["body"]
        if text not in seen:
            seen.add(text)
            man, n = text.split("/")
            first_order[man].append(int(n))
    out_of_order = [m for m, seq in first_order.items() if seq != sorted(seq)]
    problems = []
    if lost:
        problems.append(f"{len(lost)} rows never reached the fake, e.g. {lost[:3]}")
    if unsent:
        problems.append(f"{len(unsent)} rows not 'sent' at the end, e.g. {unsent[:3]}")
    if unknown_wamid:
        problems.append(f"{len(unknown_wamid)} rows recorded a wamid the fake never gave")
    if duplicates > at_risk:
        problems.append(f"{duplicates} duplicates but the killed worker held only {at_risk} rows")
    if out_of_order:
        problems.append(f"{len(out_of_order)} men got their texts out of order")
    counts = {
        "sent": len(rows),
        "delivered": len(per_text),
        "duplicates": duplicates,
        "lost": len(lost),
        "received": len(received),
    }
    return counts, problems


def run(args: argparse.Namespace) -> int:
    men = args.messages // PER_MAN
    with common.stage(
        "kill", "postgresql", args.server, args.keep, PATAS_WHATSAPP_MPS=str(args.mps)
    ) as st:
        st.migrate()
        total = st.queue_texts(men, PER_MAN)
        st.start_fake()
        names = [f"w{i}" for i in range(args.workers)]
        for name in names:
            st.start_worker(name)
        started = time.monotonic()
        common.until(
            lambda: sent_rows(st.database_url) >= total * args.kill_after,
            args.deadline,
            f"{args.kill_after:.0%} of the rows sent",
            every=0.1,
        )
        sent_at_kill = sent_rows(st.database_url)
        holder, at_risk, killed_at = kill_holder(st, names)
        print(
            f"killed {holder} (kill -9) after {killed_at - started:.1f} s with {sent_at_kill} "
            f"rows recorded as sent and {at_risk} rows it had claimed and not recorded"
        )
        new_holder = common.until(
            lambda: (h := lease_holder(st.database_url)) != holder and h, 60, "a new holder"
        )
        taken_at = time.monotonic()
        common.until(
            lambda: sent_rows(st.database_url) == total,
            args.deadline,
            "every row sent",
        )
        done_at = time.monotonic()
        received = st.fake_received()
        rows = {
            text: (status, wamid)
            for text, status, wamid in common.query(
                st.database_url,
                "SELECT text, status, wamid FROM messaging_message WHERE direction = 'out'",
            )
        }
        codes = {name: st.stop(name) for name in names if name != holder}
        print(
            f"{new_holder} took the lease {taken_at - killed_at:.1f} s after the kill; "
            f"the last row was sent {done_at - killed_at:.1f} s after the kill"
        )
        counts, problems = check(received, rows, at_risk)
        before = [r for r in received if st.killed_wall - 1.0 <= r["at"] < st.killed_wall]
        print(f"the fake received {len(before)} sends in the second before the kill")
        if any(code != 0 for code in codes.values()):
            problems.append(f"surviving workers' exit codes {codes}")
        print(common.counts_line("kill -9 sender", **counts, at_risk=at_risk))
        print(st.log_summary())
    print(common.machine(st))
    return common.verdict(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--mps", type=float, default=1000.0)
    parser.add_argument("--kill-after", type=float, default=0.3, help="share sent before kill")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds per wait")
    parser.add_argument("--server", default=common.PG_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
