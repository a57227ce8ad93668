"""Tags (用户标签), risk rules (风控规则库), contactability and the user portrait (用户画像)."""

from ._contact import (
    CONTACT_CHANNELS,
    CONTACT_COLUMNS,
    MARKETING_CHANNELS,
    PHONE_CHANNELS,
    contactability,
    phone_kind,
)
from ._expr import Expression, ExpressionError, column_kinds, parse_expression
from ._portrait import (
    PORTRAIT_SCHEMA_VERSION,
    assign_bands,
    build_portraits,
    model_reasons,
    model_scores,
    portrait_columns,
    preferred_channel,
)
from ._rules import SEVERITIES, Rule, RuleSet, load_rules, rules_from_mapping

__all__ = [
    "CONTACT_CHANNELS",
    "CONTACT_COLUMNS",
    "MARKETING_CHANNELS",
    "PHONE_CHANNELS",
    "PORTRAIT_SCHEMA_VERSION",
    "SEVERITIES",
    "Expression",
    "ExpressionError",
    "Rule",
    "RuleSet",
    "assign_bands",
    "build_portraits",
    "column_kinds",
    "contactability",
    "load_rules",
    "model_reasons",
    "model_scores",
    "parse_expression",
    "phone_kind",
    "portrait_columns",
    "preferred_channel",
    "rules_from_mapping",
]
