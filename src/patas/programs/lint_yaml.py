"""YAML files with line numbers: where each key path of a content pack file starts.

`yaml.safe_load` forgets positions; `yaml.compose` keeps them on every node. A `Source` holds
both the loaded data and a map from key paths (("messages", 0, "text", "es")) to 1-based line
numbers, so the linter can say `days/day-03.yaml:14: messages.0.text.es: ...`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]
# libyaml's C parser when present (same results as SafeLoader, several times faster).
FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a pack, printed as `file:line: key.path: what is wrong`."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(file)'}: {self.message}"


def dotted(keys: Sequence[str | int]) -> str:
    return ".".join(str(key) for key in keys)


@dataclass
class Source:
    """One YAML file of a pack: its data and the line where each key path starts."""

    path: Path
    data: Any = None
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, keys: Sequence[str | int]) -> int:
        """The line of `keys`, or of its nearest ancestor in the file (e.g. for a missing key)."""
        path = tuple(keys)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def problem(self, keys: Sequence[str | int], message: str) -> Problem:
        return Problem(str(self.path), self.line(keys), dotted(keys), message)

    def add(self, keys: Sequence[str | int], message: str) -> None:
        self.problems.append(self.problem(keys, message))


def read_source(path: Path) -> Source:
    """Read a YAML file with positions; syntax errors and duplicate keys become problems."""
    source = Source(path=path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=FastLoader)
        source.data = yaml.load(text, Loader=FastLoader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        source.problems.append(Problem(str(path), line, "", f"not valid YAML: {exc.problem}"))
        return source
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        source.problems.append(Problem(str(path), 1, "", f"cannot be read: {exc}"))
        return source
    if node is not None:
        _index(node, (), source)
    return source


def _index(node: yaml.Node, path: KeyPath, source: Source) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                line = key_node.start_mark.line + 1
                message = f"key {key!r} appears twice (the second silently wins)"
                source.problems.append(Problem(str(source.path), line, dotted(child), message))
            seen.add(key)
            source.lines.setdefault(child, key_node.start_mark.line + 1)
            _index(value_node, child, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            source.lines[child] = item.start_mark.line + 1
            _index(item, child, source)
