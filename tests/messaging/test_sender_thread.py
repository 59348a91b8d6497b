"""The pipelined sender keeps results it could not write and writes them later."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from messaging.outbox_helpers import fake_and_sender, make_man, queue_texts
from patas.messaging import sender_thread
from patas.messaging.claim import claim_batch
from patas.messaging.dispatch import Outcome
from patas.messaging.models import Message
from patas.whatsapp.client import SendResult

pytestmark = pytest.mark.django_db


def test_outcomes_survive_a_database_error(monkeypatch):
    _, sender = fake_and_sender()
    row = queue_texts(make_man("51900000001"), "hola")[0]
    claimed = claim_batch(sender.holder)
    pipe = sender_thread.PipelinedSender(sender)
    pipe.in_flight = 1
    pipe._buffer = [Outcome(claimed[0], SendResult(wamid="wamid.X", http_status=200))]
    real = sender_thread.record_outcomes
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(sender_thread, "record_outcomes", flaky)
    with pytest.raises(OperationalError):
        pipe._record()
    assert len(pipe._buffer) == 1 and pipe.in_flight == 1
    assert pipe._record() == 1
    row.refresh_from_db()
    assert row.status == Message.Status.SENT and row.wamid == "wamid.X"
    assert pipe.in_flight == 0 and pipe._buffer == []
