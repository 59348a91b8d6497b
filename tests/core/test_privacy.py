"""Privacy tools in the database: audited reveals, erasure, subject access, retention, rotation."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group as Role
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import Http404

from patas.core import access, privacy
from patas.core.crypto import lookup_hash
from patas.core.models import AuditEntry
from patas.messaging.models import Message
from patas.participants.models import IntakeSession, Participant
from patas.safety.jobs import purge_old_message_bodies
from patas.safety.models import Alert
from patas.surveys.models import Partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def man(vclock) -> Participant:  # type: ignore[no-untyped-def]
    phone = "51987654321"
    return Participant.objects.create(
        phone=phone, phone_hash=lookup_hash(phone), profile_name="Juan Quispe", wa_user_id="PE.1"
    )


def user_with(role: str) -> User:
    access.ensure_roles()
    user = User.objects.create_user(role)
    user.groups.add(Role.objects.get(name=role))
    return user


def message(man: Participant, text: str, **extra) -> Message:  # type: ignore[no-untyped-def]
    return Message.objects.create(
        participant=man,
        type="text",
        text=text,
        payload={"body": text},
        **{"direction": "in", "status": "received", **extra},
    )


def test_reveal_phone_for_admin_is_audited(man: Participant) -> None:
    admin = user_with("admin")
    assert privacy.reveal_phone(admin, man) == "51987654321"
    entry = AuditEntry.objects.get(action="privacy.identifying_viewed")
    assert (entry.actor, entry.object_id, entry.details) == (
        "user:admin",
        str(man.pk),
        {"field": "phone"},
    )


@pytest.mark.parametrize("role", ["supervisor", "facilitator", "enumerator", "researcher"])
def test_reveal_phone_is_denied_to_every_other_role(man: Participant, role: str) -> None:
    with pytest.raises(Http404):
        privacy.reveal_phone(user_with(role), man)
    assert not AuditEntry.objects.filter(action="privacy.identifying_viewed").exists()


def test_erase_removes_identifying_data_and_bodies_keeps_trial_data(vclock, man) -> None:  # type: ignore[no-untyped-def]
    partner = Partner.objects.create(
        participant=man, phone="51900000001", phone_hash=lookup_hash("51900000001")
    )
    intake = IntakeSession.objects.create(
        participant=man, first_text="soy Juan", partner_phone="51900000001", partner_phone_hash="h"
    )
    said = message(man, "soy Juan, le pegue a mi esposa")
    queued = message(man, "Hola Juan", direction="out", status="queued")
    alert = Alert.objects.create(
        participant=man,
        message=said,
        category="violence_disclosed",
        severity="high",
        due_at=vclock.now(),
    )
    privacy.erase(man, "user:admin")
    man.refresh_from_db()
    partner.refresh_from_db()
    assert (man.phone, man.profile_name, man.wa_user_id, man.phone_hash) == (None, None, None, None)
    assert man.status == "erased" and man.uid and man.opted_out_at is not None
    assert (partner.phone, partner.phone_hash) == (None, None)
    intake.refresh_from_db()
    assert (intake.first_text, intake.partner_phone, intake.partner_phone_hash) == ("", None, "")
    said.refresh_from_db()
    queued.refresh_from_db()
    assert (said.text, said.payload, said.direction) == ("", {}, "in")
    assert queued.status == "cancelled"
    assert Alert.objects.filter(pk=alert.pk, participant=man).exists()  # the record stays
    assert AuditEntry.objects.filter(action="privacy.erased", object_id=str(man.pk)).exists()


def test_export_person_gives_his_data_and_is_audited(man: Participant) -> None:
    message(man, "hola causa")
    Partner.objects.create(participant=man, phone="51900000002")
    data = privacy.export_person(man, "cli:test")
    assert data["phone"] == "51987654321" and data["name"] == "Juan Quispe"
    assert [m["text"] for m in data["messages"]] == ["hola causa"]
    assert "51900000002" not in json.dumps(data, default=str)  # her data is hers, never his
    assert AuditEntry.objects.filter(action="privacy.subject_access_export").exists()


def test_export_person_command_writes_json(man: Participant) -> None:
    out = StringIO()
    call_command("export_person", man.ref, stdout=out)
    assert json.loads(out.getvalue())["reference"] == man.ref


def test_erase_command_by_reference_and_a_clear_error_for_a_bad_one(man: Participant) -> None:
    with pytest.raises(CommandError, match="no participant"):
        call_command("erase", "ffffffff")
    with pytest.raises(CommandError, match="not a participant reference"):
        call_command("erase", "juan")
    assert Participant.objects.get(pk=man.pk).phone == "51987654321"  # nothing changed
    call_command("erase", man.ref.lower(), stdout=StringIO())
    assert Participant.objects.get(pk=man.pk).status == "erased"


def test_retention_purges_old_bodies_only(vclock, man, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RETENTION_DAYS = 30
    old = message(man, "hace tiempo", created_at=vclock.now())
    vclock.advance(timedelta(days=31))
    new = message(man, "hoy", created_at=vclock.now())
    assert purge_old_message_bodies(vclock.now()) == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.text, old.payload) == ("", {}) and new.text == "hoy"
    assert AuditEntry.objects.filter(action="privacy.retention_purged").exists()
    assert purge_old_message_bodies(vclock.now()) == 0  # nothing left to do


def test_rotate_key_re_encrypts_under_the_new_key(man, settings) -> None:  # type: ignore[no-untyped-def]
    old_keys = list(settings.FIELD_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_KEYS = [new_key, *old_keys]
    out = StringIO()
    call_command("rotate_key", stdout=out)
    assert "participants.participant.phone: 1" in out.getvalue()
    settings.FIELD_KEYS = [new_key]  # the old key dropped: everything still reads
    assert Participant.objects.get(pk=man.pk).phone == "51987654321"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM participants_participant")
        [(raw,)] = cursor.fetchall()
    assert "51987654321" not in raw
    assert AuditEntry.objects.filter(action="privacy.keys_rotated").exists()
