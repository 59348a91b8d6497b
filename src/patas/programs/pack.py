"""Loading a content pack from its folder into the schema's typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from pydantic import ValidationError

from patas.programs.schema import Day, Item, Program


class PackError(Exception):
    """A pack that cannot be loaded; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Pack:
    root: Path
    program: Program
    messages: dict[str, Item]
    days: dict[int, Day] = field(default_factory=dict)

    def day(self, number: int) -> Day:
        return self.days[number]

    def message(self, key: str) -> Item:
        try:
            return self.messages[key]
        except KeyError:
            raise KeyError(f"{self.root / 'messages.yaml'}: no message {key!r}") from None

    def text(self, key: str, language: str) -> str:
        item = self.message(key)
        texts = item.text or item.caption or {}
        return texts.get(language) or texts[self.program.default_language]


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _validation_lines(path: Path, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        lines.append(f"{path}: {where}: {error['msg']}")
    return lines


def load_pack(root: Path | str) -> Pack:
    """Load and structurally validate a pack; raises PackError naming every problem found."""
    root = Path(root)
    problems: list[str] = []
    program = _load_program(root, problems)
    messages = _load_messages(root, problems)
    days = _load_days(root, problems)
    if problems or program is None:
        raise PackError(problems or [f"{root}: program.yaml could not be read"])
    return Pack(root=root, program=program, messages=messages, days=days)


def _load_program(root: Path, problems: list[str]) -> Program | None:
    path = root / "program.yaml"
    if not path.exists():
        problems.append(f"{path}: missing (every pack needs program.yaml)")
        return None
    try:
        return Program.model_validate(read_yaml(path))
    except ValidationError as exc:
        problems.extend(_validation_lines(path, exc))
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}")
    return None


def _load_messages(root: Path, problems: list[str]) -> dict[str, Item]:
    path = root / "messages.yaml"
    if not path.exists():
        problems.append(f"{path}: missing (system texts: welcome, consent, opt-out...)")
        return {}
    try:
        raw = read_yaml(path) or {}
        return {key: Item.model_validate({"id": key, **value}) for key, value in raw.items()}
    except ValidationError as exc:
        problems.extend(_validation_lines(path, exc))
    except (yaml.YAMLError, AttributeError, TypeError) as exc:
        problems.append(f"{path}: not a mapping of message key -> message: {exc}")
    return {}


def _load_days(root: Path, problems: list[str]) -> dict[int, Day]:
    days: dict[int, Day] = {}
    for path in sorted((root / "days").glob("*.yaml")):
        try:
            day = Day.model_validate(read_yaml(path))
        except ValidationError as exc:
            problems.extend(_validation_lines(path, exc))
            continue
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
            continue
        if day.day in days:
            problems.append(f"{path}: day: day {day.day} is defined twice")
        days[day.day] = day
    return days


@lru_cache(maxsize=8)
def _cached(root: str) -> Pack:
    return load_pack(root)


def program_dir(program_id: str | None = None) -> Path:
    return Path(settings.CONTENT_DIR) / (program_id or settings.DEFAULT_PROGRAM)


def get_pack(program_id: str | None = None) -> Pack:
    """The installed pack for a program id (cached per process)."""
    return _cached(str(program_dir(program_id)))
