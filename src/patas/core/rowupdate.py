"""Row-by-row UPDATEs in one call, for changes that differ from one man to the next.

`queryset.update(**changes)` grouped by the set of values is one statement per distinct set:
right for a day's fan-out (men share their day, their start and their zone's next wake), but
one statement per man when each has his own time (a batch of check-ins, each man's next wake
from his own reply). Each of those statements is compiled by the ORM first, which costs more
CPU than SQLite takes to run it.

`update_each` runs one plain statement per shape (the fields a row changes), with
`executemany`: SQLite loops over the rows in C; psycopg 3 sends them in one pipeline. Rows
are updated in the order given, as the same number of single-row UPDATEs would be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model

from patas.core.fastinsert import sqlite_converter


@dataclass(frozen=True)
class Add:
    """A change that adds to the column's value instead of replacing it (`F(name) + n`)."""

    amount: int


Row = tuple[Sequence[Any], Mapping[str, Any]]  # (its key values, {field: new value or Add})


def update_each(model: type[Model], rows: Iterable[Row], keys: Sequence[str] = ("id",)) -> int:
    """Apply each row's changes to the row(s) whose `keys` fields equal its key values; rows
    with no change are skipped. Returns how many statements were run (one per row given)."""
    shapes: dict[tuple[tuple[str, bool], ...], list[Row]] = defaultdict(list)
    for key, changes in rows:
        if changes:
            shape = tuple((name, type(changes[name]) is Add) for name in sorted(changes))
            shapes[shape].append((key, changes))
    for shape, members in shapes.items():
        sql, fields, key_fields = _statement(model, shape, tuple(keys))
        set_values = [_prepare(f) for f in fields]
        key_values = [_prepare(f) for f in key_fields]
        names = [name for name, _ in shape]
        params = [
            [
                *(
                    convert(_amount(changes[name]))
                    for name, convert in zip(names, set_values, strict=True)
                ),
                *(convert(value) for value, convert in zip(key, key_values, strict=True)),
            ]
            for key, changes in members
        ]
        # Table and column names come from the model; every value is a parameter.
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return sum(len(members) for members in shapes.values())


def _amount(value: Any) -> Any:
    return value.amount if type(value) is Add else value


@lru_cache(maxsize=64)
def _statement(
    model: type[Model], shape: tuple[tuple[str, bool], ...], keys: tuple[str, ...]
) -> tuple[str, list[Field], list[Field]]:
    quote = connection.ops.quote_name
    fields = [_field(model, name) for name, _ in shape]
    key_fields = [_field(model, name) for name in keys]
    sets = ", ".join(
        f"{quote(f.column)} = {quote(f.column)} + %s" if adds else f"{quote(f.column)} = %s"
        for f, (_, adds) in zip(fields, shape, strict=True)
    )
    where = " AND ".join(f"{quote(f.column)} = %s" for f in key_fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {where}"  # noqa: S608
    return sql, fields, key_fields


def _field(model: type[Model], name: str) -> Field:
    """A concrete field by its name or its column's (`participant` or `participant_id`)."""
    for f in model._meta.concrete_fields:
        if name in (f.name, f.attname):
            return cast(Field, f)
    raise ValueError(f"{model.__name__} has no field {name}")


def _prepare(f: Field) -> Callable[[Any], Any]:
    """How one value of `f` becomes a parameter of this connection."""
    if connection.vendor == "sqlite":
        return sqlite_converter(f)
    return lambda value: f.get_db_prep_save(value, connection)
