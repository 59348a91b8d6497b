"""Routing a burst of first messages from new men, with and without the steps' batch look-ups.

    python benchmarks/route_burst.py [--men 300] [--rounds 2] [--database-url URL]

Each round creates `--men` new men, each with one "hola" waiting for the router, and routes
them with `route_pending` twice over (once with `router.skipped_steps` as it is, once with it
turned off, alternately), in this process. Prints per message: CPU time (process_time) and SQL
statements run. SQLite in a fresh temp data dir unless --database-url (an empty database; it is
migrated). This is what a recruitment burst does to the router: every man is new, so the
survey, trial, group and program steps have nothing to do for him.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--men", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    os.environ["PATAS_DATA_DIR"] = tempfile.mkdtemp(prefix="patas-route-")
    os.environ.setdefault("PATAS_LOG_LEVEL", "WARNING")
    if args.database_url:
        os.environ["PATAS_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("PATAS_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"routing bursts of {args.men} first messages; load average {os.getloadavg()[0]:.1f}")
    for round_no in range(args.rounds):
        for skipping in (True, False):
            cpu, statements = burst(args.men, f"r{round_no}{int(skipping)}", skipping)
            label = "with batch look-ups" if skipping else "every step per message"
            print(
                f"round {round_no + 1}, {label:24}: {cpu:.2f} ms CPU, "
                f"{statements:.1f} SQL per message"
            )


def burst(men: int, tag: str, skipping: bool) -> tuple[float, float]:
    from django.db import connection

    from patas.core import clock
    from patas.messaging import router
    from patas.messaging.models import Message
    from patas.participants.models import Participant

    for i in range(men):
        man = Participant.objects.create(wa_user_id=f"{tag}-{i}")
        Message.objects.create(
            direction="in",
            participant=man,
            type="text",
            text="hola",
            status="received",
            created_at=clock.now(),
        )
    counted = [0]

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        counted[0] += 1
        return execute(sql, params, many, context)

    real = router.skipped_steps
    if not skipping:
        router.skipped_steps = lambda batch: {}  # type: ignore[assignment]
    try:
        with connection.execute_wrapper(count):
            started = time.process_time()
            routed = router.route_pending(men)
            cpu = time.process_time() - started
    finally:
        router.skipped_steps = real  # type: ignore[assignment]
    if routed != men:
        sys.exit(f"routed {routed} of {men} messages")
    return cpu / men * 1000, counted[0] / men


if __name__ == "__main__":
    main()
