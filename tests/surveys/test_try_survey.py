"""`patas try-survey`: a form in the terminal, answers from stdin, the result as JSON."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .helpers import SMALL_FORM


def run(path: Path, answers: str, lang: str = "es", monkeypatch=None) -> str:
    out = io.StringIO()
    assert monkeypatch is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    call_command("try_survey", str(path), "--lang", lang, stdout=out)
    return out.getvalue()


def test_runs_the_form_and_prints_answers_as_json(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "small.md"
    path.write_text(SMALL_FORM, encoding="utf-8")
    text = run(path, "abc\n30\nno\n1\n4\nsaltar\nnada\n", monkeypatch=monkeypatch)
    assert "Por favor responde con un número entero" in text
    assert "[1] Sí  [2] No" in text
    result = json.loads(text[text.index("{") :])
    assert result["status"] == "completed"
    assert result["answers"]["topics"] == "none" and result["answers"]["twice"] == "60"


def test_stops_unfinished_at_end_of_input(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "small.md"
    path.write_text(SMALL_FORM, encoding="utf-8")
    text = run(path, "30\n", lang="en", monkeypatch=monkeypatch)
    assert "How old are you?" in text
    assert json.loads(text[text.index("{") :])["status"] == "open"


def test_invalid_form_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text(SMALL_FORM.replace("| integer | age ", "| geopoint | age "))
    with pytest.raises(CommandError, match="survey sheet row 3: type 'geopoint'"):
        call_command("try_survey", str(path))


def test_command_line_exit_code_is_1_on_invalid_form(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text(SMALL_FORM.replace("${age} > 20", "eval(${age})"))
    done = subprocess.run(
        [sys.executable, "-m", "patas", "try-survey", str(path)],
        capture_output=True,
        text=True,
        input="",
    )
    assert done.returncode == 1
    assert "survey sheet row 11" in done.stderr and "'eval' is not supported" in done.stderr
