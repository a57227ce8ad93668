"""A small, safe selection language over portrait columns.

Campaign selections use the rule language of tags and risk rules
(:func:`powerprofile.portraits.parse_expression`) when that module is installed, so
one syntax serves every rule file. This module adds ``has(column, 'value')`` for tag
lists and is the fallback parser. Expressions are Python-like and parsed with
:mod:`ast`, never ``eval``-ed. Allowed here:

- column names, numbers, strings, ``true``/``false``/``True``/``False``, ``null``/``None``;
- comparisons ``== != < <= > >=`` (chains too), ``in [...]`` / ``not in [...]``;
- ``and``, ``or``, ``not``, parentheses, arithmetic ``+ - * /``;
- functions ``has(column, 'value')`` (the value is in a list column or in a ``;``/``,``
  separated text column, e.g. tags), ``isna(column)``, ``notna(column)``.

Evaluation is vectorised over a DataFrame; a missing value never selects a row.

Examples
--------
``churn_band == 'high' and customer_type in ['residential', 'commercial']``
``complaint_score >= 0.3 or has(risk_flags, 'public_opinion')``
"""

from __future__ import annotations

import ast
import operator
import re

import numpy as np
import pandas as pd

from ..exceptions import ConfigError

__all__ = ["Selection", "compile_selection"]

_CONSTANT_NAMES = {
    "true": True,
    "false": False,
    "True": True,
    "False": False,
    "null": None,
    "None": None,
}
_CMP = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCS = ("has", "isna", "notna")
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Set, ast.In, ast.NotIn,
    ast.BinOp, ast.Call, *_CMP, *_BIN,
)  # fmt: skip


class Selection:
    """A compiled selection expression.

    Parameters
    ----------
    expression : str
        The expression text.
    tree : ast.Expression
        Its checked syntax tree.
    name : str
        Who owns it (a campaign name), for messages.

    Attributes
    ----------
    columns : set of str
        Column names the expression reads.
    """

    def __init__(self, expression: str, tree: ast.Expression, name: str, rule=None):
        self.expression = expression
        self.tree = tree
        self.name = name
        self.rule = rule
        if rule is not None:
            self.columns = set(rule.features)
        else:
            self.columns = {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and n.id not in _CONSTANT_NAMES and n.id not in _FUNCS
            }

    def __repr__(self) -> str:
        return f"Selection({self.expression!r})"

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Boolean mask of the rows of ``frame`` the expression selects.

        Parameters
        ----------
        frame : pandas.DataFrame
            Portrait-like frame holding every column the expression names.

        Returns
        -------
        pandas.Series of bool, aligned with ``frame``.

        Raises
        ------
        ConfigError
            When a column is missing from ``frame``.
        """
        missing = sorted(self.columns - set(frame.columns))
        if missing:
            raise ConfigError(
                f"selection of {self.name!r} names column(s) {missing!r} that the portraits do "
                f"not have (expression {self.expression!r}); available columns: "
                f"{', '.join(map(str, frame.columns))}."
            )
        if self.rule is not None:
            try:
                values = self.rule.evaluate(frame)
            except ValueError as exc:
                raise ConfigError(
                    f"selection of {self.name!r} ({self.expression!r}): {exc}"
                ) from None
            return pd.Series(np.asarray(values, dtype=bool), index=frame.index)
        value = _Evaluator(frame, self).visit(self.tree.body)
        return _as_mask(value, frame.index)


def _as_mask(value, index) -> pd.Series:
    if isinstance(value, pd.Series):
        if value.dtype == bool:
            return value
        return value.astype("boolean").fillna(False).astype(bool)
    return pd.Series(bool(value), index=index)


def compile_selection(expression: str, *, name: str = "selection", columns=None) -> Selection:
    """Parse and check a selection expression.

    Parameters
    ----------
    expression : str
        See the module docstring.
    name : str, default="selection"
        Owner named in messages (e.g. the campaign).
    columns : iterable of str or None, default=None
        Known columns; when given, unknown names fail now.

    Returns
    -------
    Selection

    Raises
    ------
    ConfigError
        On a syntax error, a construct outside the language or an unknown column.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ConfigError(
            f"selection of {name!r} must be a non-empty expression, got {expression!r}."
        )
    shared = _shared_rule(expression)
    if shared is not None:
        sel = Selection(expression, shared.tree, name, rule=shared)
        if columns is not None:
            unknown = sorted(sel.columns - set(columns))
            if unknown:
                raise ConfigError(
                    f"selection of {name!r} names unknown column(s) {unknown!r}: {expression!r}."
                )
        return sel
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            f"selection of {name!r} is not a valid expression ({exc.msg} at column {exc.offset}): "
            f"{expression!r}."
        ) from None
    for node in ast.walk(tree):
        ok = isinstance(node, _ALLOWED)
        if isinstance(node, ast.Call):
            ok = isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords
        if not ok:
            raise ConfigError(
                f"selection of {name!r} uses {type(node).__name__!r}, which the selection language "
                f"does not allow: {expression!r}. Use comparisons, and/or/not, in [...], "
                f"and the functions {', '.join(_FUNCS)}."
            )
    sel = Selection(expression, tree, name)
    if columns is not None:
        unknown = sorted(sel.columns - set(columns))
        if unknown:
            raise ConfigError(
                f"selection of {name!r} names unknown column(s) {unknown!r}: {expression!r}."
            )
    return sel


def _shared_rule(expression: str):
    """The expression parsed by the tag/risk-rule language, or None (absent or no parse)."""
    try:
        from ..portraits import parse_expression
    except ImportError:  # pragma: no cover - portraits not installed
        return None
    try:
        return parse_expression(expression)
    except ValueError:
        return None


class _Evaluator(ast.NodeVisitor):
    def __init__(self, frame: pd.DataFrame, sel: Selection):
        self.frame = frame
        self.sel = sel

    def generic_visit(self, node):  # pragma: no cover - compile_selection rejects these
        raise ConfigError(f"selection of {self.sel.name!r}: unsupported {type(node).__name__}")

    def visit_Constant(self, node):
        return node.value

    def visit_Name(self, node):
        if node.id in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[node.id]
        col = self.frame[node.id]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(col.cat.categories.dtype)
        return col

    def visit_List(self, node):
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List
    visit_Set = visit_List

    def visit_BoolOp(self, node):
        masks = [_as_mask(self.visit(v), self.frame.index) for v in node.values]
        out = masks[0]
        for m in masks[1:]:
            out = (out & m) if isinstance(node.op, ast.And) else (out | m)
        return out

    def visit_UnaryOp(self, node):
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~_as_mask(value, self.frame.index)
        return -value

    def visit_BinOp(self, node):
        return _BIN[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_Compare(self, node):
        left = self.visit(node.left)
        out = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comp)
            if isinstance(op, ast.In | ast.NotIn):
                values = right if isinstance(right, list) else [right]
                series = (
                    left if isinstance(left, pd.Series) else pd.Series(left, index=self.frame.index)
                )
                m = series.isin(values) & series.notna()
                if isinstance(op, ast.NotIn):
                    m = ~series.isin(values) & series.notna()
            else:
                m = _as_mask(_CMP[type(op)](left, right), self.frame.index)
            out = m if out is None else out & m
            left = right
        return out

    def visit_Call(self, node):
        fname = node.func.id
        args = [self.visit(a) for a in node.args]
        if fname in ("isna", "notna"):
            if len(args) != 1 or not isinstance(args[0], pd.Series):
                raise ConfigError(f"selection of {self.sel.name!r}: {fname}() takes one column.")
            return args[0].isna() if fname == "isna" else args[0].notna()
        if len(args) != 2 or not isinstance(args[0], pd.Series) or not isinstance(args[1], str):
            raise ConfigError(
                f"selection of {self.sel.name!r}: has() takes a column and a text value, "
                "e.g. has(tags, 'digital_first')."
            )
        col, value = args
        if (
            col.dtype == object
            and col.map(lambda v: isinstance(v, list | tuple | np.ndarray)).any()
        ):
            return col.map(
                lambda v: isinstance(v, list | tuple | np.ndarray) and value in list(v)
            ).astype(bool)
        text = col.astype("string")
        pattern = rf"(?:^|[;,|])\s*{re.escape(value)}\s*(?:$|[;,|])"
        return text.str.contains(pattern, regex=True).fillna(False).astype(bool)
