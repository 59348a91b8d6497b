"""The sender feeds the Prometheus counters: messages sent and errors by code."""

import pytest

from patas.core.metrics import MESSAGES_SENT, SEND_ERRORS
from patas.messaging.claim import Claimed
from patas.messaging.dispatch import Outcome
from patas.messaging.models import Message
from patas.messaging.sender import record_outcomes
from patas.participants.models import Participant
from patas.whatsapp.client import SendResult


def _value(counter, *labels):
    return counter.labels(*labels)._value.get()


@pytest.mark.django_db
def test_sent_and_refused_messages_are_counted():
    man = Participant.objects.create(wa_user_id="u1", phone="51900000001")
    rows = [
        Message.objects.create(
            direction="out", participant=man, type="text", status="sending", leased_by="holder"
        )
        for _ in range(2)
    ]
    claimed = [Claimed(r.pk, man.pk, "51900000001", {}, 0, "system") for r in rows]
    before_sent = _value(MESSAGES_SENT, "n1")
    before_err = _value(SEND_ERRORS, "n1", "131026")
    record_outcomes(
        [
            Outcome(claimed[0], SendResult(wamid="wamid.A", http_status=200)),
            Outcome(claimed[1], SendResult(http_status=400, error_code=131026)),
        ],
        "holder",
        "n1",
    )
    assert _value(MESSAGES_SENT, "n1") == before_sent + 1
    assert _value(SEND_ERRORS, "n1", "131026") == before_err + 1
    assert Message.objects.get(pk=rows[1].pk).status == "failed"
