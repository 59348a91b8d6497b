"""Fault 2: PostgreSQL goes down during sending and during webhook ingest, then comes back.

    python benchmarks/faults/database_down.py [--down 15] [--messages 3000] [--workers 2]
                                              [--inbound 400] [--server postgres://...]
    python benchmarks/faults/database_down.py --real-postgres      # manual run, see below

`patas web` and W `patas worker` processes reach PostgreSQL through a TCP proxy (pgproxy.py).
While they send N queued texts to the fake Cloud API and "Meta" (meta.py) posts inbound messages
and status callbacks for what the fake received, the proxy is cut for --down seconds: every
connection closed, new ones refused. Then it is restored.

Guarantees checked (exit status 1 if any is broken):
- while the database is down the webhook answers 5xx, never 200 (Meta then retries);
- every delivery answered 200 is stored: each inbound message once, each status once;
- every delivery is answered 200 in the end (Meta's retries get through);
- the workers reconnect by themselves: every queued text is sent, none lost, none twice;
- the workers are still running at the end and stop cleanly.

--real-postgres stops the machine's PostgreSQL instead (`pg_ctlcluster 15 main stop`, then
`start`): every database user on the machine is affected, so run it only on a machine of your
own. The processes then connect to the server directly.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import common
from meta import MetaPoster
from pgproxy import TcpProxy

PER_MAN = 3


class RealPostgres:
    """The machine's cluster, stopped and started (the --real-postgres mode)."""

    def __init__(self, version: str, cluster: str) -> None:
        self.cluster = [version, cluster]

    def _ctl(self, *options: str, action: str) -> None:
        # as .ci/run does: no systemd redirect where there is no systemd
        ctl = ["pg_ctlcluster", "--skip-systemctl-redirect", *options, *self.cluster, action]
        subprocess.run(ctl, check=True)

    def cut(self) -> int:
        """Fast shutdown: open sessions are rolled back and disconnected."""
        self._ctl("--mode", "fast", action="stop")
        return 0

    def restore(self) -> None:
        self._ctl(action="start")
        common.until(
            lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0,
            60,
            "pg_isready",
        )

    def close(self) -> None:
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
            self.restore()


def sent_rows(url: str) -> int:
    """Outbound rows the sender recorded (status callbacks move them on to delivered)."""
    return int(
        common.scalar(
            url,
            "SELECT count(*) FROM messaging_message WHERE direction = 'out' AND wamid IS NOT NULL",
        )
    )


class StatusFeed:
    """Posts a 'delivered' callback for each message the fake accepted, 100 per delivery."""

    def __init__(self, stage: common.Stage, meta: MetaPoster) -> None:
        self.stage, self.meta = stage, meta
        self.seen = 0
        self.posted: set[str] = set()

    def poll(self) -> None:
        fresh = common.fetch(f"{self.stage.fake_url}/_fake/messages?since={self.seen}")
        received = fresh["messages"]
        self.seen = fresh["next"]
        for start in range(0, len(received), 100):
            chunk = received[start : start + 100]
            items = [(r["wamid"], "delivered", r["to"]) for r in chunk]
            self.meta.deliver(f"st:{chunk[0]['wamid']}", common.status_body(items))
            self.posted.update(r["wamid"] for r in chunk)


def answers_while_down(meta: MetaPoster, down: tuple[float, float]) -> Counter[int]:
    """Status codes of attempts made entirely inside the outage (a short grace at its start:
    a request already committing when the cut came may still end well)."""
    start, end = down
    return Counter(a.status for a in meta.attempts if a.started >= start + 0.5 and a.ended < end)


def check_ingest(
    url: str, meta: MetaPoster, feed: StatusFeed, inbound: list[str]
) -> tuple[dict[str, int], list[str]]:
    stored = Counter(
        w for (w,) in common.query(url, "SELECT wamid FROM messaging_message WHERE direction='in'")
    )
    events = Counter(
        w
        for (w,) in common.query(
            url, "SELECT wamid FROM messaging_statusevent WHERE status = 'delivered'"
        )
    )
    acked_inbound = [w for w in inbound if f"in:{w}" in meta.acknowledged]
    lost_inbound = [w for w in acked_inbound if stored[w] == 0]
    lost_status = [w for w in feed.posted if events[w] == 0]
    twice = [w for w, n in stored.items() if n > 1] + [w for w, n in events.items() if n > 1]
    problems = []
    if lost_inbound or lost_status:
        problems.append(
            f"acknowledged but not stored: {len(lost_inbound)} messages, {len(lost_status)} "
            "statuses"
        )
    if twice:
        problems.append(f"{len(twice)} messages or statuses stored twice")
    if meta.pending():
        problems.append(f"{meta.pending()} deliveries never answered 200")
    counts = {
        "posted": len(meta.bodies),
        "attempts": len(meta.attempts),
        "acknowledged": len(meta.acknowledged),
        "inbound_stored": sum(1 for w in inbound if stored[w]),
        "statuses_stored": sum(1 for w in feed.posted if events[w]),
        "duplicates": len(twice),
        "lost": len(lost_inbound) + len(lost_status),
    }
    return counts, problems


def check_sending(stage: common.Stage, total: int) -> tuple[dict[str, int], list[str]]:
    received = stage.fake_received()
    per_text = Counter(r["body"]["text"]["body"] for r in received if r["type"] == "text")
    queued = [
        t
        for (t,) in common.query(
            stage.database_url,
            "SELECT text FROM messaging_message WHERE direction = 'out' AND text LIKE %s",
            ("%/%",),
        )
    ]
    lost = [t for t in queued if per_text[t] == 0]
    duplicates = sum(n - 1 for n in per_text.values())
    problems = []
    if len(queued) != total or lost:
        problems.append(f"{len(lost)} of {total} queued texts never reached the fake")
    if duplicates:
        problems.append(f"{duplicates} texts reached the fake twice")
    counts = {
        "sent": total,
        "delivered": sum(1 for t in queued if per_text[t]),
        "duplicates": duplicates,
        "lost": len(lost),
    }
    return counts, problems


def post_inbound(meta: MetaPoster, men: int, count: int, offset: int) -> list[str]:
    wamids = []
    for i in range(offset, offset + count):
        wamid = f"wamid.fault.in.{i:06d}"
        phone = f"5197{i % men:07d}"
        meta.deliver(f"in:{wamid}", common.inbound_body(phone, wamid, f"mensaje {i}"))
        wamids.append(wamid)
    return wamids


def run(args: argparse.Namespace) -> int:
    men = args.messages // PER_MAN
    with common.stage(
        "down", "postgresql", args.server, args.keep, PATAS_WHATSAPP_MPS=str(args.mps)
    ) as st:
        st.migrate()
        total = st.queue_texts(men, PER_MAN)
        st.start_fake()
        if args.real_postgres:
            database: Any = RealPostgres(args.pg_version, args.pg_cluster)
            env = st.env
        else:
            address = urlparse(st.database_url)
            database = TcpProxy(address.hostname or "127.0.0.1", address.port or 5432)
            env = {**st.env, "PATAS_DATABASE_URL": common.via_port(st.database_url, database.port)}
        try:
            return exercise(args, st, env, database, men, total)
        finally:
            database.close()


def exercise(
    args: argparse.Namespace,
    st: common.Stage,
    env: dict[str, str],
    database: Any,
    men: int,
    total: int,
) -> int:
    st.start_web(1, env)
    names = [f"w{i}" for i in range(args.workers)]
    for name in names:
        st.start_worker(name, env)
    meta = MetaPoster(st.web_port)
    feed = StatusFeed(st, meta)
    per_tick = max(1, args.inbound // 40)  # inbound spread over about 40 ticks of 0.5 s
    inbound: list[str] = []
    started = time.monotonic()

    def tick() -> None:
        if len(inbound) < args.inbound:
            inbound.extend(post_inbound(meta, men, per_tick, len(inbound)))
        feed.poll()
        time.sleep(0.5)

    first_sent = None
    while (sent := sent_rows(st.database_url)) < total * args.cut_after:
        if first_sent is None and sent:
            first_sent = time.monotonic()
            print(f"first text sent {first_sent - started:.1f} s after the processes started")
        tick()
        if time.monotonic() - started > args.deadline:
            raise TimeoutError("sending did not start")
    sent_at_cut = sent_rows(st.database_url)
    cut_at = time.monotonic()
    cut = database.cut()
    # "Down" is from when the cut is complete to when the restore starts: with --real-postgres
    # stopping and starting the server take seconds, and it serves requests in between.
    down_from = time.monotonic()
    print(f"database cut after {cut_at - started:.1f} s ({cut} open connections closed)")
    while time.monotonic() < cut_at + args.down:
        tick()
    down_until = time.monotonic()
    database.restore()
    up_at = time.monotonic()
    while_down = answers_while_down(meta, (down_from, down_until))
    print(f"database back after {up_at - cut_at:.1f} s; answers while down: {dict(while_down)}")

    resumed_at = None
    problems: list[str] = []
    while (
        (sent := sent_rows(st.database_url)) < total
        or meta.pending()
        or len(inbound) < args.inbound
    ):
        if resumed_at is None and sent > sent_at_cut:
            resumed_at = time.monotonic()
            print(f"sending resumed {resumed_at - up_at:.1f} s after the restore")
        tick()
        if time.monotonic() - up_at > args.deadline:
            problems.append(f"not finished {args.deadline:.0f} s after the restore")
            break
    feed.poll()
    common.until(lambda: not meta.pending(), 60, "the last status deliveries")
    done_at = time.monotonic()
    alive = {name: st.processes[name].poll() is None for name in ["web", *names]}
    meta.close()
    print(f"everything sent and acknowledged {done_at - up_at:.1f} s after the restore")

    sending, more = check_sending(st, total)
    problems += more
    ingest, more = check_ingest(st.database_url, meta, feed, inbound)
    problems += more
    if while_down.get(200):
        problems.append(f"{while_down[200]} deliveries answered 200 while the database was down")
    if not any(500 <= code < 600 for code in while_down):
        problems.append(f"no 5xx answer while the database was down: {dict(while_down)}")
    if not all(alive.values()):
        problems.append(f"processes that died: {[n for n, up in alive.items() if not up]}")
    codes = {name: st.stop(name) for name in names}
    if any(code != 0 for code in codes.values()):
        problems.append(f"workers' exit codes {codes}")
    print(common.counts_line("database down, sending", **sending))
    print(
        common.counts_line("database down, ingest", **ingest, answers_while_down=dict(while_down))
    )
    print(st.log_summary())
    print(common.machine(st))
    return common.verdict(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--down", type=float, default=15.0, help="seconds the database is down")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mps", type=float, default=200.0)
    parser.add_argument("--inbound", type=int, default=400, help="inbound messages to post")
    parser.add_argument("--cut-after", type=float, default=0.25, help="share sent before cut")
    parser.add_argument("--deadline", type=float, default=180.0)
    parser.add_argument("--server", default=common.PG_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    parser.add_argument("--real-postgres", action="store_true", help="stop the real server")
    parser.add_argument("--pg-version", default="15")
    parser.add_argument("--pg-cluster", default="main")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
