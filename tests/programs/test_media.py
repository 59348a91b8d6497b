"""Pack media: the links that go in send bodies, and the public route Meta fetches them from."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.checks import run_checks

from patas.programs import day_content, media
from patas.programs.pack import get_pack

DEMO = Path(__file__).parents[2] / "content"
PROGRAM = "hablemos-entre-patas"


@pytest.fixture
def demo(settings):
    settings.CONTENT_DIR = DEMO
    settings.DEFAULT_PROGRAM = PROGRAM
    day_content.clear()
    yield get_pack()
    day_content.clear()


def image_link(pack, day: int = 4) -> str:
    payloads = [p for p, _text in day_content.day_items(pack, day, "es")]
    return next(p["image"]["link"] for p in payloads if p["type"] == "image")


def test_without_a_public_url_links_are_pack_relative(demo, settings):
    settings.PUBLIC_URL = ""
    assert image_link(demo) == f"{PROGRAM}/media/day-04.png"


def test_with_a_public_url_links_point_at_this_servers_media_route(demo, settings, client):
    settings.PUBLIC_URL = "https://patas.example.org"
    link = image_link(demo)
    assert link == f"https://patas.example.org/media/{PROGRAM}/media/day-04.png"
    assert media.relative_of(link) == f"{PROGRAM}/media/day-04.png"
    response = client.get(link.removeprefix("https://patas.example.org"))  # no login: Meta
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "public" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert body == (DEMO / PROGRAM / "media" / "day-04.png").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        f"/media/{PROGRAM}/program.yaml",  # in the pack, but not media
        f"/media/{PROGRAM}/media/../program.yaml",
        f"/media/{PROGRAM}/media/%2e%2e/program.yaml",
        f"/media/{PROGRAM}/media/no-such.png",
        "/media/no-such-program/media/day-04.png",
        f"/media/{PROGRAM}/media",  # a folder
    ],
)
def test_nothing_outside_a_packs_media_folder_is_served(demo, client, path):
    assert client.get(path).status_code == 404


def test_going_live_without_a_public_https_url_warns(settings):
    settings.WHATSAPP_API_URL = "https://graph.facebook.com"
    settings.PUBLIC_URL = ""
    assert "patas.W001" not in [m.id for m in run_checks()]  # the dev token: a local run
    settings.WHATSAPP_ACCESS_TOKEN = "EAAG-a-real-token"
    assert "patas.W001" in [m.id for m in run_checks()]
    settings.PUBLIC_URL = "https://patas.example.org"
    assert "patas.W001" not in [m.id for m in run_checks()]
    settings.WHATSAPP_API_URL = "http://127.0.0.1:9999"  # the fake: relative links are fine
    settings.PUBLIC_URL = ""
    assert "patas.W001" not in [m.id for m in run_checks()]
