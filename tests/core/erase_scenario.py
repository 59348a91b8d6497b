"""Run by test_privacy_file.py in a subprocess against a file-based SQLite database.

    python erase_scenario.py PHASE      PHASE: setup | traffic | erase

The settings come from the environment the test sets (PATAS_DATA_DIR, PATAS_DATABASE_URL).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")

PHONE = "51987650123"
NAME = "Wilfredo Ccapahuanca"
PARTNER_PHONE = "51955501234"


def setup() -> dict[str, object]:
    from django.core.management import call_command

    from patas.core.crypto import lookup_hash
    from patas.participants.models import Participant
    from patas.surveys.models import Partner

    call_command("migrate", verbosity=0, skip_checks=True)
    man = Participant.objects.create(
        phone=PHONE, phone_hash=lookup_hash(PHONE), profile_name=NAME, wa_user_id="PE.BSUID.777"
    )
    Partner.objects.create(
        participant=man, phone=PARTNER_PHONE, phone_hash=lookup_hash(PARTNER_PHONE)
    )
    return {"ref": man.ref}


def traffic() -> dict[str, object]:
    from patas.messaging.models import Message
    from patas.participants.models import Participant
    from patas.whatsapp.models import WebhookEvent

    man = Participant.objects.get()
    raw = json.dumps(
        {
            "contacts": [{"wa_id": PHONE, "profile": {"name": NAME}}],
            "messages": [{"from": PHONE, "text": {"body": f"soy {NAME}"}}],
        }
    )
    event = WebhookEvent.objects.create(body=raw.encode())
    Message.objects.create(
        direction="in",
        participant=man,
        type="text",
        status="received",
        text=f"soy {NAME}, mi numero es {PHONE}",
        webhook_event=event,
        payload={"body": f"soy {NAME}", "from": PHONE},
    )
    Message.objects.create(
        direction="out",
        participant=man,
        type="text",
        status="sent",
        text=f"Hola {NAME}",
        payload={"text": {"body": f"Hola {NAME}"}},
    )
    return {"messages": Message.objects.count()}


def erase() -> dict[str, object]:
    from patas.core import privacy
    from patas.participants.models import Participant

    man = Participant.objects.get()
    return privacy.erase(man, "test")


def checkpoint() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def main() -> None:
    import django

    django.setup()
    result = {"setup": setup, "traffic": traffic, "erase": erase}[sys.argv[1]]()
    checkpoint()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
