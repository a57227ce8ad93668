"""Tags (用户标签), risk rules (风控规则库) and the user portrait (用户画像)."""

from ._expr import Expression, ExpressionError, parse_expression
from ._rules import SEVERITIES, Rule, RuleSet, load_rules, rules_from_mapping

__all__ = [
    "SEVERITIES",
    "Expression",
    "ExpressionError",
    "Rule",
    "RuleSet",
    "load_rules",
    "parse_expression",
    "rules_from_mapping",
]
