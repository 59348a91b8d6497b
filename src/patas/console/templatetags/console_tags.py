from __future__ import annotations

from typing import Any

from django import template

from patas.groups import access

register = template.Library()


@register.filter
def has_role(user: Any, names: str) -> bool:
    """{% if user|has_role:"admin,supervisor" %}: for showing links only; views check access."""
    return access.has_role(user, *[n.strip() for n in names.split(",")])
