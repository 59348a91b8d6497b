"""Helpers shared by the benchmarks: a scratch PostgreSQL database, CPU and memory of processes.

Linux only (reads /proc). PostgreSQL's CPU is read from /proc too, so it is only available when
the server runs on this machine (127.0.0.1 here).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def create_database(url: str) -> bool:
    """Create the database named in `url` (connecting to `postgres` on the same server).

    Returns True if it was created; an existing one is kept as it is."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    admin = urlparse(url)._replace(path="/postgres", query="").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    admin = urlparse(url)._replace(path="/postgres", query="").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(url))
            )
        )


def cpu_of(pids: Iterable[int]) -> float:
    """User + system CPU seconds of these processes (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def children_of(pid: int) -> list[int]:
    """The process and its direct children (uvicorn's worker processes)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def rss_of(pid: int) -> int:
    """Resident set size in bytes (0 if the process is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


class MemorySampler:
    """Samples the summed RSS of some processes every `every` seconds in a thread."""

    def __init__(self, pids: list[int] | None = None, every: float = 0.5) -> None:
        self.pids = pids or [os.getpid()]
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        rss = sum(rss_of(pid) for pid in self.pids)
        self.samples.append((time.perf_counter() - self._started, rss))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every)

    def summary(self, points: int = 6) -> str:
        """'peak X MB; at 0 s A MB, 10 s B MB, ...' with a few evenly spaced samples."""
        if not self.samples:
            return "no samples"
        peak = max(rss for _, rss in self.samples)
        step = max(1, len(self.samples) // points)
        shown = self.samples[::step]
        if shown[-1] is not self.samples[-1]:
            shown.append(self.samples[-1])
        series = ", ".join(f"{t:.0f} s {rss / 2**20:.0f}" for t, rss in shown)
        return f"peak {peak / 2**20:.0f} MB; MB over the run: {series}"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


class PostgresCpu:
    """CPU of the PostgreSQL backends serving one database (found by their process title,
    `postgres: USER DATABASE ...`), and of the server's WAL writer, checkpointer and background
    writer (shared by every database on the server). Sampled every `every` seconds in a
    thread, so backends that come and go during the run (one per lane) are counted too; CPU
    in the last moments before a backend exits can be missed."""

    WRITERS = (": walwriter", ": checkpointer", ": background writer")

    def __init__(self, database: str, every: float = 0.2) -> None:
        self.marker = f" {database} "
        self.every = every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.kind: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PostgresCpu:
        self._sample(baseline=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self, baseline: bool = False) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            kind = self._kind(title)
            if kind is None:
                continue
            pid = int(entry.name)
            cpu = cpu_of([pid])
            if pid not in self.first:
                self.first[pid] = cpu if baseline else 0.0
                self.kind[pid] = kind
            self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def _kind(self, title: str) -> str | None:
        if title.startswith("postgres:") and self.marker in title:
            return "backends"
        if title.startswith("postgres:") and title.rstrip().endswith(self.WRITERS):
            return "writers"
        return None

    def seconds(self, kind: str) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last if self.kind[p] == kind)
