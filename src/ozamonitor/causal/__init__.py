"""What works for whom: subgroups, matching, difference-in-differences and the OZA pipeline.

* :mod:`~ozamonitor.causal.outcomes` - the study's outcome measures from the register;
* :mod:`~ozamonitor.causal.subgroups` - Gower distance + PAM subgroups;
* :mod:`~ozamonitor.causal.propensity`, :mod:`~ozamonitor.causal.matching`,
  :mod:`~ozamonitor.causal.balance` - MatchIt-compatible matching and cobalt-style balance;
* :mod:`~ozamonitor.causal.did` - 2x2 and Callaway-Sant'Anna DiD (R's ``did``);
* :mod:`~ozamonitor.causal.impact` - subgroups -> matching -> DiD for the OZA experiment.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load lazily: `ozamonitor match` needs none of DiD's imports
    from ozamonitor.causal.balance import balance_table, love_plot
    from ozamonitor.causal.did import aggte, att_gt, did_2x2
    from ozamonitor.causal.impact import ImpactResult, impact_analysis
    from ozamonitor.causal.matching import MatchResult, match_nearest
    from ozamonitor.causal.propensity import estimate_propensity
    from ozamonitor.causal.subgroups import find_subgroups, gower_distance

_HOME = {
    "ImpactResult": "impact",
    "MatchResult": "matching",
    "aggte": "did",
    "att_gt": "did",
    "balance_table": "balance",
    "did_2x2": "did",
    "estimate_propensity": "propensity",
    "find_subgroups": "subgroups",
    "gower_distance": "subgroups",
    "impact_analysis": "impact",
    "love_plot": "balance",
    "match_nearest": "matching",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name in _HOME:
        return getattr(import_module(f"ozamonitor.causal.{_HOME[name]}"), name)
    raise AttributeError(f"module 'ozamonitor.causal' has no attribute {name!r}")


__all__ = [
    "ImpactResult",
    "MatchResult",
    "aggte",
    "att_gt",
    "balance_table",
    "did_2x2",
    "estimate_propensity",
    "find_subgroups",
    "gower_distance",
    "impact_analysis",
    "love_plot",
    "match_nearest",
]
