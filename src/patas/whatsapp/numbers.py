"""The program's WhatsApp numbers: which are configured, at what rate, and which is the default.

    configured()        {phone_number_id: mps}, the default first
    default_number()    the first configured number (new men whose number is unknown go here)
    assign(number)      `number` when configured, else the default

`PATAS_WHATSAPP_NUMBERS=ID[:MPS],...` (settings.WHATSAPP_NUMBERS) lists them; unset, the one
number is `PATAS_WHATSAPP_PHONE_NUMBER_ID` at `PATAS_WHATSAPP_MPS`. A man stays on the number he
first wrote to (`Participant.phone_number_id`); every outbox row carries the number it goes out
from, and each number has its own sender, lease and rate limit (messaging.sender).

Read at call time (not import time), so tests can change the numbers with override_settings.
"""

from __future__ import annotations

from django.conf import settings


def configured() -> dict[str, float]:
    numbers: dict[str, float] = getattr(settings, "WHATSAPP_NUMBERS", None) or {}
    if numbers:
        return numbers
    return {settings.WHATSAPP_PHONE_NUMBER_ID: settings.WHATSAPP_MPS}


def default_number() -> str:
    """The default number (also the model fields' default: a callable, read when used)."""
    return next(iter(configured()))


def several() -> bool:
    return len(configured()) > 1


def assign(number: str) -> str:
    """The number a man or a message goes on: `number` if configured, else the default."""
    numbers = configured()
    return number if number in numbers else next(iter(numbers))
