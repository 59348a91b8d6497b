"""`patas lint-content`: exit status and output, and the demo pack's shape."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from patas.programs.pack import load_pack
from patas.programs.schema_doc import field_table

FIXTURE = Path(__file__).parents[1] / "fixtures" / "packs" / "minimal"
DEMO = Path(__file__).parents[2] / "content" / "hablemos-entre-patas"


def test_the_command_exits_0_on_the_demo_pack():
    out = StringIO()
    call_command("lint_content", str(DEMO), stdout=out)
    assert "is a valid content pack" in out.getvalue()


def test_the_command_exits_1_with_one_line_per_problem(tmp_path: Path):
    root = tmp_path / "pack"
    shutil.copytree(FIXTURE, root)
    day = root / "days" / "day-02.yaml"
    day.write_text(day.read_text(encoding="utf-8").replace("module: end", "module: nowhere"))
    (root / "surveys" / "baseline.md").unlink()
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("lint_content", str(root), stdout=out)
    assert exit_info.value.code == 1
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        f"{day}:2: module: unknown module 'nowhere' (program.yaml modules: start, end)",
        f"{root / 'program.yaml'}:47: surveys.baseline: survey file 'surveys/baseline.md' "
        "does not exist in the pack",
    ]
    assert lines[2] == f"2 problem(s) in {root}"


def test_the_command_prints_the_schema_field_table():
    out = StringIO()
    call_command("lint_content", "--schema", stdout=out)
    text = out.getvalue()
    assert "### Program" in text and "### CheckIn" in text
    assert "| `consent_version` | str | required |" in text


def test_the_demo_pack_has_30_days_each_with_an_expert_a_challenge_and_a_checkin():
    pack = load_pack(DEMO)
    assert sorted(pack.days) == list(range(1, 31))
    for number, day in pack.days.items():
        assert 2 <= len(day.messages) <= 4, number
        experts = [item for item in day.messages if item.expert]
        assert experts and all(item.file and item.transcript for item in experts), number
        assert day.checkin is not None and [b.id for b in day.checkin.buttons] == [
            "done",
            "partly",
            "not_yet",
        ]
    with_reflection = [n for n, day in pack.days.items() if day.reflection]
    assert len(with_reflection) >= 25


def test_the_demo_pack_follows_the_programs_day_map():
    pack = load_pack(DEMO)
    module_of = {n: day.module for n, day in pack.days.items()}
    assert module_of[1] == "welcome"
    assert {module_of[n] for n in range(2, 15)} == {"communication"}
    assert {module_of[n] for n in range(15, 23)} == {"health"}
    assert {module_of[n] for n in (23, 24, 27, 28)} <= {"finances", "finances_plan"}
    assert {module_of[n] for n in (25, 26)} == {"home"}
    assert {module_of[n] for n in (29, 30)} == {"closing"}
    assert pack.program.intake.partner_consent is False
    assert [h.contact for h in pack.program.helplines["PE"]][0] == "100"


def test_the_content_guide_carries_the_current_field_table():
    guide = Path(__file__).parents[2] / "docs" / "content-guide.md"
    assert field_table() in guide.read_text(encoding="utf-8"), (
        "regenerate the table: patas lint-content --schema"
    )
