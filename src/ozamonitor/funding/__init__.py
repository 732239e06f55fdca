"""Who pays: the funding-route advisor (national rules from the laws plus a region's matrix).

"Wie betaalt wat?" is the question that keeps children at home longest (seed
001): support during school hours can fall under education law, the Jeugdwet,
the Wlz or the Zvw. :func:`advise` answers it for a concrete child and
arrangement, component by component, with the payer(s), the legal basis, the
rule that decided (its text in Dutch and English), the facts it used, and
``gap=True`` where no party is obliged to pay.

The rules are data (``data/national.yaml``, see docs/funding.md); a region's
own matrix (:class:`RegionMatrix`, the Zuid-Limburg shape) overrides or refines
the activities it lists.

Examples
--------
>>> from ozamonitor.funding import Case, advise
>>> case = Case.from_dict({
...     "child": {"age": 12, "enrolled": True},
...     "setting": {"location": "care_location", "brin": False, "oza": False},
...     "components": [{"id": "c8", "kind": "teaching"}]})
>>> advise(case)["c8"].gap
True
"""

from ozamonitor.funding.advisor import (
    Advice,
    ComponentAdvice,
    FactQuestion,
    advise,
    facts_for_kind,
    facts_needed,
)
from ozamonitor.funding.case import KINDS, PAYERS, Case
from ozamonitor.funding.matrix import RegionMatrix, example_matrix_path
from ozamonitor.funding.output import advice_json_schema, validate_advice_json
from ozamonitor.funding.problems import FundingInputError, Problem, RuleSetError
from ozamonitor.funding.rules import Rule, RuleSet, Text, national_rules
from ozamonitor.funding.summary import FundingSummary, summarise

__all__ = [
    "KINDS",
    "PAYERS",
    "Advice",
    "Case",
    "ComponentAdvice",
    "FactQuestion",
    "FundingInputError",
    "FundingSummary",
    "Problem",
    "RegionMatrix",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "Text",
    "advice_json_schema",
    "advise",
    "example_matrix_path",
    "facts_for_kind",
    "facts_needed",
    "national_rules",
    "summarise",
    "validate_advice_json",
]
