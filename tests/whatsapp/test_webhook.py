"""The webhook view: handshake, signature, refusals, storage, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection

from patas.core.crypto import lookup_hash
from patas.core.models import AuditEntry
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.whatsapp.models import WebhookEvent
from whatsapp.payloads import URL, encode, first_message, load, post, text_payload

pytestmark = pytest.mark.django_db

MESSAGE_FIXTURES = [
    "message_text",
    "message_interactive_button_reply",
    "message_interactive_list_reply",
    "message_button",
    "message_audio",
    "message_image",
    "message_video",
    "message_document",
    "message_sticker",
    "message_location",
    "message_contacts",
    "message_reaction",
    "message_unsupported",
    "message_system",
    "message_unknown_type",
]


def nothing_stored() -> bool:
    return not (
        WebhookEvent.objects.exists() or Message.objects.exists() or Participant.objects.exists()
    )


# --- GET handshake ----------------------------------------------------------------------------


def test_handshake_echoes_the_challenge(client, settings):
    settings.WHATSAPP_VERIFY_TOKEN = "the-token"
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "the-token",
        "hub.challenge": "1158201444",
    }
    response = client.get(URL, query)
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "the-token", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_handshake_refused(client, settings, query):
    settings.WHATSAPP_VERIFY_TOKEN = "the-token"
    response = client.get(URL, query)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_other_methods_are_not_allowed(client):
    assert client.put(URL, data=b"{}").status_code == 405


# --- POST refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "md5=abc", ""])
def test_bad_or_missing_signature_is_refused_and_nothing_stored(client, signature):
    response = post(client, load("message_text"), signature=signature)
    assert response.status_code == 403
    assert nothing_stored()


def test_signature_over_other_bytes_is_refused(client, settings):
    from patas.whatsapp.signature import sign

    body = encode(load("message_text"))
    signed_for_other = sign(body + b" ", settings.WHATSAPP_APP_SECRET)
    assert post(client, body, signature=signed_for_other).status_code == 403
    assert nothing_stored()


def test_malformed_json_is_400_and_nothing_stored(client, caplog):
    response = post(client, b'{"object": "whatsapp_business_account", "entry": [')
    assert response.status_code == 400
    assert b"malformed JSON" in response.content
    assert "malformed JSON" in caplog.text
    assert nothing_stored()


def test_non_whatsapp_json_is_400_and_nothing_stored(client):
    response = post(client, load("not_whatsapp"))
    assert response.status_code == 400
    assert b"'object' is 'page'" in response.content
    assert nothing_stored()


def test_oversize_body_is_413_before_the_signature(client, settings):
    settings.WHATSAPP_WEBHOOK_MAX_BYTES = 2000
    body = text_payload("wamid.big", "x" * 3000)
    response = post(client, body, signature=None)  # unsigned: refused for size first
    assert response.status_code == 413
    assert nothing_stored()
    assert post(client, text_payload("wamid.small", "x" * 100)).status_code == 200


def test_database_down_answers_503(client):
    def down(execute, sql, params, many, context):
        raise OperationalError("unable to open database file")

    with connection.execute_wrapper(down):
        response = post(client, load("message_text"))
    assert response.status_code == 503
    assert nothing_stored()


# --- storage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", MESSAGE_FIXTURES)
def test_every_type_is_stored_as_an_inbound_message(client, vclock, fixture):
    body = load(fixture)
    response = post(client, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1, "statuses": 0, "duplicates": 0}
    message = Message.objects.get()
    raw = first_message(body)
    assert message.direction == Message.Direction.IN
    assert message.status == Message.Status.RECEIVED
    assert message.wamid == raw["id"]
    assert message.type == raw["type"]
    assert message.text
    assert message.provider_timestamp == datetime(2026, 3, 2, 11, 59, 30, tzinfo=UTC)
    assert message.routed_at is None  # routing happens later, in the worker
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == encode(body)
    assert message.webhook_event_id == event.pk
    unknown = fixture == "message_unknown_type"
    assert ("unknown_type" in message.flags) is unknown
    assert event.outcome == (
        WebhookEvent.Outcome.UNKNOWN if unknown else WebhookEvent.Outcome.PARSED
    )
    if unknown:
        assert message.payload == {"raw": raw}


def test_router_reads_reply_ids_from_the_stored_payload(client, vclock):
    from patas.messaging.router import inbound_for

    post(client, load("message_interactive_button_reply"))
    post(client, load("message_button"))
    replies = [inbound_for(m).reply_id for m in Message.objects.order_by("id")]
    assert replies == ["checkin:day3:done", "day:4:open"]


def test_same_payload_three_times_stores_one_message(client, vclock):
    body = load("message_text")
    answers = [post(client, body).json() for _ in range(3)]
    assert [a["stored"] for a in answers] == [1, 0, 0]
    assert [a["duplicates"] for a in answers] == [0, 1, 1]
    assert Message.objects.count() == 1
    assert Participant.objects.count() == 1
    assert list(WebhookEvent.objects.values_list("duplicates", flat=True).order_by("id")) == [
        0,
        1,
        1,
    ]


def test_a_payload_repeating_a_message_stores_it_once(client, vclock):
    body = load("message_text")
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"].append(dict(value["messages"][0]))
    assert post(client, body).json() == {"stored": 1, "statuses": 0, "duplicates": 1}


def test_participant_created_encrypted_with_window_open(client, vclock):
    post(client, load("message_text"))
    man = Participant.objects.get()
    assert man.wa_user_id == "PE.1a2b3c4d5e6f7081"
    assert man.phone == "51987654321"
    assert man.phone_hash == lookup_hash("51987654321")
    assert man.profile_name == "Jorge Q."
    assert man.last_inbound_at == datetime(2026, 3, 2, 11, 59, 30, tzinfo=UTC)
    assert man.window_open()
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, profile_name FROM participants_participant")
        stored_phone, stored_name = cursor.fetchone()
    assert "51987654321" not in stored_phone and "Jorge" not in stored_name
    assert AuditEntry.objects.filter(action="participant.created_from_inbound").count() == 1


def test_messages_from_one_man_find_the_same_participant(client, vclock):
    post(client, text_payload("wamid.a1", "hola"))
    post(client, text_payload("wamid.a2", "otra vez"))
    post(client, text_payload("wamid.a3", "sin id", user_id=""))  # same phone, no user id
    assert Participant.objects.count() == 1
    assert Message.objects.filter(participant__isnull=False).count() == 3


def test_man_known_by_phone_gets_his_user_id_attached(client, vclock):
    post(client, load("message_phone_only"))
    post(
        client,
        text_payload("wamid.b1", "ahora con id", phone="51911122233", user_id="PE.5555aaaa5555"),
    )
    man = Participant.objects.get()
    assert man.wa_user_id == "PE.5555aaaa5555"
    assert Message.objects.filter(participant=man).count() == 2


def test_user_id_only_man_has_no_phone(client, vclock):
    post(client, load("message_user_id_only"))
    man = Participant.objects.get()
    assert (man.wa_user_id, man.phone, man.phone_hash) == ("PE.0f0e0d0c0b0a0908", None, None)
    assert man.address == "PE.0f0e0d0c0b0a0908"


def test_late_message_does_not_move_the_window_back(client, vclock):
    newer = text_payload("wamid.c1", "nuevo")
    first_message(newer)["timestamp"] = str(
        int(datetime(2026, 3, 2, 11, 59, 50, tzinfo=UTC).timestamp())
    )
    post(client, newer)
    post(client, text_payload("wamid.c2", "viejo"))  # 11:59:30, arrives late
    man = Participant.objects.get()
    assert man.last_inbound_at == datetime(2026, 3, 2, 11, 59, 50, tzinfo=UTC)


def test_referral_is_kept_in_the_message_payload(client, vclock):
    post(client, load("message_text_referral"))
    message = Message.objects.get()
    assert message.payload["body"] == "Quiero saber más"
    assert message.payload["referral"]["source_id"] == "120200000000000001"
    assert message.payload["referral"]["ctwa_clid"].startswith("ARAk")


def test_other_webhook_fields_are_accepted_and_logged_only(client):
    response = post(client, load("template_status_update"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.messages, event.statuses) == (0, 0)
    assert "other changes: 1" in event.note
    assert not Message.objects.exists()
