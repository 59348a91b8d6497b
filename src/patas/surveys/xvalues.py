"""XPath 1.0 values and conversions for the survey evaluator (see `xpath`).

Values are str, float, bool, plus `date`/`datetime` (ODK's typed dates, which compare as days
since the epoch). Comparisons follow XPath 1.0: `=`/`!=` compare as booleans if either side is
one, else as numbers if either side is one, else as strings; `<`, `<=`, `>`, `>=` always compare
numbers, and a string that is not a number is NaN, so the comparison is false.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from patas.core import clock

Value = str | float | bool | date | datetime

EPOCH = date(1970, 1, 1)
_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Context:
    """What an expression sees: answers by name, the current value, and the clock."""

    values: dict[str, Value] = field(default_factory=dict)
    current: Value = ""
    now: datetime = field(default_factory=clock.now)
    tz: tzinfo = UTC


def to_number(value: Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, datetime):
        return (value - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400
    if isinstance(value, date):
        return float((value - EPOCH).days)
    if _NUMBER.fullmatch(value):
        return float(value)
    parsed = as_date(value)
    return to_number(parsed) if parsed is not None else math.nan


def to_string(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return _number_string(float(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _number_string(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == int(number):
        return str(int(number))
    return repr(number)


def to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float | int):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, date):
        return True
    return value != ""


def as_date(value: str) -> date | None:
    if _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def compare(op: str, left: Value, right: Value) -> bool:
    if op in {"=", "!="}:
        if isinstance(left, bool) or isinstance(right, bool):
            equal = to_bool(left) == to_bool(right)
        elif _numeric(left) or _numeric(right):
            equal = to_number(left) == to_number(right)
        else:
            equal = to_string(left) == to_string(right)
        return equal if op == "=" else not equal
    a, b = to_number(left), to_number(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _numeric(value: Value) -> bool:
    return isinstance(value, float | int | date) and not isinstance(value, bool)


def arithmetic(op: str, left: Value, right: Value) -> float:
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
        return a / b
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)  # XPath mod keeps the sign of the dividend, like fmod
