"""The one access layer: who may see what, per object type and role. The console calls only this.

Roles are Django groups (`ensure_roles()` creates them); a superuser counts as admin.

- participant (pseudonymous): admin, supervisor; a facilitator for members of his groups; an
  enumerator for men whose survey he is assigned to. Researchers: only de-identified exports.
- participant phone / name: admin only, each view audited (`core.privacy.reveal_phone`).
- his messages: admin, supervisor; a facilitator for members of his groups.
- safety alerts and notes: admin, supervisor.
- partner (the woman), her survey sessions and answers: only an enumerator assigned to her
  survey; researchers through de-identified exports. Never a facilitator, a supervisor, an
  admin through the console, or the man.
- audit log: admin.

Anything not listed is denied. Denials look like "not found" (`get_or_404`), so a URL never
confirms that a partner or a participant exists. `core` imports no other app: models are found
by label at call time.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.db import models
from django.http import Http404

ADMIN, SUPERVISOR, FACILITATOR, ENUMERATOR, RESEARCHER = (
    "admin",
    "supervisor",
    "facilitator",
    "enumerator",
    "researcher",
)
ROLES = (ADMIN, SUPERVISOR, FACILITATOR, ENUMERATOR, RESEARCHER)

PARTICIPANT = "participants.participant"
MESSAGE = "messaging.message"
PARTNER = "surveys.partner"
PARTNER_SESSION = "surveys.partnersurveysession"
ALERTS = {"safety.alert", "safety.alertnote"}
AUDIT = "core.auditentry"


def ensure_roles() -> list[Group]:
    """The five role groups, created when missing (idempotent)."""
    return [Group.objects.get_or_create(name=role)[0] for role in ROLES]


def roles_of(user: Any) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    cached = getattr(user, "_patas_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMIN)
        user._patas_roles = cached
    return set(cached)


def has_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def label_of(obj: Any) -> str:
    meta = getattr(obj, "_meta", None)
    return meta.label_lower if meta is not None else ""


def is_partner_data(obj: Any) -> bool:
    """Her records: the Partner, her survey sessions and answers, and anything marked so."""
    label = label_of(obj)
    return label.startswith("surveys.partner") or bool(getattr(obj, "partner_data", False))


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


# --- participants -----------------------------------------------------------------------------


def _facilitated_participant_ids(user: Any) -> models.QuerySet[Any] | None:
    membership = _model("groups.membership")
    if membership is None:
        return None
    return membership._default_manager.filter(group__facilitator=user).values("participant_id")


def _surveyed_participant_ids(user: Any) -> models.QuerySet[Any] | None:
    session = _model("surveys.surveysession")
    if session is None:
        return None
    return session._default_manager.filter(enumerator=user).values("participant_id")


def visible_participants(user: Any) -> models.QuerySet[Any]:
    """The men this user may see (pseudonymous view; phone numbers need admin)."""
    participant = apps.get_model(PARTICIPANT)
    roles = roles_of(user)
    if roles & {ADMIN, SUPERVISOR}:
        return participant._default_manager.all()
    visible = participant._default_manager.none()
    if FACILITATOR in roles and (ids := _facilitated_participant_ids(user)) is not None:
        visible = visible | participant._default_manager.filter(pk__in=ids)
    if ENUMERATOR in roles and (ids := _surveyed_participant_ids(user)) is not None:
        visible = visible | participant._default_manager.filter(pk__in=ids)
    return visible


def can_view_participant(user: Any, participant: Any) -> bool:
    if participant is None:
        return False
    return visible_participants(user).filter(pk=participant.pk).exists()


def can_view_identifying(user: Any, participant: Any) -> bool:
    """Phone numbers and names: admin only (and every view goes through privacy.reveal_phone)."""
    return ADMIN in roles_of(user) and participant is not None


def can_view_messages_of(user: Any, participant: Any) -> bool:
    roles = roles_of(user)
    if roles & {ADMIN, SUPERVISOR}:
        return participant is not None
    if FACILITATOR in roles and participant is not None:
        ids = _facilitated_participant_ids(user)
        return ids is not None and ids.filter(participant_id=participant.pk).exists()
    return False


# --- partner data -----------------------------------------------------------------------------


def _assigned_partner_ids(user: Any) -> models.QuerySet[Any] | None:
    session = _model(PARTNER_SESSION)
    if session is None:
        return None
    return session._default_manager.filter(enumerator=user).values("partner_id")


def visible_partner_data(user: Any, model: str = PARTNER) -> models.QuerySet[Any]:
    """Partner rows (or her sessions, with model=PARTNER_SESSION) this user may open one by one.

    Only enumerators, and only for partners whose survey they are assigned to. Researchers see
    her data through de-identified exports (`can_export_partner_data`), never row by row here;
    facilitators, supervisors, admins and the man himself never see it.
    """
    found = _model(model)
    if found is None:
        raise LookupError(f"{model} is not a model")
    if ENUMERATOR not in roles_of(user) or (ids := _assigned_partner_ids(user)) is None:
        return found._default_manager.none()
    if model == PARTNER:
        return found._default_manager.filter(pk__in=ids)
    return found._default_manager.filter(partner_id__in=ids, enumerator=user)


def can_view_partner_data(user: Any, obj: Any) -> bool:
    if ENUMERATOR not in roles_of(user):
        return False
    partner_id = obj.pk if label_of(obj) == PARTNER else getattr(obj, "partner_id", None)
    ids = _assigned_partner_ids(user)
    return partner_id is not None and ids is not None and ids.filter(partner_id=partner_id).exists()


def can_export_partner_data(user: Any) -> bool:
    """De-identified research exports of partners' answers."""
    return RESEARCHER in roles_of(user)


def can_export_deidentified(user: Any) -> bool:
    return bool(roles_of(user) & {RESEARCHER, ADMIN})


# --- everything else --------------------------------------------------------------------------


def can_view(user: Any, obj: Any) -> bool:
    """The single check for one object; unknown kinds of object are denied."""
    if obj is None or not roles_of(user):
        return False
    if is_partner_data(obj):
        return can_view_partner_data(user, obj)
    label = label_of(obj)
    if label == PARTICIPANT:
        return can_view_participant(user, obj)
    if label == MESSAGE:
        return can_view_messages_of(user, getattr(obj, "participant", None))
    if label in ALERTS:
        return has_role(user, ADMIN, SUPERVISOR)
    if label == AUDIT:
        return has_role(user, ADMIN)
    return has_role(user, ADMIN)


def can_handle_alerts(user: Any) -> bool:
    return has_role(user, ADMIN, SUPERVISOR)


def can_erase(user: Any) -> bool:
    return has_role(user, ADMIN)


def get_or_404(user: Any, obj: Any) -> Any:
    """The object when the user may see it, else the same 404 as a missing object."""
    if not can_view(user, obj):
        raise Http404("not found")
    return obj


def require(allowed: bool) -> None:
    if not allowed:
        raise Http404("not found")
