"""Console pages: the dashboard, sources, spend import, costs and the ad-variant comparison.

Dashboard pages are for researchers, supervisors and admins (`patas.core.access`); anyone
else gets the same 404 as a missing page. Arms and partners' answers: researchers only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from patas.core import access, audit
from patas.recruitment import actions, bayes, charts, dashboard, funnel, links, snapshot
from patas.recruitment.codes import prefill
from patas.recruitment.cost_counts import cost_report
from patas.recruitment.forms import ManualSpendForm, ProjectionForm, SourceForm, SpendUploadForm
from patas.recruitment.models import Source, SpendEntry
from patas.recruitment.spend import SpendFileError

READERS = (access.ADMIN, access.SUPERVISOR, access.RESEARCHER)


def viewer_for(user: Any) -> dashboard.Viewer:
    """Who may read the dashboard, and what of it; everyone else: 404."""
    access.require(access.has_role(user, *READERS))
    researcher = access.has_role(user, access.RESEARCHER)
    return dashboard.Viewer(show_arm=researcher, show_partners=access.can_export_partner_data(user))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request.user)
    computed, tables = snapshot.tables_for(viewer, fresh="fresh" in request.GET)
    context = {
        "tables": tables,
        "summary": dashboard.summary(tables),
        "static": False,
        "computed": computed,
        "stale": snapshot.is_stale(computed),
        "every": snapshot.REFRESH.seconds // 60,
    }
    return render(request, "recruitment/dashboard.html", context)


def _table(request: HttpRequest, key: str) -> dashboard.Table:
    viewer = viewer_for(request.user)
    _computed, tables = snapshot.tables_for(viewer)
    found = next((t for t in tables if t.key == key), None)
    if found is None:
        raise Http404("not found")
    return found


@login_required
def chart(request: HttpRequest, key: str) -> HttpResponse:
    return HttpResponse(charts.render(_table(request, key)), content_type="image/svg+xml")


@login_required
def table_csv(request: HttpRequest, key: str) -> HttpResponse:
    response = HttpResponse(_table(request, key).csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
    return response


def _link(source: Source, phone: str) -> str:
    if not phone:
        return ""
    from patas.programs.pack import get_pack

    pack = get_pack()
    try:
        phrase = pack.text("link_prefill", pack.program.default_language)
    except KeyError:
        phrase = ""
    return links.wa_link(phone, prefill(source.code, phrase))


def _phone(request: HttpRequest) -> str:
    return request.GET.get("phone", "") or getattr(settings, "WHATSAPP_DISPLAY_PHONE", "")


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    viewer_for(request.user)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.create_source(actor=audit.actor_for(request.user), **data)
        messages.success(request, _("Source %(code)s created.") % {"code": data["code"]})
        return redirect("recruitment:sources")
    phone = _phone(request)
    rows = [(s, _link(s, phone)) for s in Source.objects.order_by("code")]
    return render(request, "recruitment/sources.html", {"form": form, "rows": rows, "phone": phone})


@login_required
def source_qr(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    viewer_for(request.user)
    if fmt not in ("png", "svg"):
        raise Http404("not found")
    source = get_object_or_404(Source, code=code.upper())
    link = _link(source, _phone(request))
    if not link:
        raise Http404("no phone number for the link")
    if fmt == "png":
        body, kind = links.qr_png(link), "image/png"
    else:
        body, kind = links.qr_svg(link), "image/svg+xml"
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{source.code}.{fmt}"'
    return response


@login_required
def spend(request: HttpRequest) -> HttpResponse:
    viewer_for(request.user)
    upload = SpendUploadForm()
    manual = ManualSpendForm()
    error = ""
    actor = audit.actor_for(request.user)
    if request.method == "POST" and "file" in request.FILES:
        upload = SpendUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            handle = upload.cleaned_data["file"]
            try:
                count = actions.import_spend(handle.read(), handle.name, actor=actor)
            except SpendFileError as exc:
                error = _("%(error)s. Nothing was imported.") % {"error": exc}
            else:
                messages.success(request, _("Imported %(n)s rows.") % {"n": count})
                return redirect("recruitment:spend")
    elif request.method == "POST":
        manual = ManualSpendForm(request.POST)
        if manual.is_valid():
            d = manual.cleaned_data
            actions.add_manual_spend(
                d["source"], d["amount"], d["starts"], d["ends"], d["note"], actor=actor
            )
            messages.success(request, _("Spend entry added."))
            return redirect("recruitment:spend")
    entries = SpendEntry.objects.select_related("source").order_by("-imported_at", "-id")[:200]
    context = {"upload": upload, "manual": manual, "error": error, "entries": entries}
    return render(request, "recruitment/spend.html", context, status=400 if error else 200)


@login_required
def costs_page(request: HttpRequest) -> HttpResponse:
    viewer_for(request.user)
    form = ProjectionForm(request.GET or None)
    men = form.cleaned_data["men"] if form.is_valid() else 100_000
    computed = snapshot.read("costs", fresh="fresh" in request.GET)
    report = cost_report(men, measured_now=computed.value)
    rows = [
        (
            item,
            report.actual.items[item],
            report.live.items[item] if report.live else None,
            report.digest.items[item] if report.digest else None,
        )
        for item in report.actual.items
    ]
    context = {"form": form, "report": report, "rows": rows, "computed": computed}
    context |= {"stale": snapshot.is_stale(computed), "every": snapshot.REFRESH.seconds // 60}
    return render(request, "recruitment/costs.html", context)


def variant_rows() -> list[bayes.Comparison]:
    """Ad sources compared: P(best) at cost per enrolled man and at completion."""
    rows = [r for r in funnel.funnel() if r.kind == Source.Kind.AD and (r.spend or r.enrolled)]
    variants = [bayes.Variant(r.code, float(r.spend), r.enrolled, r.completed) for r in rows]
    return bayes.compare(variants)


@login_required
def variants(request: HttpRequest) -> HttpResponse:
    viewer_for(request.user)
    return render(request, "recruitment/variants.html", {"rows": variant_rows()})
