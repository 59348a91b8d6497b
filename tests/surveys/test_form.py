"""Loading XLSForms with pyxform into our model, and refusing what we cannot run, by row."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from patas.surveys.form import FormError, load_form

from .helpers import SMALL_FORM, small_form

PACK = Path(__file__).resolve().parents[2] / "content/hablemos-entre-patas/surveys"


def test_small_form_reads_into_our_model() -> None:
    form = small_form()
    assert (form.form_id, form.version, form.title) == ("small", "1", "Small")
    assert form.default_lang == "es" and set(form.languages) == {"es", "en"}
    age = form.question("age")
    assert age.type == "integer" and age.row == 3 and age.required is not None
    assert age.constraint_message == {
        "es": "Debe tener entre 18 y 60 años.",
        "en": "You must be 18 to 60.",
    }
    years = form.question("years")
    assert len(years.relevant) == 1
    assert [c.name for c in form.question("partner").choices] == ["yes", "no"]
    assert form.question("partner").choices[0].label_for("en") == "Yes"
    assert form.question("topics").type == "select_multiple"
    assert form.question("twice").calculation is not None
    assert form.question("region").required is None


@pytest.mark.parametrize(
    "name", ["men_baseline", "men_endline", "partner_baseline", "partner_endline"]
)
def test_demo_instruments_load_in_both_languages(name: str) -> None:
    form = load_form(PACK / f"{name}.md")
    assert form.form_id == name
    assert set(form.languages) == {"es", "en"}
    for q in form.questions:
        if q.answered or q.type == "note":
            assert q.label.get("es") and q.label.get("en"), q.name


def test_demo_partner_forms_never_name_violence_in_the_title() -> None:
    for name in ("partner_baseline", "partner_endline"):
        title = load_form(PACK / f"{name}.md").title.lower()
        assert "violencia" not in title and "violence" not in title


def _replace(old: str, new: str) -> bytes:
    assert old in SMALL_FORM
    return SMALL_FORM.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            _replace("| integer | age ", "| geopoint | age "),
            "small.md: survey sheet row 3: type 'geopoint' is not supported",
        ),
        (
            _replace("${age} > 20", "foo(${age})"),
            "survey sheet row 11: relevant 'foo(${age})': function 'foo' is not supported",
        ),
        (
            _replace(". >= 18 and . <= 60", ". >= 18 and"),
            "survey sheet row 3: constraint '. >= 18 and': the expression ends too early",
        ),
        (_replace("${age} * 2", "/data/age * 2"), "survey sheet row 9: calculation"),
        (_replace("Hola ${intro_name}", "Hola ${nobody}"), "[row : 2] On the 'survey' sheet"),
        (_replace("${partner} = 'yes'", "${nobody} = 'yes'"), "row : 5"),
    ],
)
def test_invalid_forms_name_the_row(source: bytes, message: str) -> None:
    with pytest.raises(FormError) as caught:
        load_form(source, file_name="small.md")
    assert message in str(caught.value)


def test_repeat_is_refused_with_its_row() -> None:
    source = _replace(
        "|  | text | comment ",
        "|  | begin_repeat | kids | Hijos | Kids | | | | | | |\n"
        "|  | text | kid | Nombre | Name | | | | | | |\n"
        "|  | end_repeat | | | | | | | | | |\n"
        "|  | text | comment ",
    )
    with pytest.raises(FormError, match=r"survey sheet row 11: type 'repeat \(begin_repeat\)'"):
        load_form(source, file_name="small.md")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="file not found"):
        load_form(tmp_path / "nope.xlsx")


def test_xlsx_and_csv_read_the_same_way(tmp_path: Path) -> None:
    survey = [
        ["type", "name", "label", "constraint", "required"],
        ["integer", "kids", "How many children?", ". < 20", "yes"],
        ["select_one yn", "ok", "All good?", "", ""],
    ]
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    other = book.create_sheet("choices")
    for row in choices:
        other.append(row)
    xlsx = tmp_path / "tiny.xlsx"
    book.save(xlsx)
    lines = ["survey," + ",".join(survey[0])]
    lines += ["," + ",".join(r) for r in survey[1:]]
    lines += ["choices," + ",".join(choices[0])] + ["," + ",".join(r) for r in choices[1:]]
    csv = tmp_path / "tiny.csv"
    csv.write_text("\n".join(lines) + "\n")
    for path in (xlsx, csv):
        form = load_form(path)
        assert [q.name for q in form.questions] == ["kids", "ok"]
        assert form.question("kids").constraint is not None
        assert form.question("ok").choices[1].label_for("default") == "No"
