"""A small, safe evaluator for the subset of ODK XPath that XLSForms use (never `eval`).

    ast = parse("${age} >= 18 and selected(${topics}, 'money')")   # ExpressionError if bad
    refs(ast), functions(ast)                                        # checked at form load
    evaluate(ast, Context(values={"age": 20.0, "topics": "money kids"}, now=now))

Values are XPath 1.0 values: str, float, bool, plus `date`/`datetime` (ODK's typed dates, which
compare as days since the epoch). `${ref}` yields the answer's value ("" when unanswered);
`.` yields the value being checked (constraints). Comparisons follow XPath 1.0: `=`/`!=`
compare as booleans if either side is one, else as numbers if either side is one, else as
strings; `<`, `<=`, `>`, `>=` always compare numbers, and a string that is not a number is NaN,
so the comparison is false.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from patas.surveys.xvalues import (
    EPOCH,
    Context,
    Value,
    arithmetic,
    as_date,
    compare,
    to_bool,
    to_number,
    to_string,
)

__all__ = ["Context", "Value", "to_bool", "to_number", "to_string"]


class ExpressionError(ValueError):
    """An expression that cannot be parsed or uses something we do not support."""


# --- AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: str | float


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Current:
    pass


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Literal | Ref | Current | Unary | Binary | Call


# --- Tokenizer ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][\w.\-]*)\s*\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<name>[A-Za-z_][\w\-]*(?::[A-Za-z_][\w\-]*)?)
  | (?P<dot>\.)
    """,
    re.VERBOSE,
)

_WORD_OPS = {"and", "or", "div", "mod"}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, ref, op, name, dot, end
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected {source[pos]!r} at position {pos + 1}")
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        if kind == "ref":
            tokens.append(Token("ref", match.group("refname"), pos))
        elif kind != "ws":
            tokens.append(Token(kind, match.group(kind), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


# --- Parser (recursive descent, XPath precedence) -------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def at_op(self, *ops: str) -> bool:
        tok = self.token
        if tok.kind == "op":
            return tok.text in ops
        # `and`, `or`, `div`, `mod` are operators when they stand where an operator can stand
        return tok.kind == "name" and tok.text in ops and tok.text in _WORD_OPS

    def expect(self, text: str) -> None:
        if not (self.token.kind == "op" and self.token.text == text):
            raise ExpressionError(f"expected {text!r} at position {self.token.pos + 1}")
        self.take()

    def parse(self) -> Node:
        node = self.or_expr()
        if self.token.kind != "end":
            raise ExpressionError(
                f"unexpected {self.token.text!r} at position {self.token.pos + 1}"
            )
        return node

    def _binary_level(self, ops: tuple[str, ...], lower: Callable[[], Node]) -> Node:
        node = lower()
        while self.at_op(*ops):
            op = self.take().text
            node = Binary(op, node, lower())
        return node

    def or_expr(self) -> Node:
        return self._binary_level(("or",), self.and_expr)

    def and_expr(self) -> Node:
        return self._binary_level(("and",), self.equality)

    def equality(self) -> Node:
        return self._binary_level(("=", "!="), self.relational)

    def relational(self) -> Node:
        return self._binary_level(("<", "<=", ">", ">="), self.additive)

    def additive(self) -> Node:
        return self._binary_level(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Node:
        return self._binary_level(("*", "div", "mod"), self.unary)

    def unary(self) -> Node:
        if self.at_op("-"):
            self.take()
            return Unary("-", self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "number":
            return Literal(float(tok.text))
        if tok.kind == "string":
            return Literal(tok.text[1:-1])
        if tok.kind == "ref":
            return Ref(tok.text)
        if tok.kind == "dot":
            return Current()
        if tok.kind == "op" and tok.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if tok.kind == "name" and self.token.kind == "op" and self.token.text == "(":
            return self.call(tok.text)
        if tok.kind == "name":
            raise ExpressionError(
                f"{tok.text!r} at position {tok.pos + 1}: paths are not supported, use ${{name}}"
            )
        if tok.kind == "end":
            raise ExpressionError("the expression ends too early")
        raise ExpressionError(f"unexpected {tok.text!r} at position {tok.pos + 1}")

    def call(self, name: str) -> Node:
        self.expect("(")
        args: list[Node] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.or_expr())
            while self.token.kind == "op" and self.token.text == ",":
                self.take()
                args.append(self.or_expr())
        self.expect(")")
        if name not in FUNCTIONS:
            raise ExpressionError(f"function '{name}' is not supported")
        low, high = FUNCTIONS[name][1]
        if not low <= len(args) <= high:
            raise ExpressionError(
                f"function '{name}' takes {_arity_words(low, high)}, got {len(args)}"
            )
        return Call(name, tuple(args))


def _arity_words(low: int, high: int) -> str:
    if high >= 99:
        return f"at least {low} arguments"
    return f"{low} arguments" if low == high else f"{low} to {high} arguments"


def parse(source: str) -> Node:
    """Parse an expression to an AST; ExpressionError names the problem."""
    return _Parser(source).parse()


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


def refs(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Ref)}


# --- Evaluation -----------------------------------------------------------------------------


def evaluate(node: Node, ctx: Context) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return ctx.values.get(node.name, "")
    if isinstance(node, Current):
        return ctx.current
    if isinstance(node, Unary):
        return -to_number(evaluate(node.operand, ctx))
    if isinstance(node, Binary):
        return _binary(node, ctx)
    return FUNCTIONS[node.name][0](node.args, ctx)


def _binary(node: Binary, ctx: Context) -> Value:
    if node.op == "and":
        return to_bool(evaluate(node.left, ctx)) and to_bool(evaluate(node.right, ctx))
    if node.op == "or":
        return to_bool(evaluate(node.left, ctx)) or to_bool(evaluate(node.right, ctx))
    left, right = evaluate(node.left, ctx), evaluate(node.right, ctx)
    if node.op in {"=", "!=", "<", "<=", ">", ">="}:
        return compare(node.op, left, right)
    return arithmetic(node.op, left, right)


def evaluate_source(source: str, ctx: Context) -> Value:
    return evaluate(parse(source), ctx)


# --- Functions ------------------------------------------------------------------------------

Args = tuple[Node, ...]


def _values(args: Args, ctx: Context) -> list[Value]:
    return [evaluate(a, ctx) for a in args]


def _fn_if(args: Args, ctx: Context) -> Value:
    chosen = args[1] if to_bool(evaluate(args[0], ctx)) else args[2]
    return evaluate(chosen, ctx)


def _fn_coalesce(args: Args, ctx: Context) -> Value:
    for arg in args:
        value = evaluate(arg, ctx)
        if to_string(value) != "":
            return value
    return ""


def _tokens(value: Value) -> list[str]:
    return to_string(value).split()


def _fn_selected(args: Args, ctx: Context) -> Value:
    answer, choice = _values(args, ctx)
    return to_string(choice).strip() in _tokens(answer)


def _fn_count_selected(args: Args, ctx: Context) -> Value:
    return float(len(_tokens(evaluate(args[0], ctx))))


def _fn_regex(args: Args, ctx: Context) -> Value:
    text, pattern = (to_string(v) for v in _values(args, ctx))
    try:
        return re.search(pattern, text) is not None
    except re.error as exc:
        raise ExpressionError(f"regex {pattern!r} is not valid: {exc}") from None


def _fn_int(args: Args, ctx: Context) -> Value:
    number = to_number(evaluate(args[0], ctx))
    if math.isnan(number) or math.isinf(number):
        return number
    return float(math.trunc(number))


def _fn_round(args: Args, ctx: Context) -> Value:
    values = _values(args, ctx)
    number = to_number(values[0])
    if math.isnan(number) or math.isinf(number):
        return number
    if len(values) == 1:
        return float(math.floor(number + 0.5))  # XPath 1.0: halves go towards +infinity
    digits = int(to_number(values[1]))
    # ODK's two-argument round: halves away from zero, on the decimal value
    exponent = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(number)).quantize(exponent, rounding=ROUND_HALF_UP))


def _fn_today(args: Args, ctx: Context) -> Value:
    return ctx.now.astimezone(ctx.tz).date()


def _fn_now(args: Args, ctx: Context) -> Value:
    return ctx.now


def _fn_date(args: Args, ctx: Context) -> Value:
    value = evaluate(args[0], ctx)
    if isinstance(value, date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        return EPOCH + timedelta(days=int(value))
    parsed = as_date(to_string(value))
    return parsed if parsed is not None else ""


def _simple(func: Callable[..., Value]) -> Callable[[Args, Context], Value]:
    return lambda args, ctx: func(*_values(args, ctx))


def _fn_substr(text: Value, start: Value, length: Value | None = None) -> Value:
    s = to_string(text)
    begin = int(to_number(start))
    end = len(s) if length is None else begin + int(to_number(length))
    return s[max(begin, 0) : max(end, 0)]


FUNCTIONS: dict[str, tuple[Callable[[Args, Context], Value], tuple[int, int]]] = {
    "if": (_fn_if, (3, 3)),
    "coalesce": (_fn_coalesce, (2, 2)),
    "selected": (_fn_selected, (2, 2)),
    "count-selected": (_fn_count_selected, (1, 1)),
    "regex": (_fn_regex, (2, 2)),
    "int": (_fn_int, (1, 1)),
    "round": (_fn_round, (1, 2)),
    "today": (_fn_today, (0, 0)),
    "now": (_fn_now, (0, 0)),
    "date": (_fn_date, (1, 1)),
    "not": (_simple(lambda v: not to_bool(v)), (1, 1)),
    "true": (_simple(lambda: True), (0, 0)),
    "false": (_simple(lambda: False), (0, 0)),
    "boolean": (_simple(to_bool), (1, 1)),
    "number": (_simple(to_number), (1, 1)),
    "string": (_simple(to_string), (1, 1)),
    "concat": (_simple(lambda *vs: "".join(to_string(v) for v in vs)), (0, 99)),
    "string-length": (_simple(lambda v: float(len(to_string(v)))), (1, 1)),
    "contains": (_simple(lambda a, b: to_string(b) in to_string(a)), (2, 2)),
    "starts-with": (_simple(lambda a, b: to_string(a).startswith(to_string(b))), (2, 2)),
    "substr": (_simple(_fn_substr), (2, 3)),
    "floor": (
        _simple(lambda v: float(math.floor(to_number(v))) if _finite(v) else to_number(v)),
        (1, 1),
    ),
    "ceiling": (
        _simple(lambda v: float(math.ceil(to_number(v))) if _finite(v) else to_number(v)),
        (1, 1),
    ),
    "abs": (_simple(lambda v: abs(to_number(v))), (1, 1)),
}


def _finite(value: Value) -> bool:
    return math.isfinite(to_number(value))


def supported_functions() -> list[str]:
    return sorted(FUNCTIONS)


def describe_value(value: Any) -> str:
    """A value as it is stored in an answer (XPath string value)."""
    return to_string(value)
