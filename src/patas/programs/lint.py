"""`patas lint-content PATH`: every problem of a content pack, one line each, with its place.

Structure comes from the schema (`programs.schema`); this module adds the rules that span
fields and files: WhatsApp's limits, every language present, referenced files present, days
1..N once each, unique ids, modules, hours, the message keys the code relies on, placeholders
that would leak, and words that must never reach a partner. `lint_pack(root)` returns the
problems; `run(root, out)` prints them and returns the exit status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _
from pydantic import BaseModel, ValidationError

from patas.programs.lint_rules import (
    CONTRACT_MESSAGES,
    LIMITS,
    MEDIA_EXTENSIONS,
    MUST_SHOW,
    PLACEHOLDERS,
    TEMPLATE_ROLES,
    TRIAL_MESSAGES,
)
from patas.programs.lint_texts import (
    TEMPLATE_VARIABLE,
    check_localized,
    check_partner_words,
    check_placeholders,
    forbidden_words,
)
from patas.programs.lint_yaml import KeyPath, Problem, Source, read_source
from patas.programs.pack import PackError, load_pack
from patas.programs.schema import Button, Day, Item, Localized, Program

MEDIA_TYPES = {"image", "audio", "video", "document"}
CAPTIONED_TYPES = {"image", "video", "document"}


@dataclass
class Context:
    root: Path
    program: Program
    forbidden: list[tuple[str, str]] = field(default_factory=list)
    ids: dict[str, tuple[Source, KeyPath]] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return self.program.languages


# ---- loading with positions -------------------------------------------------------------


def _validate(source: Source, model: type[BaseModel], data: Any, prefix: KeyPath = ()) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            source.add((*prefix, *error["loc"]), error["msg"])
    return None


def _load_program(root: Path) -> tuple[Source, Program | None]:
    source = read_source(root / "program.yaml") if (root / "program.yaml").exists() else None
    if source is None:
        source = Source(path=root / "program.yaml")
        source.add((), "missing (every pack needs program.yaml)")
        return source, None
    if source.problems:
        return source, None
    return source, _validate(source, Program, source.data)


def _load_messages(root: Path) -> tuple[Source, dict[str, Item]]:
    path = root / "messages.yaml"
    if not path.exists():
        source = Source(path=path)
        source.add((), "missing (system texts: welcome, consent, opt-out...)")
        return source, {}
    source = read_source(path)
    if source.problems:
        return source, {}
    if not isinstance(source.data, dict):
        source.add((), "must be a mapping of message key -> message")
        return source, {}
    messages: dict[str, Item] = {}
    for key, value in source.data.items():
        if not isinstance(value, dict):
            source.add((key,), "must be a message (a mapping with type, text...)")
            continue
        if "id" in value:
            source.add((key, "id"), "remove it: in messages.yaml the key is the id")
            continue
        item = _validate(source, Item, {"id": str(key), **value}, (str(key),))
        if item is not None:
            messages[str(key)] = item
    return source, messages


def _load_days(root: Path) -> list[tuple[Source, Day | None]]:
    loaded: list[tuple[Source, Day | None]] = []
    for path in sorted((root / "days").glob("*.yaml")):
        source = read_source(path)
        day = None if source.problems else _validate(source, Day, source.data)
        loaded.append((source, day))
    return loaded


# ---- the entry points -------------------------------------------------------------------


def lint_pack(root: Path | str) -> list[Problem]:
    """Every problem of the pack at `root`, sorted by file and line; empty when valid."""
    root = Path(root)
    program_source, program = _load_program(root)
    messages_source, messages = _load_messages(root)
    days = _load_days(root)
    sources = [program_source, messages_source, *(source for source, _day in days)]
    if program is not None:
        context = Context(root=root, program=program, forbidden=forbidden_words(program))
        check_program(context, program_source)
        check_messages(context, messages_source, messages)
        check_days(context, program_source, days)
    problems = sorted(problem for source in sources for problem in source.problems)
    if not problems:  # safety net: what the linter accepts, the loader must load
        try:
            load_pack(root)
        except PackError as exc:
            problems = [Problem(str(root), 1, "", line) for line in exc.problems]
    return problems


def run(root: Path | str, out: IO[str]) -> int:
    """Print the pack's problems (or an OK line) to `out`; 0 when valid, else 1."""
    problems = lint_pack(root)
    for problem in problems:
        out.write(f"{problem}\n")
    if problems:
        out.write(_("%(count)d problem(s) in %(root)s\n") % {"count": len(problems), "root": root})
        return 1
    out.write(_("OK: %(root)s is a valid content pack\n") % {"root": root})
    return 0


# ---- program.yaml -----------------------------------------------------------------------


def check_program(ctx: Context, src: Source) -> None:
    program = ctx.program
    if program.default_language not in program.languages:
        src.add(("default_language",), f"{program.default_language!r} is not in languages")
    if len(set(program.languages)) != len(program.languages):
        src.add(("languages",), "a language is listed twice")
    check_localized(ctx.languages, src, (), program)
    check_placeholders(src, (), program, frozenset())
    _check_hours(ctx, src)
    _check_templates(ctx, src)
    _check_modules(ctx, src)
    for role, relative in program.surveys.items():
        _check_file(ctx, src, ("surveys", role), relative, "survey file")
    if program.completion.min_day_reached > program.days:
        src.add(("completion", "min_day_reached"), f"is beyond the last day ({program.days})")
    if program.intake.min_age > program.intake.max_age:
        src.add(("intake", "min_age"), "is greater than max_age")


def _check_hours(ctx: Context, src: Source) -> None:
    program = ctx.program
    try:
        ZoneInfo(program.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        src.add(("time_zone",), f"{program.time_zone!r} is not an IANA time zone")
    start = _minutes(program.quiet_hours.start)
    end = _minutes(program.quiet_hours.end)
    if start == end:
        src.add(("quiet_hours",), "start and end are equal: say which hours are quiet")
        return
    for name, hour in program.send_hours.model_dump().items():
        if _is_quiet(hour * 60, start, end):
            src.add(
                ("send_hours", name),
                f"{hour}:00 falls inside quiet hours "
                f"{program.quiet_hours.start}-{program.quiet_hours.end}",
            )


def _minutes(hh_mm: str) -> int:
    hours, _sep, minutes = hh_mm.partition(":")
    return int(hours) * 60 + int(minutes)


def _is_quiet(minute: int, start: int, end: int) -> bool:
    return start <= minute < end if start < end else minute >= start or minute < end


def _check_templates(ctx: Context, src: Source) -> None:
    templates = ctx.program.templates
    for role in TEMPLATE_ROLES:
        if role not in templates:
            src.add(("templates",), f"no template for role {role!r} (the engine sends it)")
    for role, template in templates.items():
        path: KeyPath = ("templates", role)
        _check_lengths(
            src, (*path, "body"), template.body, LIMITS["template_body"], "template body"
        )
        if template.button:
            _check_lengths(
                src, (*path, "button"), template.button, LIMITS["button_title"], "button title"
            )
        numbers = {lang: _template_variables(text) for lang, text in template.body.items()}
        for lang, found in numbers.items():
            expected = len(template.variables) if template.variables else len(found)
            if found != [str(n) for n in range(1, expected + 1)]:
                shown = ", ".join("{{" + n + "}}" for n in found) or "none"
                src.add(
                    (*path, "body", lang),
                    f"variables must be {{{{1}}}}..{{{{{expected}}}}} "
                    f"in order, once each (found {shown})",
                )


def _template_variables(text: str) -> list[str]:
    return [match.group(1) for match in TEMPLATE_VARIABLE.finditer(text)]


def _check_modules(ctx: Context, src: Source) -> None:
    last = ctx.program.days
    seen: set[str] = set()
    for index, module in enumerate(ctx.program.modules):
        path: KeyPath = ("modules", index)
        if module.id in seen:
            src.add((*path, "id"), f"module id {module.id!r} is used twice")
        seen.add(module.id)
        if module.first_day > module.last_day:
            src.add((*path, "first_day"), "is after last_day")
        if module.last_day > last:
            src.add((*path, "last_day"), f"is beyond the program's last day ({last})")
    covered = {d for m in ctx.program.modules for d in range(m.first_day, m.last_day + 1)}
    uncovered = [day for day in range(1, last + 1) if day not in covered]
    if uncovered:
        src.add(("modules",), f"no module covers day(s) {_ranges(uncovered)}")


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    for number in numbers:
        if parts and parts[-1].split("-")[-1] == str(number - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{number}"
        else:
            parts.append(str(number))
    return ", ".join(parts)


# ---- messages.yaml ----------------------------------------------------------------------


def check_messages(ctx: Context, src: Source, messages: dict[str, Item]) -> None:
    if not src.problems or messages:
        for key, needed_buttons in _contract(ctx.program).items():
            if key not in messages and (key,) not in src.lines:
                src.add((), f"message {key!r} is missing (the code sends it)")
            elif key in messages:
                _check_contract_buttons(src, key, messages[key], needed_buttons)
    for key, item in messages.items():
        _claim_id(ctx, src, (key,), key)
        check_item(ctx, src, (key,), item)
        check_localized(ctx.languages, src, (key,), item)
        check_placeholders(src, (key,), item, PLACEHOLDERS.get(key, frozenset()))
        for name in MUST_SHOW.get(key, ()):
            for lang, text in (item.text or {}).items():
                if "{" + name + "}" not in text:
                    src.add((key, "text", lang), f"must show {{{name}}}")
        if key.startswith("partner_"):
            check_partner_words(ctx.forbidden, src, (key,), item)


def _contract(program: Program) -> dict[str, tuple[str, ...]]:
    """The messages.yaml keys this pack must have: the trial adds its own."""
    if program.trial is not None and program.trial.enabled:
        return {**CONTRACT_MESSAGES, **TRIAL_MESSAGES}
    return CONTRACT_MESSAGES


def _check_contract_buttons(src: Source, key: str, item: Item, needed: tuple[str, ...]) -> None:
    if not needed:
        return
    if item.type != "buttons":
        src.add((key, "type"), f"must be buttons with ids {', '.join(needed)}")
        return
    ids = [button.id for button in item.buttons or []]
    if sorted(ids) != sorted(needed):
        src.add(
            (key, "buttons"),
            f"button ids must be {', '.join(needed)} (found {', '.join(ids) or 'none'})",
        )


# ---- days -------------------------------------------------------------------------------


def check_days(ctx: Context, program_src: Source, days: list[tuple[Source, Day | None]]) -> None:
    seen: dict[int, Source] = {}
    for src, day in days:
        if day is None:  # its own problems are reported; do not also call its day missing
            match = re.fullmatch(r"day-(\d+)", src.path.stem)
            seen.setdefault(int(match.group(1)) if match else 0, src)
            continue
        _check_day_number(ctx, src, day, seen)
        _check_day_module(ctx, src, day)
        check_localized(ctx.languages, src, (), day)
        check_placeholders(src, (), day, frozenset())
        for index, item in enumerate(day.messages):
            _claim_id(ctx, src, ("messages", index, "id"), item.id)
            check_item(ctx, src, ("messages", index), item)
        _claim_id(ctx, src, ("challenge", "id"), day.challenge.id)
        _check_lengths(src, ("challenge", "text"), day.challenge.text, LIMITS["text"], "text")
        if day.reflection:
            _check_lengths(src, ("reflection",), day.reflection, LIMITS["text"], "text")
        if day.checkin:
            _claim_id(ctx, src, ("checkin", "id"), day.checkin.id)
            _check_lengths(
                src,
                ("checkin", "text"),
                day.checkin.text,
                LIMITS["interactive_body"],
                "interactive body",
            )
            _check_buttons(src, ("checkin", "buttons"), day.checkin.buttons)
    for stray in sorted(ctx.root.glob("days/*")):
        if stray.suffix != ".yaml" and not stray.name.startswith("."):
            stray_src = Source(path=stray)
            stray_src.add((), "ignored: day files are days/day-NN.yaml")
            program_src.problems.extend(stray_src.problems)
    missing = [n for n in range(1, ctx.program.days + 1) if n not in seen]
    if missing:
        program_src.add(
            ("days",),
            f"no file for day(s) {_ranges(missing)} (expected days/day-{missing[0]:02d}.yaml...)",
        )


def _check_day_number(ctx: Context, src: Source, day: Day, seen: dict[int, Source]) -> None:
    if day.day > ctx.program.days:
        src.add(("day",), f"day {day.day} is beyond the program's {ctx.program.days} days")
    elif day.day in seen:
        src.add(("day",), f"day {day.day} is also defined in {seen[day.day].path}")
    else:
        seen[day.day] = src
    match = re.fullmatch(r"day-(\d+)", src.path.stem)
    if match is None or int(match.group(1)) != day.day:
        src.add(("day",), f"file name should be day-{day.day:02d}.yaml for day {day.day}")


def _check_day_module(ctx: Context, src: Source, day: Day) -> None:
    modules = {module.id: module for module in ctx.program.modules}
    module = modules.get(day.module)
    if module is None:
        known = ", ".join(modules) or "none"
        src.add(("module",), f"unknown module {day.module!r} (program.yaml modules: {known})")
    elif not module.first_day <= day.day <= module.last_day:
        src.add(
            ("module",),
            f"module {module.id!r} covers days {module.first_day}-"
            f"{module.last_day}, not day {day.day}",
        )


def _claim_id(ctx: Context, src: Source, path: KeyPath, item_id: str) -> None:
    first = ctx.ids.get(item_id)
    if first is None:
        ctx.ids[item_id] = (src, path)
        return
    first_src, first_path = first
    src.add(
        path, f"id {item_id!r} is already used at {first_src.path}:{first_src.line(first_path)}"
    )


# ---- one message ------------------------------------------------------------------------


def check_item(ctx: Context, src: Source, path: KeyPath, item: Item) -> None:
    """WhatsApp's rules for one message as the man receives it."""
    kind = item.type
    if kind in {"text", "buttons", "list"} and not item.text:
        src.add((*path, "text"), f"a {kind} message needs text")
    if kind in MEDIA_TYPES and not item.file:
        src.add((*path, "file"), f"an {kind} message needs a file")
    if item.text:
        limit, what = (
            (LIMITS["text"], "text")
            if kind == "text"
            else (
                (LIMITS["interactive_body"], "interactive body")
                if kind in {"buttons", "list"}
                else (LIMITS["caption"], "caption")
            )
        )
        _check_lengths(src, (*path, "text"), item.text, limit, what)
    if item.caption:
        if kind not in CAPTIONED_TYPES:
            src.add((*path, "caption"), f"WhatsApp shows no caption on a {kind} message")
        _check_lengths(src, (*path, "caption"), item.caption, LIMITS["caption"], "caption")
    if kind == "buttons":
        _check_buttons(src, (*path, "buttons"), item.buttons or [])
    elif item.buttons:
        src.add((*path, "buttons"), f"only a buttons message has buttons (this is {kind})")
    if kind == "list":
        _check_list(src, path, item)
    elif item.rows:
        src.add((*path, "rows"), f"only a list message has rows (this is {kind})")
    if item.file:
        _check_media(ctx, src, (*path, "file"), kind, item.file)


def _check_buttons(src: Source, path: KeyPath, buttons: list[Button]) -> None:
    if not 1 <= len(buttons) <= LIMITS["buttons"]:
        src.add(path, f"{len(buttons)} buttons; WhatsApp allows 1 to {LIMITS['buttons']}")
    seen: set[str] = set()
    for index, button in enumerate(buttons):
        if button.id in seen:
            src.add((*path, index, "id"), f"button id {button.id!r} is used twice here")
        seen.add(button.id)
        if not 1 <= len(button.id) <= LIMITS["button_id"]:
            src.add((*path, index, "id"), f"must be 1 to {LIMITS['button_id']} characters")
        _check_lengths(
            src, (*path, index, "title"), button.title, LIMITS["button_title"], "button title"
        )


def _check_list(src: Source, path: KeyPath, item: Item) -> None:
    rows = item.rows or []
    if not 1 <= len(rows) <= LIMITS["rows"]:
        src.add((*path, "rows"), f"{len(rows)} rows; WhatsApp allows 1 to {LIMITS['rows']}")
    if not item.list_button:
        src.add((*path, "list_button"), "a list message needs list_button (its button label)")
    else:
        _check_lengths(
            src, (*path, "list_button"), item.list_button, LIMITS["list_button"], "list button"
        )
    for index, row in enumerate(rows):
        _check_lengths(
            src, (*path, "rows", index, "title"), row.title, LIMITS["row_title"], "row title"
        )
        if row.description:
            _check_lengths(
                src,
                (*path, "rows", index, "description"),
                row.description,
                LIMITS["row_description"],
                "row description",
            )


def _check_media(ctx: Context, src: Source, path: KeyPath, kind: str, relative: str) -> None:
    if kind not in MEDIA_TYPES:
        src.add(path, f"a {kind} message sends no file")
        return
    if _check_file(ctx, src, path, relative, f"{kind} file"):
        allowed = MEDIA_EXTENSIONS[kind]
        if allowed and Path(relative).suffix.lower() not in allowed:
            src.add(
                path,
                f"WhatsApp does not take {Path(relative).suffix or 'this file'} as "
                f"{kind} (use {', '.join(sorted(allowed))})",
            )


def _check_file(ctx: Context, src: Source, path: KeyPath, relative: str, what: str) -> bool:
    root = ctx.root.resolve()
    target = (root / relative).resolve()
    if root not in target.parents:
        src.add(path, f"{what} {relative!r} is outside the pack folder")
        return False
    if not target.is_file():
        src.add(path, f"{what} {relative!r} does not exist in the pack")
        return False
    return True


def _check_lengths(src: Source, path: KeyPath, texts: Localized, limit: int, what: str) -> None:
    for lang, text in texts.items():
        if len(text) > limit:
            src.add(
                (*path, lang),
                f"{len(text)} characters; WhatsApp allows at most {limit} in a {what}",
            )
