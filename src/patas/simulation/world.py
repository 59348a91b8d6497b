"""The simulator's side of the WhatsApp seam.

Men's messages go in as signed Cloud API webhook bodies through the real webhook view; the
real worker (jobs, router, sender) runs one tick at a time on the virtual clock and sends to the
fake Cloud API in process; status callbacks for what the fake accepted go back in the same way.
Nothing here decides anything for the program: it only carries messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx
from django.conf import settings
from django.test import Client

from patas.core import clock
from patas.core.worker import TickReport, Worker
from patas.messaging.dispatch import InstantPace
from patas.whatsapp.client_transport import LeanTransport, Origin
from patas.whatsapp.fake import FakeCloudAPI, FakeConfig
from patas.whatsapp.fake_webhook import document as webhook_document
from patas.whatsapp.signature import HEADER, sign

WEBHOOK = "/webhooks/whatsapp"
BATCH = 100  # messages or statuses per webhook body (Meta batches too)


class World:
    def __init__(self, seed: int, *, read_rate: float = 0.7) -> None:
        self.fake = FakeCloudAPI(
            FakeConfig(seed=seed, statuses=()), time_source=lambda: clock.now().timestamp()
        )
        self.worker = Worker(
            "simulator",
            transport=_Wire(self.fake),
            pace=InstantPace(),
            mps=settings.WHATSAPP_MPS,
            batch_size=1000,
        )
        self.client = Client()
        self.read_rate = read_rate
        self.webhook_posts = 0
        self.webhook_refusals = 0
        self._sequence = 0

    # Inbound ---------------------------------------------------------------------------
    def post_messages(self, messages: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """(phone, profile name, message object) -> signed webhook bodies of up to BATCH."""
        batch: list[tuple[str, str, dict[str, Any]]] = []
        for item in messages:
            batch.append(item)
            if len(batch) == BATCH:
                self._post(self._messages_value(batch))
                batch = []
        if batch:
            self._post(self._messages_value(batch))

    def _messages_value(self, batch: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
        stamp = str(int(clock.now().timestamp()))
        contacts, messages = [], []
        for phone, name, message in batch:
            self._sequence += 1
            contacts.append({"profile": {"name": name}, "wa_id": phone})
            messages.append(
                {
                    "from": phone,
                    "id": f"wamid.SIM{self._sequence:012d}",
                    "timestamp": stamp,
                    **message,
                }
            )
        return {"contacts": contacts, "messages": messages}

    def post_statuses(self, sent: list[dict[str, Any]], read: set[str]) -> None:
        """Sent, delivered and (for `read`) read callbacks: one body per BATCH messages, with a
        change per status, the way Meta batches several changes into one delivery."""
        stamp = str(int(clock.now().timestamp()))
        for start in range(0, len(sent), BATCH):
            chunk = sent[start : start + BATCH]
            changes = [
                {"statuses": [_status(r, status, stamp) for r in chunk]}
                for status in ("sent", "delivered")
            ]
            reads = [_status(r, "read", stamp) for r in chunk if r["wamid"] in read]
            if reads:
                changes.append({"statuses": reads})
            self._post(*changes)

    def _post(self, *values: dict[str, Any]) -> None:
        """One signed webhook body with a change per value."""
        body = webhook_document(
            *values,
            waba_id=settings.WHATSAPP_BUSINESS_ACCOUNT_ID,
            phone_number_id=settings.WHATSAPP_PHONE_NUMBER_ID,
            display_phone_number="51900000000",
        )
        raw = json.dumps(body).encode()
        response = self.client.post(
            WEBHOOK,
            data=raw,
            content_type="application/json",
            headers={HEADER: sign(raw, settings.WHATSAPP_APP_SECRET)},
        )
        self.webhook_posts += 1
        if response.status_code != 200:
            self.webhook_refusals += 1
            raise RuntimeError(
                f"the webhook refused a simulated body: {response.status_code} "
                f"{response.content[:200]!r}"
            )

    # Outbound --------------------------------------------------------------------------
    def tick(self) -> TickReport:
        return self.worker.tick(clock.now())

    def new_outbound(self) -> list[dict[str, Any]]:
        return self.fake.take_received()


def _status(record: dict[str, Any], status: str, stamp: str) -> dict[str, Any]:
    item = {
        "id": record["wamid"],
        "status": status,
        "timestamp": stamp,
        "recipient_id": record["to"],
    }
    if status != "read":
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": _category(record)}
    return item


def _category(record: dict[str, Any]) -> str:
    return "utility" if record["type"] == "template" else "service"


class _Wire(LeanTransport):
    """The sender's own lean transport (the production path: the request bytes as they would
    go on the wire), with the exchange answered by the fake in process instead of a socket."""

    def __init__(self, fake: FakeCloudAPI) -> None:
        super().__init__(max_connections=0)
        self.fake = fake

    async def exchange(
        self, origin: Origin, data: bytes, request: httpx.Request | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        head, _, body = data.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        path = request_line.split(" ")[1]
        headers = dict(line.split(": ", 1) for line in header_lines)
        status, answer = self.fake.handle_send(
            path.strip("/").split("/")[1], body, headers.get("Authorization")
        )
        return status, [(b"Content-Type", b"application/json")], json.dumps(answer).encode()
