"""Small `make_*` helpers and a tiny content pack for the groups and console tests."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role

from patas.core import clock
from patas.groups import pseudonyms
from patas.groups.models import Group, Membership
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.programs import pack as pack_module

PROGRAM = "test-groups"
_counter = itertools.count(1)

MESSAGES = {
    "group_welcome": {
        "es": "Bienvenido {pseudonym}, grupo de {size}",
        "en": "Welcome {pseudonym}, {size}",
    },
    "relay_line": {"es": "{pseudonym}: {text}", "en": "{pseudonym}: {text}"},
    "facilitator_line": {"es": "Facilitador: {text}", "en": "Facilitator: {text}"},
    "digest_header": {"es": "Resumen ({count}):", "en": "Digest ({count}):"},
    "digest_more": {"es": "y {count} más luego", "en": "and {count} more later"},
    "removed_closing": {"es": "Gracias por participar.", "en": "Thanks for taking part."},
}


def write_pack(root: Path) -> Path:
    folder = root / PROGRAM
    (folder / "days").mkdir(parents=True)
    program = {
        "id": PROGRAM,
        "name": {"es": "Prueba", "en": "Test"},
        "version": "1",
        "languages": ["es", "en"],
        "default_language": "es",
        "days": 1,
        "templates": {},
        "intake": {"consent_version": "v1"},
        "completion": {"min_day_reached": 1},
        "modules": [{"id": "m", "title": {"es": "M", "en": "M"}, "first_day": 1, "last_day": 1}],
    }
    day = {
        "day": 1,
        "module": "m",
        "title": {"es": "Día uno", "en": "Day one"},
        "messages": [{"id": "d1", "text": {"es": "Hola <b>patas</b>", "en": "Hi mates"}}],
        "challenge": {"id": "c1", "text": {"es": "Respira tres veces", "en": "Breathe"}},
    }
    (folder / "program.yaml").write_text(yaml.safe_dump(program, allow_unicode=True))
    (folder / "days" / "day-01.yaml").write_text(yaml.safe_dump(day, allow_unicode=True))
    messages = {key: {"type": "text", "text": text} for key, text in MESSAGES.items()}
    (folder / "messages.yaml").write_text(yaml.safe_dump(messages, allow_unicode=True))
    pack_module._cached.cache_clear()
    return folder


def make_participant(*, window: bool = True, language: str = "es", **fields) -> Participant:
    n = next(_counter)
    now = clock.now()
    return Participant.objects.create(
        wa_user_id=f"PE.{n}",
        phone=f"5198765{n:04d}",
        profile_name=fields.pop("profile_name", f"Juan Pérez {n}"),
        language=language,
        status=fields.pop("status", Participant.Status.ENROLLED),
        last_inbound_at=now - timedelta(hours=1) if window else now - timedelta(days=3),
        **fields,
    )


def make_user(username: str, role: str | None = None, password: str = "correct horse battery"):
    """A console user, in a role (a Django group named after it) when given."""
    user = get_user_model().objects.create_user(username=username, password=password)
    if role:
        user.groups.add(Role.objects.get_or_create(name=role)[0])
    return user


def make_group(**fields) -> Group:
    fields.setdefault("name", f"Grupo {next(_counter)}")
    fields.setdefault("program", PROGRAM)
    return Group.objects.create(**fields)


def make_member(group: Group, **participant_fields) -> Membership:
    participant = make_participant(**participant_fields)
    taken = list(Membership.objects.filter(group=group).values_list("pseudonym", flat=True))
    name = pseudonyms.choose(group.uid.hex, participant.uid.hex, taken)
    return Membership.objects.create(
        group=group, participant=participant, pseudonym=name, seen_seq=group.last_seq
    )


def inbound(
    participant: Participant,
    text: str,
    *,
    type: str = "text",
    held: bool = False,
    payload: dict | None = None,
) -> Message:
    """An inbound message as ingest stores it (his 24-hour window opens now)."""
    Participant.objects.filter(pk=participant.pk).update(last_inbound_at=clock.now())
    return Message.objects.create(
        direction=Message.Direction.IN,
        participant=participant,
        type=type,
        text=text,
        payload=payload or {},
        status=Message.Status.RECEIVED,
        held=held,
    )


def outbox(participant: Participant | None = None, purpose: str | None = None):
    rows = Message.objects.filter(direction=Message.Direction.OUT)
    if participant is not None:
        rows = rows.filter(participant=participant)
    if purpose is not None:
        rows = rows.filter(purpose=purpose)
    return rows
