"""XLSForm instruments read with pyxform into our own typed model.

    form = load_form("content/hablemos-entre-patas/surveys/men_baseline.md")
    form.questions[0].label_for("es")

pyxform reads the file (.xlsx, .xls, .csv or markdown tables) and resolves aliases, languages,
groups and choices; we then check that every type and function is one patas can run, parse every
expression once, and reject anything else with the sheet and row named, so nothing is evaluated
wrongly at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from patas.surveys import xpath

# pyxform's type names -> ours
_TYPES = {
    "text": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "note": "note",
    "calculate": "calculate",
    "date": "date",
    "start": "start",
    "end": "end",
    "today": "today",
}
TYPED_KINDS = {"integer", "decimal", "date"}  # answers expressions see as numbers and dates
ANSWERED = {"text", "integer", "decimal", "select_one", "select_multiple", "date"}
METADATA = {"start", "end", "today"}
_YES = {"yes", "true", "true()", "1"}
_NO = {"", "no", "false", "false()", "0"}
_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][\w.\-]*)\s*\}")
_LANG_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\)\s*$")


class FormError(ValueError):
    """An XLSForm patas cannot run; the message names the sheet and row when it can."""


Texts = dict[str, str]  # language code ("es", "en", or "default") -> text


@dataclass(frozen=True)
class Choice:
    name: str
    label: Texts

    def label_for(self, lang: str, default: str = "") -> str:
        return pick(self.label, lang, default) or self.name


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    row: int
    label: Texts = field(default_factory=dict)
    hint: Texts = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    list_name: str = ""
    # every condition must hold: the groups' relevant, then the question's own
    relevant: tuple[xpath.Node, ...] = ()
    constraint: xpath.Node | None = None
    constraint_message: Texts = field(default_factory=dict)
    required: xpath.Node | None = None
    required_message: Texts = field(default_factory=dict)
    calculation: xpath.Node | None = None
    default: str = ""
    groups: tuple[str, ...] = ()
    appearance: str = ""

    @property
    def answered(self) -> bool:
        return self.type in ANSWERED

    def label_for(self, lang: str, default: str = "") -> str:
        return pick(self.label, lang, default)

    def choice(self, name: str) -> Choice | None:
        return next((c for c in self.choices if c.name == name), None)


@dataclass(frozen=True)
class Form:
    form_id: str
    version: str
    title: str
    default_lang: str
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    source_name: str = ""
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    # Derived once (every answer walks the form): the question type of each answer that
    # expressions see typed (numbers and dates), and the calculates in order.
    typed_kinds: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)
    calculates: tuple[Question, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({q.name: i for i, q in enumerate(self.questions)})
        self.typed_kinds.update({q.name: q.type for q in self.questions if q.type in TYPED_KINDS})
        calculates = tuple(
            q for q in self.questions if q.type == "calculate" and q.calculation is not None
        )
        object.__setattr__(self, "calculates", calculates)  # frozen: set once, here

    def index(self, name: str) -> int:
        return self._index[name]

    def question(self, name: str) -> Question:
        return self.questions[self._index[name]]

    def has(self, name: str) -> bool:
        return name in self._index

    def lang(self, wanted: str) -> str:
        """The form language to use for `wanted` (falls back to the form's default)."""
        return wanted if wanted in self.languages else self.default_lang


def pick(texts: Texts, lang: str, default: str = "") -> str:
    for key in (lang, default, "default"):
        if key and texts.get(key):
            return texts[key]
    return next(iter(texts.values()), "")


def lang_code(name: str) -> str:
    """'Español (es)' -> 'es'; 'default' stays; a bare name is lower-cased."""
    match = _LANG_CODE.search(name)
    return match.group(1).lower() if match else name.strip().lower()


def _texts(value: Any) -> Texts:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {lang_code(k): str(v) for k, v in value.items() if v not in (None, "")}
    return {"default": str(value)}


# --- Loading --------------------------------------------------------------------------------


def load_form(source: str | Path | bytes, *, file_name: str = "") -> Form:
    """Read an XLSForm (path, or bytes with `file_name` giving its type) into a `Form`."""
    name = file_name or (Path(source).name if isinstance(source, str | Path) else "form")
    try:
        data = _definition(source, name)
        workbook = get_xlsform(data, file_type=_file_type(name))
        warnings: list[str] = []
        tree = workbook_to_json(workbook, fallback_form_name=Path(name).stem, warnings=warnings)
    except PyXFormError as exc:
        raise FormError(f"{name}: {exc}") from None
    except FileNotFoundError:
        raise FormError(f"{name}: file not found") from None
    rows = _rows_by_name(workbook.survey or [])
    builder = _Builder(name, rows, tree)
    return builder.build()


def _definition(source: str | Path | bytes, name: str) -> bytes:
    if isinstance(source, bytes):
        return source
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(str(path))
    return path.read_bytes()


def _file_type(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    return suffix if suffix in {".xlsx", ".xls", ".csv", ".md", ".xlsm"} else None


def _rows_by_name(survey_rows: list[dict[str, Any]]) -> dict[str, int]:
    """Question name -> spreadsheet row (the header is row 1, as pyxform counts)."""
    rows: dict[str, int] = {}
    for i, row in enumerate(survey_rows):
        name = str(row.get("name", "")).strip()
        if name and name not in rows:
            rows[name] = i + 2
    return rows


class _Builder:
    def __init__(self, file_name: str, rows: dict[str, int], tree: dict[str, Any]) -> None:
        self.file_name = file_name
        self.rows = rows
        self.tree = tree
        self.default_lang = lang_code(str(tree.get("default_language") or "default"))
        self.languages: set[str] = set()

    def error(self, name: str, message: str) -> FormError:
        row = self.rows.get(name)
        where = f"survey sheet row {row}" if row else f"survey sheet, question '{name}'"
        return FormError(f"{self.file_name}: {where}: {message}")

    def build(self) -> Form:
        questions = list(self._walk(self.tree.get("children", []), (), ()))
        if not any(q.answered for q in questions):
            raise FormError(f"{self.file_name}: survey sheet: the form has no question to answer")
        self._check_references(questions)
        languages = tuple(sorted(self.languages - {"default"})) or ("default",)
        default = self.default_lang if self.default_lang in self.languages else languages[0]
        return Form(
            form_id=str(self.tree.get("id_string") or self.tree.get("name") or ""),
            version=str(self.tree.get("version") or ""),
            title=str(self.tree.get("title") or ""),
            default_lang=default,
            languages=languages,
            questions=tuple(questions),
            source_name=self.file_name,
        )

    def _walk(
        self,
        children: list[dict[str, Any]],
        groups: tuple[str, ...],
        relevant: tuple[xpath.Node, ...],
    ) -> Iterator[Question]:
        for child in children:
            kind = str(child.get("type", ""))
            name = str(child.get("name", ""))
            if kind == "group" and name == "meta" and child.get("control", {}).get("bodyless"):
                continue  # pyxform's instanceID block
            bind = child.get("bind", {}) or {}
            if kind == "group":
                own = self._expr(name, "relevant", bind.get("relevant"))
                conditions = relevant + ((own,) if own is not None else ())
                yield from self._walk(child.get("children", []), (*groups, name), conditions)
                continue
            yield self._question(child, kind, name, bind, groups, relevant)

    def _question(
        self,
        child: dict[str, Any],
        kind: str,
        name: str,
        bind: dict[str, Any],
        groups: tuple[str, ...],
        relevant: tuple[xpath.Node, ...],
    ) -> Question:
        if kind not in _TYPES:
            shown = "repeat (begin_repeat)" if kind == "repeat" else kind
            raise self.error(name, f"type '{shown}' is not supported")
        if child.get("choice_filter"):
            raise self.error(name, "choice_filter is not supported")
        if child.get("itemset") and not child.get("choices"):
            raise self.error(name, "choices from a file are not supported")
        own = self._expr(name, "relevant", bind.get("relevant"))
        label = _texts(child.get("label"))
        hint = _texts(child.get("hint"))
        self.languages.update(label, hint)
        choices = tuple(
            Choice(str(c["name"]), _texts(c.get("label"))) for c in child.get("choices", []) or []
        )
        for choice in choices:
            self.languages.update(choice.label)
        qtype = _TYPES[kind]
        if qtype == "calculate" and not bind.get("calculate"):
            raise self.error(name, "a calculate needs a calculation")
        return Question(
            name=name,
            type=qtype,
            row=self.rows.get(name, 0),
            label=label,
            hint=hint,
            choices=choices,
            list_name=str(child.get("list_name", "")),
            relevant=relevant + ((own,) if own is not None else ()),
            constraint=self._expr(name, "constraint", bind.get("constraint")),
            constraint_message=_texts(bind.get("jr:constraintMsg")),
            required=self._required(name, bind.get("required")),
            required_message=_texts(bind.get("jr:requiredMsg")),
            calculation=self._expr(name, "calculation", bind.get("calculate")),
            default=str(child.get("default", "") or ""),
            groups=groups,
            appearance=str((child.get("control") or {}).get("appearance", "")),
        )

    def _expr(self, name: str, column: str, source: Any) -> xpath.Node | None:
        if source is None or str(source).strip() == "":
            return None
        try:
            return xpath.parse(str(source))
        except xpath.ExpressionError as exc:
            raise self.error(name, f"{column} {str(source)!r}: {exc}") from None

    def _required(self, name: str, source: Any) -> xpath.Node | None:
        text = str(source or "").strip()
        if text.lower() in _NO:
            return None
        if text.lower() in _YES:
            return xpath.Call("true", ())
        return self._expr(name, "required", text)

    def _check_references(self, questions: list[Question]) -> None:
        known = {q.name for q in questions} | set(self.rows)
        for q in questions:
            nodes = [*q.relevant, q.constraint, q.required, q.calculation]
            names: set[str] = set()
            for node in nodes:
                if node is not None:
                    names |= xpath.refs(node)
            texts = [*q.label.values(), *q.hint.values(), *q.constraint_message.values()]
            for text in texts:
                names |= set(_INTERPOLATION.findall(text))
            missing = sorted(names - known)
            if missing:
                raise self.error(q.name, f"${{{missing[0]}}} does not name a question of this form")


def interpolate(text: str, values: dict[str, str]) -> str:
    """Replace ${name} in a label with the answer's value."""
    return _INTERPOLATION.sub(lambda m: values.get(m.group(1), ""), text)
