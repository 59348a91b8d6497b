"""Shared by the several-numbers benchmarks: queue messages for men spread over numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def numbers_env(numbers: list[str], mps: float) -> str:
    """PATAS_WHATSAPP_NUMBERS for these ids, each at `mps`."""
    return ",".join(f"{number}:{mps:g}" for number in numbers)


def populate(count: int, numbers: list[str]) -> None:
    """`count` men with one queued text each (send_soak's populate, in its own process),
    then men and rows spread over `numbers` in turn by id: two UPDATEs."""
    soak = str(HERE / "send_soak.py")
    subprocess.run([sys.executable, soak, "--populate", str(count)], check=True)
    import django

    django.setup()
    from django.db import connection, transaction

    from patas.messaging.models import Message
    from patas.participants.models import Participant

    quote = connection.ops.quote_name
    cases = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(numbers))
    spread = f"CASE MOD({{key}}, {len(numbers)}) {cases} END"
    with transaction.atomic(), connection.cursor() as cursor:
        # Table names from the models, numbers from the command line (digits only).
        assert all(n.isdigit() for n in numbers)
        cursor.execute(
            f"UPDATE {quote(Participant._meta.db_table)} "  # noqa: S608
            f"SET phone_number_id = {spread.format(key='id')}"
        )
        cursor.execute(
            f"UPDATE {quote(Message._meta.db_table)} "  # noqa: S608
            f"SET phone_number_id = {spread.format(key='participant_id')}"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics for the new rows, as autovacuum would
