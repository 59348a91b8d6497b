"""What the fault scripts share: a fresh data dir and database, patas processes on free loopback
ports (the fake Cloud API, `patas web`, `patas worker`), counting rows, and the line of counts.

The scripts never load Django themselves (a test calls their `main` inside its own Django set-up,
on another database): migrating and queueing run in subprocesses, and rows are counted with
plain `sqlite3` / `psycopg`. Helpers of the benchmarks next door are reused, not copied.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from patas.whatsapp.fake_webhook import document as webhook_document

HERE = Path(__file__).resolve().parent
BENCHMARKS = HERE.parent
PG_SERVER = os.environ.get("FAULT_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
SECRET = "fault-app-secret"
WEBHOOK_PATH = "/webhooks/whatsapp"
PHONE_NUMBER_ID = "100000000000001"
PATAS = [sys.executable, "-m", "patas"]


def _benchmark(name: str) -> ModuleType:
    """benchmarks/<name>.py as a module (its helpers; its main is not run)."""
    module_name = f"patas_bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


_sender_bench = _benchmark("sender")
_webhook_bench = _benchmark("webhook")
free_port = _sender_bench.free_port
wait_for = _sender_bench.wait_for
fetch = _sender_bench.fetch
cpu_seconds = _webhook_bench.cpu_seconds
read_response = _webhook_bench.read_response


# Databases -----------------------------------------------------------------------------------
def pg_server_from(database_url: str) -> str:
    """The server part of a postgres:// URL (the scripts make their own databases on it)."""
    parsed = urlparse(database_url)
    return f"{parsed.scheme}://{parsed.netloc}"


@contextlib.contextmanager
def fresh_database(kind: str, data_dir: Path, name: str, server: str = PG_SERVER) -> Iterator[str]:
    """A database URL for one run: a SQLite file in `data_dir`, or a new PostgreSQL database
    `fault_<name>_<pid>` on `server`, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{data_dir / 'patas.sqlite3'}"
        return
    import psycopg

    db = f"fault_{name}_{os.getpid()}"
    admin = f"{server}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    try:
        yield f"{server}/{db}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def via_port(database_url: str, port: int) -> str:
    """The same database reached on 127.0.0.1:`port` (through the proxy)."""
    parsed = urlparse(database_url)
    user = parsed.netloc.rpartition("@")[0]
    return parsed._replace(
        netloc=f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
    ).geturl()


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one statement, straight from the database (no Django in this process)."""
    if database_url.startswith("sqlite"):
        path = urlparse(database_url).path[1:]
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def scalar(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    return query(database_url, sql, params)[0][0]


# Processes -----------------------------------------------------------------------------------
@dataclass
class Stage:
    """One run's data dir, database and processes; `close()` stops whatever is still running."""

    name: str
    data_dir: Path
    database_url: str  # what the script counts with
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)
    fake_port: int = 0
    web_port: int = 0
    started: float = field(default_factory=time.monotonic)
    cpu_at_start: float = field(default_factory=lambda: cpu_so_far())
    killed_wall: float = 0.0  # time.time() of a kill -9, if the scenario made one

    def run_patas(self, *args: str) -> None:
        subprocess.run([*PATAS, *args], env=self.env, check=True)

    def migrate(self) -> None:
        self.run_patas("migrate", "-v0", "--skip-checks")

    def queue_texts(self, men: int, per_man: int) -> int:
        """`men` enrolled men with an open window and `per_man` texts each ('<man id>/<n>')."""
        out = subprocess.run(
            [sys.executable, str(HERE / "seed.py"), str(men), str(per_man)],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(out.stdout.split()[-1])

    def start_fake(self, *extra: str) -> None:
        self.fake_port = free_port()
        self.env["PATAS_WHATSAPP_API_URL"] = f"http://127.0.0.1:{self.fake_port}"
        self.processes["fake"] = subprocess.Popen(
            [*PATAS, "fake-whatsapp", "--port", str(self.fake_port), "--statuses", "", *extra],
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        wait_for(f"{self.fake_url}/_fake/stats", 60)

    @property
    def fake_url(self) -> str:
        return f"http://127.0.0.1:{self.fake_port}"

    def start_worker(self, name: str, env: dict[str, str] | None = None) -> subprocess.Popen[Any]:
        """A `patas worker`; its log goes to <data dir>/<name>.log (see `log_summary`)."""
        with open(self.data_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [*PATAS, "worker", "--name", name], env=env or self.env, stderr=log
            )
        self.processes[name] = process
        return process

    def log_summary(self) -> str:
        """How many ERROR/WARNING lines each worker logged (the logs stay in the data dir)."""
        parts = []
        for log in sorted(self.data_dir.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()
            errors = sum(" ERROR " in line for line in lines)
            warnings = sum(" WARNING " in line for line in lines)
            parts.append(f"{log.stem}: {errors} errors, {warnings} warnings")
        return "worker logs: " + ("; ".join(parts) or "none")

    def start_web(self, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.web_port = free_port()
        self.processes["web"] = _webhook_bench.start_web(env or self.env, self.web_port, workers)

    def fake_received(self) -> list[dict[str, Any]]:
        return list(fetch(f"{self.fake_url}/_fake/messages")["messages"])

    def fake_rejected(self) -> list[dict[str, Any]]:
        return list(fetch(f"{self.fake_url}/_fake/errors")["errors"])

    def configure_fake(self, changes: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.fake_url}/_fake/config",
            data=json.dumps(changes).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self, name: str, timeout: float = 60) -> int | None:
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            return None

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name, timeout=30)


@contextlib.contextmanager
def stage(
    name: str, kind: str = "sqlite", server: str = PG_SERVER, keep_logs: bool = False, **env: str
) -> Iterator[Stage]:
    """A fresh data dir under /tmp/fault-*, a fresh database, the environment for patas."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"fault-{name}-"))
    with fresh_database(kind, data_dir, name, server) as url:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PATAS_")}
        base.update(
            PATAS_DATA_DIR=str(data_dir),
            PATAS_DATABASE_URL=url,
            PATAS_WHATSAPP_APP_SECRET=SECRET,
            PATAS_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            PATAS_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="patas.settings",
            **env,
        )
        current = Stage(name, data_dir, url, base)
        try:
            yield current
        finally:
            current.close()
            if keep_logs:
                print(f"data dir and logs kept in {data_dir}")
            else:
                shutil.rmtree(data_dir, ignore_errors=True)


def until(predicate: Any, timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll `predicate` until it is truthy; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# Webhook deliveries --------------------------------------------------------------------------
def signed_request(port: int, body: bytes, *, secret: str = SECRET) -> bytes:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Hub-Signature-256: sha256={digest}\r\n\r\n"
    )
    return head.encode() + body


def envelope(value: dict[str, Any]) -> bytes:
    """A webhook body with one change (`value` holds messages/contacts or statuses)."""
    body = webhook_document(
        value,
        waba_id="200000000000001",
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number="51900000001",
    )
    return json.dumps(body, separators=(",", ":")).encode()


def inbound_body(phone: str, wamid: str, text: str, at: int | None = None) -> bytes:
    at = at or int(time.time())
    return envelope(
        {
            "contacts": [{"profile": {"name": "Hombre"}, "wa_id": phone}],
            "messages": [
                {
                    "from": phone,
                    "id": wamid,
                    "timestamp": str(at),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def status_body(items: list[tuple[str, str, str]], at: int | None = None) -> bytes:
    """Status callbacks: (wamid, status, recipient phone) each."""
    at = at or int(time.time())
    statuses = [
        {"id": wamid, "status": status, "timestamp": str(at), "recipient_id": to}
        for wamid, status, to in items
    ]
    return envelope({"statuses": statuses})


# Reporting -----------------------------------------------------------------------------------
def cpu_so_far() -> float:
    """CPU seconds of this process and of its children that have finished."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def machine(stage: Stage) -> str:
    """Wall and CPU time since the stage began, and the load average."""
    load, cpu = os.getloadavg(), cpu_so_far() - stage.cpu_at_start
    return (
        f"wall {time.monotonic() - stage.started:.1f} s, CPU {cpu:.1f} s (this script and the "
        f"processes it has already stopped), load average {load[0]:.1f}/{load[1]:.1f} on "
        f"{os.cpu_count()} cores"
    )


def counts_line(scenario: str, **counts: Any) -> str:
    return f"counts: {scenario}: " + ", ".join(f"{k}={v}" for k, v in counts.items())


def verdict(problems: list[str]) -> int:
    """Print what broke (if anything); the exit status."""
    for problem in problems:
        print(f"BROKEN: {problem}")
    print("result: OK" if not problems else f"result: FAILED ({len(problems)} problem(s))")
    return 1 if problems else 0
