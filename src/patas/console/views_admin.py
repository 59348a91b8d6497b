"""Console pages beyond the thread: content preview, groups and facilitators admin, coding."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patas.groups import access, coding
from patas.groups import actions as group_actions
from patas.groups.models import Group
from patas.programs.pack import Pack, get_pack

from . import actions, preview
from .forms import AgreementForm, FacilitatorForm, GroupForm, facilitator_choices


def _require_admin(user: Any) -> None:
    if not access.can_manage_groups(user):
        raise PermissionDenied


def _pack_and_language() -> tuple[Pack, str]:
    pack = get_pack()
    wanted = (get_language() or "").split("-")[0]
    lang = wanted if wanted in pack.program.languages else pack.program.default_language
    return pack, lang


@login_required
def content(request: HttpRequest) -> HttpResponse:
    if not access.can_preview_content(request.user):
        raise PermissionDenied
    pack, lang = _pack_and_language()
    return render(
        request,
        "console/content.html",
        {"program": pack.program, "days": preview.day_list(pack, lang)},
    )


@login_required
def content_day(request: HttpRequest, number: int) -> HttpResponse:
    if not access.can_preview_content(request.user):
        raise PermissionDenied
    pack, lang = _pack_and_language()
    if number not in pack.days:
        raise Http404
    return render(
        request,
        "console/content_day.html",
        {
            "program": pack.program,
            "day": preview.day_bubbles(pack, number, lang),
            "previous": number - 1 if number - 1 in pack.days else None,
            "next": number + 1 if number + 1 in pack.days else None,
        },
    )


@login_required
def manage_groups(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group_actions.create_group(request.user, **form.cleaned_data)
        messages.success(request, _("Group created."))
        return redirect("console:manage_groups")
    groups = Group.objects.select_related("facilitator").order_by("created_at")
    return render(request, "console/manage_groups.html", {"groups": groups, "form": form})


@login_required
def manage_group(request: HttpRequest, uid: str) -> HttpResponse:
    _require_admin(request.user)
    group = access.group_for_reading(request.user, uid)
    initial = {f: getattr(group, f) for f in GroupForm.base_fields}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        group_actions.update_group(request.user, group, **form.cleaned_data)
        messages.success(request, _("Group saved."))
        return redirect("console:manage_groups")
    return render(request, "console/manage_group.html", {"group": group, "form": form})


@login_required
def facilitators(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    form = FacilitatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.create_facilitator(
            request.user, form.cleaned_data["username"], form.cleaned_data["password"]
        )
        messages.success(request, _("Facilitator account created."))
        return redirect("console:facilitators")
    people = facilitator_choices().prefetch_related("facilitated_groups")
    return render(request, "console/facilitators.html", {"people": people, "form": form})


@login_required
def agreement(request: HttpRequest) -> HttpResponse:
    access.require_role(request.user, access.ADMIN, access.SUPERVISOR, access.RESEARCHER)
    form = AgreementForm(request.GET or None)
    result = None
    error = ""
    if form.is_valid():
        try:
            result = coding.agreement(form.cleaned_data["coder_a"], form.cleaned_data["coder_b"])
        except ValueError as exc:
            error = str(exc)
    return render(
        request, "console/agreement.html", {"form": form, "result": result, "error": error}
    )
