"""A small partners' form and staff users for the phone runner's tests."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role

from patas.core import access
from patas.participants.models import Participant
from patas.surveys import actions, phone_actions
from patas.surveys.models import Partner, PartnerSurveySession, SurveyForm

_PARTNER_ROWS = [
    "| survey |",
    "| | type | name | label::Español (es) | label::English (en) | required | relevant"
    " | constraint | constraint_message::Español (es) | constraint_message::English (en) |",
    "| | note | intro | Gracias por aceptar. | Thank you for agreeing. | | | | | |",
    "| | select_one yn | children | ¿Tiene hijos? | Do you have children? | yes | | | | |",
    "| | integer | kids | ¿Cuántos hijos? | How many children? | yes | ${children} = 'yes'"
    " | . >= 1 and . <= 15 | Entre 1 y 15. | Between 1 and 15. |",
    "| | select_one freq | argue | ¿Cuántas veces discutieron? | How often did you argue?"
    " | | | | | |",
    "| | text | comment | ¿Algo más? | Anything else? | | | | | |",
    "| choices |",
    "| | list_name | name | label::Español (es) | label::English (en) |",
    "| | yn | yes | Sí | Yes |",
    "| | yn | no | No | No |",
    "| | freq | 0 | Nunca | Never |",
    "| | freq | 1 | Una vez | Once |",
    "| | freq | 2 | Varias veces | Several times |",
    "| settings |",
    "| | form_id | version | form_title | default_language |",
    "| | partner_small | 1 | Bienestar familiar | Español (es) |",
]
PARTNER_FORM = "\n".join(_PARTNER_ROWS) + "\n"
HER_PHONE = "+51 955 123 456"


def install_partner_form(folder: Path) -> SurveyForm:
    path = folder / "partner_small.md"
    path.write_text(PARTNER_FORM, encoding="utf-8")
    return actions.install_form(path)


def staff(username: str, role: str | None = None) -> object:
    access.ensure_roles()
    user = get_user_model().objects.create_user(username, password="correct horse battery")
    if role:
        user.groups.add(Role.objects.get(name=role))
    return user


def assigned_partner(man: Participant, enumerator: object) -> PartnerSurveySession:
    partner: Partner = actions.add_partner(man, HER_PHONE)
    return phone_actions.assign_partner_call(partner, "partner_small", enumerator=enumerator)
