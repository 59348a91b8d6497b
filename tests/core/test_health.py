import pytest

from patas.messaging.models import Message
from patas.participants.models import Participant


def test_healthz_answers_without_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database(client):
    assert client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.django_db
def test_metrics_report_the_queue(client, vclock):
    man = Participant.objects.create(wa_user_id="u1")
    for _ in range(3):
        Message.objects.create(
            direction="out", participant=man, type="text", status="queued", due_at=vclock.now()
        )
    body = client.get("/metrics").content.decode()
    assert "patas_outbox_due 3.0" in body
    assert "patas_outbox_oldest_due_seconds 0.0" in body
