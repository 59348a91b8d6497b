"""The /try/ chat: a console user talks to the program through the real webhook path."""

import pytest
from django.contrib.auth import get_user_model

from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.simulation import rehearsal


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("disenador", password="x" * 12)


def test_what_he_types_goes_through_the_webhook_and_gets_the_welcome(client, user, vclock):
    client.force_login(user)
    response = client.post("/try/send/", {"text": "Hola <script>alert(1)</script>"})
    assert response.status_code == 302
    man = Participant.objects.get(is_synthetic=True)
    assert man.phone == rehearsal.phone_of(user)
    inbound = Message.objects.get(direction="in", participant=man)
    assert inbound.webhook_event_id is not None and inbound.routed_at is not None
    assert Message.objects.filter(direction="out", participant=man, purpose="intake").exists()
    page = client.get("/try/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_tapping_a_button_answers_the_intake(client, user, vclock):
    client.force_login(user)
    client.post("/try/send/", {"text": "hola"})
    client.post("/try/send/", {"text": "30"})
    asked = Message.objects.filter(direction="out", type="interactive").last()
    reply = asked.payload["interactive"]["action"]["buttons"][0]["reply"]
    client.post("/try/send/", {"reply_id": reply["id"], "title": reply["title"]})
    tapped = Message.objects.filter(direction="in").last()
    assert tapped.type == "interactive" and tapped.payload["button_reply"]["id"] == reply["id"]


def test_next_day_without_an_enrolment_changes_nothing(client, user):
    client.force_login(user)
    assert client.post("/try/next-day/").status_code == 302
    assert not Participant.objects.exists()


def test_media_outside_the_pack_media_folder_is_refused(client, user):
    client.force_login(user)
    assert client.get("/try/media/hablemos-entre-patas/program.yaml").status_code == 404
    assert client.get("/try/media/hablemos-entre-patas/../../README.md").status_code == 404
