"""Queue texts for the fault scripts (run as a subprocess with the run's environment).

    python benchmarks/faults/seed.py MEN PER_MAN      # prints the number of messages queued

MEN enrolled men with an open 24-hour window; PER_MAN texts each, in order, each text
'<participant id>/<n>' (unique, so the fake's record can be matched to outbox rows and
duplicates counted by text). The same set-up as tests/messaging/test_sender_postgres.py.
"""

from __future__ import annotations

import sys
from datetime import timedelta


def main(men: int, per_man: int) -> int:
    import django

    django.setup()
    from patas.core import clock
    from patas.core.crypto import lookup_hash
    from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
    from patas.participants.models import Participant

    now = clock.now()
    phones = [f"5197{i:07d}" for i in range(men)]
    Participant.objects.bulk_create(
        [
            Participant(
                phone=phone,
                phone_hash=lookup_hash(phone),
                status=Participant.Status.ENROLLED,
                last_inbound_at=now - timedelta(hours=1),
            )
            for phone in phones
        ],
        batch_size=2000,
    )
    ids = list(Participant.objects.order_by("id").values_list("id", flat=True))
    return enqueue_many(
        Outgoing(pid, text_payload(f"{pid}/{n}"), text=f"{pid}/{n}")
        for n in range(per_man)
        for pid in ids
    )


if __name__ == "__main__":
    print(main(int(sys.argv[1]), int(sys.argv[2])))
