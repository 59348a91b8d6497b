"""The helplines a man is offered on a safety hit: from the content pack, for his country."""

from __future__ import annotations

from patas.participants.models import Participant
from patas.programs.pack import Pack, get_pack
from patas.programs.texts import language_of, system_text

DEFAULT_COUNTRY = "PE"
# Calling code -> country, for men whose country is not recorded (longest prefix first).
CALLING_CODES = {
    "51": "PE",
    "52": "MX",
    "54": "AR",
    "56": "CL",
    "57": "CO",
    "58": "VE",
    "591": "BO",
    "593": "EC",
    "595": "PY",
    "598": "UY",
    "34": "ES",
    "1": "US",
    "44": "GB",
}


def country_of(participant: Participant) -> str:
    """His country: a recorded `country` when the participant has one, else from his number."""
    recorded = str(getattr(participant, "country", "") or "").upper()
    if recorded:
        return recorded
    digits = "".join(ch for ch in (participant.phone or "") if ch.isdigit())
    for code in sorted(CALLING_CODES, key=len, reverse=True):
        if digits.startswith(code):
            return CALLING_CODES[code]
    return DEFAULT_COUNTRY


def format_helplines(pack: Pack, country: str, language: str) -> str:
    """One line per helpline: 'name: contact (hours)'; his country's, else `default`, else PE."""
    listed = pack.program.helplines
    lines = listed.get(country) or listed.get("default") or listed.get(DEFAULT_COUNTRY)
    if not lines:
        raise LookupError(
            f"{pack.root / 'program.yaml'}: helplines has no entry for {country}, default or "
            f"{DEFAULT_COUNTRY}: a safety reply cannot be sent without one"
        )
    out = []
    for line in lines:
        hours = (line.hours or {}).get(language) or (line.hours or {}).get(
            pack.program.default_language, ""
        )
        out.append(f"{line.name}: {line.contact}" + (f" ({hours})" if hours else ""))
    return "\n".join(out)


def reply_text(participant: Participant, program_id: str | None = None) -> str:
    pack = get_pack(program_id)
    listed = format_helplines(pack, country_of(participant), language_of(participant, pack))
    return system_text(participant, "safety_helpline", program_id=program_id, helplines=listed)
