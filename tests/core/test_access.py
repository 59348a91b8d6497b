"""The access layer: every role against every kind of object, partner data above all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group as Role
from django.contrib.auth.models import User
from django.http import Http404

from patas.core import access
from patas.core.models import AuditEntry
from patas.groups.models import Group, Membership
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.safety.models import Alert
from patas.surveys.models import Partner, PartnerSurveySession, SurveyForm

pytestmark = pytest.mark.django_db
ROLES = ["admin", "supervisor", "facilitator", "enumerator", "researcher"]


def person(role: str, name: str | None = None) -> User:
    access.ensure_roles()
    user = User.objects.create_user(name or role)
    user.groups.add(Role.objects.get(name=role))
    return user


@pytest.fixture
def world(vclock):  # type: ignore[no-untyped-def]
    users = {role: person(role) for role in ROLES}
    users["other_enumerator"] = person("enumerator", "enumerator2")
    users["other_facilitator"] = person("facilitator", "facilitator2")
    users["nobody"] = User.objects.create_user("nobody")
    man = Participant.objects.create(phone="51911111111", profile_name="Pedro")
    stranger = Participant.objects.create(phone="51922222222")
    group = Group.objects.create(name="G1", facilitator=users["facilitator"])
    Membership.objects.create(group=group, participant=man, pseudonym="Puma Tranquilo")
    partner = Partner.objects.create(participant=man, phone="51933333333")
    form = SurveyForm.objects.create(**_form_fields())
    session = PartnerSurveySession.objects.create(
        partner=partner, form=form, mode="phone", enumerator=users["enumerator"]
    )
    message = Message.objects.create(
        direction="in", participant=man, type="text", text="hola", status="received"
    )
    alert = Alert.objects.create(
        participant=man, message=message, category="threat", severity="high", due_at=vclock.now()
    )
    return {
        "users": users,
        "man": man,
        "stranger": stranger,
        "partner": partner,
        "session": session,
        "message": message,
        "alert": alert,
        "audit": AuditEntry.objects.create(actor="system", action="x"),
    }


def _form_fields() -> dict[str, object]:
    fields = {f.name for f in SurveyForm._meta.concrete_fields}
    values: dict[str, object] = {
        "form_id": "partner_baseline",
        "title": "t",
        "version": "1",
        "audience": "partners",
        "file_name": "f.md",
        "source": b"",
        "sha256": "0" * 64,
    }
    return {k: v for k, v in values.items() if k in fields}


EXPECTED = {  # object -> roles that may open it
    "partner": {"enumerator"},
    "session": {"enumerator"},
    "man": {"admin", "supervisor", "facilitator"},
    "stranger": {"admin", "supervisor"},
    "message": {"admin", "supervisor", "facilitator"},
    "alert": {"admin", "supervisor"},
    "audit": {"admin"},
}


@pytest.mark.parametrize("obj", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES + ["other_enumerator", "other_facilitator", "nobody"])
def test_every_role_against_every_object(world, role: str, obj: str) -> None:  # type: ignore[no-untyped-def]
    user, target = world["users"][role], world[obj]
    allowed = role in EXPECTED[obj]
    assert access.can_view(user, target) is allowed
    if allowed:
        assert access.get_or_404(user, target) is target
    else:
        with pytest.raises(Http404):
            access.get_or_404(user, target)


@pytest.mark.parametrize("role", ROLES + ["other_enumerator", "other_facilitator", "nobody"])
def test_partner_lists_are_empty_for_all_but_her_enumerator(world, role: str) -> None:  # type: ignore[no-untyped-def]
    user = world["users"][role]
    partners = set(access.visible_partner_data(user))
    sessions = set(access.visible_partner_data(user, access.PARTNER_SESSION))
    if role == "enumerator":
        assert partners == {world["partner"]} and sessions == {world["session"]}
    else:
        assert partners == set() and sessions == set()


def test_only_researchers_export_partner_data_and_only_admin_sees_phones(world) -> None:  # type: ignore[no-untyped-def]
    users = world["users"]
    assert [r for r in ROLES if access.can_export_partner_data(users[r])] == ["researcher"]
    assert [r for r in ROLES if access.can_view_identifying(users[r], world["man"])] == ["admin"]


def test_visible_participants_per_role(world) -> None:  # type: ignore[no-untyped-def]
    users = world["users"]
    assert set(access.visible_participants(users["facilitator"])) == {world["man"]}
    assert set(access.visible_participants(users["other_facilitator"])) == set()
    assert set(access.visible_participants(users["researcher"])) == set()
    assert set(access.visible_participants(users["supervisor"])) == {
        world["man"],
        world["stranger"],
    }


def test_an_inactive_or_anonymous_user_sees_nothing(world) -> None:  # type: ignore[no-untyped-def]
    admin = world["users"]["admin"]
    admin.is_active = False
    assert not access.can_view(admin, world["man"])
    assert not access.can_view(None, world["man"])


def test_ensure_roles_is_idempotent(db) -> None:  # type: ignore[no-untyped-def]
    access.ensure_roles()
    access.ensure_roles()
    assert sorted(Role.objects.values_list("name", flat=True)) == sorted(ROLES)
