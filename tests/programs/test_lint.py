"""The content linter: the demo pack passes; each kind of problem names its file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from patas.programs.lint import lint_pack

FIXTURE = Path(__file__).parents[1] / "fixtures" / "packs" / "minimal"
DEMO = Path(__file__).parents[2] / "content" / "hablemos-entre-patas"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(FIXTURE, root)
    return root


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {relative}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(root: Path, relative: str, needle: str) -> int:
    """The first line containing `needle`; "A >> B" means the first B at or after A."""
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    start = 1
    if " >> " in needle:
        anchor, needle = needle.split(" >> ")
        start = line_of(root, relative, anchor)
    return next(n for n, line in enumerate(lines, 1) if n >= start and needle in line)


def problems(root: Path) -> list[str]:
    return [str(problem) for problem in lint_pack(root)]


def assert_problem(root: Path, relative: str, needle: str, key_path: str, what: str) -> None:
    expected = f"{root / relative}:{line_of(root, relative, needle)}: {key_path}: "
    found = problems(root)
    assert any(line.startswith(expected) and what in line for line in found), (expected, found)


def test_the_demo_pack_passes():
    assert problems(DEMO) == []


def test_a_pack_with_a_trial_must_answer_men_between_surveys(tmp_path: Path):
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    start = line_of(root, "messages.yaml", "between_surveys:")
    lines = (root / "messages.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    end = next(n for n in range(start, len(lines)) if lines[n].strip() == "")
    (root / "messages.yaml").write_text("".join(lines[: start - 1] + lines[end + 1 :]), "utf-8")
    assert any("message 'between_surveys' is missing" in line for line in problems(root))


def test_the_minimal_fixture_passes(pack: Path):
    assert problems(pack) == []


# (file, text to replace, replacement, line containing, key path, what is wrong)
ONE_PROBLEM = [
    pytest.param(
        "days/day-02.yaml",
        "module: end",
        "module: end: x",
        "module: end: x",
        "(file)",
        "not valid YAML",
        id="yaml-syntax",
    ),
    pytest.param(
        "days/day-02.yaml",
        "  - id: d2-intro\n",
        "  - id: d2-intro\n    colour: red\n",
        "colour: red",
        "messages.0.colour",
        "Extra inputs",
        id="schema-extra-field",
    ),
    pytest.param(
        "days/day-02.yaml",
        "day: 2",
        "day: two",
        "day: two",
        "day",
        "valid integer",
        id="schema-type",
    ),
    pytest.param(
        "days/day-02.yaml",
        "title: {es: Dos, en: Two}",
        "title: {es: Dos}",
        "title:",
        "title",
        "missing language(s): en",
        id="missing-language",
    ),
    pytest.param(
        "days/day-02.yaml",
        "title: {es: Dos, en: Two}",
        "title: {es: Dos, en: Two, fr: Deux}",
        "title:",
        "title.fr",
        "'fr' is not one of the program's languages",
        id="unknown-language",
    ),
    pytest.param(
        "days/day-02.yaml",
        "text: {es: Día dos., en: Day two.}",
        "text: {es: " + "x" * 4097 + ", en: Day two.}",
        "xxxx",
        "messages.0.text.es",
        "4097 characters; WhatsApp allows at most 4096 in a text",
        id="text-4096",
    ),
    pytest.param(
        "days/day-01.yaml",
        "caption: {es: Una tarjeta., en: A card.}",
        "caption: {es: Una tarjeta., en: " + "c" * 1025 + "}",
        "caption:",
        "messages.1.caption.en",
        "1025 characters; WhatsApp allows at most 1024 in a caption",
        id="caption-1024",
    ),
    pytest.param(
        "days/day-01.yaml",
        "en: Partly}",
        "en: Partly but not everything}",
        "Partly but",
        "checkin.buttons.1.title.en",
        "at most 20 in a button title",
        id="button-title-20",
    ),
    pytest.param(
        "days/day-01.yaml",
        "{id: not_yet,",
        "{id: later, title: {es: Luego, en: Later}}\n    - {id: not_yet,",
        "buttons:",
        "checkin.buttons",
        "4 buttons; WhatsApp allows 1 to 3",
        id="four-buttons",
    ),
    pytest.param(
        "days/day-01.yaml",
        'text: {es: "¿Lo hiciste?"',
        'text: {es: "' + "y" * 1025 + '"',
        "yyyy",
        "checkin.text.es",
        "at most 1024 in a interactive body",
        id="interactive-body-1024",
    ),
    pytest.param(
        "days/day-01.yaml",
        "file: media/card.png",
        "file: media/nope.png",
        "media/nope.png",
        "messages.1.file",
        "'media/nope.png' does not exist",
        id="media-missing",
    ),
    pytest.param(
        "days/day-01.yaml",
        "file: media/card.png",
        "file: ../../etc/passwd",
        "etc/passwd",
        "messages.1.file",
        "outside the pack folder",
        id="media-outside",
    ),
    pytest.param(
        "program.yaml",
        "baseline: surveys/baseline.md",
        "baseline: surveys/gone.md",
        "surveys/gone.md",
        "surveys.baseline",
        "'surveys/gone.md' does not exist",
        id="survey-missing",
    ),
    pytest.param(
        "program.yaml",
        "  survey_invite:",
        "  survey_invitation:",
        "templates:",
        "templates",
        "no template for role 'survey_invite'",
        id="template-role-missing",
    ),
    pytest.param(
        "program.yaml",
        'es: "Hola {{1}}, día {{2}}."',
        'es: "Hola {{1}}, día {{3}}."',
        "día {{3}}",
        "templates.day_opener.body.es",
        "variables must be {{1}}..{{2}}",
        id="template-variables",
    ),
    pytest.param(
        "days/day-02.yaml",
        "  - id: d2-intro",
        "  - id: d1-intro",
        "id: d1-intro",
        "messages.0.id",
        "id 'd1-intro' is already used at",
        id="duplicate-id",
    ),
    pytest.param(
        "days/day-02.yaml",
        "module: end",
        "module: middle",
        "module: middle",
        "module",
        "unknown module 'middle'",
        id="unknown-module",
    ),
    pytest.param(
        "program.yaml",
        "evening: 19",
        "evening: 22",
        "evening: 22",
        "send_hours.evening",
        "22:00 falls inside quiet hours 21:30-07:30",
        id="send-hour-in-quiet-hours",
    ),
    pytest.param(
        "program.yaml",
        'start: "21:30"',
        'start: "25:00"',
        'start: "25:00"',
        "quiet_hours.start",
        "not a time as HH:MM",
        id="quiet-hours-format",
    ),
    pytest.param(
        "program.yaml",
        "time_zone: America/Lima",
        "time_zone: America/Atlantis",
        "time_zone",
        "time_zone",
        "not an IANA time zone",
        id="time-zone",
    ),
    pytest.param(
        "messages.yaml",
        "miss_you: {text: {es: Te extrañamos., en: We miss you.}}\n",
        "",
        "welcome",
        "(file)",
        "message 'miss_you' is missing",
        id="contract-message-missing",
    ),
    pytest.param(
        "messages.yaml",
        "{id: decline,",
        "{id: refuse,",
        "consent: >> buttons:",
        "consent.buttons",
        "button ids must be accept, decline",
        id="contract-buttons",
    ),
    pytest.param(
        "days/day-02.yaml",
        "text: {es: Día dos., en: Day two.}",
        'text: {es: "Día dos, {name}.", en: Day two.}',
        "{name}",
        "messages.0.text.es",
        "placeholder {name} has no value here and would leak",
        id="placeholder-leak-in-day",
    ),
    pytest.param(
        "messages.yaml",
        'es: "Empiezas el {start}."',
        'es: "Empiezas el {begin}."',
        "{begin}",
        "enrolled.text.es",
        "(allowed: {start})",
        id="placeholder-not-allowed-for-key",
    ),
    pytest.param(
        "messages.yaml",
        "welcome: {text: {es: Hola,",
        'welcome: {text: {es: "Hola {{1}}",',
        "welcome:",
        "welcome.text.es",
        "only work in program.yaml templates",
        id="template-variable-outside-template",
    ),
    pytest.param(
        "messages.yaml",
        'es: "Llama: {helplines}"',
        'es: "Llama a la línea 100"',
        "safety_helpline",
        "safety_helpline.text.es",
        "must show {helplines}",
        id="must-show-placeholder",
    ),
    pytest.param(
        "days/day-02.yaml",
        "text: {es: Día dos., en: Day two.}",
        'text: {es: "Día {dos.", en: Day two.}',
        "{dos",
        "messages.0.text.es",
        "unbalanced braces",
        id="unbalanced-braces",
    ),
    pytest.param(
        "messages.yaml",
        "es: Estudio de bienestar familiar.",
        "es: Estudio sobre la AGRESION en casa.",
        "AGRESION",
        "partner_invitation.text.es",
        "uses 'agresión', which must never reach a partner",
        id="partner-forbidden-word",
    ),
    pytest.param(
        "messages.yaml",
        "partner_invitation:",
        "welcome: {text: {es: Otra, en: Other}}\npartner_invitation:",
        "welcome: {text: {es: Otra",
        "welcome",
        "key 'welcome' appears twice",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        "days/day-02.yaml",
        "    text: {es: Día dos., en: Day two.}",
        "    text: {es: Día dos., en: Day two.}\n    caption: {es: Pie, en: Caption}",
        "caption:",
        "messages.0.caption",
        "no caption on a text message",
        id="caption-on-text",
    ),
]


@pytest.mark.parametrize(("relative", "old", "new", "needle", "key_path", "what"), ONE_PROBLEM)
def test_each_kind_of_problem_is_reported_with_file_line_and_key_path(
    pack: Path, relative: str, old: str, new: str, needle: str, key_path: str, what: str
):
    edit(pack, relative, old, new)
    assert_problem(pack, relative, needle, key_path, what)
    assert len(problems(pack)) == 1, problems(pack)


def test_a_missing_day_is_reported_on_programs_days(pack: Path):
    (pack / "days" / "day-02.yaml").unlink()
    assert problems(pack) == [
        f"{pack / 'program.yaml'}:{line_of(pack, 'program.yaml', 'days: 2')}: days: "
        "no file for day(s) 2 (expected days/day-02.yaml...)"
    ]


def test_a_day_defined_twice_is_reported_with_the_first_file(pack: Path):
    edit(pack, "days/day-02.yaml", "day: 2", "day: 1")
    found = problems(pack)
    where = f"{pack / 'days' / 'day-02.yaml'}:1: day: "
    assert f"{where}day 1 is also defined in {pack / 'days' / 'day-01.yaml'}" in found
    assert f"{where}file name should be day-01.yaml for day 1" in found
    assert any(": days: no file for day(s) 2" in line for line in found)


def test_a_day_beyond_the_programs_length_is_reported(pack: Path):
    text = (pack / "days" / "day-02.yaml").read_text(encoding="utf-8")
    (pack / "days" / "day-03.yaml").write_text(
        text.replace("day: 2", "day: 3").replace("d2-", "d3-"), encoding="utf-8"
    )
    assert f"{pack / 'days' / 'day-03.yaml'}:1: day: day 3 is beyond the program's 2 days" in (
        problems(pack)
    )


def test_modules_must_cover_every_day(pack: Path):
    edit(
        pack,
        "program.yaml",
        "    first_day: 2\n    last_day: 2",
        "    first_day: 1\n    last_day: 1",
    )
    found = problems(pack)
    modules_line = line_of(pack, "program.yaml", "modules:")
    assert f"{pack / 'program.yaml'}:{modules_line}: modules: no module covers day(s) 2" in found
    assert (
        f"{pack / 'days' / 'day-02.yaml'}:2: module: module 'end' covers days 1-1, not day 2"
        in (found)
    )


def test_list_messages_follow_whatsapps_list_limits(pack: Path):
    rows = "".join(f"    - {{id: r{n}, title: {{es: Fila {n}, en: Row {n}}}}}\n" for n in range(10))
    rows += "    - {id: r10, title: {es: Una fila con un título largo, en: Row 10}}\n"
    with (pack / "messages.yaml").open("a", encoding="utf-8") as handle:
        handle.write(f"pick_one:\n  type: list\n  text: {{es: Elige, en: Pick}}\n  rows:\n{rows}")
    found = problems(pack)
    rows_line = line_of(pack, "messages.yaml", "pick_one: >> rows:")
    assert_problem(
        pack,
        "messages.yaml",
        "pick_one: >> rows:",
        "pick_one.rows",
        "11 rows; WhatsApp allows 1 to 10",
    )
    assert_problem(
        pack,
        "messages.yaml",
        "pick_one:",
        "pick_one.list_button",
        "a list message needs list_button (its button label)",
    )
    assert_problem(
        pack,
        "messages.yaml",
        "id: r10",
        "pick_one.rows.10.title.es",
        "28 characters; WhatsApp allows at most 24 in a row title",
    )
    assert len(found) == 3 and rows_line > 1


def test_the_wrong_media_type_for_a_file_is_reported(pack: Path):
    shutil.copy(pack / "media" / "card.png", pack / "media" / "card.gif")
    edit(pack, "days/day-01.yaml", "file: media/card.png", "file: media/card.gif")
    assert_problem(
        pack,
        "days/day-01.yaml",
        "card.gif",
        "messages.1.file",
        "WhatsApp does not take .gif as image (use .jpeg, .jpg, .png)",
    )


def test_a_stray_file_in_days_is_reported(pack: Path):
    (pack / "days" / "day-03.yml").write_text("day: 3\n", encoding="utf-8")
    assert problems(pack) == [
        f"{pack / 'days' / 'day-03.yml'}:1: (file): ignored: day files are days/day-NN.yaml"
    ]


def test_problems_are_sorted_by_file_and_line(pack: Path):
    edit(pack, "days/day-02.yaml", "module: end", "module: middle")
    edit(pack, "days/day-01.yaml", "file: media/card.png", "file: media/nope.png")
    edit(pack, "program.yaml", "evening: 19", "evening: 23")
    found = lint_pack(pack)
    assert [(p.file, p.line) for p in found] == sorted((p.file, p.line) for p in found)
    assert len(found) == 3
