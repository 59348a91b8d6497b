"""Every message type of the reference, parsed from recorded payloads (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from patas.whatsapp.parse import PayloadError, parse
from whatsapp.payloads import first_message, load

CONTEXT = "wamid.HBgLNTE5ODc2NTQzMjEVAgARGBI0OUQ5QUFBQkMxMjM0NTY3OAA="


@pytest.mark.parametrize(
    ("fixture", "kind", "text", "reply_id", "context"),
    [
        ("message_text", "text", "Hola, quiero participar", "", ""),
        (
            "message_interactive_button_reply",
            "interactive",
            "Lo hice",
            "checkin:day3:done",
            CONTEXT,
        ),
        ("message_interactive_list_reply", "interactive", "25 a 34 años", "age:25-34", CONTEXT),
        ("message_button", "button", "Empezar el día", "day:4:open", CONTEXT),
        ("message_audio", "audio", "[voice note]", "", ""),
        ("message_image", "image", "Mi reto de hoy", "", ""),
        ("message_video", "video", "[video]", "", ""),
        ("message_document", "document", "[document tarea.pdf]", "", ""),
        ("message_sticker", "sticker", "[sticker]", "", ""),
        ("message_location", "location", "[location Plaza San Martín Lima]", "", ""),
        ("message_contacts", "contacts", "[contacts Carlos R.]", "", ""),
        ("message_reaction", "reaction", "[reaction \U0001f44d]", "", CONTEXT),
        ("message_unsupported", "unsupported", "[unsupported]", "", ""),
        ("message_system", "system", "User A changed from 51987654321 to 51987650000", "", ""),
        ("message_unknown_type", "hologram", "[hologram]", "", ""),
    ],
)
def test_every_type_has_a_readable_text(fixture, kind, text, reply_id, context):
    body = load(fixture)
    parsed = parse(body)
    assert len(parsed.messages) == 1 and parsed.statuses == []
    message = parsed.messages[0]
    assert message.type == kind
    assert message.text == text
    assert message.reply_id == reply_id
    assert message.context_wamid == context
    assert message.wamid == first_message(body)["id"]
    assert message.raw == first_message(body)
    assert message.unknown_type is (kind == "hologram")


def test_sender_identity_and_time():
    message = parse(load("message_text")).messages[0]
    assert message.wa_id == "51987654321"
    assert message.user_id == "PE.1a2b3c4d5e6f7081"
    assert message.profile_name == "Jorge Q."
    assert message.timestamp == datetime(2026, 3, 2, 11, 59, 30, tzinfo=UTC)
    assert message.phone_number_id == "100000000000001"
    assert message.sender_key == "user:PE.1a2b3c4d5e6f7081"


def test_user_id_only_and_phone_only_senders():
    hidden = parse(load("message_user_id_only")).messages[0]
    assert (hidden.wa_id, hidden.user_id) == ("", "PE.0f0e0d0c0b0a0908")
    assert hidden.profile_name == "Mateo"
    old = parse(load("message_phone_only")).messages[0]
    assert (old.wa_id, old.user_id) == ("51911122233", "")
    assert old.sender_key == "phone:51911122233"


def test_referral_is_kept():
    message = parse(load("message_text_referral")).messages[0]
    assert message.referral is not None
    assert message.referral["source_type"] == "ad"
    assert message.referral["ctwa_clid"].startswith("ARAk")
    assert "referral" in message.flags


def test_unsupported_message_is_flagged_with_errors():
    message = parse(load("message_unsupported")).messages[0]
    assert "errors" in message.flags and not message.unknown_type


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_statuses_carry_pricing(status):
    parsed = parse(load(f"status_{status}"))
    assert parsed.messages == []
    update = parsed.statuses[0]
    assert update.status == status
    assert update.recipient == "51987654321"
    assert update.recipient_user_id == "PE.1a2b3c4d5e6f7081"
    assert (update.pricing_category, update.billable) == ("service", True)


def test_failed_status_carries_its_error():
    update = parse(load("status_failed")).statuses[0]
    assert update.status == "failed"
    assert [(e.code, e.title) for e in update.errors] == [(131026, "Message undeliverable")]
    assert update.billable is None


def test_other_fields_are_counted_not_parsed():
    parsed = parse(load("template_status_update"))
    assert parsed.messages == [] and parsed.statuses == [] and parsed.other_changes == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "not a JSON object"),
        (load("not_whatsapp"), "'object' is 'page'"),
        ({"object": "whatsapp_business_account"}, "no 'entry' list"),
        ({"object": "whatsapp_business_account", "entry": [{"changes": [{}]}]}, "no 'value'"),
    ],
)
def test_not_a_whatsapp_payload(body, problem):
    with pytest.raises(PayloadError, match=problem):
        parse(body)


def _with_message(**changes):
    body = load("message_text")
    message = first_message(body)
    message.update(changes)
    return body, message


def test_message_without_id_or_sender_or_time_is_refused():
    body, message = _with_message()
    del message["id"]
    with pytest.raises(PayloadError, match=r"messages\[0\] has no 'id'"):
        parse(body)
    body, message = _with_message(timestamp="yesterday")
    with pytest.raises(PayloadError, match="timestamp"):
        parse(body)
    body, message = _with_message()
    del message["from"], message["from_user_id"]
    body["entry"][0]["changes"][0]["value"]["contacts"] = []
    with pytest.raises(PayloadError, match="neither 'from' nor 'from_user_id'"):
        parse(body)


def test_missing_type_object_does_not_crash():
    body, message = _with_message()
    del message["text"]
    parsed = parse(body)
    assert parsed.messages[0].text == ""
