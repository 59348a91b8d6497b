"""Signed bodies that once made the webhook answer 500 (found by benchmarks/faults/bad_bodies.py):
a 500 makes Meta retry for days, so each is either refused with a 400 or stored."""

from __future__ import annotations

import json

import pytest

from patas.messaging.models import Message
from patas.whatsapp.models import WebhookEvent
from whatsapp.payloads import first_message, post, text_payload

pytestmark = pytest.mark.django_db


def test_json_nested_deeper_than_the_stack_is_400_and_nothing_stored(client):
    response = post(client, b"[" * 200_000 + b"]" * 200_000)
    assert response.status_code == 400
    assert b"malformed JSON" in response.content
    assert not WebhookEvent.objects.exists()


def test_a_timestamp_past_the_platforms_time_is_400(client):
    body = text_payload("wamid.far.future", "hola")
    first_message(body)["timestamp"] = "99999999999999999"  # fits int64, not time_t
    response = post(client, body)
    assert response.status_code == 400
    assert b"timestamp" in response.content
    assert not Message.objects.exists()


def test_half_an_emoji_is_stored_as_a_replacement_character(client):
    raw = json.dumps(text_payload("wamid.half.emoji", "hola \ud83d amigo \U0001f600"))
    assert "\\ud83d amigo" in raw and "\\ud83d\\ude00" in raw  # a lone and a paired escape
    response = post(client, raw.encode())
    assert response.status_code == 200
    assert Message.objects.get(wamid="wamid.half.emoji").text == "hola \ufffd amigo \U0001f600"


def test_a_paired_emoji_is_stored_unchanged(client):
    response = post(client, text_payload("wamid.emoji", "listo \U0001f44d"))
    assert response.status_code == 200
    assert Message.objects.get(wamid="wamid.emoji").text == "listo \U0001f44d"
