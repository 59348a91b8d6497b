"""State changes the console itself owns: staff accounts. Each writes the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role
from django.db import transaction

from patas.core import audit
from patas.groups.access import FACILITATOR


def create_facilitator(by: Any, username: str, password: str) -> Any:
    """A console account in the facilitator role."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        role, _ = Role.objects.get_or_create(name=FACILITATOR)
        user.groups.add(role)
        audit.record(audit.actor_for(by), "console.create_facilitator", user, username=username)
    return user
