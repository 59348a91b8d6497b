"""Benchmark: a group thread of 5,000 messages, and relaying one message to 49 members.

    python benchmarks/group_thread.py            # fresh SQLite database in a temp folder
    PATAS_DATABASE_URL=postgres://... python benchmarks/group_thread.py

Claims checked (issue 4):
- the thread page of a group with 5,000 posts renders in under 300 ms server time (the page
  shows the latest 100 posts; older ones load on demand);
- relaying one man's message to the 49 other members of a 50-man group is one transaction
  with one bulk insert into the outbox.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PATAS_DATA_DIR", tempfile.mkdtemp(prefix="patas-bench-groups-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group as Role  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from patas.core import clock  # noqa: E402
from patas.groups import pseudonyms  # noqa: E402
from patas.groups.models import Group, GroupPost, Membership  # noqa: E402
from patas.messaging import router  # noqa: E402
from patas.messaging.models import Message  # noqa: E402
from patas.participants.models import Participant  # noqa: E402

MEMBERS = 50
POSTS = 5000
RUNS = 15


def build_group(name: str, facilitator) -> tuple[Group, list[Membership]]:  # type: ignore[no-untyped-def]
    group = Group.objects.create(name=name, program="hablemos-entre-patas", facilitator=facilitator)
    now = clock.now()
    men = Participant.objects.bulk_create(
        Participant(
            wa_user_id=f"{name}.{n}", status=Participant.Status.ENROLLED, last_inbound_at=now
        )
        for n in range(MEMBERS)
    )
    taken: list[str] = []
    members = []
    for man in men:
        taken.append(pseudonyms.choose(group.uid.hex, man.uid.hex, taken))
        members.append(Membership(group=group, participant=man, pseudonym=taken[-1]))
    return group, Membership.objects.bulk_create(members)


def fill_thread(group: Group, members: list[Membership]) -> None:
    posts = [
        GroupPost(
            group=group,
            author=members[n % MEMBERS],
            seq=n + 1,
            status=GroupPost.Status.RELAYED,
            relayed_at=clock.now(),
            text=f"Mensaje {n}: hoy intenté respirar tres veces antes de responder.",
        )
        for n in range(POSTS)
    ]
    GroupPost.objects.bulk_create(posts, batch_size=1000)
    Group.objects.filter(pk=group.pk).update(last_seq=POSTS)
    Membership.objects.filter(group=group).update(seen_seq=POSTS)


def time_thread(group: Group, user) -> list[float]:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    url = f"/groups/{group.uid}/"
    assert client.get(url).status_code == 200  # warm-up (templates, pack cache)
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return timings


def relay_one(members: list[Membership]) -> dict[str, object]:
    inbound = Message.objects.create(
        direction=Message.Direction.IN,
        participant=members[0].participant,
        type="text",
        text="Buenas noches, patas",
        status=Message.Status.RECEIVED,
    )
    outside: list[str] = []

    def watch(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not connection.in_atomic_block and not sql.startswith("BEGIN"):
            outside.append(sql)
        return execute(sql, params, many, context)

    before = Message.objects.filter(direction="out").count()
    message = Message.objects.select_related("participant").get(pk=inbound.pk)
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(watch):
        route = router.route(message)
    elapsed = (time.perf_counter() - start) * 1000
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "messaging_message"')]
    begins = [q for q in queries if q["sql"].startswith("BEGIN")]
    return {
        "route": route,
        "enqueued": Message.objects.filter(direction="out").count() - before,
        "queries": len(queries),
        "transactions": len(begins),
        "outbox_insert_statements": len(inserts),
        "queries_outside_the_transaction": len(outside),
        "ms": round(elapsed, 1),
    }


def main() -> None:
    call_command("migrate", verbosity=0, skip_checks=True)
    user = get_user_model().objects.create_user("bench-facilitator")
    user.groups.add(Role.objects.get_or_create(name="facilitator")[0])
    group, members = build_group("bench", user)
    fill_thread(group, members)
    timings = time_thread(group, user)
    print(f"database: {connection.vendor}")
    print(
        f"thread of {POSTS} posts, {RUNS} runs: median {statistics.median(timings):.1f} ms, "
        f"max {max(timings):.1f} ms (claim: < 300 ms)"
    )
    relay_group, relay_members = build_group("relay", user)
    _, warm_members = build_group("warm-up", user)
    relay_one(warm_members)  # the first message of a process loads the pack and the lexicons
    result = relay_one(relay_members)
    print(f"relay to {MEMBERS - 1} members: {result}")
    ok = (
        statistics.median(timings) < 300
        and result["enqueued"] == MEMBERS - 1
        and result["queries_outside_the_transaction"] == 0
    )
    print("OK" if ok else "CLAIM NOT MET")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
