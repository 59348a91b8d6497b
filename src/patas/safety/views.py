"""Supervisors' pages (alert queue, alert page), the facilitator's flag, and admin privacy tools.

Thin: access is decided by `core.access` (alerts, erasure) and `groups.access` (a group post);
state changes go through `safety.actions` and `core.privacy`; reads come from `safety.queries`.
Anything refused looks like "not found", as everywhere in the console.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from patas.core import access, audit, clock, privacy
from patas.core.access import FACILITATOR
from patas.groups import access as group_access
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.safety import actions, queries
from patas.safety.actions import AlertError
from patas.safety.forms import (
    EraseForm,
    EscalateForm,
    FindPersonForm,
    FlagForm,
    NoteForm,
    ResolveForm,
)
from patas.safety.models import Alert
from patas.safety.triage import Hit

# --- the alert queue and one alert -------------------------------------------------------------


def _status_filter(request: HttpRequest) -> str:
    status = request.GET.get("status", "")
    return status if status in Alert.Status.values else ""


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    status = _status_filter(request)
    return {
        "rows": queries.queue_rows(queries.queue(status or None), clock.now()),
        "status": status,
        "statuses": list(queries.STATUS_LABELS.items()),
    }


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    access.require(access.can_handle_alerts(request.user))
    return render(request, "safety/queue.html", _queue_context(request))


@login_required
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's rows only: htmx polls this every few seconds."""
    access.require(access.can_handle_alerts(request.user))
    return render(request, "safety/_queue_rows.html", _queue_context(request))


def _alert_for(request: HttpRequest, uid: str) -> Alert:
    access.require(access.can_handle_alerts(request.user))
    alert = get_object_or_404(Alert.objects.select_related("participant", "message"), uid=uid)
    return access.get_or_404(request.user, alert)  # type: ignore[no-any-return]


@login_required
def alert_detail(request: HttpRequest, uid: str) -> HttpResponse:
    alert = _alert_for(request, uid)
    context = queries.alert_page(alert, clock.now())
    context.update(
        note_form=NoteForm(),
        escalate_form=EscalateForm(),
        resolve_form=ResolveForm(),
        can_erase=access.can_erase(request.user),
    )
    return render(request, "safety/alert.html", context)


def _with_text(form_class: type[Form], step: Callable[[Alert, Any, str], Any]) -> Any:
    def run(alert: Alert, user: Any, data: Any) -> None:
        form = form_class(data)
        if form.is_valid():
            step(alert, user, form.cleaned_data["text"])
        elif not str(data.get("text", "")).strip():
            step(alert, user, "")  # the action names what is missing and changes nothing
        else:
            raise AlertError(" ".join(str(e) for errors in form.errors.values() for e in errors))

    return run


STEPS: dict[str, Any] = {
    "acknowledge": lambda alert, user, data: actions.acknowledge(alert, user),
    "note": _with_text(NoteForm, actions.add_note),
    "escalate": _with_text(EscalateForm, actions.escalate),
    "resolve": _with_text(ResolveForm, actions.resolve),
}
DONE = {
    "acknowledge": gettext_lazy("Alert acknowledged."),
    "note": gettext_lazy("Note added."),
    "escalate": gettext_lazy("Alert escalated: the on-call supervisor is told."),
    "resolve": gettext_lazy("Alert resolved."),
}


@login_required
@require_POST
def alert_step(request: HttpRequest, uid: str, step: str) -> HttpResponse:
    """Acknowledge / add a note / escalate / resolve, each through `safety.actions`."""
    alert = _alert_for(request, uid)
    if step not in STEPS:
        return HttpResponse(status=404)
    try:
        STEPS[step](alert, request.user, request.POST)
        messages.success(request, str(DONE[step]))
    except AlertError as exc:
        messages.error(request, _("Nothing was changed: %(error)s") % {"error": exc})
    return redirect("safety:alert", uid=alert.uid)


# --- the facilitator's flag --------------------------------------------------------------------


def flag_message_for(user: Any, message: Any, severity: str, reason: str) -> Alert:
    """Raise a "flagged by facilitator" alert on a man's message (one active flag per message)."""
    if message is None or message.direction != "in" or message.participant_id is None:
        raise AlertError(_("only a man's message can be flagged"))
    if queries.active_flag_for(message) is not None:
        raise AlertError(_("this message is already flagged and waiting for a supervisor"))
    hit = Hit(
        category=queries.FACILITATOR_FLAG,
        severity=severity,
        phrase="",
        matched="",
        language=message.participant.language,
    )
    with transaction.atomic():
        alert = actions.raise_alert(message, [hit], actor=audit.actor_for(user))
        if reason.strip():
            actions.add_note(alert, user, reason)
    return alert


def _flag(request: HttpRequest, message: Any) -> str:
    """Validate the form and flag; the error to show, or "" when the alert was raised."""
    form = FlagForm(request.POST or {"severity": Alert.Severity.MEDIUM})
    if not form.is_valid():
        return _("Choose a severity: high, medium or low.")
    try:
        flag_message_for(
            request.user, message, form.cleaned_data["severity"], form.cleaned_data["reason"]
        )
    except AlertError as exc:
        return str(exc)
    return ""


def _flag_answer(request: HttpRequest, error: str, snippet: dict[str, Any], back: str) -> Any:
    if request.htmx:  # type: ignore[attr-defined]
        if error:
            return HttpResponse(error, status=400)
        return render(request, "safety/_flag_button.html", {**snippet, "flagged": True})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Flagged: a supervisor will look at it."))
    return redirect(back)


@login_required
@require_POST
def flag_post(request: HttpRequest, uid: str) -> HttpResponse:
    """Flag a man's post in a group thread (staff who may act on that group)."""
    post = group_access.post_for_acting(request.user, uid)
    post = type(post).objects.select_related("group", "message__participant").get(pk=post.pk)
    message = post.message if post.author_id else None
    error = _flag(request, message)
    back = reverse("console:thread", kwargs={"uid": post.group.uid})
    return _flag_answer(request, error, {"p": post}, back)  # type: ignore[no-any-return]


@login_required
@require_POST
def flag_message(request: HttpRequest, uid: str) -> HttpResponse:
    """Flag one of his messages (e.g. from his page): admins, supervisors, his facilitator."""
    access.require(access.has_role(request.user, access.ADMIN, access.SUPERVISOR, FACILITATOR))
    message = get_object_or_404(Message.objects.select_related("participant"), uid=uid)
    access.get_or_404(request.user, message)
    error = _flag(request, message)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("console:home")
    return _flag_answer(request, error, {"m": message}, back)  # type: ignore[no-any-return]


# --- erasure and subject access (admin) --------------------------------------------------------


def _person_for(request: HttpRequest, uid: str) -> Participant:
    access.require(access.can_erase(request.user))
    return get_object_or_404(Participant, uid=uid)


@login_required
def find_person(request: HttpRequest) -> HttpResponse:
    access.require(access.can_erase(request.user))
    form = FindPersonForm(request.GET or None)
    if form.is_valid():
        try:
            found = privacy.find_participant(form.cleaned_data["ref"])
            return redirect("safety:person", uid=found.uid)
        except privacy.PrivacyError as exc:
            form.add_error("ref", str(exc))
    return render(request, "safety/find_person.html", {"form": form})


@login_required
def person(request: HttpRequest, uid: str) -> HttpResponse:
    participant = _person_for(request, uid)
    alerts = Alert.objects.filter(participant=participant).order_by("-created_at")[:20]
    return render(request, "safety/person.html", {"person": participant, "alerts": alerts})


@login_required
def erase_person(request: HttpRequest, uid: str) -> HttpResponse:
    """GET: the confirm page with his reference. POST: `core.privacy.erase` once confirmed."""
    participant = _person_for(request, uid)
    erased = participant.status == "erased"
    form = EraseForm(request.POST or None, ref=participant.ref)
    if request.method == "POST" and not erased and form.is_valid():
        counts = privacy.erase(participant, audit.actor_for(request.user))
        messages.success(
            request,
            _("Participant %(ref)s was erased (%(messages)d messages emptied).")
            % {"ref": participant.ref, "messages": counts.get("messages", 0)},
        )
        return redirect("safety:person", uid=participant.uid)
    if request.method == "POST" and erased:
        messages.error(request, _("He was already erased: nothing was changed."))
    return render(
        request, "safety/erase.html", {"person": participant, "form": form, "erased": erased}
    )


@login_required
def export_person(request: HttpRequest, uid: str) -> HttpResponse:
    """His own data as a JSON download (subject access); the export is audited."""
    participant = _person_for(request, uid)
    data = privacy.export_person(participant, audit.actor_for(request.user))
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patas-{participant.ref}.json"'
    return response
