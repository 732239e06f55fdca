"""The ODK XPath subset: parsing, XPath 1.0 / JavaRosa semantics, errors."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from ozamonitor.survey.expressions import (
    ExpressionError,
    NodeSet,
    Scope,
    evaluate,
    parse,
    to_number,
    to_string,
)


@pytest.mark.parametrize(
    ("expr", "values", "expected"),
    [
        ("${n} > 5", {"n": 7}, True),
        ("${n} > 5", {}, False),  # unanswered: NaN > 5
        ("${n} <= 5", {}, False),
        ("${n} != 5", {}, True),  # XPath: NaN != 5 is true
        ("${n} = ''", {}, True),
        ("${n} = ''", {"n": 0}, False),
        ("${s} = 'yes'", {"s": "yes"}, True),
        ("${s} != 'yes'", {"s": "no"}, True),
        ("${s} = 'yes'", {}, False),
        ("${s} <= 2", {"s": "2"}, True),  # a scale code compares as a number
        ("${s} <= 2", {"s": "3"}, False),
        ("1 + 2 * 3", {}, 7.0),
        ("(1 + 2) * 3", {}, 9.0),
        ("7 div 2", {}, 3.5),
        ("7 mod 3", {}, 1.0),
        ("-7 mod 3", {}, -1.0),  # truncating remainder, as XPath
        ("- ${n}", {"n": 4}, -4.0),
        ("${a} and ${b}", {"a": "x", "b": ""}, False),
        ("${a} or ${b}", {"a": "x", "b": ""}, True),
        ("not(${a})", {}, True),
        ("true() and not(false())", {}, True),
        ("1 = 1 and 2 > 1 or 0", {}, True),
        ("selected(${m}, 'b')", {"m": ["a", "b"]}, True),
        ("selected(${m}, 'c')", {"m": ["a", "b"]}, False),
        ("selected(${m}, 'a')", {"m": "a b"}, True),
        ("selected(${m}, 'a')", {}, False),
        ("count-selected(${m})", {"m": ["a", "b", "c"]}, 3.0),
        ("count-selected(${m})", {}, 0.0),
        ("string-length(${t})", {"t": "hallo"}, 5.0),
        ("string-length(${t})", {}, 0.0),
        ("regex(${t}, '^[0-9]{4}[A-Z]{2}$')", {"t": "1234AB"}, True),
        ("regex(${t}, '^[0-9]{4}[A-Z]{2}$')", {"t": "12AB"}, False),
        ("if(${n} > 5, 'big', 'small')", {"n": 9}, "big"),
        ("if(${n} > 5, 'big', 'small')", {}, "small"),
        ("coalesce(${a}, 'default')", {}, "default"),
        ("coalesce(${a}, 'default')", {"a": "given"}, "given"),
        ("concat('a', ${n}, 'b')", {"n": 3}, "a3b"),
        ("contains(${t}, 'll')", {"t": "hallo"}, True),
        ("starts-with(${t}, 'ha')", {"t": "hallo"}, True),
        ("int(7.9)", {}, 7.0),
        ("round(2.5)", {}, 3.0),
        ("round(3.14159, 2)", {}, 3.14),
        ("number('12')", {}, 12.0),
        ("boolean('')", {}, False),
        ("${d} > date('2024-01-01')", {"d": dt.date(2024, 2, 1)}, True),
        ("${d} > date('2024-01-01')", {"d": "2023-12-31"}, False),
        ('${s} = "double quotes"', {"s": "double quotes"}, True),
    ],
)
def test_semantics(expr, values, expected):
    assert evaluate(expr, values) == expected


def test_current_value_in_constraints():
    assert evaluate(". >= 0 and . <= 40", {}, current=12) is True
    assert evaluate(". >= 0 and . <= 40", {}, current=41) is False
    assert evaluate("not(selected(., 'none') and count-selected(.) > 1)", {},
                    current=["none", "ggd"]) is False
    assert evaluate("not(selected(., 'none') and count-selected(.) > 1)", {},
                    current=["none"]) is True
    assert evaluate("string-length(.) <= 3", {}, current="abcd") is False


def test_repeats_count_and_sum():
    values = {"partner": 3, "amount": NodeSet([100, None, 50.5])}
    scope = Scope(values.get)
    assert parse("count(${partner})").evaluate(scope) == 3.0
    assert parse("count(${amount})").evaluate(scope) == 3.0
    assert parse("sum(${amount})").evaluate(scope) == 150.5
    assert parse("${amount} > 60").is_true(scope)  # any member, as XPath node-sets
    assert not parse("${amount} > 200").is_true(scope)


def test_today_is_injectable():
    scope = Scope(lambda n: dt.date(2025, 1, 1), today=dt.date(2025, 6, 1))
    assert parse("${d} < today()").is_true(scope)


def test_references_are_collected():
    e = parse("if(selected(${a}, 'x'), ${b} + 1, coalesce(${c}, 0)) > .")
    assert e.references == frozenset({"a", "b", "c"})


@pytest.mark.parametrize(
    "expr",
    ["", "${a} >", "selected(${a})", "unknown(1)", "/data/a = 1", "${a} = 'x", "(1 + 2",
     "${bad name} = 1", "count(1)", "1 2"],
)
def test_bad_expressions_are_configuration_errors(expr):
    with pytest.raises(ExpressionError):
        e = parse(expr)
        e.evaluate(Scope(lambda n: None))


def test_conversions():
    assert math.isnan(to_number(""))
    assert math.isnan(to_number("abc"))
    assert to_number(" 3.5 ") == 3.5
    assert to_number(True) == 1.0
    assert to_string(3.0) == "3"
    assert to_string(["a", "b"]) == "a b"
    assert to_string(None) == ""
    assert to_string(float("nan")) == "NaN"
