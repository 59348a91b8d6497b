"""A small test pack with a trial section and tiny survey forms (written here for the tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from programs.conftest import template, use_pack, write_pack

RUNNER = Path(__file__).resolve().parents[2] / "content/hablemos-entre-patas/surveys/runner.yaml"


def _table(rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def form(form_id: str, questions: list[list[str]], choices: list[list[str]]) -> str:
    head = ["", "type", "name", "label::Español (es)", "label::English (en)", "calculation"]
    survey = [["survey"], head] + [["", *q] for q in questions]
    lists = [["choices"], ["", "list_name", "name", "label::Español (es)", "label::English (en)"]]
    lists += [["", *c] for c in choices]
    settings = [["settings"], ["", "form_id", "version"], ["", form_id, "t1"]]
    return _table(survey) + _table(lists) + _table(settings)


def _choices(name: str, values: list[str]) -> list[list[str]]:
    return [[name, v, f"[es] {v}", f"[en] {v}"] for v in values]


ARGUE = _choices("argue4", ["0", "1", "2", "3"])
SAT = _choices("sat5", ["1", "2", "3", "4", "5"])
FREQ = _choices("freq5", ["1", "2", "3", "4", "5"])
WHO = _choices("who", ["her", "him", "both", "other"])

FORMS = {
    "men_baseline": form(
        "men_baseline",
        [
            ["integer", "age", "¿Edad?", "Age?", ""],
            ["select_one argue4", "conflict_freq", "¿Discuten?", "Argue?", ""],
            ["text", "nickname", "¿Apodo?", "Nickname?", ""],
        ],
        ARGUE,
    ),
    "men_endline": form(
        "men_endline",
        [["select_one sat5", "satisfaction", "¿Satisfecho?", "Satisfied?", ""]],
        SAT,
    ),
}
for _wave in ("partner_baseline", "partner_endline"):
    FORMS[_wave] = form(
        _wave,
        [
            ["select_one freq5", "phy_push", "¿Empujó?", "Pushed?", ""],
            ["calculate", "any_physical", "", "", "if(${phy_push} > 1, 1, 0)"],
            ["select_one who", "dec_food", "¿Quién decide?", "Who decides?", ""],
        ],
        FREQ + WHO,
    )

TRIAL: dict[str, Any] = {
    "name": "test-trial",
    "arms": {"control": 1, "treatment": 1},
    "block_sizes": [2],
    "strata_from": ["conflict_freq"],
    "baseline_wait_hours": 48,
    "endline_after_days": 7,
    "seed": 11,
}


def write_trial_pack(root: Path, settings: Any, days: int = 3, **trial: Any) -> Path:
    templates = {
        "day_opener": template("t_opener", 2),
        "reminder": template("t_rem", 1),
        "survey_invite": template("t_survey", 0),
    }
    folder = write_pack(root, days, templates=templates, trial={**TRIAL, **trial})
    (folder / "surveys").mkdir(exist_ok=True)
    (folder / "surveys" / "runner.yaml").write_text(RUNNER.read_text(encoding="utf-8"))
    for form_id, text in FORMS.items():
        (folder / "surveys" / f"{form_id}.md").write_text(text, encoding="utf-8")
    use_pack(settings, root)
    return folder
