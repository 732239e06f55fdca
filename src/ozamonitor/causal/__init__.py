"""What works for whom: subgroups, matching, difference-in-differences and the OZA pipeline.

* :mod:`~ozamonitor.causal.outcomes` - the study's outcome measures from the register;
* :mod:`~ozamonitor.causal.subgroups` - Gower distance + PAM subgroups;
* :mod:`~ozamonitor.causal.propensity`, :mod:`~ozamonitor.causal.matching`,
  :mod:`~ozamonitor.causal.balance` - MatchIt-compatible matching and cobalt-style balance;
* :mod:`~ozamonitor.causal.did` - 2x2 and Callaway-Sant'Anna DiD (R's ``did``);
* :mod:`~ozamonitor.causal.impact` - subgroups -> matching -> DiD for the OZA experiment.
"""

from ozamonitor.causal.balance import balance_table, love_plot
from ozamonitor.causal.did import aggte, att_gt, did_2x2
from ozamonitor.causal.impact import ImpactResult, impact_analysis
from ozamonitor.causal.matching import MatchResult, match_nearest
from ozamonitor.causal.propensity import estimate_propensity
from ozamonitor.causal.subgroups import find_subgroups, gower_distance

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
