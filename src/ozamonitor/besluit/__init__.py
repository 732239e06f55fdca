"""The Besluit experiment OZA: the application conditions as data, and their checker.

``rules.toml`` holds the conditions (domain.md sections 5 and 11);
:func:`check_application` evaluates them for one application, and
:func:`read_application` reads an application from YAML or xlsx. Neither
needs Django: the command line and the web registry share them.
"""

from ozamonitor.besluit.application import Application, read_application
from ozamonitor.besluit.engine import (
    CheckReport,
    ConditionResult,
    RuleSet,
    check_application,
    default_rules,
    load_rules,
)

__all__ = [
    "Application",
    "CheckReport",
    "ConditionResult",
    "RuleSet",
    "check_application",
    "default_rules",
    "load_rules",
    "read_application",
]
