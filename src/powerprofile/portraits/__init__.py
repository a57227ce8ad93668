"""Tags (用户标签), risk rules (风控规则库) and the user portrait (用户画像)."""

from ._expr import Expression, ExpressionError, parse_expression
from ._portrait import (
    CONTACT_CHANNELS,
    PORTRAIT_SCHEMA_VERSION,
    assign_bands,
    build_portraits,
    preferred_channel,
)
from ._rules import SEVERITIES, Rule, RuleSet, load_rules, rules_from_mapping

__all__ = [
    "CONTACT_CHANNELS",
    "PORTRAIT_SCHEMA_VERSION",
    "SEVERITIES",
    "Expression",
    "ExpressionError",
    "Rule",
    "assign_bands",
    "build_portraits",
    "RuleSet",
    "load_rules",
    "parse_expression",
    "preferred_channel",
    "rules_from_mapping",
]
