"""Campaign selections over portrait columns, in the rule language of tags and risk rules.

A selection is an expression of :mod:`powerprofile.portraits` (parsed by
:func:`powerprofile.portraits.parse_expression`, never ``eval``-ed): the same syntax,
functions and missing-value semantics as tag and risk rules, so one expression selects
the same rows whether it is a tag or a campaign selection. Campaigns mostly use
comparisons, ``and``/``or``/``not``, ``in [...]``, boolean portrait columns such as
``tag_counter_loyal``, ``isna(x)``/``notna(x)`` and ``has(tags, 'name')`` (the name
is in a ``;``-separated text column).

Missing values follow SQL's three-valued logic: a comparison with a missing value is
unknown and a row is selected only where the selection is true, so
``churn_band != 'high'`` does not select a customer without a band; write
``churn_band != 'high' or isna(churn_band)`` to include them.

Examples
--------
``churn_band == 'high' and customer_type in ['residential', 'commercial']``
``complaint_score >= 0.3 or has(risk_flags, 'public_opinion')``
"""

from __future__ import annotations

import pandas as pd

from ..exceptions import ConfigError
from ..portraits import Expression, ExpressionError, parse_expression

__all__ = ["Selection", "compile_selection"]


class Selection:
    """A compiled selection expression.

    Build it with :func:`compile_selection`.

    Parameters
    ----------
    parsed : powerprofile.portraits.Expression
        The parsed expression.
    name : str
        Who owns it (a campaign name), for messages.
    source : str or None, default=None
        The file it came from, for messages.

    Attributes
    ----------
    expression : str
        The expression text.
    columns : set of str
        Column names the expression reads.
    """

    def __init__(self, parsed: Expression, name: str, source: str | None = None):
        self.parsed = parsed
        self.expression = parsed.source
        self.name = name
        self.source = source
        self.columns = set(parsed.features)

    def __repr__(self) -> str:
        return f"Selection({self.expression!r})"

    def check(self, columns) -> None:
        """Check the selection against known portrait columns (names and, for a frame, types).

        Parameters
        ----------
        columns : pandas.DataFrame or mapping or iterable of str
            Portrait columns (a frame gives their types too).

        Raises
        ------
        ConfigError
            A column is unknown or mistyped; the message names the campaign.
        """
        try:
            self.parsed.check(columns)
        except ExpressionError as exc:
            raise ConfigError(_message(self.name, self.source, self.expression, exc)) from None

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Boolean mask of the rows of ``frame`` the expression selects (true, not unknown).

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
            When a column is missing from ``frame``, has a type the expression cannot
            use, or evaluation fails; the message names the campaign.
        """
        missing = sorted(self.columns - set(frame.columns))
        if missing:
            raise ConfigError(
                f"selection of {self.name!r} names column(s) {missing!r} that the portraits do "
                f"not have (expression {self.expression!r}); available columns: "
                f"{', '.join(map(str, frame.columns))}."
            )
        try:
            values = self.parsed.evaluate(frame)
        except ExpressionError as exc:
            raise ConfigError(_message(self.name, self.source, self.expression, exc)) from None
        return pd.Series(values, index=frame.index, dtype=bool)


def _message(name: str, source, expression: str, exc: Exception) -> str:
    where = f" in {str(source)!r}" if source is not None else ""
    shown = expression if len(expression) <= 80 else expression[:77] + "..."
    return f"selection of {name!r}{where} ({shown!r}): {exc}; fix the expression."


def compile_selection(
    expression: str, *, name: str = "selection", columns=None, source=None
) -> Selection:
    """Parse and check a selection expression.

    Parameters
    ----------
    expression : str
        See the module docstring.
    name : str, default="selection"
        Owner named in messages (e.g. the campaign).
    columns : pandas.DataFrame or mapping or iterable of str or None, default=None
        Known portrait columns; when given, unknown names (and, for a frame or a
        mapping of types, type errors) fail now.
    source : str or path-like or None, default=None
        The file named in messages.

    Returns
    -------
    Selection

    Raises
    ------
    ConfigError
        On a syntax error, a construct outside the language, an expression that
        cannot be evaluated (unbounded constant, division by a constant zero, too
        deep) or an unknown column; the message names the campaign.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ConfigError(
            f"selection of {name!r} must be a non-empty expression, got {expression!r}."
        )
    try:
        parsed = parse_expression(expression)
    except ExpressionError as exc:
        raise ConfigError(_message(name, source, expression.strip(), exc)) from None
    sel = Selection(parsed, name, source=None if source is None else str(source))
    if columns is not None:
        sel.check(columns)
    return sel
