"""Multi-row INSERTs without the ORM's per-value work, for hot paths.

`bulk_create` builds a model instance per row and prepares every field of every row (31 for
a message): on the webhook path that was most of the CPU of storing a batch (measured in
docs/performance.md, "Webhook ingest"). Here the columns that vary are passed as one list
each, every other column is its default or a fixed value prepared once per call.

- `insert_unnest` (PostgreSQL): one `INSERT ... SELECT ... FROM unnest(...)`, one round trip
  whatever the number of rows, and it can return a column of the inserted rows.
- `insert_rows` (either database): `insert_unnest` on PostgreSQL; on SQLite one prepared
  statement run with `executemany` (SQLite's 999-parameter cap would cut a multi-row VALUES
  into ~30-row statements). Returns nothing: SQLite cannot say which rows of an executemany
  went in.
- `insert_returning_ids` (either database): the same rows and their ids, for a few rows at a
  time (SQLite runs the prepared statement once per row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, Field, JSONField, Model, UUIDField

from patas.core.sqltime import datetime_adapter


def insert_rows(
    model: type[Model],
    varying: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any] | None = None,
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert one row per position of the `varying` columns, on either database; with
    `ignore_conflicts`, rows that break a unique constraint are skipped (as bulk_create's)."""
    if not varying or not len(next(iter(varying.values()))):
        return
    if connection.vendor == "postgresql":
        insert_unnest(model, varying, fixed, ignore_conflicts=ignore_conflicts)
        return
    sql, keyed, constants = _plain_statement(
        model, tuple(varying), tuple(fixed or ()), ignore_conflicts
    )
    head = [_constant(f, source, fixed or {}) for f, source in constants]
    columns = [list(map(sqlite_converter(f), varying[key])) for f, key in keyed]
    # Table and column names come from the models; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*head, *row] for row in zip(*columns, strict=True)])


def insert_returning_ids(
    model: type[Model], varying: Mapping[str, Sequence[Any]], fixed: Mapping[str, Any] | None = None
) -> list[int]:
    """Insert one row per position of the `varying` columns; returns their ids, in order. On
    PostgreSQL one `unnest` INSERT; on SQLite one prepared statement per row, each row's id
    read from `lastrowid` (every SQLite version has it; `RETURNING` needs 3.35). Meant for a
    few rows at a time: a webhook delivery's event row."""
    if not varying or not len(next(iter(varying.values()))):
        return []
    if connection.vendor == "postgresql":
        return insert_unnest(model, varying, fixed, returning="id")
    sql, keyed, constants = _plain_statement(model, tuple(varying), tuple(fixed or ()), False)
    head = [_constant(f, source, fixed or {}) for f, source in constants]
    columns = [list(map(sqlite_converter(f), varying[key])) for f, key in keyed]
    ids = []
    # Table and column names come from the models; every value is a parameter.
    with connection.cursor() as cursor:
        for row in zip(*columns, strict=True):
            cursor.execute(sql, [*head, *row])
            ids.append(cursor.lastrowid)
    return ids


def insert_unnest(
    model: type[Model],
    varying: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any] | None = None,
    *,
    conflict_target: str = "",
    ignore_conflicts: bool = False,
    returning: str = "",
) -> list[Any]:
    """Insert one row per position of the `varying` columns (field name -> values, all of the
    same length); fields in `fixed` (hashable values) take that value, others their default.
    With `conflict_target` (a column), rows that conflict on it are skipped. Returns the
    `returning` column of the inserted rows, in insertion order (ascending for an id);
    `ignore_conflicts` skips rows that conflict on any unique constraint."""
    on_conflict = f"({conflict_target})" if conflict_target else "" if ignore_conflicts else None
    sql, arrays, constants = _statement(
        model, tuple(varying), tuple(fixed or ()), on_conflict, returning
    )
    params = [_constant(f, source, fixed or {}) for f, source in constants]
    params += [_column_values(f, varying[key]) for f, key in arrays]
    # Table and column names come from the models; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()] if returning else []


# A constant column's value: from `fixed` (by field name), the field's default computed per
# call (a callable such as `clock.now`), or a default prepared once.
_FIXED, _CALL = object(), object()


def _constant(f: Field, source: Any, fixed: Mapping[str, Any]) -> Any:
    if source is _FIXED:
        return f.get_db_prep_save(fixed[f.name], connection)
    if source is _CALL:
        return f.get_db_prep_save(f.get_default(), connection)
    return source


def _layout(
    model: type[Model], names: tuple[str, ...], fixed: tuple[str, ...]
) -> tuple[list[tuple[Field, str]], list[tuple[Field, Any]]]:
    """The fields given per row (with their key in `varying`: the field's name or its
    column's, `participant` or `participant_id`), and the constant fields with where their
    value comes from. The statements list the constants first, then the varying columns."""
    keyed: list[tuple[Field, str]] = []
    constants: list[tuple[Field, Any]] = []
    for f in model._meta.concrete_fields:
        key = f.name if f.name in names else f.attname if f.attname in names else ""
        if f.primary_key and not key:
            continue
        if key:
            keyed.append((f, key))
        elif f.name in fixed:
            constants.append((f, _FIXED))
        elif callable(f.default):
            if f.unique:
                raise ValueError(f"{f.name} is unique: give each row its own value")
            constants.append((f, _CALL))
        else:
            constants.append((f, f.get_db_prep_save(f.get_default(), connection)))
    unknown = set(names) - {key for _, key in keyed}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    return keyed, constants


@lru_cache(maxsize=64)
def _statement(
    model: type[Model],
    names: tuple[str, ...],
    fixed: tuple[str, ...],
    on_conflict: str | None,
    returning: str,
) -> tuple[str, list[tuple[Field, str]], list[tuple[Field, Any]]]:
    """PostgreSQL: the unnest INSERT, the fields passed as arrays and the constant fields."""
    keyed, constants = _layout(model, names, fixed)
    quote = connection.ops.quote_name
    cols = [quote(f.column) for f, _ in constants] + [quote(f.column) for f, _ in keyed]
    selects = ["%s"] * len(constants) + [f"v.c{i}" for i in range(len(keyed))]
    aliases = ", ".join(f"c{i}" for i in range(len(keyed)))
    unnest = ", ".join(f"%s::{_array_type(f)}" for f, _ in keyed)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(cols)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM unnest({unnest}) WITH ORDINALITY AS v({aliases}, n) "
        "ORDER BY v.n"
    )
    if on_conflict is not None:
        target = f"({quote(on_conflict[1:-1])}) " if on_conflict else ""
        sql += f" ON CONFLICT {target}DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(returning)}"
    return sql, keyed, constants


@lru_cache(maxsize=64)
def _plain_statement(
    model: type[Model], names: tuple[str, ...], fixed: tuple[str, ...], ignore_conflicts: bool
) -> tuple[str, list[tuple[Field, str]], list[tuple[Field, Any]]]:
    """SQLite: one row's INSERT for executemany, constants first, then the varying columns."""
    keyed, constants = _layout(model, names, fixed)
    quote = connection.ops.quote_name
    cols = [quote(f.column) for f, _ in constants] + [quote(f.column) for f, _ in keyed]
    marks = ", ".join(["%s"] * len(cols))
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(cols)}) "  # noqa: S608
        f"VALUES ({marks}){conflict}"
    )
    return sql, keyed, constants


def sqlite_converter(f: Field) -> Callable[[Any], Any]:
    """How one value of `f` goes to SQLite: plain values as they are, the rest as the field
    prepares them (datetimes to UTC text, JSON to text, UUIDs to hex)."""
    if isinstance(f, JSONField):
        return lambda v: None if v is None else json.dumps(v, cls=f.encoder)
    if isinstance(f, DateTimeField):
        return datetime_adapter(connection)
    if isinstance(f, UUIDField):
        return lambda v: f.get_db_prep_save(v, connection)

    def plain(v: Any) -> Any:
        if v is None or type(v) in (str, int, float, bool):
            return v
        return f.get_db_prep_save(v, connection)

    return plain


def _array_type(f: Field) -> str:
    if isinstance(f, JSONField):
        return "jsonb[]"
    # No length in the cast (varchar(200)[] would silently truncate; the column still checks).
    return f"{str(f.db_type(connection)).split('(')[0]}[]"


def _column_values(f: Field, values: Sequence[Any]) -> list[Any]:
    if isinstance(f, JSONField):  # as JSON text: the jsonb[] cast parses it on the server
        return [None if v is None else json.dumps(v, cls=f.encoder) for v in values]
    return list(values)
