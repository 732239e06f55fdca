"""Difference-in-differences: public entry point.

- :func:`did_2x2` - canonical two-group, two-period DiD by (weighted) regression with
  cluster-robust standard errors.
- :func:`att_gt` - Callaway & Sant'Anna (2021) group-time ATTs for staggered adoption,
  mirroring R's ``did::att_gt`` (never / not-yet treated comparisons, "dr", "ipw",
  "reg", varying or universal base period, anticipation, multiplier bootstrap with
  uniform bands, pre-test of parallel trends).
- :func:`aggte` / :func:`aggte_all` - simple, dynamic (event-study), group and calendar
  aggregations as ``did::aggte``.
- :func:`save_event_study_plot` / :func:`event_study_figure` - event-study figure (PNG/SVG).

The estimators' building blocks live in their modules and are imported from there:
:mod:`~ozamonitor.causal.did_panel` (``prepare_panel``, ``PanelData``),
:mod:`~ozamonitor.causal.did_drdid` (the DRDID estimators),
:mod:`~ozamonitor.causal.did_bootstrap` (multiplier bootstrap, sup-t critical value)
and :func:`ozamonitor.causal.did_staggered.att_gt_panel` (ATT(g,t) on a prepared panel).

See ``docs/did.md``.
"""

from __future__ import annotations

from ozamonitor.causal.did_2x2 import Did2x2Result, did_2x2
from ozamonitor.causal.did_aggregate import AggteResult, aggte, aggte_all
from ozamonitor.causal.did_panel import DidInputError
from ozamonitor.causal.did_plot import event_study_figure, save_event_study_plot
from ozamonitor.causal.did_staggered import AttGtResult, att_gt

#: The public surface: the estimators, their results and the error they raise. The
#: building blocks (panel preparation, the DRDID estimators, the multiplier
#: bootstrap) are imported from their own modules (``did_panel``, ``did_drdid``,
#: ``did_bootstrap``, ``did_staggered.att_gt_panel``).
__all__ = [
    "AggteResult",
    "AttGtResult",
    "Did2x2Result",
    "DidInputError",
    "aggte",
    "aggte_all",
    "att_gt",
    "did_2x2",
    "event_study_figure",
    "save_event_study_plot",
]
