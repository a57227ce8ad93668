"""The rule expression language: hand-computed cases and a row-by-row oracle."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.portraits import ExpressionError, parse_expression


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "a": [1.0, np.nan, 0.9, 0.1],
            "b": pd.array([1, None, 3, 4], dtype="Int64"),
            "s": pd.array(["x", None, "y", "x"], dtype="string"),
            "c": pd.Categorical(["u", "v", None, "u"]),
            "f": [True, False, True, False],
        }
    )


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a >= 0.8", [True, False, True, False]),
        ("not a >= 0.8", [False, True, False, True]),  # missing compares false, so 'not' is true
        ("a != 1", [False, True, True, True]),  # missing != anything
        ("s in ('x',)", [True, False, False, True]),
        ("s not in ('x',)", [False, True, True, False]),
        ("c == 'u'", [True, False, False, True]),
        ("is_missing(a) or b > 2", [False, True, True, True]),
        ("0 < a < 1", [False, False, True, True]),
        ("a * 2 + b > 3", [False, False, True, True]),
        ("f", [True, False, True, False]),
        ("not f and a is None", [False, True, False, False]),
        ("a is not None", [True, False, True, True]),
        ("fillna(a, 0) == 0", [False, True, False, False]),
        ("max(a, b) >= 1", [True, False, True, True]),
        ("abs(-a) > 0.5", [True, False, True, False]),
        ("s == 1", [False, False, False, False]),  # text never equals a number
        ("(a > 0.5 or b == 4) and not_missing(s)", [True, False, True, True]),
        ("b in (3, 4)", [False, False, True, True]),
        ("log1p(b) > 1", [False, False, True, True]),
    ],
)
def test_hand_computed(frame, expr, expected):
    assert parse_expression(expr).evaluate(frame).tolist() == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("a >=", "invalid syntax"),
        ("a.b > 1", "attribute access 'a.b' is not allowed"),
        ("__import__('os').system('x')", "is not allowed"),
        ("open('f')", "function 'open' is not allowed"),
        ("a & b", "use 'and' instead of '&'"),
        ("a | b", "use 'or' instead of '|'"),
        ("x[0] > 1", "indexing 'x\\[0\\]' is not allowed"),
        ("a in b", "the right side of 'in' must be a list of constants"),
        ("lambda: 1", "Lambda"),
        ("a == None", "None may only be used as 'x is None'"),
        ("a is 1", "'is' / 'is not' may only be used with None"),
        ("abs(a, b) > 1", "function 'abs' takes 1 argument"),
        ("[i for i in a]", "ListComp"),
        ("", "non-empty expression"),
    ],
)
def test_rejected(expr, message):
    with pytest.raises(ExpressionError, match=message):
        parse_expression(expr)


def test_text_order_comparison_fails_at_evaluation(frame):
    with pytest.raises(ExpressionError, match="only ==, != and 'in' may compare text"):
        parse_expression("s < 'y'").evaluate(frame)


def test_features_listed():
    e = parse_expression(
        "complaints_90d >= 2 and outage_count_90d > 0 or is_missing(arrears_amount)"
    )
    assert e.features == ("arrears_amount", "complaints_90d", "outage_count_90d")


# ------------------------------------------------------------------ row-by-row oracle
NUM = ["a", "b", "c"]
CONSTS = ["0.0", "0.5", "1.0", "2.0", "-1.0", "3"]

num_leaf = st.one_of(st.sampled_from(NUM), st.sampled_from(CONSTS))


def _num(depth):
    if depth == 0:
        return num_leaf
    sub = _num(depth - 1)
    return st.one_of(
        num_leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(sub, st.sampled_from(["2.0", "-4.0"])).map(lambda t: f"({t[0]} / {t[1]})"),
        sub.map(lambda x: f"abs({x})"),
        sub.map(lambda x: f"fillna({x}, 0.5)"),
        st.tuples(sub, sub).map(lambda t: f"min({t[0]}, {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"max({t[0]}, {t[1]})"),
    )


def _cond(depth):
    leaf = st.one_of(
        st.tuples(_num(1), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), _num(1)).map(
            " ".join
        ),
        st.tuples(
            _num(0), st.sampled_from(["<", "<="]), _num(0), st.sampled_from(["<", "<="]), _num(0)
        ).map(" ".join),
        st.sampled_from(NUM + ["s"]).map(lambda x: f"is_missing({x})"),
        st.sampled_from(NUM + ["s"]).map(lambda x: f"not_missing({x})"),
        st.sampled_from(
            [
                "s == 'x'",
                "s != 'y'",
                "s in ('x', 'z')",
                "s not in ('x',)",
                "a in (0.5, 1.0)",
                "b not in (2.0,)",
            ]
        ),
    )
    if depth == 0:
        return leaf
    sub = _cond(depth - 1)
    return st.one_of(
        leaf,
        sub.map(lambda x: f"not ({x})"),
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
    )


def _nanmin(*xs):
    vals = [x for x in xs if not math.isnan(x)]
    return min(vals) if vals else math.nan


def _nanmax(*xs):
    vals = [x for x in xs if not math.isnan(x)]
    return max(vals) if vals else math.nan


def _row_by_row(expr: str, df: pd.DataFrame) -> list[bool]:
    """Plain Python evaluation, one row at a time (trusted test-generated text)."""
    code = compile(expr, "<rule>", "eval")
    out = []
    for i in range(len(df)):
        env = {c: float(df[c].iloc[i]) for c in NUM}
        sv = df["s"].iloc[i]
        env["s"] = None if pd.isna(sv) else str(sv)
        env.update(
            is_missing=lambda v: v is None or (isinstance(v, float) and math.isnan(v)),
            not_missing=lambda v: not (v is None or (isinstance(v, float) and math.isnan(v))),
            fillna=lambda v, f: f if math.isnan(v) else v,
            abs=abs,
            min=_nanmin,
            max=_nanmax,
        )
        out.append(bool(eval(code, {"__builtins__": {}}, env)))
    return out


values = st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0, 3.0, np.nan])


@st.composite
def frames(draw):
    n = draw(st.integers(1, 12))
    data = {c: draw(st.lists(values, min_size=n, max_size=n)) for c in NUM}
    data["s"] = pd.array(
        draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n, max_size=n)),
        dtype="string",
    )
    return pd.DataFrame(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=_cond(2), df=frames())
def test_vectorised_agrees_with_row_by_row(expr, df):
    got = parse_expression(expr).evaluate(df).tolist()
    assert got == _row_by_row(expr, df), expr
