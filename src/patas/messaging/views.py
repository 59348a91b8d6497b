"""The console's Sending page: each WhatsApp number's sender, backlog and bulk stop.

Admins and supervisors see it (it holds no personal data); only admins resume bulk sending,
which they should do after checking the number's quality rating in WhatsApp Manager.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patas.core import access, audit, clock
from patas.messaging import actions, status


@login_required
def sending(request: HttpRequest) -> HttpResponse:
    if not access.has_role(request.user, access.ADMIN, access.SUPERVISOR):
        raise PermissionDenied
    now = clock.now()
    rows = [
        (number, number.problems(now), int(number.late_by(now).total_seconds() // 60))
        for number in status.sending_status(now)
    ]
    return render(
        request,
        "messaging/sending.html",
        {
            "rows": rows,
            "now": now,
            "can_resume": access.has_role(request.user, access.ADMIN),
        },
    )


@login_required
@require_POST
def resume(request: HttpRequest, number: str) -> HttpResponse:
    if not access.has_role(request.user, access.ADMIN):
        raise PermissionDenied
    try:
        resumed = actions.resume_bulk_sending(audit.actor_for(request.user), number)
    except actions.UnknownNumber:
        raise PermissionDenied from None
    if resumed:
        messages.success(request, _("Bulk sending resumed on %(number)s.") % {"number": number})
    else:
        messages.info(
            request, _("Bulk sending was not stopped on %(number)s.") % {"number": number}
        )
    return redirect("messaging:sending")
