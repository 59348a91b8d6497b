"""A small form with skip logic, constraints, a calculate, a note and every chat rendering."""

from __future__ import annotations

from pathlib import Path

from patas.surveys.form import Form, load_form
from patas.surveys.phrases import RunnerWords, words_for

WORDS_FILE = (
    Path(__file__).resolve().parents[2] / "content/hablemos-entre-patas/surveys/runner.yaml"
)

_ROWS = [
    ["survey"],
    [
        "",
        "type",
        "name",
        "label::Español (es)",
        "label::English (en)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::Español (es)",
        "constraint_message::English (en)",
        "calculation",
    ],
    ["", "note", "hello", "Hola ${intro_name}", "Hello", "", "", "", "", "", ""],
    [
        "",
        "integer",
        "age",
        "¿Qué edad tiene?",
        "How old are you?",
        "yes",
        "",
        ". >= 18 and . <= 60",
        "Debe tener entre 18 y 60 años.",
        "You must be 18 to 60.",
        "",
    ],
    [
        "",
        "select_one yn",
        "partner",
        "¿Tiene pareja?",
        "Do you have a partner?",
        "yes",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "",
        "integer",
        "years",
        "¿Cuántos años juntos?",
        "How many years together?",
        "yes",
        "${partner} = 'yes'",
        ". <= ${age}",
        "No puede ser más que su edad.",
        "Cannot exceed your age.",
        "",
    ],
    [
        "",
        "select_one agree",
        "mood",
        "¿Cómo se siente hoy?",
        "How do you feel today?",
        "yes",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "",
        "select_multiple topics",
        "topics",
        "¿De qué discuten?",
        "What do you argue about?",
        "",
        "",
        "not(selected(., 'none') and count-selected(.) > 1)",
        "Ninguno va solo.",
        "None goes alone.",
        "",
    ],
    ["", "select_one many", "region", "¿Dónde vive?", "Where do you live?", "", "", "", "", "", ""],
    ["", "calculate", "twice", "", "", "", "", "", "", "", "${age} * 2"],
    ["", "calculate", "intro_name", "", "", "", "", "", "", "", "'amigo'"],
    ["", "text", "comment", "¿Algo más?", "Anything else?", "", "${age} > 20", "", "", "", ""],
    ["choices"],
    ["", "list_name", "name", "label::Español (es)", "label::English (en)"],
    ["", "yn", "yes", "Sí", "Yes"],
    ["", "yn", "no", "No", "No"],
    ["", "agree", "a1", "Muy bien", "Very good"],
    ["", "agree", "a2", "Bien", "Good"],
    ["", "agree", "a3", "Regular", "So so"],
    ["", "agree", "a4", "Mal", "Bad"],
    [
        "",
        "agree",
        "a5",
        "Muy mal, con un nombre bastante largo",
        "Very bad, with a rather long name",
    ],
    ["", "topics", "money", "Dinero", "Money"],
    ["", "topics", "kids", "Hijos", "Children"],
    ["", "topics", "chores", "Tareas de la casa", "Housework"],
    ["", "topics", "none", "Ninguno", "None"],
    ["", "many", "r1", "Lima", "Lima"],
    ["", "many", "r2", "Arequipa", "Arequipa"],
    ["", "many", "r3", "Cusco", "Cusco"],
    ["", "many", "r4", "Piura", "Piura"],
    ["", "many", "r5", "Loreto", "Loreto"],
    ["", "many", "r6", "Junín", "Junin"],
    ["", "many", "r7", "Puno", "Puno"],
    ["", "many", "r8", "Ica", "Ica"],
    ["", "many", "r9", "Tacna", "Tacna"],
    ["", "many", "r10", "Áncash", "Ancash"],
    ["", "many", "r11", "Otra", "Other"],
    ["settings"],
    ["", "form_id", "version", "form_title", "default_language"],
    ["", "small", "1", "Small", "Español (es)"],
]


def _markdown(rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n"


SMALL_FORM = _markdown(_ROWS)


def small_form() -> Form:
    return load_form(SMALL_FORM.encode(), file_name="small.md")


def words(lang: str = "es") -> RunnerWords:
    return words_for(lang, WORDS_FILE)
