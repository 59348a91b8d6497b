"""The worker loop: one tick (the simulator's entry), until-idle, the pipelined sender,
database errors, signals, and the `patas worker` command in a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.db import OperationalError

from messaging.outbox_helpers import make_man, queue_texts
from patas.core import jobs, worker
from patas.core.models import JobLease
from patas.messaging import router
from patas.messaging import sender_thread as sender_thread_mod
from patas.messaging.dispatch import InstantPace
from patas.messaging.models import Message
from patas.messaging.outbox import send_text
from patas.whatsapp.fake import FakeCloudAPI

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_test_jobs(monkeypatch):
    """The worker is under test, not the other apps' periodic jobs: start from an empty registry."""
    monkeypatch.setattr(jobs, "REGISTRY", {})
    monkeypatch.setattr(jobs, "_discovered", True)


@pytest.fixture
def echo_chain(monkeypatch):
    """A router with one step that answers every message (other apps' steps left out)."""

    def echo(inbound: router.Inbound) -> router.Result:
        send_text(inbound.participant, f"eco: {inbound.text}")
        return router.Result.DONE

    monkeypatch.setattr(router, "_steps", {"echo": router.Step(1, "echo", echo)})


@pytest.fixture
def fake_worker():
    app = FakeCloudAPI()
    pace = InstantPace()
    made = worker.Worker(
        "w-test",
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        pace=pace,
    )
    return app, made


def inbound_from(man, text):
    return Message.objects.create(
        direction=Message.Direction.IN,
        participant=man,
        type="text",
        text=text,
        payload={"body": text},
        status=Message.Status.RECEIVED,
    )


def test_one_tick_runs_jobs_routes_inbound_and_sends_the_replies(
    vclock, echo_chain, fake_worker, monkeypatch
):
    app, w = fake_worker
    ran = []
    monkeypatch.setitem(
        jobs.REGISTRY,
        "test.job",
        jobs.Job(
            "test.job", timedelta(minutes=5), lambda now: ran.append(now) or 1, timedelta(minutes=5)
        ),
    )
    man = make_man("51900000001")
    message = inbound_from(man, "hola")

    report = w.tick()

    assert ran == [vclock.now()]
    assert report.jobs["test.job"] == 1 and report.routed == 1
    assert report.sent == {"sent": 1}
    assert Message.objects.get(pk=message.pk).route == "echo"
    assert [r["body"]["text"]["body"] for r in app.received] == ["eco: hola"]
    assert not w.tick().busy  # the job is not due again yet, nothing else to do


def test_ticks_follow_virtual_time(vclock, fake_worker):
    app, w = fake_worker
    man = make_man("51900000001")
    queue_texts(man, "mañana", due_in=timedelta(hours=20))
    w.tick()
    assert app.received == []
    vclock.advance(timedelta(hours=20))
    w.tick()
    assert len(app.received) == 1


def test_run_until_idle_drains_everything(fake_worker):
    app, w = fake_worker
    for i in range(30):
        queue_texts(make_man(f"519000000{i:02d}"), "uno", "dos")
    w.run(until_idle=True, install_signals=False)
    assert len(app.received) == 60
    assert not Message.objects.exclude(status=Message.Status.SENT).exists()


def test_the_pipelined_loop_sends_in_a_thread_and_stops_cleanly(fake_worker, monkeypatch):
    app, w = fake_worker
    for i in range(40):
        queue_texts(make_man(f"519000000{i:02d}"), "uno", "dos", "tres")
    original = sender_thread_mod.PipelinedSender.step

    def step_then_check(self, wait=0.05):
        done = original(self, wait)
        if self.tally.counts["sent"] >= 120:
            w.stop()
        return done

    monkeypatch.setattr(sender_thread_mod.PipelinedSender, "step", step_then_check)
    w.run(install_signals=False)

    assert len(app.received) == 120
    assert Message.objects.filter(status=Message.Status.SENT).count() == 120
    assert not JobLease.objects.filter(name="sender:100000000000001", holder="w-test").exists()
    for i in range(3):  # order per man held under concurrency
        to = f"519000000{i:02d}"
        assert [r["body"]["text"]["body"] for r in app.received if r["to"] == to] == [
            "uno",
            "dos",
            "tres",
        ]


def test_database_errors_are_logged_and_the_worker_goes_on(monkeypatch, caplog):
    monkeypatch.setattr(worker, "ERROR_PAUSE", (0.0, 0.0))
    w = worker.Worker("w-test", send=False)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return 7

    assert w._guarded(flaky) is None
    assert "database error" in caplog.text
    assert w._guarded(flaky) == 7 and w._errors == 0


def test_a_signal_asks_for_a_graceful_stop():
    w = worker.Worker("w-test", send=False)
    w._on_signal(signal.SIGTERM, None)
    assert w.stopping.is_set()
    w.run(install_signals=False)  # returns at once: already stopping


@pytest.mark.django_db(transaction=True)
def test_patas_worker_command_runs_and_stops_on_sigterm(tmp_path: Path):
    env = {
        **os.environ,
        "PATAS_DATA_DIR": str(tmp_path),
        "PATAS_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
        "PATAS_WHATSAPP_API_URL": "http://127.0.0.1:9",
    }  # nothing to send: never called
    patas = [sys.executable, "-m", "patas"]
    subprocess.run(
        [*patas, "migrate", "-v", "0", "--skip-checks"], env=env, check=True, timeout=120
    )
    once = subprocess.run(
        [*patas, "worker", "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert once.returncode == 0, once.stderr
    assert "routed 0" in once.stdout
    proc = subprocess.Popen(
        [*patas, "worker"],
        env={**env, "PATAS_LOG_LEVEL": "INFO"},
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until it is in its loop (it says so), then ask it to stop
    assert proc.stderr is not None
    for line in proc.stderr:
        if "started" in line:
            break
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0
    assert "stopped" in rest
