"""The day preview: plain data for the console, and rich bubbles in the terminal."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rich.console import Console

from patas.programs.pack import load_pack
from patas.programs.preview import as_data, day_bubbles, message_bubbles, render

DEMO = Path(__file__).parents[2] / "content" / "hablemos-entre-patas"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "packs" / "minimal"


def test_day_bubbles_follow_the_order_he_receives_them_in():
    bubbles = day_bubbles(load_pack(FIXTURE), 1, "es", name="Beto")
    assert [b.kind for b in bubbles] == [
        "template",
        "text",
        "image",
        "challenge",
        "checkin",
        "reflection",
    ]
    assert bubbles[0].text == "Hola Beto, día 1." and bubbles[0].buttons == ("Abrir",)
    assert bubbles[1].text == "Hola, día uno."
    assert (bubbles[2].file, bubbles[2].caption, bubbles[2].expert) == (
        "media/card.png",
        "Una tarjeta.",
        "Psicóloga",
    )
    assert bubbles[3].text == "Respira tres veces."
    assert bubbles[4].buttons == ("¡Lo hice!", "A medias", "Todavía no")
    assert bubbles[5].to_group and bubbles[5].text == "¿Qué sentiste?"


def test_a_day_without_checkin_or_reflection_has_no_such_bubbles():
    kinds = [b.kind for b in day_bubbles(load_pack(FIXTURE), 2, "en")]
    assert kinds == ["template", "text", "challenge"]


def test_plain_data_is_json_ready():
    data = as_data(day_bubbles(load_pack(FIXTURE), 1, "en"))
    assert json.loads(json.dumps(data))[4]["buttons"] == ["I did it!", "Partly", "Not yet"]


def test_message_bubbles_show_a_system_text_with_its_buttons():
    [bubble] = message_bubbles(load_pack(FIXTURE), "consent", "en")
    assert bubble.text == "Consent {version}" and bubble.buttons == ("I agree", "No")


def test_render_draws_the_days_texts_and_buttons():
    pack = load_pack(DEMO)
    out = StringIO()
    render(day_bubbles(pack, 4, "es"), Console(file=out, width=420, color_system=None), width=400)
    text = out.getvalue()
    day = pack.day(4)
    for value in (day.messages[0].text["es"], day.challenge.text["es"], day.checkin.text["es"]):
        assert value in text
    assert "[ ¡Lo hice! ]  [ A medias ]  [ Todavía no ]" in text
    assert "[ Abrir el día ]" in text


def test_the_command_previews_a_day_in_english():
    out = StringIO()
    call_command("preview_content", str(DEMO), day=3, lang="en", width=200, stdout=out)
    text = out.getvalue()
    assert "three deep breaths before you answer" in text
    assert "[ I did it! ]" in text and "Day 3 of Let's Talk, Buddies" in text


@pytest.mark.parametrize(
    ("options", "message"),
    [({"day": 31}, "--day must be one of 1..30"), ({"day": 1, "lang": "fr"}, "'fr' is not one of")],
)
def test_the_command_rejects_an_unknown_day_or_language(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("preview_content", str(DEMO), stdout=StringIO(), **options)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_demo_day_previews_completely_in_each_language(lang):
    pack = load_pack(DEMO)
    for number in range(1, 31):
        bubbles = day_bubbles(pack, number, lang)
        assert all(b.text or b.caption for b in bubbles), number
        assert not any("{" in (b.text + b.caption) for b in bubbles), number
        assert any(b.kind == "checkin" and len(b.buttons) == 3 for b in bubbles), number
