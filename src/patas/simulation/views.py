"""The rehearsal chat page: `/try/`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from patas.programs import media as pack_media
from patas.simulation import rehearsal


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    return render(request, "simulation/try.html", {"bubbles": _bubbles(request)})


@login_required
def messages(request: HttpRequest) -> HttpResponse:
    return render(request, "simulation/_bubbles.html", {"bubbles": _bubbles(request)})


@login_required
@require_POST
def send(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("text", "").strip()
    reply_id = request.POST.get("reply_id", "")
    if text or reply_id:
        rehearsal.say(
            request.user, text=text, reply_id=reply_id, title=request.POST.get("title", "")
        )
    return _back(request)


@login_required
@require_POST
def next_day(request: HttpRequest) -> HttpResponse:
    rehearsal.next_day(request.user)
    return _back(request)


@login_required
def media(request: HttpRequest, path: str) -> FileResponse:
    """Media of the content pack, for the chat bubbles (paths are 'program-id/file')."""
    program_id, _, rest = path.partition("/")
    return pack_media.serve(request, program_id, rest)


def _bubbles(request: HttpRequest) -> list[dict[str, object]]:
    return rehearsal.bubbles(request.user)


def _back(request: HttpRequest) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return messages(request)
    return redirect("simulation:try")
