"""Who may see and do what with groups, posts and members: one function per object type.

Roles are Django groups named after the program's roles, read through `patas.core.access`;
these functions add the rules for groups (the console calls only these). Rules:
- admin (or superuser): everything, and the only role that sees phone numbers;
- supervisor: every group, read and act;
- facilitator: only the groups he facilitates (others are 404, as if they did not exist);
- researcher: every group read-only, and coding; no participant pages;
- enumerator: none of the group pages (403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from patas.core import access as core_access

from .models import Group, GroupPost, Membership

ADMIN, SUPERVISOR, FACILITATOR, ENUMERATOR, RESEARCHER = (
    core_access.ADMIN,
    core_access.SUPERVISOR,
    core_access.FACILITATOR,
    core_access.ENUMERATOR,
    core_access.RESEARCHER,
)
ROLES = core_access.ROLES


def roles(user: Any) -> set[str]:
    return core_access.roles_of(user)


def has_role(user: Any, *wanted: str) -> bool:
    return core_access.has_role(user, *wanted)


def require_role(user: Any, *wanted: str) -> None:
    if not has_role(user, *wanted):
        raise PermissionDenied


def can_see_phones(user: Any) -> bool:
    return has_role(user, ADMIN)


# --- groups ----------------------------------------------------------------------------------


def visible_groups(user: Any) -> QuerySet[Group]:
    """The groups this user may read (403 for roles with no group pages at all)."""
    require_role(user, ADMIN, SUPERVISOR, FACILITATOR, RESEARCHER)
    if has_role(user, ADMIN, SUPERVISOR, RESEARCHER):
        return Group.objects.all()
    return Group.objects.filter(facilitator=user)


def group_for_reading(user: Any, uid: Any) -> Group:
    try:
        return visible_groups(user).get(uid=uid)
    except Group.DoesNotExist:
        raise Http404 from None


def group_for_acting(user: Any, uid: Any) -> Group:
    """A group the user may post in and moderate (researchers read only: 403)."""
    group = group_for_reading(user, uid)
    require_role(user, ADMIN, SUPERVISOR, FACILITATOR)
    return group


# --- posts -----------------------------------------------------------------------------------


def post_for_acting(user: Any, uid: Any) -> GroupPost:
    try:
        post = GroupPost.objects.select_related("group", "author").get(uid=uid)
    except GroupPost.DoesNotExist:
        raise Http404 from None
    group_for_acting(user, post.group.uid)
    return post


def post_for_coding(user: Any, uid: Any) -> GroupPost:
    try:
        post = GroupPost.objects.select_related("group").get(uid=uid)
    except GroupPost.DoesNotExist:
        raise Http404 from None
    group_for_reading(user, post.group.uid)
    return post


# --- members ---------------------------------------------------------------------------------


def membership_for_staff(user: Any, uid: Any) -> Membership:
    """A member's page: his group's facilitator, supervisors and admins (researchers: 403)."""
    require_role(user, ADMIN, SUPERVISOR, FACILITATOR)
    try:
        membership = Membership.objects.select_related("group", "participant").get(uid=uid)
    except Membership.DoesNotExist:
        raise Http404 from None
    group_for_reading(user, membership.group.uid)
    return membership


def can_manage_groups(user: Any) -> bool:
    return has_role(user, ADMIN)


def can_preview_content(user: Any) -> bool:
    return bool(roles(user))
