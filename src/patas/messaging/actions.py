"""State changes to sending that people make (each writes the audit log)."""

from __future__ import annotations

from patas.messaging import sender
from patas.whatsapp import numbers


class UnknownNumber(ValueError):
    pass


def resume_bulk_sending(actor: str, phone_number_id: str) -> bool:
    """An admin has checked the number's quality rating in WhatsApp Manager: program content,
    reminders, relay and surveys go out again. Returns False when bulk sending was not stopped
    (nothing changes, nothing is logged)."""
    if phone_number_id not in numbers.configured():
        raise UnknownNumber(f"{phone_number_id!r} is not one of the configured WhatsApp numbers")
    if not sender.bulk_stopped(phone_number_id):
        return False
    sender.resume_bulk(phone_number_id, actor=actor)
    return True
