"""The lexicon matcher: true and false positives in both languages, normalisation, speed."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from patas.safety.triage import BUILTIN_DIR, LexiconError, load, normalise, triage

LEXICONS = load([BUILTIN_DIR])
DATA = Path(__file__).parent / "data"


def cats(text: str) -> set[str]:
    return {h.category for h in triage(text, LEXICONS)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("me quiero matar", "self_harm"),
        ("ME KIERO MATARRR", "self_harm"),
        ("ya no quiero vivir", "self_harm"),
        ("la voy a reventar", "threat"),
        ("juro que la m4t0", "threat"),
        ("le saqué la mugre a mi jerma", "violence_disclosed"),
        ("le saque la mugre al chibolo", "child_abuse"),
        ("tengo un fierro en la casa", "weapons"),
        ("I want to kill myself", "self_harm"),
        ("I'm gonna kill her", "threat"),
        ("I hit my wife", "violence_disclosed"),
        ("I have a gun at home", "weapons"),
    ],
)
def test_true_positives(text: str, category: str) -> None:
    assert category in cats(text)


@pytest.mark.parametrize(
    "text",
    [
        "me mata de risa",
        "le pegué al balón",
        "me muero de hambre",
        "Cueva mató el partido",
        "ya no quiero vivir en Lima",
        "toca la guitarra mi hija",
        "killing it",
        "this traffic is killing me",
        "I cut myself shaving lol",
        "my son wants a water gun",
    ],
)
def test_everyday_talk_is_not_flagged(text: str) -> None:
    assert cats(text) == set()


def test_an_idiom_does_not_hide_a_real_threat_elsewhere_in_the_message() -> None:
    assert "threat" in cats("me mata de risa, pero a esa la voy a matar")


def test_normalisation_folds_accents_leet_repeats_and_spelling() -> None:
    assert normalise("Me QUIERO matárrr", "spanish") == normalise("me kiero matar", "spanish")
    assert normalise("k1ll", "none") == normalise("kill", "none")


def test_high_severity_recall_on_the_labelled_set() -> None:
    with (DATA / "labelled.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 300
    high = [r for r in rows if r["severity"] == "high"]
    caught = sum(bool(triage(r["text"], LEXICONS)) for r in high)
    assert caught / len(high) >= 0.95


def test_triage_costs_well_under_a_millisecond() -> None:
    texts = ["hola patas, hoy hice el reto con mi jerma", "me quiero matar", "I hit the ball"] * 100
    start = time.perf_counter()
    for text in texts:
        triage(text, LEXICONS)
    assert (time.perf_counter() - start) / len(texts) < 0.001  # shared machine: a loose bound


def test_a_supervisor_file_extends_the_lexicon(tmp_path: Path) -> None:
    (tmp_path / "es-local.yaml").write_text(
        "language: es\ncategories:\n  threat:\n    high:\n      - la voy a chapar\n",
        encoding="utf-8",
    )
    extended = load([BUILTIN_DIR, tmp_path])
    assert "threat" in {h.category for h in triage("a esa la voy a chapar", extended)}
    assert "threat" not in {h.category for h in triage("a esa la voy a chapar", LEXICONS)}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("language: es\ncategories:\n  rage:\n    high: [x]\n", "unknown category 'rage'"),
        ("language: es\ncategories:\n  threat:\n    urgent: [x]\n", "unknown severity"),
        ("language: es\ncategories:\n  threat:\n    high: ['{nobody} x']\n", "{nobody}"),
        ("language: es\ncategories:\n  threat:\n    high: ['(a|b']\n", "not closed"),
        ("language: es\ncategories:\n  threat:\n    high: ['* x']\n", "gap"),
    ],
)
def test_a_broken_lexicon_file_is_named_with_its_problem(
    tmp_path: Path, body: str, problem: str
) -> None:
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(LexiconError, match="bad.yaml") as error:
        load([tmp_path])
    assert problem in str(error.value)
