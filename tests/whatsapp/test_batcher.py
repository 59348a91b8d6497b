"""The group-commit writer: batches stored together, a bad delivery isolated, a dead database
reported to every waiting request."""

from __future__ import annotations

import json
from concurrent.futures import Future

import pytest
from django.db import OperationalError, connection

from patas.messaging.models import Message
from patas.whatsapp.batcher import IngestBatcher
from patas.whatsapp.parse import parse
from whatsapp.payloads import encode, text_payload

pytestmark = pytest.mark.django_db(transaction=True)


def delivery(wamid: str, text: str = "hola"):
    body = encode(text_payload(wamid, text))
    return body, parse(json.loads(body))


def test_submitted_deliveries_are_stored_and_answered():
    batcher = IngestBatcher()
    try:
        futures = [batcher.submit(*delivery(f"wamid.batch.{i}")) for i in range(20)]
        results = [f.result(timeout=60) for f in futures]
    finally:
        batcher.stop()
    assert [r.messages for r in results] == [1] * 20
    assert Message.objects.filter(wamid__startswith="wamid.batch.").count() == 20


def test_one_bad_delivery_does_not_keep_the_others_out():
    def refuse_poison(execute, sql, params, many, context):
        if params and any("wamid.poison" in str(p) for p in params):
            raise OperationalError("simulated failure for this delivery")
        return execute(sql, params, many, context)

    batcher = IngestBatcher()
    items = [(*delivery(w), Future()) for w in ("wamid.ok1", "wamid.poison", "wamid.ok2")]
    with connection.execute_wrapper(refuse_poison):
        batcher._store(items)  # the writer thread's step, run here to control the batch
    ok1, poison, ok2 = (future for _, _, future in items)
    assert ok1.result().messages == 1 and ok2.result().messages == 1
    with pytest.raises(OperationalError):
        poison.result()
    assert set(Message.objects.values_list("wamid", flat=True)) == {"wamid.ok1", "wamid.ok2"}


def test_a_dead_database_fails_every_waiting_delivery():
    def down(execute, sql, params, many, context):
        raise OperationalError("unable to open database file")

    batcher = IngestBatcher()
    items = [(*delivery(f"wamid.down.{i}"), Future()) for i in range(3)]
    with connection.execute_wrapper(down):
        batcher._store(items)
    for _, _, future in items:
        with pytest.raises(OperationalError):
            future.result()
    assert not Message.objects.exists()


def test_a_delivery_that_breaks_the_code_fails_alone():
    """Not a database error (e.g. a value the driver cannot encode): its neighbours are still
    stored, and only its own request gets the error (a 500)."""

    def break_on_poison(execute, sql, params, many, context):
        if params and any("wamid.bug" in str(p) for p in params):
            raise ValueError("simulated bug for this delivery")
        return execute(sql, params, many, context)

    batcher = IngestBatcher()
    items = [(*delivery(w), Future()) for w in ("wamid.fine1", "wamid.bug", "wamid.fine2")]
    with connection.execute_wrapper(break_on_poison):
        batcher._store(items)
    fine1, bug, fine2 = (future for _, _, future in items)
    assert fine1.result().messages == 1 and fine2.result().messages == 1
    with pytest.raises(ValueError):
        bug.result()
    assert set(Message.objects.values_list("wamid", flat=True)) == {"wamid.fine1", "wamid.fine2"}
