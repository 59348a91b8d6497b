"""`patas serve`: migrations, then the web server and a worker child that is restarted if it
dies; SIGTERM stops both. Real processes on loopback, a fresh SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """Child processes of every thread of `pid` (the worker is started from a thread)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.2)  # waiting for other processes
    return value


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_serve_runs_web_and_a_worker_and_restarts_the_worker(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PATAS_DATA_DIR": str(tmp_path),
        "PATAS_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "patas", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        until(lambda: answers(f"http://127.0.0.1:{port}/webhooks/whatsapp/"), 90, "the web")
        first = until(lambda: children(proc.pid), 30, "the worker")[0]
        os.kill(first, signal.SIGKILL)
        second = until(lambda: [c for c in children(proc.pid) if c != first], 30, "a new worker")
        assert second[0] != first
        assert (tmp_path / "serve.sqlite3").exists()  # migrated before serving
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}" in out
    for pid in first, second[0]:  # no worker is left behind
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
