"""Fault 4: the same webhook delivery posted 10 times at once (Meta delivers at least once).

    python benchmarks/faults/duplicate_webhooks.py [--database both|sqlite|postgresql]
                                                   [--deliveries 60] [--copies 10] [--web-workers 1]

Starts `patas web` on a fresh database and posts each delivery --copies times concurrently (one
connection per copy, all written before any answer is read). Half the deliveries are an inbound
message from a man never seen before (so his participant row is created by the race too), half
a status callback. Guarantees checked (exit status 1 if broken): every copy answered 200; each
message stored once, each new man created once, each status stored once; nothing lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from typing import Any

import common


def delivery(i: int) -> tuple[str, bytes]:
    """(what it carries, body): even i an inbound message from a new man, odd i a status."""
    if i % 2 == 0:
        return "message", common.inbound_body(f"5196{i:07d}", f"wamid.dup.in.{i:05d}", f"hola {i}")
    return "status", common.status_body([(f"wamid.dup.out.{i:05d}", "delivered", "51960000000")])


async def post_copies(
    port: int, body: bytes, copies: int
) -> list[tuple[int, dict[str, Any], float]]:
    """Open `copies` connections, write the request on all, then read every answer."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(copies)]
    request = common.signed_request(port, body)
    started = time.perf_counter()
    for _, writer in connections:
        writer.write(request)
    await asyncio.gather(*(writer.drain() for _, writer in connections))

    async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any], float]:
        status, content = await common.read_response(reader)
        data = json.loads(content) if status == 200 else {}
        return status, data, time.perf_counter() - started

    try:
        return list(await asyncio.gather(*(answer(reader) for reader, _ in connections)))
    finally:
        for _, writer in connections:
            writer.close()


async def post_all(port: int, deliveries: int, copies: int) -> list[list[tuple[int, dict, float]]]:
    return [await post_copies(port, delivery(i)[1], copies) for i in range(deliveries)]


def check(url: str, answers: list[list[tuple[int, dict, float]]], copies: int) -> tuple[dict, list]:
    kinds = [delivery(i)[0] for i in range(len(answers))]
    messages = Counter(
        w for (w,) in common.query(url, "SELECT wamid FROM messaging_message WHERE direction='in'")
    )
    statuses = Counter(w for (w,) in common.query(url, "SELECT wamid FROM messaging_statusevent"))
    men = int(common.scalar(url, "SELECT count(*) FROM participants_participant"))
    events = int(common.scalar(url, "SELECT count(*) FROM whatsapp_webhookevent"))
    codes = Counter(status for copies_ in answers for status, _, _ in copies_)
    expected_messages = [f"wamid.dup.in.{i:05d}" for i, k in enumerate(kinds) if k == "message"]
    expected_statuses = [f"wamid.dup.out.{i:05d}" for i, k in enumerate(kinds) if k == "status"]
    lost = [w for w in expected_messages if not messages[w]]
    lost += [w for w in expected_statuses if not statuses[w]]
    twice = [w for w, n in (messages + statuses).items() if n > 1]
    claimed = sum(a.get("stored", 0) + a.get("statuses", 0) for c in answers for _, a, _ in c)
    latencies = sorted(t * 1000 for c in answers for _, _, t in c)
    counts = {
        "deliveries": len(answers),
        "posts": len(answers) * copies,
        "answers": dict(codes),
        "stored": sum(1 for w in expected_messages if messages[w])
        + sum(1 for w in expected_statuses if statuses[w]),
        "duplicates": len(twice),
        "lost": len(lost),
        "men_created": men,
        "raw_events": events,
        "answers_claiming_a_store": claimed,
        "latency_ms_p50_max": f"{statistics.median(latencies):.0f}/{latencies[-1]:.0f}",
    }
    problems = []
    if set(codes) != {200}:
        problems.append(f"answers other than 200: {dict(codes)}")
    if lost:
        problems.append(f"{len(lost)} deliveries not stored, e.g. {lost[:3]}")
    if twice:
        problems.append(f"{len(twice)} stored more than once, e.g. {twice[:3]}")
    if men != len(expected_messages):
        problems.append(f"{men} men created for {len(expected_messages)} new senders")
    return counts, problems


def run_one(kind: str, args: argparse.Namespace) -> list[str]:
    with common.stage(f"dup{kind[:2]}", kind, args.server, args.keep) as st:
        st.migrate()
        st.start_web(args.web_workers)
        answers = asyncio.run(post_all(st.web_port, args.deliveries, args.copies))
        counts, problems = check(st.database_url, answers, args.copies)
        alive = st.processes["web"].poll() is None
        if not alive:
            problems.append("patas web died")
        label = f"same webhook x{args.copies} ({kind}, {args.web_workers} web worker(s))"
        print(common.counts_line(label, **counts))
        print(common.machine(st))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--deliveries", type=int, default=60)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--server", default=common.PG_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    problems: list[str] = []
    for kind in kinds:
        problems += run_one(kind, args)
    return common.verdict(problems)


if __name__ == "__main__":
    raise SystemExit(main())
