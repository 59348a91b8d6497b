"""The packs' media files: the link Meta fetches them from, and the view that serves them.

WhatsApp's send API takes media by `link` (a public HTTPS URL Meta downloads) or by an uploaded
id. patas uses links: each pack's `media/` folder is served at `/media/<program>/<file>`, without
login (Meta's servers fetch it; program content is not personal data), and `PATAS_PUBLIC_URL` says
where this server is reachable. Links are built when a day's payloads are built.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.http import FileResponse, Http404, HttpRequest

from patas.programs.pack import PackError, get_pack

PREFIX = "/media/"
CACHE_SECONDS = 24 * 3600  # Meta caches media too; a changed file should get a new name


def link(program_id: str, file: str) -> str:
    """The link that goes in a send body for `file` (relative to the pack's root)."""
    relative = f"{program_id}/{file}"
    return f"{settings.PUBLIC_URL}{PREFIX}{relative}" if settings.PUBLIC_URL else relative


def relative_of(url: str) -> str:
    """`program/file` of a link built by `link` (what the rehearsal chat shows)."""
    public = f"{settings.PUBLIC_URL}{PREFIX}"
    return url[len(public) :] if settings.PUBLIC_URL and url.startswith(public) else url


def file_of(program_id: str, file: str) -> Path:
    """The pack file behind a media link; Http404 for anything outside the pack's media/."""
    try:
        root = get_pack(program_id or None).root.resolve()
    except PackError:
        raise Http404 from None
    target = (root / file).resolve()
    if (root / "media") not in target.parents or not target.is_file():
        raise Http404
    return target


def serve(request: HttpRequest, program_id: str, file: str) -> FileResponse:
    """GET /media/<program>/<file>: a pack's media file, public so that Meta can fetch it."""
    target = file_of(program_id, file)
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    response = FileResponse(target.open("rb"), content_type=kind)
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@register("patas")
def check_public_url(**_: object) -> list[CheckMessage]:
    """Warn before going live with media links that Meta could not fetch."""
    # Going live = Meta's Graph API with a real token (the dev default token is for local runs).
    real_meta = "graph.facebook.com" in settings.WHATSAPP_API_URL
    real_meta = real_meta and settings.WHATSAPP_ACCESS_TOKEN != "dev-access-token"
    if real_meta and not settings.PUBLIC_URL.startswith("https://"):
        return [
            Warning(
                "PATAS_PUBLIC_URL is not an https:// address: media messages would carry links "
                "Meta cannot fetch.",
                hint="Set PATAS_PUBLIC_URL=https://your-host (docs/going-live.md).",
                id="patas.W001",
            )
        ]
    return []
