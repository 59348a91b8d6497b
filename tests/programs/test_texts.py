import pytest

from patas.programs.texts import render


def test_render_fills_placeholders():
    assert (
        render("Hola {pseudonym}, somos {size}", pseudonym="Puma", size=50) == "Hola Puma, somos 50"
    )


def test_a_placeholder_without_a_value_is_an_error_not_a_leak():
    with pytest.raises(KeyError, match="name"):
        render("Hola {name}")


def test_text_without_placeholders_is_unchanged():
    assert render("Hola causa") == "Hola causa"
