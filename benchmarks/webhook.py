"""Webhook ingest throughput: `patas web` on loopback, signed payloads from a concurrent client.

    python benchmarks/webhook.py [--seconds 10] [--concurrency 16] [--workers 1] [--men 2000]
                                 [--duplicate-every 50] [--database-url postgres://...]
                                 [--server uvicorn|granian]

Starts `patas web` on a free loopback port with a fresh data dir (SQLite unless
--database-url), posts one signed message per request (each with its own wamid, from --men
different senders, and every Nth request re-posts an earlier payload on purpose) for a bounded
time, then prints accepted messages/s and p50/p99 latency, and checks that the database holds
exactly one row per unique message. Exit status 1 if the check fails.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams, so that on a small
machine the server, not the client library, is what gets measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import (  # noqa: E402
    MemorySampler,
    PostgresCpu,
    children_of,
    create_database,
    database_name,
    drop_database,
    load_average,
)

from patas.whatsapp.fake_webhook import document  # noqa: E402

SECRET = "benchmark-app-secret"
PATH = "/webhooks/whatsapp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payload(n: int, men: int, at: int) -> bytes:
    man = n % men
    phone = f"51{900000000 + man}"
    user_id = f"PE.bench{man:07d}"
    value = {
        "contacts": [{"profile": {"name": f"Hombre {man}"}, "wa_id": phone, "user_id": user_id}],
        "messages": [
            {
                "from": phone,
                "from_user_id": user_id,
                "id": f"wamid.bench.{n:09d}",
                "timestamp": str(at),
                "type": "text",
                "text": {"body": f"Mensaje número {n} del reto de hoy"},
            }
        ],
    }
    body = document(
        value,
        waba_id="200000000000001",
        phone_number_id="100000000000001",
        display_phone_number="51900000001",
    )
    return json.dumps(body, separators=(",", ":")).encode()


def request_bytes(host: str, body: bytes) -> bytes:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: sha256={digest}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    stored: int = 0
    duplicates: int = 0
    unique_sent: int = 0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def client(
    port: int, deadline: float, counter: list[int], args: argparse.Namespace, tally: Tally, at: int
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    host = f"127.0.0.1:{port}"
    try:
        while time.perf_counter() < deadline:
            counter[0] += 1
            n = counter[0]
            if n % args.duplicate_every == 0 and n > args.duplicate_every:
                body = payload(n - args.duplicate_every // 2, args.men, at)  # seen before
            else:
                body = payload(n, args.men, at)
                tally.unique_sent += 1
            started = time.perf_counter()
            writer.write(request_bytes(host, body))
            await writer.drain()
            status, answer = await read_response(reader)
            tally.latencies.append(time.perf_counter() - started)
            tally.codes[status] = tally.codes.get(status, 0) + 1
            if status == 200:
                counts = json.loads(answer)
                tally.stored += counts["stored"]
                tally.duplicates += counts["duplicates"]
    finally:
        writer.close()


@dataclass
class Measured:
    """What the timed part of the run measured on the server side."""

    elapsed: float = 0.0
    cpu: float = 0.0  # web processes
    memory: MemorySampler | None = None  # RSS of the web processes
    postgres: PostgresCpu | None = None
    load: str = ""


async def load(
    port: int, args: argparse.Namespace, pid: int, measured: Measured
) -> tuple[Tally, Tally]:
    """A short untimed warm-up (each worker loads its URLconf on its first request), then the
    timed run. Both store messages; both are in the final count check."""
    counter, at = [0], int(time.time())
    warm = Tally()
    deadline = time.perf_counter() + args.warmup
    await asyncio.gather(*(client(port, deadline, counter, args, warm, at) for _ in range(8)))
    tally = Tally()
    measured.memory = MemorySampler(children_of(pid))
    measured.postgres = PostgresCpu(database_name(args.database_url) if args.database_url else "-")
    cpu_before = cpu_seconds(pid)
    with measured.memory, measured.postgres:
        started = time.perf_counter()
        deadline = started + args.seconds
        await asyncio.gather(
            *(client(port, deadline, counter, args, tally, at) for _ in range(args.concurrency))
        )
        measured.elapsed = time.perf_counter() - started
    measured.cpu = cpu_seconds(pid) - cpu_before
    measured.load = load_average()
    return warm, tally


def start_granian(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[str]:
    """The same ASGI app under granian instead of uvicorn (for comparison; granian is not a
    dependency of patas: `pip install granian` first). `asginl`: no lifespan, as Django wants."""
    command = [sys.executable, "-m", "granian", "--interface", "asginl", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "patas.whatsapp.server:application"]
    env = {**env, "DJANGO_SETTINGS_MODULE": "patas.settings"}  # `patas web` sets it itself
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("granian exited (is it installed? pip install granian)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("granian did not start within 180 s")


def start_web(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patas",
            "web",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "info",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()

    def watch() -> None:  # reads the log to the end, so the pipe never fills up
        started, listening = 0, False
        assert process.stderr is not None
        for line in process.stderr:
            started += "Started server process" in line
            listening = listening or "Uvicorn running on" in line
            if listening and started == workers:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    if not ready.wait(timeout=180):
        process.kill()
        raise SystemExit("patas web did not start within 180 s")
    return process


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its direct children, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if entry.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def stored_in_database(data_dir: Path, database_url: str) -> tuple[int, int]:
    """Inbound rows, and how many of them lack their sender or their raw event (must be 0)."""
    sql = (
        "SELECT count(*), sum(CASE WHEN participant_id IS NULL OR webhook_event_id IS NULL "
        "THEN 1 ELSE 0 END) FROM messaging_message WHERE direction = 'in'"
    )
    if not database_url:
        with sqlite3.connect(data_dir / "patas.sqlite3") as db:
            rows, orphans = db.execute(sql).fetchone()
            return int(rows), int(orphans or 0)
    out = subprocess.run(
        ["psql", database_url, "-tAc", sql], capture_output=True, text=True, check=True
    )
    rows, orphans = out.stdout.strip().split("|")
    return int(rows), int(orphans or 0)


def run(
    args: argparse.Namespace, data_dir: Path, measured: Measured
) -> tuple[Tally, Tally, tuple[int, int]]:
    """Migrate a fresh database, start `patas web`, load it, stop it, count what was stored."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATAS_")}
    env.update(
        PATAS_DATA_DIR=str(data_dir), PATAS_WHATSAPP_APP_SECRET=SECRET, PATAS_LOG_LEVEL="WARNING"
    )
    if args.database_url:
        env["PATAS_DATABASE_URL"] = args.database_url
    subprocess.run(
        [sys.executable, "-m", "patas", "migrate", "-v0", "--skip-checks"], env=env, check=True
    )
    port = free_port()
    start = start_granian if args.server == "granian" else start_web
    server = start(env, port, args.workers)
    try:
        warm, tally = asyncio.run(load(port, args, server.pid, measured))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return warm, tally, stored_in_database(data_dir, args.database_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default="uvicorn",
        help="uvicorn: `patas web` as shipped; granian: the same app under granian, to compare",
    )
    parser.add_argument("--men", type=int, default=2000, help="distinct senders")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds first")
    parser.add_argument("--duplicate-every", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument(
        "--wipe", action="store_true", help="PostgreSQL: drop and re-create an existing database"
    )
    parser.add_argument("--drop", action="store_true", help="PostgreSQL: drop it afterwards")
    args = parser.parse_args()

    if args.database_url and not create_database(args.database_url):
        if not args.wipe:
            raise SystemExit(f"{database_name(args.database_url)} exists: pass --wipe to reuse it")
        drop_database(args.database_url)
        create_database(args.database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="patas-bench-webhook-"))
    measured = Measured()
    try:
        warm, tally, in_db = run(args, data_dir, measured)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.database_url and args.drop:
            drop_database(args.database_url)
    ok = report(args, warm, tally, in_db, measured)
    return 0 if ok else 1


def report(
    args: argparse.Namespace, warm: Tally, tally: Tally, stored: tuple[int, int], m: Measured
) -> bool:
    in_db, orphans = stored
    ms = sorted(x * 1000 for x in tally.latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    unique = warm.unique_sent + tally.unique_sent
    codes = set(tally.codes) | set(warm.codes)
    ok = in_db == unique == warm.stored + tally.stored and codes == {200} and orphans == 0
    elapsed = m.elapsed
    print(
        f"database: {'postgresql' if args.database_url else 'sqlite'}, server {args.server}, "
        f"workers {args.workers}, "
        f"concurrency {args.concurrency}, {elapsed:.1f} s"
    )
    print(f"requests: {len(ms)} ({len(ms) / elapsed:.0f}/s), status codes {tally.codes}")
    print(
        f"accepted messages: {tally.stored} ({tally.stored / elapsed:.0f} messages/s), "
        f"duplicates recognised: {tally.duplicates}"
    )
    per_message = m.cpu / max(tally.stored, 1) * 1000
    print(
        f"server CPU: {m.cpu:.1f} s = {per_message:.2f} ms per accepted message "
        f"(~{1000 / per_message:.0f} messages/s per fully available core)"
    )
    if args.database_url and m.postgres is not None:
        backends = m.postgres.seconds("backends")
        print(
            f"PostgreSQL CPU: backends of this database {backends:.1f} s = "
            f"{backends / max(tally.stored, 1) * 1000:.2f} ms per message; server writers "
            f"{m.postgres.seconds('writers'):.1f} s"
        )
    print(f"load: {m.load}")
    if m.memory is not None:
        print(f"memory of the web processes: {m.memory.summary()}")
    print(f"latency ms: p50 {statistics.median(ms):.1f}, p99 {p99:.1f}, max {ms[-1]:.1f}")
    print(
        f"check: {in_db} rows stored for {unique} unique messages (warm-up included), "
        f"{orphans} without their sender or raw event -> "
        f"{'OK' if ok else 'FAILED'}"
    )
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
