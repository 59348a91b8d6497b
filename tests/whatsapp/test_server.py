"""`patas web` as a real process: concurrent duplicates stored once, a dead database is a 503."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from patas.whatsapp.signature import sign
from whatsapp.payloads import URL, encode, load, text_payload

SECRET = "server-test-secret"
PATAS = [sys.executable, "-m", "patas"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATAS_")}
    env.update(
        PATAS_DATA_DIR=str(data_dir),
        PATAS_WHATSAPP_APP_SECRET=SECRET,
        PATAS_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def start_web(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [*PATAS, "web", "--port", str(port), "--log-level", "info"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()

    def watch() -> None:  # reads the log to the end, so the pipe never fills up
        assert process.stderr is not None
        for line in process.stderr:
            if "Uvicorn running on" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    if not ready.wait(timeout=120):
        process.kill()
        raise AssertionError(f"patas web did not start (exit {process.poll()})")
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("web")
    env = environment(data_dir)
    subprocess.run([*PATAS, "migrate", "-v0", "--skip-checks"], env=env, check=True)
    process, base = start_web(env)
    try:
        yield base, data_dir / "patas.sqlite3"
    finally:
        process.terminate()
        process.wait(timeout=20)


def signed_post(client: httpx.Client, body: bytes) -> httpx.Response:
    headers = {"X-Hub-Signature-256": sign(body, SECRET), "Content-Type": "application/json"}
    return client.post(URL, content=body, headers=headers)


def count(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute(sql).fetchone()[0])


def test_same_payload_posted_concurrently_is_stored_once(web):
    base, database = web
    body = encode(load("message_text"))
    with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: signed_post(client, body), range(16)))
    assert [a.status_code for a in answers] == [200] * 16
    assert sum(a.json()["stored"] for a in answers) == 1
    assert sum(a.json()["duplicates"] for a in answers) == 15
    wamid = load("message_text")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert count(database, f"SELECT count(*) FROM messaging_message WHERE wamid = '{wamid}'") == 1
    assert count(database, "SELECT count(*) FROM participants_participant") == 1


def test_unique_messages_posted_concurrently_are_all_stored(web):
    base, database = web
    bodies = [
        encode(
            text_payload(
                f"wamid.conc.{i}", f"hola {i}", phone=f"519100{i:05d}", user_id=f"PE.conc{i}"
            )
        )
        for i in range(40)
    ]
    with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: signed_post(client, b), bodies + bodies[:10]))
    assert all(a.status_code == 200 for a in answers)
    assert (
        count(database, "SELECT count(*) FROM messaging_message WHERE wamid LIKE 'wamid.conc.%'")
        == 40
    )


def test_static_files_are_served(web):
    base, _ = web
    response = httpx.get(f"{base}/static/admin/css/base.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


def test_database_down_is_503_so_meta_retries(web, tmp_path):
    """The database disappears under a running server (a lost volume): 503, then 200 once back."""
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    env = environment(tmp_path, PATAS_DATABASE_URL=f"sqlite:///{db_dir / 'patas.sqlite3'}")
    with sqlite3.connect(web[1]) as migrated, sqlite3.connect(db_dir / "patas.sqlite3") as copy:
        migrated.backup(copy)  # a migrated database, without migrating again
    with sqlite3.connect(db_dir / "patas.sqlite3") as copy:
        copy.execute("DELETE FROM messaging_message")
    process, base = start_web(env)
    body = encode(load("message_text"))
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            db_dir.rename(tmp_path / "gone")
            down = signed_post(client, body)
            (tmp_path / "gone").rename(db_dir)
            back = signed_post(client, body)
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert down.status_code == 503
    assert back.status_code == 200 and back.json()["stored"] == 1


def test_refusals_on_the_server_path(web):
    base, database = web
    events_before = count(database, "SELECT count(*) FROM whatsapp_webhookevent")
    body = encode(text_payload("wamid.refused", "hola"))
    with httpx.Client(base_url=base, timeout=30) as client:
        unsigned = client.post(URL, content=body)
        wrong = client.post(URL, content=body, headers={"X-Hub-Signature-256": "sha256=00"})
        malformed = signed_post(client, b'{"object": ')
        not_whatsapp = signed_post(client, encode(load("not_whatsapp")))
        huge = signed_post(client, b" " * (1024 * 1024 + 1))
        after = signed_post(client, encode(text_payload("wamid.after-413", "sigo aqui")))
    assert [r.status_code for r in (unsigned, wrong, malformed, not_whatsapp, huge)] == [
        403,
        403,
        400,
        400,
        413,
    ]
    assert "malformed JSON" in malformed.text
    assert after.status_code == 200  # the same client goes on after a refused upload
    assert count(database, "SELECT count(*) FROM whatsapp_webhookevent") == events_before + 1
    assert (
        count(database, "SELECT count(*) FROM messaging_message WHERE wamid = 'wamid.refused'") == 0
    )
