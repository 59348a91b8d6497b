"""The pack schema as a Markdown field table, generated from the schema's own descriptions.

`patas lint-content --schema` prints it; docs/content-guide.md embeds its output.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from patas.programs import schema

MODELS: tuple[type[BaseModel], ...] = (
    schema.Program,
    schema.Template,
    schema.Intake,
    schema.Completion,
    schema.Reminders,
    schema.SendHours,
    schema.QuietHours,
    schema.Module,
    schema.Helpline,
    schema.TrialSettings,
    schema.Day,
    schema.Item,
    schema.Button,
    schema.ListRow,
    schema.Challenge,
    schema.CheckIn,
)


def _type_name(name: str, annotation: Any) -> str:
    if name == "surveys":
        return "dict[str, str]"
    text = str(annotation).replace("typing.", "").replace("patas.programs.schema.", "")
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    return text.replace("dict[str, str]", "Localized").replace("|", "\\|")


def _default(info: Any) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "(default)"
    return "" if info.default is PydanticUndefined else repr(info.default)


def field_table() -> str:
    """Markdown: one table per schema model, a row per field (name, type, default, meaning)."""
    out: list[str] = []
    for model in MODELS:
        doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        out += [f"### {model.__name__}", ""]
        if doc and not doc.startswith("!!!") and model.__doc__ != BaseModel.__doc__:
            out += [doc, ""]
        out += ["| field | type | default | meaning |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            meaning = (info.description or "").replace("|", "\\|")
            kind = _type_name(name, info.annotation)
            out.append(f"| `{name}` | {kind} | {_default(info)} | {meaning} |")
        out.append("")
    return "\n".join(out)
