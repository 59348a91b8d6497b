"""Querysets compiled to SQL once and run again with new values (hot paths only).

Django builds and compiles a queryset's SQL every time it runs. On this machine that is about
0.3 ms of CPU for a two-table filter whose execution takes 0.03 ms, and the worker runs the
same few dozen looks every tick (most of them finding nothing) and the same few per message.
A `Prepared` query builds its queryset once per shape with stand-in values, remembers the SQL
and where each value goes among the parameters, and afterwards only binds and executes:

    _due = Prepared(lambda now: Enrolment.objects.filter(next_wake_at__lte=now).values_list("id"))
    rows = _due(now=clock.now())      # [(id,), ...], converted as Django converts them

Rules for the builder: it must only pass its arguments into the queryset (it may branch on the
`shape=` ones only), and it must end in `.values()` or `.values_list()` (rows come back as
tuples in that order).
A sequence argument is an `__in` list: it is de-duplicated and stripped of None as Django
does, and padded to the next power of two by repeating its last value (the same set to `IN`),
so lists of any length up to BUCKETS_UP_TO share a few compiled forms. None and booleans are
part of the shape (they change the SQL or cannot be told apart), and so is every argument named
in `shape=` (a slice's bounds, which Django writes into the SQL rather than the parameters).
When a value does not reach the parameters unchanged (say `__contains`, which wraps it in `%`),
the first call raises `PreparedError` naming it, so a wrong use fails in tests instead of
running the wrong SQL. A constant of the queryset equal to a stand-in (1,900,000,001 and up,
1901-01-01) would be taken for it: keep such numbers out of hot queries.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Field, Model
from django.db.models.sql import UpdateQuery

from patas.core import fastread
from patas.core.sqltime import datetime_adapter

Slot = tuple[str, int | None, Callable[[Any], Any]]  # argument, index in a list, adapter
SENTINEL_INT = 1_900_000_000  # inside a 32-bit integer field's range (Django checks ranges)
SENTINEL_DAY = datetime(1901, 1, 1, tzinfo=UTC)
BUCKETS_UP_TO = 4096  # longer lists compile at their own length (parameter limits)
MAX_FORMS = 256  # compiled forms kept per query; past this the cache starts again


class PreparedError(ValueError):
    """A queryset that cannot be prepared (the message names the argument)."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per parameter: where its value comes from, or None for a constant of the queryset.
    slots: tuple[Slot | None, ...]
    constants: tuple[Any, ...]
    converters: tuple[tuple[int, tuple[list[Any], Any]], ...]
    empty: bool = False  # an empty `__in` list: no row can match, no query runs


class Prepared:
    def __init__(
        self,
        build: Callable[..., Any],  # a values queryset (an update: it and the values)
        *,
        shape: tuple[str, ...] = (),
        using: str = DEFAULT_DB_ALIAS,
    ):
        self.build = build
        self.shape = frozenset(shape)
        self.using = using
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def __call__(self, **args: Any) -> list[tuple[Any, ...]]:
        bound = self._bind(args)
        if bound is None:
            return []
        compiled, params = bound
        connection = connections[self.using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and connection.timezone_name == "UTC":
                fastread.use_c_timestamps(cursor)
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row) for row in rows]
        return [_convert(row, compiled.converters, connection) for row in rows]

    def _bind(self, args: dict[str, Any]) -> tuple[_Compiled, list[Any]] | None:
        """The compiled form for these arguments' shape, and its parameters (None: no query
        can match, as for an empty `__in` list)."""
        args = {name: _normalise(value) for name, value in args.items()}
        key = tuple(
            sorted(
                (name, ("fixed", value) if name in self.shape else _shape(value))
                for name, value in args.items()
            )
        )
        compiled = self._compiled.get(key)
        if compiled is None:
            if len(self._compiled) >= MAX_FORMS:
                self._compiled.clear()
            compiled = self._compiled[key] = self._compile(args)
        if compiled.empty:
            return None
        params = [
            constant if slot is None else slot[2](_value(args, slot))
            for slot, constant in zip(compiled.slots, compiled.constants, strict=True)
        ]
        return compiled, params

    def _compile(self, args: dict[str, Any]) -> _Compiled:
        connection = connections[self.using]
        stand_ins = _StandIns()
        fake = {
            name: value if name in self.shape else stand_ins.replace(name, value)
            for name, value in args.items()
        }
        compiler = self._compiler(self.build(**fake))
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _Compiled("", (), (), (), empty=True)
        slots = tuple(stand_ins.find(param, connection) for param in params)
        missing = stand_ins.places() - {slot[:2] for slot in slots if slot is not None}
        if missing:
            names = ", ".join(sorted({name for name, _ in missing}))
            raise PreparedError(
                f"prepared query: the value of {names} does not reach the SQL parameters "
                "unchanged (a lookup that transforms it, or a list not used with __in?); "
                "use the ORM here"
            )
        if not getattr(compiler, "select", None):
            return _Compiled(sql, slots, tuple(params), ())
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        converters = tuple(compiler.get_converters(fields).items())
        return _Compiled(sql, slots, tuple(params), converters)

    def _compiler(self, built: Any) -> Any:
        return built.query.get_compiler(using=self.using)


class PreparedUpdate(Prepared):
    """`queryset.update(**values)` compiled once per shape, the same way: the builder returns
    the queryset and the values, from its arguments only. Calling it returns the rows updated.

        _mark = PreparedUpdate(
            lambda ids, at: (Message.objects.filter(pk__in=ids), {"routed_at": at})
        )
        _mark(ids=[3, 5], at=clock.now())   # 2
    """

    def __call__(self, **args: Any) -> int:  # type: ignore[override]
        bound = self._bind(args)
        if bound is None:
            return 0
        compiled, params = bound
        with connections[self.using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return int(cursor.rowcount)

    def _compiler(self, built: Any) -> Any:
        queryset, values = built
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        if query.related_updates:
            raise PreparedError("prepared update: only fields of the model itself")
        return query.get_compiler(using=self.using)


class _StandIns:
    """Distinct stand-in values, and which argument each one stands for."""

    def __init__(self) -> None:
        self.count = 0
        self.by_value: dict[tuple[type, Any], tuple[str, int | None, type]] = {}

    def replace(self, name: str, value: Any) -> Any:
        if isinstance(value, list):
            return [
                self._one(name, i, value[min(i, len(value) - 1)]) for i in range(_bucket(value))
            ]
        return self._one(name, None, value)

    def _one(self, name: str, index: int | None, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value  # part of the shape: kept as it is
        self.count += 1
        stand_in: Any
        if isinstance(value, datetime):
            stand_in = SENTINEL_DAY + timedelta(seconds=self.count)
        elif isinstance(value, date):
            stand_in = SENTINEL_DAY.date() + timedelta(days=self.count)
        elif isinstance(value, int):
            stand_in = SENTINEL_INT + self.count
        elif isinstance(value, float):
            stand_in = SENTINEL_INT + self.count + 0.5
        elif isinstance(value, str):
            stand_in = f"\x1fprepared:{self.count}\x1f"
        else:
            raise PreparedError(f"prepared query: {name} is a {type(value).__name__}")
        self.by_value[(type(stand_in), stand_in)] = (name, index, type(stand_in))
        return stand_in

    def places(self) -> set[tuple[str, int | None]]:
        return {(name, index) for name, index, _ in self.by_value.values()}

    def find(self, param: Any, connection: Any) -> Slot | None:
        """Which argument a compiled parameter came from, and how its value is adapted."""
        hit = self.by_value.get((type(param), param))
        if hit is not None:
            return hit[0], hit[1], _same
        for (kind, stand_in), (name, index, _) in self.by_value.items():
            if kind is datetime and param == connection.ops.adapt_datetimefield_value(stand_in):
                return name, index, datetime_adapter(connection)
            if kind is date and param == connection.ops.adapt_datefield_value(stand_in):
                return name, index, _adapter(connection, "adapt_datefield_value")
        return None


def _adapter(connection: Any, method: str) -> Callable[[Any], Any]:
    alias = connection.alias

    def adapt(value: Any) -> Any:
        # Looked up per call: each thread has its own connection object.
        return getattr(connections[alias].ops, method)(value)

    return adapt


def _same(value: Any) -> Any:
    return value


def _normalise(value: Any) -> Any:
    """Plain values as the stand-ins will be: enum members to their value, lists as Django's
    `__in` makes them (no duplicates, no None, order kept)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(dict.fromkeys(_normalise(item) for item in value if item is not None))
    if isinstance(value, set | frozenset):  # sorted: the same set binds the same way
        return _normalise(sorted(item for item in value if item is not None))
    return value


def _bucket(values: list[Any]) -> int:
    """The length a list is compiled at: the next power of two, up to BUCKETS_UP_TO."""
    if not values or len(values) > BUCKETS_UP_TO:
        return len(values)
    return 1 << (len(values) - 1).bit_length()


def _shape(value: Any) -> Any:
    if isinstance(value, list):
        return ("list", _bucket(value), tuple(type(item).__name__ for item in value[:1]))
    if value is None or isinstance(value, bool):
        return ("value", value)
    return ("kind", type(value).__name__)


def _value(args: dict[str, Any], slot: Slot) -> Any:
    value = args[slot[0]]
    return value if slot[1] is None else value[min(slot[1], len(value) - 1)]


def _convert(
    row: Sequence[Any], converters: tuple[tuple[int, tuple[list[Any], Any]], ...], connection: Any
) -> tuple[Any, ...]:
    """Django's own converters (datetimes on SQLite, JSON, decimals), as the ORM applies them."""
    values = list(row)
    for position, (functions, expression) in converters:
        value = values[position]
        for function in functions:
            value = function(value, expression, connection)
        values[position] = value
    return tuple(values)


def save_fields(instance: Model, names: Sequence[str]) -> None:
    """`instance.save(update_fields=names)` as one UPDATE built once per model and fields,
    without the ORM's save machinery: each field's `pre_save` and preparation as `save` does,
    no signals (patas connects none). Raises as `save` does when no row was updated."""
    connection = connections[instance._state.db or DEFAULT_DB_ALIAS]
    sql, fields = _update_statement(type(instance), tuple(names), connection.alias)
    params = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, instance.pk])
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")


@lru_cache(maxsize=128)
def _update_statement(
    model: type[Model], names: tuple[str, ...], alias: str
) -> tuple[str, list[Field[Any, Any]]]:
    meta = model._meta
    quote = connections[alias].ops.quote_name
    fields = [meta.get_field(name) for name in names]
    concrete = [f for f in fields if isinstance(f, Field) and f.concrete and not f.primary_key]
    if len(concrete) != len(fields):
        raise PreparedError(f"save_fields: {names} are not all plain columns of {meta.label}")
    sets = ", ".join(f"{quote(f.column)} = %s" for f in concrete)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    return sql, concrete
