"""One multi-row INSERT without the ORM's per-value work, for hot paths on PostgreSQL.

`bulk_create` builds a model instance per row and prepares every field of every row (31 for
a message): on the webhook path that was most of the CPU of storing a batch (measured in
docs/performance.md, "Webhook ingest"). Here the columns that vary are passed as one typed
array each (`INSERT ... SELECT ... FROM unnest(...)`), every other column is its default or a
fixed value prepared once, and the statement is one round trip whatever the number of rows.
PostgreSQL only: callers keep their ORM path for SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Field, JSONField, Model


def insert_unnest(
    model: type[Model],
    varying: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any] | None = None,
    *,
    conflict_target: str = "",
    returning: str = "",
) -> list[Any]:
    """Insert one row per position of the `varying` columns (field name -> values, all of the
    same length); fields in `fixed` (hashable values) take that value, others their default.
    With `conflict_target` (a column), rows that conflict on it are skipped. Returns the
    `returning` column of the inserted rows, in insertion order (ascending for an id)."""
    sql, arrays, constants = _statement(
        model, tuple(varying), tuple((fixed or {}).items()), conflict_target, returning
    )
    params = [
        f.get_db_prep_save(f.get_default(), connection) if f is not None else value
        for f, value in constants
    ]
    params += [_column_values(f, varying[key]) for f, key in arrays]
    # Table and column names come from the models; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()] if returning else []


@lru_cache(maxsize=64)
def _statement(
    model: type[Model],
    names: tuple[str, ...],
    fixed_items: tuple[tuple[str, Any], ...],
    conflict_target: str,
    returning: str,
) -> tuple[str, list[tuple[Field, str]], list[tuple[Field | None, Any]]]:
    """The SQL, the fields passed as arrays (with their key in `varying`: the field's name or
    its column's, `participant` or `participant_id`), and the other columns' values: prepared
    once, or (field, None) for a default computed per call (a callable such as `clock.now`)."""
    fixed = dict(fixed_items)
    quote = connection.ops.quote_name
    columns: list[str] = []
    selects: list[str] = []
    arrays: list[tuple[Field, str]] = []
    constants: list[tuple[Field | None, Any]] = []
    for f in model._meta.concrete_fields:
        key = f.name if f.name in names else f.attname if f.attname in names else ""
        if f.primary_key and not key:
            continue
        columns.append(quote(f.column))
        if key:
            selects.append(f"v.c{len(arrays)}")
            arrays.append((f, key))
            continue
        selects.append("%s")
        if f.name in fixed:
            constants.append((None, f.get_db_prep_save(fixed[f.name], connection)))
        elif callable(f.default):
            if f.unique:
                raise ValueError(f"{f.name} is unique: give each row its own value")
            constants.append((f, None))
        else:
            constants.append((None, f.get_db_prep_save(f.get_default(), connection)))
    unknown = set(names) - {key for _, key in arrays}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    aliases = ", ".join(f"c{i}" for i in range(len(arrays)))
    unnest = ", ".join(f"%s::{_array_type(f)}" for f, _ in arrays)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM unnest({unnest}) WITH ORDINALITY AS v({aliases}, n) "
        "ORDER BY v.n"
    )
    if conflict_target:
        sql += f" ON CONFLICT ({quote(conflict_target)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(returning)}"
    return sql, arrays, constants


def _array_type(f: Field) -> str:
    if isinstance(f, JSONField):
        return "jsonb[]"
    # No length in the cast (varchar(200)[] would silently truncate; the column still checks).
    return f"{str(f.db_type(connection)).split('(')[0]}[]"


def _column_values(f: Field, values: Sequence[Any]) -> list[Any]:
    if isinstance(f, JSONField):  # as JSON text: the jsonb[] cast parses it on the server
        return [None if v is None else json.dumps(v, cls=f.encoder) for v in values]
    return list(values)
