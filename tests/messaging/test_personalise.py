"""His first name goes into a template when it is sent: the outbox holds only a marker."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.outbox_helpers import fake_and_sender, make_man
from patas.messaging import personalise
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many
from patas.messaging.personalise import FIRST_NAME, fill, first_name
from patas.simulation.rehearsal import bubble

pytestmark = pytest.mark.django_db


def opener(name_param: str = FIRST_NAME) -> dict:
    return {
        "type": "template",
        "template": {
            "name": "day_opener",
            "language": {"code": "es"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": name_param},
                        {"type": "text", "text": "4"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "open_day:4"}],
                },
            ],
        },
    }


@pytest.mark.parametrize(
    ("profile", "expected"),
    [("Jorge Quispe", "Jorge"), ("  Ana  ", "Ana"), ("", "👋"), (None, "👋"), ("x" * 80, "x" * 60)],
)
def test_his_first_name_or_a_wave(profile, expected):
    assert first_name(profile) == expected


def test_fill_replaces_only_the_marker_and_leaves_the_original_alone():
    payload = opener()
    before = copy.deepcopy(payload)
    filled = fill(payload, "Jorge")
    assert payload == before
    body, button = filled["template"]["components"]
    assert body["parameters"] == [{"type": "text", "text": "Jorge"}, {"type": "text", "text": "4"}]
    assert button == before["template"]["components"][1]
    text = {"type": "text", "text": {"body": FIRST_NAME}}  # not a template: never touched
    assert fill(text, "Jorge") is text and fill(opener("Ana"), "Jorge") == opener("Ana")


def _queue_opener(man) -> Message:
    enqueue_many([Outgoing(man.pk, opener(), "program", None, "Hola {{first_name}}, día 4")])
    return Message.objects.get(participant=man, type="template")


def test_the_sender_sends_his_name_and_the_outbox_keeps_only_the_marker(vclock):
    app, sender = fake_and_sender()
    jorge = make_man("51900000001", window_open=False)
    jorge.profile_name = "Jorge Quispe"
    jorge.save(update_fields=["profile_name"])
    nameless = make_man("51900000002", window_open=False)
    rows = [_queue_opener(jorge), _queue_opener(nameless)]

    assert sender.drain().counts["sent"] == 2

    got = {r["to"]: r["body"]["template"]["components"][0]["parameters"] for r in app.received}
    assert got["51900000001"][0]["text"] == "Jorge"
    assert got["51900000002"][0]["text"] == "👋"
    assert FIRST_NAME not in str(app.received)
    for row in Message.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.payload == opener() and "Jorge" not in row.text


def test_names_are_read_in_one_query_for_the_whole_claim(vclock):
    _, sender = fake_and_sender()
    for i in range(30):
        man = make_man(f"5190000{i:04d}", window_open=False)
        man.profile_name = f"Hombre{i} Apellido"
        man.save(update_fields=["profile_name"])
        _queue_opener(man)
    with CaptureQueriesContext(connection) as queries:
        assert sender.drain().counts["sent"] == 30
    reads = [q for q in queries if "profile_name" in q["sql"]]
    assert len(reads) == 1


def test_the_rehearsal_chat_shows_his_own_name():
    message = Message(direction="out", type="template", text="Hola {{first_name}}, día 4")
    assert bubble(message, "Ana")["text"] == "Hola Ana, día 4"
    assert bubble(message)["text"] == f"Hola {personalise.NO_NAME}, día 4"
