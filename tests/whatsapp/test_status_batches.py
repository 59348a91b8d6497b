"""Many status callbacks in one delivery: applied set-based, with the same result as one by one."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from patas.messaging.models import Message, StatusEvent
from patas.participants.models import Participant
from patas.whatsapp import statuses as status_updates
from whatsapp.payloads import post

pytestmark = pytest.mark.django_db

BASE = 1772452771  # 2026-03-02 11:59:31 UTC
STARTS = ["sending", "sending", "sent", "delivered", "read", "failed"]
KINDS = ["sent", "delivered", "read", "failed"]


def _status(wamid: str, kind: str, at: int, rng: random.Random) -> dict:
    item = {"id": wamid, "status": kind, "timestamp": str(at), "recipient_id": "51987654321"}
    if kind == "failed":
        item["errors"] = [{"code": rng.choice([131026, 131049]), "title": f"error {at}"}]
    elif kind != "read":
        category = rng.choice(["service", "utility"])
        item["pricing"] = {
            "billable": rng.random() < 0.8,
            "pricing_model": "PMP",
            "category": category,
        }
    return item


def _body(changes: list[list[dict]]) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51900000001", "phone_number_id": "100000000000001"},
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {"field": "messages", "value": {**value, "statuses": items}}
                    for items in changes
                ],
            }
        ],
    }


def _expected(messages: dict[str, dict], order: list[dict]) -> dict[str, dict]:
    """The rule applied one status at a time, in the delivery's order (the reference)."""
    for item in order:
        row = messages.get(item["id"])
        if row is None:
            continue
        kind = item["status"]
        at = datetime.fromtimestamp(int(item["timestamp"]), tz=UTC)
        if row["status"] in status_updates.MOVABLE[kind]:
            row["status"] = kind
            if kind == "failed":
                row["error_code"] = item["errors"][0]["code"]
                row["error_title"] = item["errors"][0]["title"]
        field = status_updates.TIME_FIELD[kind]
        row[field] = row[field] or at
        if "pricing" in item:
            row["pricing_category"] = item["pricing"]["category"]
            row["billable"] = item["pricing"]["billable"]
    return messages


FIELDS = ("status", "sent_at", "delivered_at", "read_at", "failed_at", "error_code", "error_title")
FIELDS += ("pricing_category", "billable")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_ends_as_if_applied_one_by_one(client, vclock, monkeypatch, seed):
    monkeypatch.setattr(status_updates, "CHUNK", 7)  # several statements per round
    rng = random.Random(seed)
    man = Participant.objects.create(wa_user_id="PE.batch")
    rows = [
        Message(
            direction=Message.Direction.OUT,
            participant=man,
            type="text",
            payload={},
            status=rng.choice(STARTS),
            wamid=f"wamid.batch{i}",
            sent_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC) if rng.random() < 0.2 else None,
        )
        for i in range(40)
    ]
    Message.objects.bulk_create(rows)
    before = {m["wamid"]: m for m in Message.objects.values("wamid", *FIELDS)}
    items = [
        _status(f"wamid.batch{i}", kind, BASE + rng.randrange(100), rng)
        for i in range(40)
        for kind in rng.sample(KINDS, rng.randrange(1, 5))
    ]
    items += [_status("wamid.nobody", "read", BASE, rng)]  # not (yet) recorded by the sender
    rng.shuffle(items)
    cut = len(items) // 2
    expected = _expected(before, items)

    answer = post(client, _body([items[:cut], items[cut:]])).json()

    assert answer == {"stored": 0, "statuses": len(items), "duplicates": 0}
    after = {m["wamid"]: m for m in Message.objects.values("wamid", *FIELDS)}
    assert after == expected
    assert StatusEvent.objects.filter(applied=True).count() == len(items) - 1
    assert not StatusEvent.objects.get(wamid="wamid.nobody").applied


def _sending(man: str, prefix: str, count: int) -> None:
    """`count` outbound messages of one man, handed to Meta and waiting for their statuses."""
    participant = Participant.objects.create(wa_user_id=man)
    Message.objects.bulk_create(
        Message(
            direction=Message.Direction.OUT,
            participant=participant,
            type="text",
            payload={},
            status="sending",
            wamid=f"{prefix}{i}",
        )
        for i in range(count)
    )


def test_a_batch_costs_a_few_statements_not_one_per_status(
    client, vclock, django_assert_max_num_queries
):
    _sending("PE.batch", "wamid.many", 150)
    rng = random.Random(4)
    sent = [_status(f"wamid.many{i}", "sent", BASE, rng) for i in range(150)]
    read = [_status(f"wamid.many{i}", "read", BASE + 9, rng) for i in range(150)]
    with django_assert_max_num_queries(20):  # one by one, this was over 300 statements
        post(client, _body([sent, read]))
    assert set(Message.objects.values_list("status", flat=True)) == {"read"}
    assert Message.objects.filter(sent_at__isnull=False, read_at__isnull=False).count() == 150


def test_rounds_keep_each_message_in_its_order():
    def update(wamid, status):
        return status_updates.StatusUpdate(
            wamid=wamid, status=status, timestamp=datetime(2026, 3, 2, tzinfo=UTC), recipient=""
        )

    batch = [update("a", "read"), update("b", "sent"), update("a", "sent"), update("a", "failed")]
    rounds = status_updates.rounds(batch)
    assert [[(s.wamid, s.status) for s in r] for r in rounds] == [
        [("a", "read"), ("b", "sent")],
        [("a", "sent")],
        [("a", "failed")],
    ]


def test_a_delivery_naming_more_messages_than_one_look_takes_applies_them_all(client, vclock):
    """The outbound wamids are looked up in chunks (a SQLite older than 3.32 takes 999
    parameters): 1,100 messages need three chunks, the last one short, and none is missed."""
    _sending("PE.chunks", "wamid.chunk", 1100)
    rng = random.Random(6)
    delivered = [_status(f"wamid.chunk{i}", "delivered", BASE, rng) for i in range(1100)]
    answer = post(client, _body([delivered])).json()
    assert answer["statuses"] == 1100
    assert Message.objects.filter(status="delivered", delivered_at__isnull=False).count() == 1100
    assert StatusEvent.objects.filter(applied=True).count() == 1100
