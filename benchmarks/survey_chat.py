"""10,000 men answering one endline question at once, over chat.

    python benchmarks/survey_chat.py [--men 10000] [--batch 1000] [--db URL]

Sets up N men, each with an open `men_endline` chat session (one bulk insert) and one inbound
answer each (one bulk insert), then measures two ways of taking the answers:

1. the real inbound path: `messaging.router.route` per message (every registered step runs:
   attribution, opt-out, triage, ... then the survey step saves the answer and enqueues the
   next prompt in the same transaction);
2. the set-based path `surveys.actions.answer_many` in batches (one SELECT of the sessions,
   the pure runner in memory, one bulk UPDATE, one INSERT of prompts, one of audit rows), for
   answers that already went through triage.

Prints answers/s and the outbox rows written. The survey prompts are ordinary outbox rows
(purpose=survey), so the sender drains them like any other message: nothing here holds the
worker beyond these transactions. The database is a fresh SQLite file unless --db is given.
Timings are wall-clock on a shared machine: treat them as rough.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--men", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--db", default="", help="PATAS_DATABASE_URL (default: temp SQLite)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="patas-bench-survey-"))
    os.environ["PATAS_DATA_DIR"] = str(workdir)
    os.environ["PATAS_DATABASE_URL"] = args.db or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run(args)


def setup_men(n: int, offset: int) -> list[int]:
    from patas.core import clock
    from patas.participants.models import Participant
    from patas.surveys import actions, chat
    from patas.surveys.models import Mode, SurveySession

    now = clock.now()
    men = [
        Participant(
            wa_user_id=f"BENCH.{offset + i}",
            language="es",
            status=Participant.Status.ENROLLED,
            last_inbound_at=now,
            is_synthetic=True,
        )
        for i in range(n)
    ]
    Participant.objects.bulk_create(men, batch_size=2000)
    ids = list(
        Participant.objects.filter(wa_user_id__startswith="BENCH.")
        .order_by("id")
        .values_list("id", flat=True)[offset : offset + n]
    )
    record = actions.form_record("men_endline")
    start = chat.start(actions.form_of(record), "es", actions.words_for("es"), now)
    SurveySession.objects.bulk_create(
        [
            SurveySession(
                participant_id=pk,
                form=record,
                mode=Mode.CHAT,
                lang="es",
                state=start.state,
                started_at=now,
                last_activity_at=now,
            )
            for pk in ids
        ],
        batch_size=2000,
    )
    return ids


def inbound_answers(ids: list[int], text: str) -> list[int]:
    from patas.messaging.models import Message

    rows = [
        Message(
            direction=Message.Direction.IN,
            participant_id=pk,
            type="text",
            text=text,
            payload={"body": text},
            status=Message.Status.RECEIVED,
        )
        for pk in ids
    ]
    Message.objects.bulk_create(rows, batch_size=2000)
    return list(
        Message.objects.filter(
            direction=Message.Direction.IN, routed_at__isnull=True, participant_id__in=ids
        ).values_list("id", flat=True)
    )


def outbox_count() -> int:
    from patas.messaging.models import Message

    return Message.objects.filter(direction=Message.Direction.OUT, purpose="survey").count()


def through_router(ids: list[int]) -> None:
    from patas.messaging import router
    from patas.messaging.models import Message

    message_ids = inbound_answers(ids, "2")
    before = outbox_count()
    steps = ", ".join(f"{s.order}:{s.name}" for s in router.steps())
    t0 = time.perf_counter()
    for chunk_start in range(0, len(message_ids), 500):
        chunk = list(
            Message.objects.filter(id__in=message_ids[chunk_start : chunk_start + 500])
            .select_related("participant")
            .order_by("id")
        )
        for message in chunk:
            router.route(message)
    seconds = time.perf_counter() - t0
    routes = Message.objects.filter(id__in=message_ids, route="open_survey").count()
    print(f"router steps: {steps}")
    report("router.route per message", len(message_ids), seconds, outbox_count() - before)
    print(f"  messages taken by open_survey: {routes}")


def survey_step_alone(ids: list[int]) -> None:
    from django.db import transaction

    from patas.messaging import router
    from patas.messaging.models import Message
    from patas.surveys.router_step import open_survey

    message_ids = inbound_answers(ids, "2")
    before = outbox_count()
    messages = list(
        Message.objects.filter(id__in=message_ids).select_related("participant").order_by("id")
    )
    t0 = time.perf_counter()
    for message in messages:
        with transaction.atomic():
            open_survey(router.inbound_for(message))
    seconds = time.perf_counter() - t0
    report(
        "open_survey step alone, one transaction each",
        len(messages),
        seconds,
        outbox_count() - before,
    )


def set_based(ids: list[int], batch: int) -> None:
    from patas.surveys import actions

    before = outbox_count()
    t0 = time.perf_counter()
    applied = 0
    for i in range(0, len(ids), batch):
        replies = [actions.Reply(pk, text="2") for pk in ids[i : i + batch]]
        applied += actions.answer_many(replies)
    seconds = time.perf_counter() - t0
    report(f"answer_many, batches of {batch}", applied, seconds, outbox_count() - before)


def report(label: str, n: int, seconds: float, enqueued: int) -> None:
    rate = n / seconds if seconds else float("inf")
    print(
        f"{label}: {n} answers in {seconds:.2f} s = {rate:,.0f} answers/s; "
        f"{enqueued} survey prompts enqueued"
    )


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    t0 = time.perf_counter()
    first = setup_men(args.men, 0)
    second = setup_men(args.men, args.men)
    third = setup_men(args.men, 2 * args.men)
    print(
        f"setup: {3 * args.men} men with open men_endline sessions in "
        f"{time.perf_counter() - t0:.1f} s ({connection.vendor})"
    )
    through_router(first)
    survey_step_alone(third)
    set_based(second, args.batch)


if __name__ == "__main__":
    main()
