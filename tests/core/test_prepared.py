"""core.prepared: a query compiled once gives what the ORM gives, for any values, on either
database; a use it cannot serve is refused by name."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, transaction
from django.db.models import F

from patas.core.prepared import Prepared, PreparedError, PreparedUpdate, save_fields
from patas.messaging.models import Message
from patas.participants.models import Participant

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")
STATUSES = [Message.Status.QUEUED, Message.Status.SENT, Message.Status.READ]


def some_messages(vclock, count: int = 60) -> list[Participant]:
    rng = random.Random(5)
    men = [Participant.objects.create(wa_user_id=f"PE.prep{i}") for i in range(6)]
    for i in range(count):
        Message.objects.create(
            uid=uuid.uuid4(),
            direction="out",
            participant=rng.choice(men + [None]),
            type="text",
            status=rng.choice(STATUSES),
            payload={"n": i, "tag": rng.choice(["a", "b"])},
            requires_window=rng.random() < 0.5,
            due_at=vclock.now() + timedelta(minutes=rng.randint(-90, 90)),
            wamid=f"wamid.p{i}" if rng.random() < 0.8 else None,
        )
    return men


def messages(men, status, due, window):  # the ORM's own answer, for comparison
    return (
        Message.objects.filter(
            participant_id__in=men, status=status, due_at__lte=due, requires_window=window
        )
        .order_by("id")
        .values_list("id", "due_at", "payload", "participant_id")
    )


def test_prepared_rows_are_the_orms_for_any_values(vclock):
    men = some_messages(vclock)
    prepared = Prepared(messages)
    rng = random.Random(9)
    for _ in range(40):
        chosen = rng.sample([m.pk for m in men], rng.randint(1, 4))
        chosen += rng.sample(chosen, 1) + [None]  # duplicates and None, as callers pass them
        due = vclock.now() + timedelta(minutes=rng.randint(-100, 100), microseconds=7)
        due = due.astimezone(rng.choice([UTC, LIMA]))  # compared in UTC whatever his zone
        args = {
            "men": chosen,
            "status": rng.choice(STATUSES),
            "due": due,
            "window": rng.random() < 0.5,
        }
        expected = [tuple(row) for row in messages(**args)]
        assert prepared(**args) == expected
    # Datetimes and JSON come back converted, as the ORM converts them.
    some = prepared(men=[m.pk for m in men], status=STATUSES[0], due=vclock.now(), window=True)
    assert some and some[0][1].tzinfo is not None and isinstance(some[0][2], dict)


def test_one_build_per_shape(vclock):
    men = some_messages(vclock, 10)
    builds = []

    def build(men, status):
        builds.append(len(men))
        return Message.objects.filter(participant_id__in=men, status=status).values_list("id")

    prepared = Prepared(build)
    for status in STATUSES:
        prepared(men=[men[0].pk, men[1].pk], status=status)
        prepared(men=[men[2].pk, men[3].pk], status=status)
    prepared(men=[men[0].pk], status="sent")
    prepared(men=[men[4].pk, men[4].pk, None], status="sent")  # one distinct man
    assert builds == [2, 1]  # one compile per distinct length, whatever the values
    assert prepared(men={men[5].pk, None}, status="sent") == list(  # a set, None among them
        Message.objects.filter(participant=men[5], status="sent").values_list("id")
    )
    # Lists are compiled at the next power of two, padded with their last value.
    three = prepared(men=[m.pk for m in men[:3]], status="queued")
    four = prepared(men=[m.pk for m in men[:4]], status="queued")
    assert builds == [2, 1, 4]
    for got, chosen in ((three, men[:3]), (four, men[:4])):
        expected = Message.objects.filter(participant__in=chosen, status="queued").values_list("id")
        assert sorted(got) == sorted(expected)


def test_slice_bounds_are_part_of_the_shape(vclock):
    some_messages(vclock, 20)
    first = Prepared(
        lambda status, limit: (
            Message.objects.filter(status=status).order_by("id").values_list("id")[:limit]
        ),
        shape=("limit",),
    )
    for limit in (1, 3, 1):
        expected = list(Message.objects.filter(status="sent").order_by("id").values_list("id"))
        assert first(status="sent", limit=limit) == expected[:limit]
    unnamed = Prepared(lambda limit: Message.objects.order_by("id").values_list("id")[:limit])
    with pytest.raises(PreparedError, match="limit"):
        unnamed(limit=2)  # the bound is not a parameter: it must be named in shape=


def test_an_empty_list_matches_nothing_without_a_query(vclock, django_assert_num_queries):
    some_messages(vclock, 5)
    prepared = Prepared(lambda ids: Message.objects.filter(id__in=ids).values_list("id"))
    with django_assert_num_queries(0):
        assert prepared(ids=[]) == []
        assert prepared(ids=[None]) == []
    assert prepared(ids=[Message.objects.first().pk]) != []


def test_none_and_booleans_compile_apart(vclock):
    some_messages(vclock, 30)
    prepared = Prepared(
        lambda wamid, window: (
            Message.objects.filter(wamid=wamid, requires_window=window)
            .order_by("id")
            .values_list("id")
        )
    )
    for wamid in (None, "wamid.p3"):
        for window in (True, False):
            expected = list(
                Message.objects.filter(wamid=wamid, requires_window=window)
                .order_by("id")
                .values_list("id")
            )
            assert prepared(wamid=wamid, window=window) == expected


def test_values_that_the_lookup_transforms_are_refused_by_name(vclock):
    some_messages(vclock, 3)
    contains = Prepared(lambda part: Message.objects.filter(wamid__contains=part).values_list("id"))
    with pytest.raises(PreparedError, match="part"):
        contains(part="p1")
    shifted = Prepared(
        lambda tag: Message.objects.filter(payload__tag=tag).values_list("id")  # JSON-encoded
    )
    with pytest.raises(PreparedError, match="tag"):
        shifted(tag="a")


def test_expressions_and_joins(vclock):
    men = some_messages(vclock, 40)
    Participant.objects.filter(pk=men[0].pk).update(last_inbound_at=vclock.now())
    prepared = Prepared(
        lambda since: (
            Message.objects.filter(
                participant__last_inbound_at__gte=since,
                due_at__lt=F("participant__last_inbound_at"),
            )
            .order_by("-id")
            .values_list("id", "participant__wa_user_id")[:5]
        )
    )
    since = vclock.now() - timedelta(hours=1)
    expected = list(
        Message.objects.filter(
            participant__last_inbound_at__gte=since, due_at__lt=F("participant__last_inbound_at")
        )
        .order_by("-id")
        .values_list("id", "participant__wa_user_id")[:5]
    )
    assert expected and prepared(since=since) == expected


def test_save_fields_writes_what_save_writes(vclock):
    man = Participant.objects.create(wa_user_id="PE.save")
    message = Message.objects.create(direction="out", participant=man, type="text", status="queued")
    message.payload = {"body": 'ñ "quoted"', "n": [1, 2]}
    message.status = Message.Status.SENT
    message.due_at = vclock.now().astimezone(LIMA)
    message.text = "not saved"
    save_fields(message, ("payload", "status", "due_at"))
    again = Message.objects.get(pk=message.pk)
    assert again.payload == {"body": 'ñ "quoted"', "n": [1, 2]}
    assert (again.status, again.due_at, again.text) == ("sent", vclock.now(), "")
    gone = Message(pk=message.pk + 1000, direction="out", type="text", status="queued")
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        save_fields(gone, ("status",))
    with pytest.raises(PreparedError, match="plain columns"):
        save_fields(message, ("id",))  # the key is what the row is found by


def _state():
    return list(Message.objects.order_by("id").values_list("id", "status", "due_at", "route"))


def test_a_prepared_update_changes_what_the_orms_update_changes(vclock):
    """Same rows, same values, same count as `queryset.update()`, for any arguments; each
    compared on the same data (one run rolled back before the other)."""
    men = some_messages(vclock)

    def build(men, status, due, route, at):
        chosen = Message.objects.filter(participant_id__in=men, status=status, due_at__lte=due)
        return chosen, {"status": Message.Status.CANCELLED, "route": route, "routed_at": at}

    prepared = PreparedUpdate(build)
    rng = random.Random(4)
    counts: list[int] = []
    for _ in range(25):
        args = {
            "men": rng.sample([m.pk for m in men], rng.randint(1, 5)) + [None],
            "status": rng.choice(STATUSES),
            "due": (vclock.now() + timedelta(minutes=rng.randint(-60, 60))).astimezone(LIMA),
            "route": rng.choice(["program", "group", ""]),
            "at": vclock.now() + timedelta(seconds=rng.randint(0, 9999), microseconds=3),
        }
        outcomes = []
        for run in (prepared, lambda **a: (lambda q, v: q.update(**v))(*build(**a))):
            with transaction.atomic():
                count = run(**args)
                outcomes.append((count, _state(), list(Message.objects.values_list("routed_at"))))
                transaction.set_rollback(True)
        assert outcomes[0] == outcomes[1]
        counts.append(outcomes[0][0])
    assert max(counts) > 1 and min(counts) == 0  # both kinds of case were compared
    assert prepared(men=[], status="sent", due=vclock.now(), route="", at=vclock.now()) == 0
