"""The fault scripts of benchmarks/faults at the sizes CI can afford (docs/performance.md,
"Faults"). Each script starts real processes (`patas web`, `patas worker`, the fake Cloud API) on
a database of its own and returns non-zero when anything acknowledged is lost or a stated
guarantee is broken. The kill -9 scenario runs at a small size (its rows go out about 35 s after
the kill: the sender hand-over, patas.messaging.sender.HANDOVER); the full size is
`python benchmarks/faults/kill_worker.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "faults"))

import api_errors  # noqa: E402
import bad_bodies  # noqa: E402
import common  # noqa: E402
import database_down  # noqa: E402
import duplicate_webhooks  # noqa: E402
import kill_worker  # noqa: E402

on_postgres = connection.vendor == "postgresql"
needs_postgres = pytest.mark.skipif(not on_postgres, reason="needs PostgreSQL")
DATABASE = "postgresql" if on_postgres else "sqlite"


def server() -> str:
    """The PostgreSQL server the suite runs on; the scripts make their own databases there."""
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d["PASSWORD"] else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}"


def test_a_storm_of_130429_and_5xx_delays_but_loses_nothing_and_keeps_the_limit():
    args = ["--seconds", "15", "--messages", "2000", "--database", DATABASE]
    assert api_errors.main([*args, "--server", server()] if on_postgres else args) == 0


def test_the_same_webhook_ten_times_at_once_is_stored_once():
    args = ["--deliveries", "30", "--database", DATABASE]
    if on_postgres:  # several web processes race each other, not just requests in one
        args += ["--web-workers", "2", "--server", server()]
    assert duplicate_webhooks.main(args) == 0


def test_oversized_and_garbage_bodies_are_refused_cheaply_and_nothing_stored():
    args = ["--repeat", "5", "--database", DATABASE]
    assert bad_bodies.main([*args, "--server", server()] if on_postgres else args) == 0


@pytest.mark.postgres
@needs_postgres
def test_database_down_webhook_answers_503_and_the_workers_reconnect():
    args = ["--messages", "1500", "--down", "10", "--inbound", "200", "--server", server()]
    assert database_down.main(args) == 0


@pytest.mark.postgres
@needs_postgres
def test_a_killed_sender_loses_nothing_and_duplicates_only_what_it_held():
    args = ["--messages", "3000", "--workers", "3", "--server", server()]
    assert kill_worker.main(args) == 0


def test_the_scripts_share_one_place_for_processes_and_databases():
    """The counting helpers read what patas wrote, without Django, on either database."""
    assert common.via_port("postgres://u:p@db:5432/x", 6000) == "postgres://u:p@127.0.0.1:6000/x"
    assert common.pg_server_from("postgres://u@h:1/x?a=b") == "postgres://u@h:1"
