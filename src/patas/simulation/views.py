"""The rehearsal chat page: `/try/`."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from patas.programs.pack import PackError, get_pack
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
    """Media of the content pack, for the chat bubbles (links are 'program-id/file')."""
    program_id, _, rest = path.partition("/")
    try:
        root = get_pack(program_id or None).root.resolve()
    except PackError:
        raise Http404 from None
    target = (root / rest).resolve()
    if (root / "media") not in target.parents or not target.is_file():
        raise Http404
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(Path(target).open("rb"), content_type=kind)


def _bubbles(request: HttpRequest) -> list[dict[str, object]]:
    return [rehearsal.bubble(m) for m in rehearsal.thread(request.user)]


def _back(request: HttpRequest) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return messages(request)
    return redirect("simulation:try")
