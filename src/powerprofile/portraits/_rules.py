"""Tag rules (用户标签) and risk rules (风控规则库) loaded from YAML.

File format::

    kind: tags                 # or "risk"
    version: 1                 # optional
    rules:
      digital_first:
        expr: online_contact_share_365d >= 0.8
        label_en: Digital-first
        label_zh: 线上偏好
        description: optional free text

Risk rules additionally need ``severity`` (``high``/``medium``/``low``) and
``reason_en``/``reason_zh``. Expressions use the safe language of
:mod:`powerprofile.portraits._expr`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import read_yaml
from ..exceptions import ConfigError
from ._expr import Expression, ExpressionError, _short, column_kinds, parse_expression

__all__ = ["SEVERITIES", "Rule", "RuleSet", "load_rules", "rules_from_mapping"]

SEVERITIES = ("low", "medium", "high")
"""Risk severities, lowest first."""

_TOP_KEYS = {"kind", "version", "description", "rules"}
_TAG_KEYS = {"expr", "label_en", "label_zh", "description"}
_RISK_KEYS = _TAG_KEYS | {"severity", "reason_en", "reason_zh"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Rule:
    """One tag or risk rule.

    Attributes
    ----------
    name : str
        Snake-case identifier; also the boolean column name in results.
    expression : Expression
        The parsed condition.
    label_en, label_zh : str
        Readable labels.
    severity : str or None
        ``"low"``, ``"medium"`` or ``"high"`` for risk rules, None for tags.
    reason_en, reason_zh : str or None
        Why the rule matters (risk rules).
    description : str
        Free text.
    """

    name: str
    expression: Expression
    label_en: str
    label_zh: str
    severity: str | None = None
    reason_en: str | None = None
    reason_zh: str | None = None
    description: str = ""

    @property
    def expr(self) -> str:
        """The expression text."""
        return self.expression.source

    @property
    def features(self) -> tuple[str, ...]:
        """Feature names the rule reads."""
        return self.expression.features


class RuleSet:
    """An ordered set of tag or risk rules.

    Build it with :func:`load_rules` (from YAML) or :func:`rules_from_mapping`.

    Attributes
    ----------
    kind : {"tags", "risk"}
    rules : tuple of Rule
    source : str
        Where the rules came from (file path or ``"<mapping>"``).
    """

    def __init__(self, rules: Iterable[Rule], kind: str = "tags", source: str = "<mapping>"):
        self.rules = tuple(rules)
        self.kind = kind
        self.source = source

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    def __getitem__(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"no rule {name!r} in {self.source}; rules are {', '.join(self.names)}")

    def __repr__(self) -> str:
        return f"RuleSet(kind={self.kind!r}, n_rules={len(self)}, source={self.source!r})"

    @property
    def names(self) -> tuple[str, ...]:
        """Rule names in file order."""
        return tuple(r.name for r in self.rules)

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature name read by any rule, sorted."""
        return tuple(sorted({f for r in self.rules for f in r.features}))

    def check_features(self, available) -> None:
        """Raise :class:`ConfigError` when a rule reads an unknown feature or mistypes one.

        Parameters
        ----------
        available : iterable of str or pandas.DataFrame or mapping
            Known feature names (e.g. ``feature_catalog()["name"]``), the catalogue
            itself or a feature frame (then the types are known too: text compared
            with a number, arithmetic on text and the like fail now), or a mapping of
            name to ``"number"``/``"text"``.
        """
        kinds = column_kinds(available)
        for r in self.rules:
            for f in r.features:
                if f not in kinds:
                    raise ConfigError(_unknown_feature_message(self.source, r.name, f, set(kinds)))
            try:
                r.expression.check(kinds)
            except ExpressionError as exc:
                raise ConfigError(_rule_message(self.source, r.name, r.expr, exc)) from None

    def evaluate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Evaluate every rule on every row, vectorised.

        A rule holds where its expression is true; where it is false or unknown (a
        comparison with a missing value, see :mod:`powerprofile.portraits._expr`) it
        does not.

        Parameters
        ----------
        frame : pandas.DataFrame
            Features; every feature a rule reads must be a column.

        Returns
        -------
        pandas.DataFrame of bool
            Same index as ``frame``, one column per rule (named after the rule).

        Raises
        ------
        ConfigError
            A rule reads a column ``frame`` lacks, does not fit its types, or fails
            while evaluated; the message names the file and the rule.
        """
        self.check_features(frame)
        out = {}
        for r in self.rules:
            try:
                out[r.name] = r.expression.evaluate(frame)
            except ExpressionError as exc:
                raise ConfigError(_rule_message(self.source, r.name, r.expr, exc)) from None
        return pd.DataFrame(out, index=frame.index, columns=list(self.names), dtype=bool)

    def labels(self, language: str = "en") -> dict[str, str]:
        """Map rule name to its label in ``language`` (``"en"`` or ``"zh"``)."""
        if language not in ("en", "zh"):
            raise ValueError(f"language must be 'en' or 'zh', got {language!r}")
        return {r.name: (r.label_en if language == "en" else r.label_zh) for r in self.rules}

    def to_frame(self) -> pd.DataFrame:
        """The rules as a table (name, expr, labels, severity, reasons, features)."""
        return pd.DataFrame(
            {
                "name": [r.name for r in self.rules],
                "expr": [r.expr for r in self.rules],
                "label_en": [r.label_en for r in self.rules],
                "label_zh": [r.label_zh for r in self.rules],
                "severity": [r.severity for r in self.rules],
                "reason_en": [r.reason_en for r in self.rules],
                "reason_zh": [r.reason_zh for r in self.rules],
                "features": [",".join(r.features) for r in self.rules],
            }
        )

    def join_hits(self, hits: pd.DataFrame, language: str = "en", sep: str = ";") -> pd.Series:
        """Join the labels (or names, ``language="name"``) of the rules each row hits.

        Parameters
        ----------
        hits : pandas.DataFrame of bool
            Output of :meth:`evaluate`.
        language : {"en", "zh", "name"}, default="en"
        sep : str, default=";"

        Returns
        -------
        pandas.Series of str (empty string when no rule hits).
        """
        if language == "name":
            words = list(self.names)
        else:
            lab = self.labels(language)
            words = [lab[n] for n in self.names]
        m = hits[list(self.names)].to_numpy(dtype=bool)
        out = np.full(len(hits), "", dtype=object)
        for j, w in enumerate(words):  # loop over rules (few), vectorised over rows
            col = m[:, j]
            out[col] = np.where(out[col] == "", w, out[col] + sep + w)
        return pd.Series(out, index=hits.index, dtype="string")

    def hit_report(self, frame: pd.DataFrame, by: str | None = "region", hits=None) -> pd.DataFrame:
        """Count the rows each rule hits, overall and per group.

        Parameters
        ----------
        frame : pandas.DataFrame
            Features (and the ``by`` column, as a column or index level).
        by : str or None, default="region"
            Grouping column; None for the overall report only.
        hits : pandas.DataFrame or None, default=None
            Precomputed :meth:`evaluate` output.

        Returns
        -------
        pandas.DataFrame
            Columns ``rule, label_en, label_zh, severity, <by>, n_rows, count, share``;
            ``<by>`` is ``"(all)"`` on the overall rows.
        """
        if hits is None:
            hits = self.evaluate(frame)
        meta = self.to_frame().set_index("name")[["label_en", "label_zh", "severity"]]
        parts = []
        total = hits.agg(["sum", "size"]).T.rename(columns={"sum": "count", "size": "n_rows"})
        total[by or "group"] = "(all)"
        parts.append(total)
        if by is not None:
            if by in frame.columns:
                g = frame[by]
            elif by in (frame.index.names or []):
                g = pd.Series(frame.index.get_level_values(by), index=frame.index)
            else:
                raise ConfigError(
                    f"hit report: no column {by!r} to group by; pass by=None or a column of the frame"
                )
            g = g.astype("string").fillna("(missing)").to_numpy()
            grouped = hits.groupby(g, sort=True).agg(["sum", "size"])
            for name in self.names:
                sub = grouped[name].rename(columns={"sum": "count", "size": "n_rows"})
                sub[by] = sub.index
                sub.index = [name] * len(sub)
                parts.append(sub)
        rep = pd.concat(parts)
        rep.index.name = "rule"
        rep = rep.reset_index()
        rep["count"] = rep["count"].astype("int64")
        rep["n_rows"] = rep["n_rows"].astype("int64")
        rep["share"] = np.where(rep["n_rows"] > 0, rep["count"] / rep["n_rows"].clip(lower=1), 0.0)
        rep = rep.join(meta, on="rule")
        order = {n: i for i, n in enumerate(self.names)}
        rep["_o"] = rep["rule"].map(order)
        rep["_all"] = rep[by or "group"] != "(all)"
        rep = rep.sort_values(["_o", "_all", by or "group"], kind="stable").drop(
            columns=["_o", "_all"]
        )
        cols = [
            "rule",
            "label_en",
            "label_zh",
            "severity",
            by or "group",
            "n_rows",
            "count",
            "share",
        ]
        return rep[cols].reset_index(drop=True)


def _rule_message(source: str, rule: str, expr: str, exc: Exception) -> str:
    return f"{source}: rule {rule!r} ({_short(expr, 80)!r}): {exc}; fix the expression"


def _unknown_feature_message(source: str, rule: str, feature: str, known: set[str]) -> str:
    close = difflib.get_close_matches(feature, sorted(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"{source}: rule {rule!r} uses unknown feature {feature!r}{hint} "
        "Fix the name (see powerprofile.feature_catalog()) or build that feature."
    )


def rules_from_mapping(data: Mapping, *, features=None, source: str = "<mapping>") -> RuleSet:
    """Validate a parsed rule file and build a :class:`RuleSet`.

    Parameters
    ----------
    data : mapping
        The parsed YAML (see the module docstring for the format).
    features : iterable of str or pandas.DataFrame or mapping or None, default=None
        Known features (see :meth:`RuleSet.check_features`); when given, rules reading
        any other name, or mistyping one, fail now.
    source : str, default="<mapping>"
        Shown in error messages.

    Returns
    -------
    RuleSet

    Raises
    ------
    ConfigError
        Naming the file, the rule and the reason.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping with a 'rules' key, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    kind = data.get("kind", "tags")
    if kind not in ("tags", "risk"):
        raise ConfigError(f"{source}: 'kind' must be 'tags' or 'risk', got {kind!r}")
    rules_raw = data.get("rules")
    if not isinstance(rules_raw, Mapping) or not rules_raw:
        raise ConfigError(
            f"{source}: 'rules' must be a non-empty mapping of rule name to rule, got {rules_raw!r}"
        )
    allowed = _RISK_KEYS if kind == "risk" else _TAG_KEYS
    required = ["expr", "label_en", "label_zh"] + (
        ["severity", "reason_en", "reason_zh"] if kind == "risk" else []
    )
    rules = []
    for name, spec in rules_raw.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(
                f"{source}: rule name {name!r} must be snake_case (a-z, 0-9, _), starting with a letter"
            )
        if isinstance(spec, str):
            spec = {"expr": spec}
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"{source}: rule {name!r} must be a mapping with keys {', '.join(required)}, got {spec!r}"
            )
        bad = sorted(set(spec) - allowed)
        if bad:
            raise ConfigError(
                f"{source}: rule {name!r} has unknown key(s) {', '.join(map(repr, bad))}; "
                f"allowed for {kind} rules: {', '.join(sorted(allowed))}"
            )
        missing = [k for k in required if k not in spec]
        if missing:
            raise ConfigError(
                f"{source}: rule {name!r} is missing key(s) {', '.join(map(repr, missing))}"
            )
        for k in set(spec) - {"expr"}:
            if not isinstance(spec[k], str):
                raise ConfigError(
                    f"{source}: rule {name!r} key {k!r} must be text, got {spec[k]!r}"
                )
        expr_text = spec["expr"]
        if isinstance(expr_text, bool):  # YAML turns a bare `yes`/`true` into a bool
            expr_text = str(expr_text)
        try:
            expression = parse_expression(
                expr_text if isinstance(expr_text, str) else repr(expr_text)
            )
        except ExpressionError as exc:
            raise ConfigError(_rule_message(source, name, str(expr_text), exc)) from None
        severity = spec.get("severity")
        if kind == "risk" and severity not in SEVERITIES:
            raise ConfigError(
                f"{source}: rule {name!r} has severity {severity!r}; use one of {', '.join(SEVERITIES)}"
            )
        rules.append(
            Rule(
                name=name,
                expression=expression,
                label_en=spec["label_en"],
                label_zh=spec["label_zh"],
                severity=severity,
                reason_en=spec.get("reason_en"),
                reason_zh=spec.get("reason_zh"),
                description=spec.get("description", ""),
            )
        )
    rs = RuleSet(rules, kind=kind, source=source)
    if features is not None:
        rs.check_features(features)
    return rs


def load_rules(path, features=None) -> RuleSet:
    """Load tag or risk rules from a YAML file, validating them.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file (e.g. ``configs/tags.yaml`` or ``configs/risk_rules.yaml``).
    features : iterable of str or pandas.DataFrame or mapping or None, default=None
        Known features: names (e.g. ``feature_catalog()["name"]``), the catalogue
        itself or a feature frame (names and types). When given, a rule reading an
        unknown feature or mistyping one (text compared with a number) fails at load
        time; otherwise it fails at evaluation. Everything else that can be checked
        without data is checked at load either way: syntax and whitelist, nesting
        depth, bounded constants, division by a constant zero.

    Returns
    -------
    RuleSet

    Raises
    ------
    ConfigError
        The file is missing or not YAML, has unknown keys, an expression that is
        malformed or cannot be evaluated, a bad severity, or (with ``features``) an
        unknown or mistyped feature; the message names the file, the rule and the
        reason.

    Examples
    --------
    >>> from powerprofile import load_rules
    >>> tags = load_rules("configs/tags.yaml")  # doctest: +SKIP
    >>> hits = tags.evaluate(features)  # doctest: +SKIP
    """
    p = Path(path)
    data = read_yaml(p, what="rule")
    return rules_from_mapping(data, features=features, source=str(p))
