"""Console pages: access by role, rendering, CSV and QR downloads, spend upload."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patas.core.models import AuditEntry
from patas.recruitment.models import Source, SpendEntry
from recruitment.world import PASSWORD, build, make_user

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent.parent / "fixtures" / "recruitment"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


PAGES = ["", "sources/", "spend/", "costs/", "variants/", "csv/funnel.csv", "chart/funnel.svg"]


def login(client, username, *roles):
    make_user(username, *roles)
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.mark.parametrize("role", ["facilitator", "enumerator", None])
def test_other_roles_get_not_found(client, role, vclock):
    login(client, "someone", *([role] if role else []))
    for page in PAGES:
        assert client.get(f"/dashboard/{page}").status_code == 404, page


def test_anonymous_is_sent_to_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", ["researcher", "supervisor", "admin"])
def test_dashboard_roles_see_every_page(client, role, vclock):
    build()
    login(client, "reader", role)
    for page in PAGES:
        assert client.get(f"/dashboard/{page}").status_code == 200, page


def test_dashboard_shows_arms_and_partners_to_researchers_only(client, vclock):
    build()
    login(client, "res", "researcher")
    page = client.get("/dashboard/").content.decode()
    assert "partners_share" in page and "treatment" in page and "FB-A" in page
    client.logout()
    login(client, "sup", "supervisor")
    page = client.get("/dashboard/").content.decode()
    assert "partners_share" not in page and "treatment" not in page
    assert "partners" not in client.get("/dashboard/csv/surveys.csv").content.decode()


def test_csv_download(client, vclock):
    build()
    login(client, "res", "researcher")
    response = client.get("/dashboard/csv/funnel.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="funnel.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("source,clicks,first_message")
    assert lines[1].startswith("FB-A,50,5,4,3,3,3,1,100.00,33.33,100.00")
    assert client.get("/dashboard/csv/nope.csv").status_code == 404


def test_create_source_and_download_its_qr(client, vclock):
    login(client, "res", "researcher")
    response = client.post("/dashboard/sources/", {"code": "ig-b2", "name": "Reel", "kind": "ad"})
    assert response.status_code == 302
    assert Source.objects.get(code="IG-B2").name == "Reel"
    assert AuditEntry.objects.filter(action="recruitment.source_created", actor="user:res").exists()
    again = client.post("/dashboard/sources/", {"code": "IG-B2", "name": "x", "kind": "ad"})
    assert "already exists" in again.content.decode() and Source.objects.count() == 1
    page = client.get("/dashboard/sources/?phone=%2B51999888777").content.decode()
    assert "https://wa.me/51999888777?text=" in page and "IG-B2" in page
    png = client.get("/dashboard/sources/IG-B2/qr.png?phone=51999888777")
    assert png.content.startswith(b"\x89PNG")
    svg = client.get("/dashboard/sources/IG-B2/qr.svg?phone=51999888777")
    assert b"<svg" in svg.content
    assert client.get("/dashboard/sources/IG-B2/qr.gif?phone=1").status_code == 404


def test_spend_upload_imports_all_rows(client, vclock):
    login(client, "res", "researcher")
    upload = SimpleUploadedFile("en.csv", (FIXTURES / "ads-manager-en.csv").read_bytes())
    response = client.post("/dashboard/spend/", {"file": upload})
    assert response.status_code == 302 and SpendEntry.objects.count() == 3


def test_a_broken_spend_file_says_why_and_imports_nothing(client, vclock):
    login(client, "res", "researcher")
    upload = SimpleUploadedFile("x.csv", (FIXTURES / "not-ads-manager.csv").read_bytes())
    response = client.post("/dashboard/spend/", {"file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert "missing columns" in text and "Nothing was imported" in text
    assert SpendEntry.objects.count() == 0


def test_manual_spend_entry(client, vclock):
    login(client, "res", "researcher")
    source = Source.objects.create(code="INF-9", name="Influencer", kind="influencer")
    data = {
        "source": source.pk,
        "amount": "25.50",
        "starts": "2026-03-01",
        "ends": "2026-03-31",
        "note": "fee",
    }
    assert client.post("/dashboard/spend/", data).status_code == 302
    assert SpendEntry.objects.get().origin == "manual"
    bad = client.post("/dashboard/spend/", {**data, "ends": "2026-02-01"})
    assert "ends before it starts" in bad.content.decode() and SpendEntry.objects.count() == 1


def test_costs_page_projects_for_n_men(client, vclock):
    build()
    login(client, "res", "researcher")
    page = client.get("/dashboard/costs/?men=5000").content.decode()
    assert "5000 men, live relay" in page and "whatsapp" in page


def test_variants_page_compares_ads(client, vclock):
    build()
    login(client, "res", "researcher")
    page = client.get("/dashboard/variants/").content.decode()
    assert "FB-A" in page and "INF-1" not in page  # influencers are not ad variants


def test_pages_speak_spanish(client, settings, vclock):
    settings.LANGUAGE_CODE = "es"
    login(client, "res", "researcher")
    page = client.get("/dashboard/").content.decode()
    assert "Tablero del programa" in page and "Embudo de reclutamiento por fuente" in page
    upload = SimpleUploadedFile("x.csv", (FIXTURES / "not-ads-manager.csv").read_bytes())
    assert (
        "No se importó nada" in client.post("/dashboard/spend/", {"file": upload}).content.decode()
    )


def test_the_page_keeps_its_figures_for_a_while(client, vclock):
    login(client, "res", "researcher")
    assert "<td>FB-A</td>" not in client.get("/dashboard/").content.decode()
    build()
    assert "<td>FB-A</td>" not in client.get("/dashboard/").content.decode()  # cached
    assert "<td>FB-A</td>" in client.get("/dashboard/?fresh=1").content.decode()
