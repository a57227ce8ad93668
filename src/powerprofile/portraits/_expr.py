"""The one safe expression language of tags, risk rules and campaign selections.

A rule such as ``online_contact_share_365d >= 0.8 and not is_missing(complaints_90d)``
or a selection such as ``churn_band == 'high' and has(tags, 'digital_first')`` is
parsed with :mod:`ast` into a tree whose every node is checked against a whitelist,
then evaluated column-wise with numpy over a whole frame. Raw strings are never passed
to :func:`eval` and no Python object is ever looked up by name.

Grammar (Python syntax, restricted)
-----------------------------------
- names: columns of the frame (features for tags and risk rules, portrait columns for
  campaign selections);
- constants: numbers, strings, ``True``, ``False``; lists/tuples/sets of constants on
  the right of ``in`` / ``not in``;
- arithmetic: ``+ - * / // % **`` and unary ``-``/``+``;
- comparisons: ``== != < <= > >=`` (chains allowed), ``in``, ``not in``,
  ``x is None`` / ``x is not None``;
- logic: ``and``, ``or``, ``not`` and parentheses;
- functions: ``is_missing(x)`` (alias ``isna(x)``), ``not_missing(x)`` (alias
  ``notna(x)``), ``has(column, 'name')`` (``name`` is an item of a ``;``, ``,`` or
  ``|`` separated text column such as ``tags``), ``abs(x)``, ``log1p(x)``,
  ``min(a, b, ...)``, ``max(a, b, ...)``, ``fillna(x, value)``.

Missing values (three-valued logic, as in SQL)
----------------------------------------------
Arithmetic and functions propagate missing values (``min``/``max`` skip them,
``fillna`` replaces them). A comparison, ``in``/``not in`` or ``has`` involving a
missing value is *unknown*. ``and``, ``or`` and ``not`` follow SQL's three-valued
logic: ``false and unknown`` is false, ``true or unknown`` is true, ``not unknown`` is
unknown. A rule holds, and a selection selects, only where its result is *true*. So
``x != 'high'`` and ``not (x == 'high')`` agree, and neither selects a row whose ``x``
is missing; to include such rows say so: ``x != 'high' or isna(x)``.
``is_missing``/``isna``, ``not_missing``/``notna`` and ``x is None`` are never unknown.
A number used as a condition is true when non-zero (booleans are numbers 1/0).

Checked before any evaluation
-----------------------------
When parsed: the whitelist; at most :data:`MAX_LENGTH` characters and
:data:`MAX_DEPTH` levels of nesting; numbers and constant sub-expressions finite and
within :data:`MAX_CONSTANT`; constant exponents within :data:`MAX_EXPONENT`; no
division or modulo by a constant zero; no arithmetic on text constants. When the
columns are known (:meth:`Expression.check`, and always before :meth:`evaluate`):
every name is a column, text is compared only with text and only with ``==``, ``!=``
and ``in``, no arithmetic on text columns, ``has`` reads a text column.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "MAX_CONSTANT",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "column_kinds",
    "parse_expression",
]

MAX_LENGTH = 10_000
"""Longest expression text, in characters."""
MAX_DEPTH = 100
"""Deepest nesting of the syntax tree (each operator, call or operand is one level)."""
MAX_CONSTANT = 2.0**53
"""Largest magnitude of a number or constant sub-expression (float64 is exact up to it)."""
MAX_EXPONENT = 100
"""Largest magnitude of a constant exponent."""

NUMBER = "number"
TEXT = "text"


class ExpressionError(ValueError):
    """An expression is malformed, uses something outside the whitelist, or cannot be evaluated."""


_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCS = {
    "is_missing": (1, 1),
    "isna": (1, 1),
    "not_missing": (1, 1),
    "notna": (1, 1),
    "has": (2, 2),
    "abs": (1, 1),
    "log1p": (1, 1),
    "min": (2, None),
    "max": (2, None),
    "fillna": (2, 2),
}
_MISSING_FUNCS = {"is_missing": True, "isna": True, "not_missing": False, "notna": False}
_OP_HINTS = {
    ast.BitAnd: "use 'and' instead of '&'",
    ast.BitOr: "use 'or' instead of '|'",
    ast.Invert: "use 'not' instead of '~'",
    ast.BitXor: "'^' is not supported; use '**' for powers",
}


def _fail(msg: str):
    raise ExpressionError(msg)


# ------------------------------------------------------------------ static checks


def _depth_exceeds(tree: ast.AST, limit: int) -> bool:
    """Whether the tree nests deeper than ``limit`` (iterative: safe on any depth)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False


def _fold(node: ast.AST, fn, *values: float) -> float:
    """Compute a constant sub-expression, refusing overflow, invalid results and huge values."""
    try:
        with np.errstate(all="raise"):
            result = float(fn(*(np.float64(v) for v in values)))
    except (FloatingPointError, ZeroDivisionError, OverflowError, ValueError):
        result = math.inf
    if not math.isfinite(result) or abs(result) > MAX_CONSTANT:
        _fail(
            f"the constant part {ast.unparse(node)!r} has no finite value within "
            f"±{MAX_CONSTANT:.0f}; use a smaller constant"
        )
    return result


def _quote(node: ast.AST) -> str:
    """The node as quoted text: a name as 'x', a text constant as itself ('x')."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ast.unparse(node)
    if isinstance(node, ast.Name):
        return repr(node.id)
    return repr(_short(ast.unparse(node)))


def _need_number(kind, node: ast.AST, what: str) -> None:
    if kind == TEXT:
        _fail(f"{what} on the text {_quote(node)} is not allowed")


def _condition(node: ast.AST, kinds, names) -> None:
    kind, _ = _analyse(node, kinds, names)
    if kind == TEXT:
        _fail(
            f"the text {_quote(node)} is used as a condition; compare it, "
            f"e.g. {ast.unparse(node)} == 'value'"
        )


def _analyse(node: ast.AST, kinds: Mapping | None, names: set[str]):
    """Check ``node`` and return ``(kind, constant)``.

    ``kind`` is :data:`NUMBER`, :data:`TEXT` or None (a column of unknown type);
    ``constant`` is the value of a constant sub-expression, else None. Names are
    collected into ``names``; with ``kinds`` every name must be a key of it.
    """
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None:
            _fail("None may only be used as 'x is None' / 'x is not None'")
        if isinstance(v, bool):
            return NUMBER, float(v)
        if isinstance(v, (int, float)):
            try:
                f = float(v)
            except OverflowError:
                f = math.inf
            if not math.isfinite(f):
                _fail("a number is outside the range of floats; use a smaller constant")
            if abs(f) > MAX_CONSTANT:
                _fail(
                    f"the number {_short(ast.unparse(node))} is outside ±{MAX_CONSTANT:.0f}; "
                    "use a smaller constant"
                )
            return NUMBER, f
        if isinstance(v, str):
            return TEXT, v
        _fail(f"constant {v!r} is not allowed")
    if isinstance(node, ast.Name):
        if node.id in _FUNCS:
            _fail(f"{node.id!r} is a function; call it as {node.id}(...)")
        names.add(node.id)
        if kinds is None:
            return None, None
        if node.id not in kinds:
            raise _UnknownName(node.id)
        kind = kinds[node.id]
        if kind not in (NUMBER, TEXT, None):
            _fail(
                f"column {node.id!r} has type {kind}, which rules cannot read; "
                "use numbers, booleans or text"
            )
        return kind, None
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _condition(v, kinds, names)
        return NUMBER, None
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            _condition(node.operand, kinds, names)
            return NUMBER, None
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            _fail(_OP_HINTS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed"))
        kind, const = _analyse(node.operand, kinds, names)
        _need_number(kind, node.operand, "arithmetic")
        if const is not None:
            return NUMBER, _fold(
                node, operator.neg if isinstance(node.op, ast.USub) else operator.pos, const
            )
        return NUMBER, None
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            _fail(_OP_HINTS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed"))
        lk, lc = _analyse(node.left, kinds, names)
        rk, rc = _analyse(node.right, kinds, names)
        _need_number(lk, node.left, "arithmetic")
        _need_number(rk, node.right, "arithmetic")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and rc == 0:
            _fail(f"{ast.unparse(node)!r} divides by zero")
        if isinstance(node.op, ast.Pow) and rc is not None and abs(rc) > MAX_EXPONENT:
            _fail(
                f"the exponent in {_short(ast.unparse(node))!r} is outside ±{MAX_EXPONENT}; "
                "use a smaller power"
            )
        if lc is not None and rc is not None:
            return NUMBER, _fold(node, _BINOPS[type(node.op)], lc, rc)
        return NUMBER, None
    if isinstance(node, ast.Compare):
        lk, _ = _analyse(node.left, kinds, names)
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                if len(node.ops) != 1:
                    _fail("'in' cannot be chained with other comparisons; join them with 'and'")
                if not isinstance(right, (ast.List, ast.Tuple, ast.Set)) or not all(
                    isinstance(e, ast.Constant) and e.value is not None for e in right.elts
                ):
                    _fail(
                        "the right side of 'in' must be a list of constants, e.g. x in ('a', 'b')"
                    )
                for e in right.elts:
                    ek, _ = _analyse(e, kinds, names)
                    _same_kind(lk, ek, node)
            elif isinstance(op, (ast.Is, ast.IsNot)):
                if not (isinstance(right, ast.Constant) and right.value is None):
                    _fail("'is' / 'is not' may only be used with None (x is None)")
                if len(node.ops) != 1:
                    _fail("'is None' cannot be chained with other comparisons")
            elif type(op) in _CMPOPS:
                rk, _ = _analyse(right, kinds, names)
                if not isinstance(op, (ast.Eq, ast.NotEq)) and TEXT in (lk, rk):
                    _fail(f"{ast.unparse(node)!r}: only ==, != and 'in' may compare text")
                _same_kind(lk, rk, node)
                lk = rk
            else:  # pragma: no cover - every Python comparison is listed above
                _fail(f"comparison {type(op).__name__} is not allowed")
        return NUMBER, None
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            _fail(f"function {called!r} is not allowed; allowed: {', '.join(sorted(_FUNCS))}")
        fname = node.func.id
        if node.keywords:
            _fail(f"function {fname!r} takes no keyword arguments")
        lo, hi = _FUNCS[fname]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}"
            _fail(f"function {fname!r} takes {want} argument(s), got {n}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            _fail("'*' arguments are not allowed")
        if fname == "has":
            col, item = node.args
            if not isinstance(col, ast.Name) or not (
                isinstance(item, ast.Constant) and isinstance(item.value, str)
            ):
                _fail("has() takes a column and a text value, e.g. has(tags, 'digital_first')")
            kind, _ = _analyse(col, kinds, names)
            if kind == NUMBER:
                _fail(f"has() needs a text column such as tags; {col.id!r} holds numbers")
            return NUMBER, None
        for a in node.args:
            kind, _ = _analyse(a, kinds, names)
            if fname not in _MISSING_FUNCS:
                _need_number(kind, a, f"{fname}()")
        return NUMBER, None
    if isinstance(node, ast.Attribute):
        _fail(f"attribute access {ast.unparse(node)!r} is not allowed")
    if isinstance(node, ast.Subscript):
        _fail(f"indexing {ast.unparse(node)!r} is not allowed")
    _fail(f"{type(node).__name__} ({_short(ast.unparse(node))!r}) is not allowed")


def _same_kind(left, right, node: ast.AST) -> None:
    if {left, right} == {NUMBER, TEXT}:
        _fail(
            f"{ast.unparse(node)!r} compares text with a number, which never matches; "
            "compare text with text in quotes and numbers with numbers"
        )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _UnknownName(Exception):
    """Internal: a name that is not a known column."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def column_kinds(columns) -> dict[str, str | None]:
    """Column name -> ``"number"``, ``"text"`` (or another type name, or None: unknown).

    Parameters
    ----------
    columns : pandas.DataFrame or mapping or iterable of str
        A frame (kinds from its dtypes); a feature catalogue (a frame with ``name`` and
        ``unit`` columns, unit ``category`` is text); a mapping of name to kind; or
        bare names (kinds unknown).

    Returns
    -------
    dict of str to str or None
    """
    if isinstance(columns, pd.DataFrame):
        if {"name", "unit"} <= set(columns.columns):
            return {
                str(n): TEXT if u == "category" else NUMBER
                for n, u in zip(columns["name"], columns["unit"], strict=True)
            }
        return {str(c): _kind_of(columns[c]) for c in columns.columns}
    if isinstance(columns, Mapping):
        return {str(k): v for k, v in columns.items()}
    if isinstance(columns, pd.Series):
        columns = columns.tolist()
    return dict.fromkeys(map(str, columns))


def _kind_of(s: pd.Series) -> str:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        return NUMBER if pd.api.types.is_numeric_dtype(cats.dtype) else TEXT
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return NUMBER
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in ("boolean", "integer", "floating", "mixed-integer-float", "decimal"):
            return NUMBER
        if inferred in ("string", "empty"):
            return TEXT
    return str(dtype)


@dataclass(frozen=True, eq=False)
class Expression:
    """A parsed, validated rule expression.

    Use :func:`parse_expression` to build one.

    Attributes
    ----------
    source : str
        The expression text.
    features : tuple of str
        Column names the expression reads, sorted.
    """

    source: str
    tree: ast.Expression
    features: tuple[str, ...]

    def check(self, columns) -> None:
        """Check the expression against known columns and their types.

        Parameters
        ----------
        columns : pandas.DataFrame or mapping or iterable of str
            See :func:`column_kinds`.

        Raises
        ------
        ExpressionError
            A name is not a column (with close matches), or a type error: text
            compared with a number or ordered, arithmetic on text, ``has`` on numbers.
        """
        kinds = column_kinds(columns)
        try:
            _condition(self.tree.body, kinds, set())
        except _UnknownName as exc:
            close = difflib.get_close_matches(exc.name, sorted(kinds), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ExpressionError(f"unknown column {exc.name!r}{hint}") from None

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """Evaluate the expression over every row of ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            Must hold every name in :attr:`features` as a column.

        Returns
        -------
        numpy.ndarray of bool
            One value per row: True where the expression is true (not where it is
            false or unknown).

        Raises
        ------
        KeyError
            A feature is missing from ``frame`` (its name is the key).
        ExpressionError
            The expression does not fit the column types (e.g. a text column compared
            with a number), or evaluation failed.
        """
        for name in self.features:
            if name not in frame.columns:
                raise KeyError(name)
        self.check(frame[list(self.features)])
        cols = {name: _column_array(frame[name]) for name in self.features}
        n = len(frame)
        try:
            with np.errstate(all="ignore"):
                out = _truth(_eval(self.tree.body, cols, n), n).true
        except ExpressionError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is reported as the rule's
            raise ExpressionError(
                f"cannot evaluate ({type(exc).__name__}: {_short(str(exc), 200)})"
            ) from None
        return np.array(out, dtype=bool)


def parse_expression(source: str, columns=None) -> Expression:
    """Parse and validate a rule expression.

    Parameters
    ----------
    source : str
        The expression, e.g. ``"complaints_90d >= 2 and outage_count_90d > 0"``.
    columns : pandas.DataFrame or mapping or iterable of str or None, default=None
        Known columns (see :func:`column_kinds`); when given, unknown names and type
        errors fail now too (:meth:`Expression.check`).

    Returns
    -------
    Expression

    Raises
    ------
    ExpressionError
        The text is not valid syntax, too long or too deeply nested, uses something
        outside the whitelist, has an unbounded constant or divides by a constant
        zero; the message says what.
    """
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError(f"expected a non-empty expression string, got {source!r}")
    text = source.strip()
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression has {len(text)} characters, more than {MAX_LENGTH}; split it"
        )
    too_deep = f"the expression is nested more than {MAX_DEPTH} levels deep; simplify it"
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            raise ExpressionError(too_deep) from None
        at = f" at column {exc.offset}" if exc.offset is not None else ""
        raise ExpressionError(f"invalid syntax{at}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(too_deep) from None
    except ValueError as exc:  # e.g. an integer literal with too many digits
        raise ExpressionError(f"invalid expression: {exc}") from None
    if _depth_exceeds(tree, MAX_DEPTH):
        raise ExpressionError(too_deep)
    names: set[str] = set()
    _condition(tree.body, None, names)
    expr = Expression(source=text, tree=tree, features=tuple(sorted(names)))
    if columns is not None:
        expr.check(columns)
    return expr


# ---------------------------------------------------------------------------- evaluation
# Values are float64 arrays (NaN: missing), object arrays of text (None: missing) or
# scalars. Conditions are _Cond: two boolean masks, definitely true and definitely
# false; where neither holds the condition is unknown.


class _Cond:
    __slots__ = ("false", "true")

    def __init__(self, true: np.ndarray, false: np.ndarray):
        self.true = true
        self.false = false


def _column_array(s: pd.Series) -> np.ndarray:
    """Numeric columns as float64 with NaN; text as object with None for missing."""
    if _kind_of(s) == NUMBER:
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(s.dtype.categories.dtype)
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            s = pd.to_numeric(s, errors="coerce")
        return s.to_numpy(dtype="float64", na_value=np.nan)
    obj = s.astype(object).to_numpy(dtype=object, copy=True)
    obj[pd.isna(obj)] = None
    return obj


def _is_text(a) -> bool:
    return isinstance(a, str) or (isinstance(a, np.ndarray) and a.dtype == object)


def _missing(a, n: int) -> np.ndarray:
    if isinstance(a, _Cond):
        return ~(a.true | a.false)
    if isinstance(a, np.ndarray):
        return np.equal(a, None) if a.dtype == object else np.isnan(a)
    missing = a is None or (isinstance(a, float) and math.isnan(a))
    return np.full(n, missing, dtype=bool)


def _num(a):
    """An operand of arithmetic: a number (a condition counts 1, 0 or missing)."""
    if isinstance(a, _Cond):
        out = a.true.astype("float64")
        out[~(a.true | a.false)] = np.nan
        return out
    if _is_text(a):
        raise ExpressionError("arithmetic on text is not allowed")
    return a


def _truth(a, n: int) -> _Cond:
    """A value used as a condition: true when non-zero, unknown when missing."""
    if isinstance(a, _Cond):
        return a
    if _is_text(a):
        raise ExpressionError("text used as a condition; compare it, e.g. x == 'value'")
    a = np.broadcast_to(np.asarray(a, dtype="float64"), (n,))
    return _Cond(~np.isnan(a) & (a != 0), a == 0)


def _known(res: np.ndarray, miss: np.ndarray) -> _Cond:
    return _Cond(res & ~miss, ~res & ~miss)


def _compare(op, left, right, n: int) -> _Cond:
    left, right = (_num(v) if isinstance(v, _Cond) else v for v in (left, right))
    left_text, right_text = _is_text(left), _is_text(right)
    if left_text != right_text:
        raise ExpressionError("compares text with a number")
    if left_text and op not in (ast.Eq, ast.NotEq):
        raise ExpressionError("only ==, != and 'in' may compare text")
    miss = _missing(left, n) | _missing(right, n)
    if left_text:
        left = np.where(miss, "", left) if isinstance(left, np.ndarray) else left
        right = np.where(miss, "", right) if isinstance(right, np.ndarray) else right
    res = np.broadcast_to(np.asarray(_CMPOPS[op](left, right), dtype=bool), (n,))
    return _known(res, miss)


def _isin(left, values: list, n: int) -> _Cond:
    left = _num(left) if isinstance(left, _Cond) else left
    miss = _missing(left, n)
    if _is_text(left):
        texts = [v for v in values if isinstance(v, str)]
        arr = np.broadcast_to(np.asarray(left, dtype=object), (n,))
        res = pd.Series(arr, dtype=object).isin(texts).to_numpy(dtype=bool)
    else:
        nums = [float(v) for v in values if not isinstance(v, str)]
        res = np.isin(np.broadcast_to(np.asarray(left, dtype="float64"), (n,)), nums)
    return _known(res, miss)


def _has(column, item: str, n: int) -> _Cond:
    miss = _missing(column, n)
    if not _is_text(column):
        if miss.all():
            return _known(np.zeros(n, dtype=bool), miss)
        raise ExpressionError("has() needs a text column such as tags")
    arr = np.broadcast_to(np.asarray(column, dtype=object), (n,))
    pattern = rf"(?:^|[;,|])\s*{re.escape(item)}\s*(?:$|[;,|])"
    found = pd.Series(arr, dtype="string").str.contains(pattern, regex=True)
    return _known(found.fillna(False).to_numpy(dtype=bool), miss)


def _eval(node: ast.AST, cols: dict, n: int):
    if isinstance(node, ast.Constant):
        return float(node.value) if isinstance(node.value, (bool, int, float)) else node.value
    if isinstance(node, ast.Name):
        return cols[node.id]
    if isinstance(node, ast.BoolOp):
        parts = [_truth(_eval(v, cols, n), n) for v in node.values]
        if isinstance(node.op, ast.And):
            true = np.logical_and.reduce([p.true for p in parts])
            false = np.logical_or.reduce([p.false for p in parts])
        else:
            true = np.logical_or.reduce([p.true for p in parts])
            false = np.logical_and.reduce([p.false for p in parts])
        return _Cond(true, false)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, cols, n)
        if isinstance(node.op, ast.Not):
            c = _truth(v, n)
            return _Cond(c.false, c.true)
        v = _num(v)
        v = v if isinstance(v, np.ndarray) else np.float64(v)
        return -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.BinOp):
        left = _num(_eval(node.left, cols, n))
        right = _num(_eval(node.right, cols, n))
        left = left if isinstance(left, np.ndarray) else np.float64(left)
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, cols, n)
        parts = []
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                miss = _missing(left, n)
                return _Cond(miss, ~miss) if isinstance(op, ast.Is) else _Cond(~miss, miss)
            if isinstance(op, (ast.In, ast.NotIn)):
                res = _isin(left, [c.value for c in comp.elts], n)
                return res if isinstance(op, ast.In) else _Cond(res.false, res.true)
            right = _eval(comp, cols, n)
            parts.append(_compare(type(op), left, right, n))
            left = right
        if len(parts) == 1:
            return parts[0]
        true = np.logical_and.reduce([p.true for p in parts])
        false = np.logical_or.reduce([p.false for p in parts])
        return _Cond(true, false)
    if isinstance(node, ast.Call):
        name = node.func.id
        if name == "has":
            return _has(_eval(node.args[0], cols, n), node.args[1].value, n)
        args = [_eval(a, cols, n) for a in node.args]
        if name in _MISSING_FUNCS:
            miss = _missing(args[0], n)
            return _Cond(miss, ~miss) if _MISSING_FUNCS[name] else _Cond(~miss, miss)
        args = [np.broadcast_to(np.asarray(_num(a), dtype="float64"), (n,)) for a in args]
        if name == "abs":
            return np.abs(args[0])
        if name == "log1p":
            return np.log1p(args[0])
        if name == "fillna":
            return np.where(np.isnan(args[0]), args[1], args[0])
        fn = np.fmin if name == "min" else np.fmax  # skip missing like pandas min/max
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover
