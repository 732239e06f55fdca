"""The XLSForm/ODK XPath subset, parsed and evaluated in Python.

The web form re-renders through htmx from the server, so this module is the
single evaluator of ``relevant``, ``constraint``, ``required`` and
``calculation`` expressions: the browser shows what Python decided.

Supported (what XLSForm instruments use for skip logic and checks):

- references ``${name}`` and the current answer ``.``;
- string literals (``'a'``, ``"a"``), numbers, parentheses;
- ``or``, ``and``, ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``+``, ``-``,
  ``*``, ``div``, ``mod``, unary ``-``;
- functions: ``selected``, ``count-selected``, ``string-length``, ``regex``,
  ``if``, ``coalesce``, ``not``, ``true``, ``false``, ``boolean``, ``number``,
  ``string``, ``concat``, ``contains``, ``starts-with``, ``int``, ``round``,
  ``count``, ``sum``, ``today``, ``date``.

Semantics follow XPath 1.0 as ODK Collect (JavaRosa) applies it: a reference
evaluates to its answer (an unanswered question is the empty string), a
multiple choice answer is its space-separated codes, ``number('')`` is NaN (so
``${x} > 5`` is false while ``x`` is unanswered), ``=`` compares as booleans
when either side is a boolean, as numbers when either side is a number, else
as strings; ``<``/``>`` always compare numbers; dates compare as days since
1970-01-01. Inside a repeat, ``${sibling}`` is the same instance's answer; from
outside, a reference to a repeated question is the list of its answers (for
``count()`` and ``sum()``), and ``count(${repeat})`` counts instances.

Why our own parser: pyxform only tokenises expressions; elementpath's XPath
1.0 parser raises FORG0001 where XPath 1.0 and ODK give NaN (comparing an
unanswered question with a number, the most common skip-logic case), cannot
register functions in 1.0 mode, and would need an XML instance per
evaluation. The subset is small; the grammar below is the XPath 1.0
expression grammar without location paths.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ozamonitor.errors import ConfigurationError

__all__ = [
    "FUNCTIONS",
    "Expression",
    "ExpressionError",
    "NodeSet",
    "Scope",
    "evaluate",
    "parse",
    "to_boolean",
    "to_number",
    "to_string",
]

_EPOCH = dt.date(1970, 1, 1)


class ExpressionError(ConfigurationError):
    """An expression that cannot be parsed or uses an unsupported construct."""


class NodeSet(tuple):
    """The answers of a repeated question seen from outside its repeat."""

    __slots__ = ()


# ------------------------------------------------------------------ conversions


def to_string(v: Any) -> str:
    """XPath ``string()`` of a value."""
    if isinstance(v, NodeSet):
        return to_string(v[0]) if v else ""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return " ".join(to_string(x) for x in v)
    return str(v)


_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*")


def to_number(v: Any) -> float:
    """XPath ``number()``: NaN for text that is not a number (including '')."""
    if isinstance(v, NodeSet):
        return to_number(v[0]) if v else math.nan
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return float((v - _EPOCH).days)
    s = to_string(v)
    if _NUMBER.fullmatch(s):
        return float(s)
    try:  # an ISO date answer compares as a date
        return float((dt.date.fromisoformat(s.strip()) - _EPOCH).days)
    except ValueError:
        return math.nan


def to_boolean(v: Any) -> bool:
    """XPath ``boolean()``: non-empty text, non-zero number, non-empty list."""
    if isinstance(v, NodeSet):
        return len(v) > 0
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return not (v == 0 or math.isnan(v))
    if isinstance(v, dt.date):
        return True
    return len(to_string(v)) > 0


# ------------------------------------------------------------------ tokens

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{(?P<refname>[^}]*)\})
    | (?P<num>\d+(?:\.\d*)?|\.\d+)
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,|\.)
    | (?P<name>[A-Za-z_][A-Za-z0-9_.:-]*)
    )""",
    re.VERBOSE,
)
_NAME_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class _Tok:
    kind: str  # ref, num, str, op, name, end
    text: str
    pos: int


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    src = src.rstrip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot read {src!r} at position {pos + 1}")
        kind = m.lastgroup if m.lastgroup != "refname" else "ref"
        if m.group("ref") is not None:
            name = m.group("refname").strip()
            if not _NAME_OK.fullmatch(name):
                raise ExpressionError(f"bad reference ${{{name}}} in {src!r}")
            toks.append(_Tok("ref", name, m.start()))
        else:
            assert kind is not None
            text = m.group(kind)
            if kind == "str":
                text = text[1:-1]
            toks.append(_Tok(kind, text, m.start()))
        pos = m.end()
    toks.append(_Tok("end", "", len(src)))
    return toks


# ------------------------------------------------------------------ syntax tree


@dataclass(frozen=True)
class _Node:
    op: str  # lit, ref, self, neg, call, or binary operator
    args: tuple[Any, ...]


_BINARY = (  # lowest to highest precedence (XPath 1.0)
    ("or",),
    ("and",),
    ("=", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "div", "mod"),
)


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> None:
        t = self.take()
        if t.text != text or t.kind not in ("op",):
            raise ExpressionError(
                f"expected {text!r} at position {t.pos + 1} of {self.src!r}, found {t.text!r}"
            )

    def _is_op(self, t: _Tok, ops: tuple[str, ...]) -> bool:
        if t.kind == "op":
            return t.text in ops
        # and/or/div/mod are operators where an operator may stand (never function names)
        return t.kind == "name" and t.text in ops and t.text in ("and", "or", "div", "mod")

    def binary(self, level: int = 0) -> _Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self._is_op(self.peek(), _BINARY[level]):
            op = self.take().text
            right = self.binary(level + 1)
            left = _Node(op, (left, right))
        return left

    def unary(self) -> _Node:
        if self.peek().kind == "op" and self.peek().text == "-":
            self.take()
            return _Node("neg", (self.unary(),))
        return self.primary()

    def primary(self) -> _Node:
        t = self.take()
        if t.kind == "num":
            return _Node("lit", (float(t.text),))
        if t.kind == "str":
            return _Node("lit", (t.text,))
        if t.kind == "ref":
            return _Node("ref", (t.text,))
        if t.kind == "op" and t.text == ".":
            return _Node("self", ())
        if t.kind == "op" and t.text == "(":
            inner = self.binary()
            self.expect(")")
            return inner
        if t.kind == "name":
            nxt = self.peek()
            if not (nxt.kind == "op" and nxt.text == "("):
                raise ExpressionError(
                    f"{t.text!r} at position {t.pos + 1} of {self.src!r}: paths are not "
                    "supported; refer to questions as ${name}"
                )
            if t.text not in FUNCTIONS:
                raise ExpressionError(f"unsupported function {t.text}() in {self.src!r}")
            self.take()
            args: list[_Node] = []
            if not (self.peek().kind == "op" and self.peek().text == ")"):
                args.append(self.binary())
                while self.peek().kind == "op" and self.peek().text == ",":
                    self.take()
                    args.append(self.binary())
            self.expect(")")
            lo, hi = FUNCTIONS[t.text][1]
            if not lo <= len(args) <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                raise ExpressionError(
                    f"{t.text}() takes {want} argument(s), got {len(args)} in {self.src!r}"
                )
            return _Node("call", (t.text, tuple(args)))
        where = "the end" if t.kind == "end" else f"position {t.pos + 1}"
        raise ExpressionError(f"unexpected {t.text or 'end'!r} at {where} of {self.src!r}")


def _refs(node: _Node) -> set[str]:
    if node.op == "ref":
        return {node.args[0]}
    out: set[str] = set()
    for a in node.args:
        if isinstance(a, _Node):
            out |= _refs(a)
        elif isinstance(a, tuple):
            for b in a:
                if isinstance(b, _Node):
                    out |= _refs(b)
    return out


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source, syntax tree and the names it refers to."""

    source: str
    tree: _Node
    references: frozenset[str]

    def evaluate(self, scope: Scope) -> Any:
        """The value of the expression in ``scope``."""
        return _eval(self.tree, scope)

    def is_true(self, scope: Scope) -> bool:
        """The expression's boolean value (``relevant``, ``constraint``, ``required``)."""
        return to_boolean(_eval(self.tree, scope))


@lru_cache(maxsize=4096)
def parse(source: str) -> Expression:
    """Parse an expression once (cached).

    Raises
    ------
    ExpressionError
        On a syntax error, an unknown function, a wrong number of arguments
        or a location path (only ``${name}`` and ``.`` are supported).

    Examples
    --------
    >>> e = parse("${hours} > 10 and selected(${dev}, 'time')")
    >>> sorted(e.references)
    ['dev', 'hours']
    """
    p = _Parser(source)
    if p.peek().kind == "end":
        raise ExpressionError("empty expression")
    tree = p.binary()
    if p.peek().kind != "end":
        t = p.peek()
        raise ExpressionError(f"unexpected {t.text!r} at position {t.pos + 1} of {source!r}")
    return Expression(source, tree, frozenset(_refs(tree)))


# ------------------------------------------------------------------ evaluation


@dataclass
class Scope:
    """What names mean while evaluating.

    Attributes
    ----------
    lookup : callable
        ``name -> value``: an answer (None when unanswered), a list for a
        multiple choice answer, a :class:`NodeSet` for a repeated question
        seen from outside its repeat, or an int (instance count) for a repeat.
    current : Any
        The value of ``.`` (the answer a constraint checks).
    today : datetime.date, optional
        The date ``today()`` returns (default: the system date).
    """

    lookup: Callable[[str], Any]
    current: Any = None
    today: dt.date | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any], current: Any = None) -> Scope:
        """A scope over a plain mapping of answers (missing names are unanswered)."""
        return cls(lookup=lambda n: values.get(n), current=current)


def _value(v: Any) -> Any:
    """An answer as XPath sees it: None -> '', lists -> space-separated codes."""
    if v is None:
        return ""
    if isinstance(v, NodeSet):
        return v
    if isinstance(v, list | tuple):
        return " ".join(to_string(x) for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, NodeSet) or isinstance(b, NodeSet):  # XPath: true if any member is
        la = list(a) if isinstance(a, NodeSet) else [a]
        lb = list(b) if isinstance(b, NodeSet) else [b]
        return any(_compare(op, _value(x), _value(y)) for x in la for y in lb)
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            eq = to_boolean(a) == to_boolean(b)
        elif isinstance(a, float) or isinstance(b, float):
            eq = to_number(a) == to_number(b)
        elif isinstance(a, dt.date) or isinstance(b, dt.date):
            eq = to_string(a) == to_string(b)
        else:
            eq = to_string(a) == to_string(b)
        if op == "=":
            return eq
        # XPath: NaN != x is true (not(=) except for NaN pairs, which are also true)
        return not eq
    x, y = to_number(a), to_number(b)
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _arith(op: str, a: Any, b: Any) -> float:
    x, y = to_number(a), to_number(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "div":
        if y == 0:
            if x == 0 or math.isnan(x):
                return math.nan
            return math.copysign(math.inf, x) * math.copysign(1.0, y)
        return x / y
    # mod: XPath's remainder truncates (as Java's %), like math.fmod
    if y == 0 or math.isinf(x):
        return math.nan
    return math.fmod(x, y)


def _eval(node: _Node, scope: Scope) -> Any:
    op = node.op
    if op == "lit":
        return node.args[0]
    if op == "ref":
        return _value(scope.lookup(node.args[0]))
    if op == "self":
        return _value(scope.current)
    if op == "neg":
        return -to_number(_eval(node.args[0], scope))
    if op == "call":
        name, args = node.args
        return FUNCTIONS[name][0](scope, args)
    if op == "or":
        return to_boolean(_eval(node.args[0], scope)) or to_boolean(_eval(node.args[1], scope))
    if op == "and":
        return to_boolean(_eval(node.args[0], scope)) and to_boolean(_eval(node.args[1], scope))
    a, b = _eval(node.args[0], scope), _eval(node.args[1], scope)
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return _compare(op, a, b)
    return _arith(op, a, b)


def evaluate(source: str, values: Mapping[str, Any], current: Any = None) -> Any:
    """Evaluate ``source`` over a plain mapping of answers.

    Examples
    --------
    >>> evaluate("${n} > 5", {"n": 7})
    True
    >>> evaluate("${n} > 5", {})            # unanswered: NaN > 5 is false
    False
    >>> evaluate("count-selected(${m})", {"m": ["a", "b"]})
    2.0
    """
    return parse(source).evaluate(Scope.of(values, current))


# ------------------------------------------------------------------ functions

_Args = Sequence[_Node]


def _a(scope: Scope, args: _Args, i: int) -> Any:
    return _eval(args[i], scope)


def _f_selected(scope: Scope, args: _Args) -> bool:
    return to_string(_a(scope, args, 1)).strip() in to_string(_a(scope, args, 0)).split()


def _f_count_selected(scope: Scope, args: _Args) -> float:
    return float(len(to_string(_a(scope, args, 0)).split()))


def _f_regex(scope: Scope, args: _Args) -> bool:
    pattern = to_string(_a(scope, args, 1))
    try:
        return re.search(pattern, to_string(_a(scope, args, 0))) is not None
    except re.error as e:
        raise ExpressionError(f"bad regular expression {pattern!r}: {e}") from None


def _f_if(scope: Scope, args: _Args) -> Any:
    return _a(scope, args, 1) if to_boolean(_a(scope, args, 0)) else _a(scope, args, 2)


def _f_coalesce(scope: Scope, args: _Args) -> Any:
    first = _a(scope, args, 0)
    return first if to_string(first) != "" else _a(scope, args, 1)


def _f_count(scope: Scope, args: _Args) -> float:
    node = args[0]
    if node.op != "ref":
        raise ExpressionError("count() takes a reference to a repeat or a repeated question")
    v = scope.lookup(node.args[0])
    if isinstance(v, NodeSet):
        return float(len(v))
    if isinstance(v, int) and not isinstance(v, bool):  # a repeat: its instance count
        return float(v)
    return 0.0 if v is None else 1.0


def _f_sum(scope: Scope, args: _Args) -> float:
    v = _a(scope, args, 0)
    items = list(v) if isinstance(v, NodeSet) else [v]
    # XPath sums every node; ODK treats unanswered repeated numbers as 0
    return float(sum(0.0 if to_string(x) == "" else to_number(x) for x in items))


def _f_round(scope: Scope, args: _Args) -> float:
    x = to_number(_a(scope, args, 0))
    digits = int(to_number(_a(scope, args, 1))) if len(args) > 1 else 0
    if math.isnan(x) or math.isinf(x):
        return x
    f = 10.0**digits
    return math.floor(x * f + 0.5) / f  # XPath rounds halves up


def _f_int(scope: Scope, args: _Args) -> float:
    x = to_number(_a(scope, args, 0))
    return x if math.isnan(x) or math.isinf(x) else float(math.trunc(x))


def _f_date(scope: Scope, args: _Args) -> Any:
    v = _a(scope, args, 0)
    if isinstance(v, dt.date):
        return v
    if isinstance(v, float) and not math.isnan(v):
        return _EPOCH + dt.timedelta(days=int(v))
    try:
        return dt.date.fromisoformat(to_string(v).strip())
    except ValueError:
        return ""


#: name -> (implementation, (min args, max args))
FUNCTIONS: dict[str, tuple[Callable[[Scope, _Args], Any], tuple[int, int]]] = {
    "selected": (_f_selected, (2, 2)),
    "count-selected": (_f_count_selected, (1, 1)),
    "string-length": (lambda s, a: float(len(to_string(_a(s, a, 0) if a else s.current))),
                      (0, 1)),
    "regex": (_f_regex, (2, 2)),
    "if": (_f_if, (3, 3)),
    "coalesce": (_f_coalesce, (2, 2)),
    "not": (lambda s, a: not to_boolean(_a(s, a, 0)), (1, 1)),
    "true": (lambda s, a: True, (0, 0)),
    "false": (lambda s, a: False, (0, 0)),
    "boolean": (lambda s, a: to_boolean(_a(s, a, 0)), (1, 1)),
    "number": (lambda s, a: to_number(_a(s, a, 0) if a else s.current), (0, 1)),
    "string": (lambda s, a: to_string(_a(s, a, 0) if a else s.current), (0, 1)),
    "concat": (lambda s, a: "".join(to_string(_eval(x, s)) for x in a), (1, 99)),
    "contains": (lambda s, a: to_string(_a(s, a, 1)) in to_string(_a(s, a, 0)), (2, 2)),
    "starts-with": (lambda s, a: to_string(_a(s, a, 0)).startswith(to_string(_a(s, a, 1))),
                    (2, 2)),
    "int": (_f_int, (1, 1)),
    "round": (_f_round, (1, 2)),
    "count": (_f_count, (1, 1)),
    "sum": (_f_sum, (1, 1)),
    "today": (lambda s, a: s.today or dt.date.today(), (0, 0)),
    "date": (_f_date, (1, 1)),
}
