"""Difference-in-differences: public entry point.

- :func:`did_2x2` - canonical two-group, two-period DiD by (weighted) regression with
  cluster-robust standard errors.
- :func:`att_gt` - Callaway & Sant'Anna (2021) group-time ATTs for staggered adoption,
  mirroring R's ``did::att_gt`` (never / not-yet treated comparisons, "dr", "ipw",
  "reg", varying or universal base period, anticipation, multiplier bootstrap with
  uniform bands, pre-test of parallel trends).
- :func:`aggte` / :func:`aggte_all` - simple, dynamic (event-study), group and calendar
  aggregations as ``did::aggte``.
- :func:`save_event_study_plot` - event-study figure (PNG/SVG).

See ``docs/did.md``.
"""

from __future__ import annotations

from ozamonitor.causal.did_2x2 import Did2x2Result, did_2x2
from ozamonitor.causal.did_aggregate import AggteResult, aggte, aggte_all
from ozamonitor.causal.did_bootstrap import (
    bootstrap_se,
    multiplier_bootstrap,
    sup_t_critical_value,
)
from ozamonitor.causal.did_drdid import drdid_panel, reg_did_panel, std_ipw_did_panel
from ozamonitor.causal.did_panel import DidInputError, PanelData, prepare_panel
from ozamonitor.causal.did_plot import event_study_figure, save_event_study_plot
from ozamonitor.causal.did_staggered import AttGtResult, att_gt, att_gt_panel

__all__ = [
    "AggteResult",
    "AttGtResult",
    "Did2x2Result",
    "DidInputError",
    "PanelData",
    "aggte",
    "aggte_all",
    "att_gt",
    "att_gt_panel",
    "bootstrap_se",
    "did_2x2",
    "drdid_panel",
    "event_study_figure",
    "multiplier_bootstrap",
    "prepare_panel",
    "reg_did_panel",
    "save_event_study_plot",
    "std_ipw_did_panel",
    "sup_t_critical_value",
]
