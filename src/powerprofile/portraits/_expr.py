"""A small, safe expression language for tag and risk rules.

A rule such as ``online_contact_share_365d >= 0.8 and not is_missing(complaints_90d)``
is parsed with :mod:`ast` into a tree whose every node is checked against a whitelist,
then evaluated column-wise with numpy over a whole feature frame. Raw strings are never
passed to :func:`eval`.

Grammar (Python syntax, restricted)
-----------------------------------
- names: feature columns of the frame;
- constants: numbers, strings, ``True``, ``False``; lists/tuples/sets of constants on
  the right of ``in`` / ``not in``;
- arithmetic: ``+ - * / // % **`` and unary ``-``/``+``;
- comparisons: ``== != < <= > >=`` (chains allowed), ``in``, ``not in``,
  ``x is None`` / ``x is not None``;
- logic: ``and``, ``or``, ``not`` and parentheses;
- functions: ``is_missing(x)``, ``not_missing(x)``, ``abs(x)``, ``log1p(x)``,
  ``min(a, b, ...)``, ``max(a, b, ...)``, ``fillna(x, value)``.

Missing values
--------------
Arithmetic propagates missing values. A comparison involving a missing value is false,
except ``!=`` and ``not in`` which are true (the IEEE rule for NaN, and what Python
gives for ``float("nan")``). A value used directly as a condition is true when it is
present and non-zero.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Expression", "ExpressionError", "parse_expression"]


class ExpressionError(ValueError):
    """An expression is malformed or uses something outside the whitelist."""


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
    "not_missing": (1, 1),
    "abs": (1, 1),
    "log1p": (1, 1),
    "min": (2, None),
    "max": (2, None),
    "fillna": (2, 2),
}
_OP_HINTS = {
    ast.BitAnd: "use 'and' instead of '&'",
    ast.BitOr: "use 'or' instead of '|'",
    ast.Invert: "use 'not' instead of '~'",
    ast.BitXor: "'^' is not supported; use '**' for powers",
}


def _fail(msg: str) -> None:
    raise ExpressionError(msg)


def _check(node: ast.AST, names: set[str]) -> None:
    """Validate ``node`` against the whitelist, collecting feature names."""
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, names)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
            _check(node.operand, names)
        else:
            _fail(_OP_HINTS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed"))
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            _fail(_OP_HINTS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed"))
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.Compare):
        _check(node.left, names)
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                if len(node.ops) != 1:
                    _fail("'in' cannot be chained with other comparisons; join them with 'and'")
                if not isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                    _fail(
                        "the right side of 'in' must be a list of constants, e.g. x in ('a', 'b')"
                    )
                for elt in right.elts:
                    if not isinstance(elt, ast.Constant) or elt.value is None:
                        _fail(
                            "the right side of 'in' must be a list of constants, e.g. x in ('a', 'b')"
                        )
            elif isinstance(op, (ast.Is, ast.IsNot)):
                if not (isinstance(right, ast.Constant) and right.value is None):
                    _fail("'is' / 'is not' may only be used with None (x is None)")
                if len(node.ops) != 1:
                    _fail("'is None' cannot be chained with other comparisons")
            elif type(op) in _CMPOPS:
                _check(right, names)
            else:  # pragma: no cover - every Python comparison is listed above
                _fail(f"comparison {type(op).__name__} is not allowed")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            _fail(f"function {called!r} is not allowed; allowed: {', '.join(sorted(_FUNCS))}")
        if node.keywords:
            _fail(f"function {node.func.id!r} takes no keyword arguments")
        lo, hi = _FUNCS[node.func.id]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}"
            _fail(f"function {node.func.id!r} takes {want} argument(s), got {n}")
        for a in node.args:
            if isinstance(a, ast.Starred):
                _fail("'*' arguments are not allowed")
            _check(a, names)
    elif isinstance(node, ast.Name):
        if node.id in _FUNCS:
            _fail(f"{node.id!r} is a function; call it as {node.id}(...)")
        names.add(node.id)
    elif isinstance(node, ast.Constant):
        if node.value is None:
            _fail("None may only be used as 'x is None' / 'x is not None'")
        if not isinstance(node.value, (bool, int, float, str)):
            _fail(f"constant {node.value!r} is not allowed")
    elif isinstance(node, ast.Attribute):
        _fail(f"attribute access {ast.unparse(node)!r} is not allowed")
    elif isinstance(node, ast.Subscript):
        _fail(f"indexing {ast.unparse(node)!r} is not allowed")
    else:
        _fail(f"{type(node).__name__} ({ast.unparse(node)!r}) is not allowed")


@dataclass(frozen=True, eq=False)
class Expression:
    """A parsed, validated rule expression.

    Use :func:`parse_expression` to build one.

    Attributes
    ----------
    source : str
        The expression text.
    features : tuple of str
        Feature names the expression reads, sorted.
    """

    source: str
    tree: ast.Expression
    features: tuple[str, ...]

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """Evaluate the expression over every row of ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            Must hold every name in :attr:`features` as a column.

        Returns
        -------
        numpy.ndarray of bool, one value per row.

        Raises
        ------
        KeyError
            A feature is missing from ``frame`` (its name is the key).
        ExpressionError
            The expression cannot be evaluated on these columns (e.g. a text column
            compared with a number).
        """
        cols = {}
        for name in self.features:
            if name not in frame.columns:
                raise KeyError(name)
            cols[name] = _column_array(frame[name])
        n = len(frame)
        try:
            with np.errstate(all="ignore"):
                out = _eval(self.tree.body, cols, n)
            return _truthy(out, n)
        except ExpressionError:
            raise
        except (TypeError, ValueError) as exc:
            raise ExpressionError(f"cannot evaluate on these columns: {exc}") from None


def parse_expression(source: str) -> Expression:
    """Parse and validate a rule expression.

    Parameters
    ----------
    source : str
        The expression, e.g. ``"complaints_90d >= 2 and outage_count_90d > 0"``.

    Returns
    -------
    Expression

    Raises
    ------
    ExpressionError
        The text is not valid syntax or uses something outside the whitelist; the
        message says what.
    """
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError(f"expected a non-empty expression string, got {source!r}")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid syntax at column {exc.offset}: {exc.msg}") from None
    names: set[str] = set()
    _check(tree.body, names)
    return Expression(source=source.strip(), tree=tree, features=tuple(sorted(names)))


# ---------------------------------------------------------------------------- evaluation


def _column_array(s: pd.Series) -> np.ndarray:
    """Numeric columns as float64 with NaN; others as object with None for missing."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    obj = s.astype(object).to_numpy(dtype=object, copy=True)
    obj[pd.isna(obj)] = None
    return obj


def _missing(a) -> np.ndarray | bool:
    if isinstance(a, np.ndarray):
        if a.dtype == object:
            return np.equal(a, None)
        if a.dtype.kind == "f":
            return np.isnan(a)
        return np.zeros(a.shape, dtype=bool)
    return a is None or (isinstance(a, float) and np.isnan(a))


def _truthy(a, n: int) -> np.ndarray:
    if isinstance(a, np.ndarray):
        if a.dtype == bool:
            return a
        if a.dtype.kind == "f":
            return ~np.isnan(a) & (a != 0)
        if a.dtype == object:
            return ~np.equal(a, None) & (a != 0) & (a != "")
        return a != 0
    present = not _missing(a)
    return np.full(n, bool(present and a), dtype=bool)


def _numeric(a):
    if isinstance(a, np.ndarray) and a.dtype == object:
        raise ExpressionError("arithmetic on a text column is not allowed")
    if isinstance(a, str):
        raise ExpressionError(f"arithmetic on the text constant {a!r} is not allowed")
    return a


def _compare(op, left, right, n: int) -> np.ndarray:
    left_text = isinstance(left, str) or (isinstance(left, np.ndarray) and left.dtype == object)
    right_text = isinstance(right, str) or (isinstance(right, np.ndarray) and right.dtype == object)
    if op not in (ast.Eq, ast.NotEq) and (left_text or right_text):
        raise ExpressionError("only ==, != and 'in' may compare text")
    miss = np.broadcast_to(_missing(left), (n,)) | np.broadcast_to(_missing(right), (n,))
    if left_text != right_text:
        # text never equals a number
        res = np.full(n, op is ast.NotEq, dtype=bool)
    elif left_text:
        lv = np.where(miss, "", left) if isinstance(left, np.ndarray) else left
        rv = np.where(miss, "", right) if isinstance(right, np.ndarray) else right
        res = np.broadcast_to(np.asarray(_CMPOPS[op](lv, rv), dtype=bool), (n,))
    else:
        res = np.broadcast_to(np.asarray(_CMPOPS[op](left, right), dtype=bool), (n,))
    return np.where(miss, op is ast.NotEq, res)


def _eval(node: ast.AST, cols: dict, n: int):
    if isinstance(node, ast.Constant):
        return float(node.value) if isinstance(node.value, (bool, int)) else node.value
    if isinstance(node, ast.Name):
        return cols[node.id]
    if isinstance(node, ast.BoolOp):
        vals = [_truthy(_eval(v, cols, n), n) for v in node.values]
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = vals[0]
        for v in vals[1:]:
            out = fn(out, v)
        return out
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, cols, n)
        if isinstance(node.op, ast.Not):
            return ~_truthy(v, n)
        v = _numeric(v)
        if isinstance(v, np.ndarray) and v.dtype == bool:
            v = v.astype("float64")
        return -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.BinOp):
        left = _as_float(_numeric(_eval(node.left, cols, n)))
        right = _as_float(_numeric(_eval(node.right, cols, n)))
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, cols, n)
        out = np.ones(n, dtype=bool)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                miss = np.broadcast_to(_missing(left), (n,))
                return miss.copy() if isinstance(op, ast.Is) else ~miss
            if isinstance(op, (ast.In, ast.NotIn)):
                values = [c.value for c in comp.elts]
                res = _isin(left, values, n)
                return res if isinstance(op, ast.In) else ~res
            right = _eval(comp, cols, n)
            if isinstance(left, np.ndarray) and left.dtype == bool:
                left = left.astype("float64")
            if isinstance(right, np.ndarray) and right.dtype == bool:
                right = right.astype("float64")
            out &= _compare(type(op), left, right, n)
            left = right
        return out
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_eval(a, cols, n) for a in node.args]
        if name == "is_missing":
            return np.broadcast_to(_missing(args[0]), (n,)).copy()
        if name == "not_missing":
            return ~np.broadcast_to(_missing(args[0]), (n,))
        args = [_as_float(_numeric(a)) for a in args]
        if name == "abs":
            return np.abs(args[0])
        if name == "log1p":
            return np.log1p(args[0])
        if name == "fillna":
            a = np.broadcast_to(np.asarray(args[0], dtype="float64"), (n,))
            return np.where(np.isnan(a), args[1], a)
        fn = np.fmin if name == "min" else np.fmax  # ignore missing like pandas min/max
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover


def _as_float(a):
    if isinstance(a, np.ndarray) and a.dtype == bool:
        return a.astype("float64")
    return a


def _isin(left, values: list, n: int) -> np.ndarray:
    if isinstance(left, np.ndarray):
        if left.dtype == object:
            texts = [v for v in values if isinstance(v, str)]
            res = pd.Series(left, dtype=object).isin(texts).to_numpy()
            return res & ~np.equal(left, None)
        nums = [float(v) for v in values if not isinstance(v, str)]
        left = left.astype("float64") if left.dtype == bool else left
        return np.isin(left, nums) & ~np.isnan(left)
    if _missing(left):
        return np.zeros(n, dtype=bool)
    if isinstance(left, str):
        return np.full(n, left in values, dtype=bool)
    return np.full(n, any(not isinstance(v, str) and float(v) == left for v in values), dtype=bool)
