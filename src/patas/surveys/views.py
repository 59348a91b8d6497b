"""Console pages of the phone survey runner: my calls, a call (script and form), counts.

Access: a partner's call opens only for the enumerator assigned to her survey (the one rule in
`core.access.visible_partner_data`); a man's phone survey for its enumerator and for admins and
supervisors; everyone else gets the same 404 as a missing call. Researchers see counts only.
State changes go through `phone_actions`; the call flow itself is `phone.decide`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patas.core import access, audit, clock
from patas.surveys import actions, phone, phone_actions
from patas.surveys.actions import SurveyError
from patas.surveys.models import CallAttempt, Mode, PartnerSurveySession, Status, SurveySession

PARTNER, MEN = "partner", "men"
KINDS = (PARTNER, MEN)
OPEN_STATUSES = [Status.OPEN, Status.TIMED_OUT]


# --- access -------------------------------------------------------------------------------------


def _partner_sessions(user: Any) -> QuerySet[PartnerSurveySession]:
    visible = access.visible_partner_data(user, access.PARTNER_SESSION)
    return visible.filter(mode=Mode.PHONE)  # type: ignore[no-any-return]


def _men_sessions(user: Any) -> QuerySet[SurveySession]:
    sessions = SurveySession.objects.filter(mode=Mode.PHONE)
    if access.has_role(user, access.ADMIN, access.SUPERVISOR):
        return sessions
    if access.has_role(user, access.ENUMERATOR):
        return sessions.filter(enumerator=user)
    return sessions.none()


def phone_session_for(user: Any, kind: str, uid: Any) -> phone_actions.PhoneSession:
    """The phone session this user may open, or the 404 of a missing one."""
    found: phone_actions.PhoneSession | None
    if kind == PARTNER:
        found = _partner_sessions(user).select_related("partner", "form").filter(uid=uid).first()
    elif kind == MEN:
        found = _men_sessions(user).select_related("participant", "form").filter(uid=uid).first()
    else:
        found = None
    if found is None:
        raise Http404("not found")
    return found


def _open_attempt(session: phone_actions.PhoneSession) -> CallAttempt | None:
    return phone_actions.attempts_of(session).filter(ended_at=None).first()


# --- my calls -----------------------------------------------------------------------------------


def _with_calls(sessions: QuerySet[Any]) -> QuerySet[Any]:
    return (
        sessions.filter(status__in=OPEN_STATUSES)
        .annotate(
            attempts=Count("call_attempts"),
            appointment=Max("call_attempts__appointment_at"),
            last_call=Max("call_attempts__started_at"),
        )
        .select_related("form")
        .defer("form__source")
        .order_by("started_at")
    )


@login_required
def my_calls(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.has_role(user, access.ENUMERATOR, access.ADMIN, access.SUPERVISOR):
        if access.has_role(user, access.RESEARCHER):
            return redirect("surveys:summary")
        raise Http404("not found")
    partner_rows = list(_with_calls(_partner_sessions(user)).select_related("partner"))
    men_rows = list(_with_calls(_men_sessions(user)).select_related("participant"))
    context = {
        "partner_rows": partner_rows,
        "men_rows": men_rows,
        "now": clock.now(),
        "counts": _counts() if access.has_role(user, access.ADMIN, access.SUPERVISOR) else None,
    }
    return render(request, "surveys/calls.html", context)


def _counts() -> dict[str, Any]:
    """Numbers only: calls by outcome and open phone surveys, for partners and for men."""
    outcome_of = dict(CallAttempt.Outcome.choices)
    result: dict[str, Any] = {}
    for kind, field in ((PARTNER, "partner_session"), (MEN, "session")):
        attempts = CallAttempt.objects.filter(**{f"{field}__isnull": False})
        by_outcome = dict(
            attempts.exclude(outcome="").values_list("outcome").annotate(n=Count("id"))
        )
        model = PartnerSurveySession if kind == PARTNER else SurveySession
        surveys = model.objects.filter(mode=Mode.PHONE).aggregate(
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            completed=Count("id", filter=Q(status=Status.COMPLETED)),
        )
        result[kind] = {
            "outcomes": [(outcome_of[k], by_outcome.get(k, 0)) for k in outcome_of],
            "in_progress": attempts.filter(outcome="").count(),
            **surveys,
        }
    return result


@login_required
def summary(request: HttpRequest) -> HttpResponse:
    access.require(
        access.has_role(request.user, access.RESEARCHER, access.ADMIN, access.SUPERVISOR)
    )
    return render(request, "surveys/summary.html", {"counts": _counts()})


# --- a call -------------------------------------------------------------------------------------


def _phone_number(request: HttpRequest, session: phone_actions.PhoneSession) -> str:
    """The number to dial, for the person making this call; each view is audited."""
    person: Any = session.partner if isinstance(session, PartnerSurveySession) else None
    if person is None and isinstance(session, SurveySession):
        person = session.participant
    audit.record(audit.actor_for(request.user), "privacy.identifying_viewed", person, field="phone")
    return str(person.phone or "")


def _form_context(session: phone_actions.PhoneSession) -> dict[str, Any]:
    form = actions.form_of(session.form)
    current = session.state.get("current")
    if current is None:
        return {}
    q = form.question(current)
    answers = dict(session.state.get("answers", {}))
    return {
        "screen": phone.screen_for(form, q, session.lang, answers),
        "notes": phone.notes_before(form, q, session.lang, answers),
        "can_go_back": bool(session.state.get("history")),
        "position": form.index(current) + 1,
        "total": len(form.questions),
    }


def _call_context(
    request: HttpRequest, kind: str, session: phone_actions.PhoneSession
) -> dict[str, Any]:
    attempt = _open_attempt(session)
    script = phone.script_for(session.lang)
    stage = attempt.stage if attempt else ""
    context: dict[str, Any] = {
        "kind": kind,
        "session": session,
        "attempt": attempt,
        "stage": stage,
        "script": script,
        "is_partner": kind == PARTNER,
        "guarded": kind == PARTNER and stage in phone.GUARDED,
        "past": phone_actions.attempts_of(session).exclude(ended_at=None).order_by("-started_at"),
        "reference": session.partner.ref
        if isinstance(session, PartnerSurveySession)
        else session.participant.ref,
    }
    if stage in ("", phone.IDENTITY):
        context["number"] = _phone_number(request, session)
    if stage == phone.FORM:
        context.update(_form_context(session))
    return context


@login_required
def call(request: HttpRequest, kind: str, uid: str) -> HttpResponse:
    session = phone_session_for(request.user, kind, uid)
    return render(request, "surveys/call.html", _call_context(request, kind, session))


@login_required
@require_POST
def start(request: HttpRequest, kind: str, uid: str) -> HttpResponse:
    session = phone_session_for(request.user, kind, uid)
    try:
        phone_actions.start_call(session, request.user)
    except SurveyError as exc:
        messages.error(request, str(exc))
    return redirect("surveys:call", kind=kind, uid=session.uid)


@login_required
@require_POST
def step(request: HttpRequest, kind: str, uid: str) -> HttpResponse:
    """A button of the call script: reached, alone_yes/no, consent_yes/no, interrupt, ..."""
    session = phone_session_for(request.user, kind, uid)
    attempt = _open_attempt(session)
    if attempt is None:
        messages.error(request, _("No call is in progress: start a call first."))
        return redirect("surveys:call", kind=kind, uid=session.uid)
    action = request.POST.get("action", "")
    try:
        when = None
        if action == "reschedule":
            when = phone.appointment_from(
                request.POST.get("when", ""), clock.now(), actions.LOCAL_TZ
            )
        attempt = phone_actions.call_action(attempt, action, request.user, when=when)
    except (phone.CallFlowError, SurveyError) as exc:
        messages.error(request, str(exc))
    else:
        if attempt.outcome:
            messages.success(request, _("Call recorded: %(outcome)s.") % _outcome_label(attempt))
    return redirect("surveys:call", kind=kind, uid=session.uid)


def _outcome_label(attempt: CallAttempt) -> dict[str, str]:
    return {"outcome": str(attempt.get_outcome_display())}


@login_required
@require_POST
def answer(request: HttpRequest, kind: str, uid: str) -> HttpResponse:
    """The answer to the question on screen (or "back"): saved at once, re-asked if refused."""
    session = phone_session_for(request.user, kind, uid)
    attempt = _open_attempt(session)
    if attempt is None or attempt.stage != phone.FORM:
        messages.error(request, _("The form is not open on this call."))
        return redirect("surveys:call", kind=kind, uid=session.uid)
    form = actions.form_of(session.form)
    current = session.state.get("current")
    if current is None or request.POST.get("question") != current:
        messages.error(request, _("That question was already answered; here is the current one."))
        return redirect("surveys:call", kind=kind, uid=session.uid)
    back = "back" in request.POST
    text, reply_id = phone.answer_event(form.question(current), dict(request.POST.lists()))
    try:
        outcome = phone_actions.answer_on_call(attempt, text, reply_id, request.user, back=back)
    except (phone.CallFlowError, SurveyError) as exc:
        messages.error(request, str(exc))
        return redirect("surveys:call", kind=kind, uid=session.uid)
    if outcome.problem:
        session.refresh_from_db()
        context = _call_context(request, kind, session)
        context["problem"] = str(outcome.prompts[0]["text"]["body"]) if outcome.prompts else ""
        return render(request, "surveys/call.html", context, status=200)
    if outcome.done:
        messages.success(request, _("Survey completed. Thank the person and end the call."))
    return redirect("surveys:call", kind=kind, uid=session.uid)
