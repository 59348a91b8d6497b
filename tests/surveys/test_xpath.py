"""The evaluator against a table of expressions and their expected values."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from patas.surveys import xpath

NOW = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)  # still 1 March in Lima
VALUES: dict[str, xpath.Value] = {
    "age": 30.0,
    "name": "Juan",
    "empty": "",
    "topics": "money kids",
    "word": "abc",
    "dob": date(1990, 5, 17),
    "code": "A-123",
}

TABLE = [
    # literals and arithmetic
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("7 div 2", 3.5),
    ("7 mod 3", 1.0),
    ("-7 mod 3", -1.0),
    ("- 3 + 5", 2.0),
    ("--3", 3.0),
    ("10 - 2 - 3", 5.0),
    ("${age} div 0", math.inf),
    ("-${age} div 0", -math.inf),
    ("'12' + 1", 13.0),
    # comparisons, XPath 1.0 rules
    ("${age} >= 18 and ${age} <= 60", True),
    ("${age} = 30", True),
    ("${age} = '30'", True),
    ("${age} != 31", True),
    ("'abc' < 5", False),  # NaN compares false
    ("'abc' >= 5", False),
    ("${word} > 1", False),
    ("${empty} > 0", False),
    ("${empty} < 0", False),
    ("${empty} = ''", True),
    ("${name} = 'Juan'", True),
    ("${name} = 'juan'", False),
    ("'2' = 2.0", True),
    ("'10' < '9'", False),  # relational compares numbers, not strings
    ("1 = true()", True),
    ("0 = false()", True),
    ("'' = false()", True),
    # booleans
    ("not(${age} > 40)", True),
    ("${age} > 40 or ${name} = 'Juan'", True),
    ("true() and false()", False),
    ("boolean('')", False),
    ("boolean('x')", True),
    # select helpers
    ("selected(${topics}, 'kids')", True),
    ("selected(${topics}, 'kid')", False),
    ("selected(${empty}, 'kids')", False),
    ("count-selected(${topics})", 2.0),
    ("count-selected(${empty})", 0.0),
    ("not(selected(${topics}, 'none') and count-selected(${topics}) > 1)", True),
    # strings
    ("concat(${name}, ' tiene ', ${age})", "Juan tiene 30"),
    ("concat('a', 1.5, true())", "a1.5true"),
    ("string-length(${name})", 4.0),
    ("string-length(${empty})", 0.0),
    ("regex(${code}, '^[A-Z]-[0-9]{3}$')", True),
    ("regex(${code}, '^[0-9]+$')", False),
    ("coalesce(${empty}, 'otro')", "otro"),
    ("coalesce(${name}, 'otro')", "Juan"),
    ("if(${age} > 18, 'adulto', 'menor')", "adulto"),
    ("if(${empty} = '', 1, 2)", 1.0),
    ("contains(${name}, 'ua')", True),
    ("substr('patas', 1, 3)", "ata"),
    # numbers
    ("number('3.5') + 1", 4.5),
    ("number('x')", math.nan),
    ("int(7.9)", 7.0),
    ("int(-7.9)", -7.0),
    ("round(2.5)", 3.0),
    ("round(-2.5)", -2.0),
    ("round(1.2345, 2)", 1.23),
    ("round(1.235, 2)", 1.24),
    ("floor(2.7) + ceiling(2.1)", 5.0),
    # dates and the clock
    ("today()", date(2026, 3, 1)),
    ("${dob} < today()", True),
    ("int((today() - ${dob}) div 365.25)", 35.0),
    ("date('2026-03-01') = today()", True),
    ("${dob} = '1990-05-17'", True),
    ("now() > ${dob}", True),
]


@pytest.mark.parametrize(("source", "expected"), TABLE)
def test_expression_table(source: str, expected: xpath.Value) -> None:
    from zoneinfo import ZoneInfo

    ctx = xpath.Context(values=dict(VALUES), current="", now=NOW, tz=ZoneInfo("America/Lima"))
    got = xpath.evaluate(xpath.parse(source), ctx)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == expected
        assert type(got) is type(expected)


def test_current_value_is_dot() -> None:
    ctx = xpath.Context(current=25.0)
    assert xpath.evaluate_source(". >= 18 and . <= 60", ctx) is True
    ctx.current = 70.0
    assert xpath.evaluate_source(". >= 18 and . <= 60", ctx) is False


def test_number_to_string_follows_xpath() -> None:
    assert xpath.to_string(3.0) == "3"
    assert xpath.to_string(2.5) == "2.5"
    assert xpath.to_string(math.nan) == "NaN"
    assert xpath.to_string(True) == "true"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("foo(1)", "function 'foo' is not supported"),
        ("selected(${a})", "takes 2 arguments, got 1"),
        ("1 +", "ends too early"),
        ("(1 + 2", "expected ')'"),
        ("/data/age > 3", "unexpected '/'"),
        ("age > 3", "paths are not supported"),
        ("1 2", "unexpected '2'"),
        ("'open", "unexpected"),
        ("__import__('os')", "is not supported"),
    ],
)
def test_bad_expressions_are_refused(source: str, message: str) -> None:
    with pytest.raises(
        xpath.ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        xpath.parse(source)


def test_refs_are_listed() -> None:
    node = xpath.parse("${a} + if(selected(${b}, 'x'), ${c}, 0)")
    assert xpath.refs(node) == {"a", "b", "c"}
