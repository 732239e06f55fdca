"""Event-study plot: dynamic ATT(e) with pointwise intervals and the uniform band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from ozamonitor.causal.did_aggregate import AggteResult
from ozamonitor.causal.did_panel import DidInputError
from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_write

__all__ = ["event_study_figure", "save_event_study_plot"]


def event_study_figure(dyn: AggteResult, title: str | None = None, ylabel: str = "ATT") -> Figure:
    """Figure of an event-study (``type="dynamic"``) aggregation.

    Thick bars: pointwise ``1 - alpha`` intervals; thin caps: the uniform band with the
    sup-t critical value (same as pointwise when no bootstrap band was computed).
    Pre-treatment event times are grey, post-treatment ones blue.

    Parameters
    ----------
    dyn : AggteResult
        A ``type="dynamic"`` aggregation.
    title : str, optional
        Default: the interval levels and band.
    ylabel : str, default "ATT"

    Returns
    -------
    matplotlib.figure.Figure
    """
    if dyn.type != "dynamic":
        raise DidInputError("event_study_figure needs a 'dynamic' aggregation")
    e, att, se = dyn.egt, dyn.att_egt, dyn.se_egt
    z = float(stats.norm.ppf(1 - dyn.alpha / 2))
    # a bare Figure (no pyplot): no global backend or figure state is touched
    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="grey", lw=0.8, ls=":")
    post = e >= 0
    for mask, color, lab in ((~post, "#7f7f7f", "pre"), (post, "#1f77b4", "post")):
        if not mask.any():
            continue
        ax.errorbar(
            e[mask],
            att[mask],
            yerr=dyn.crit_val * np.nan_to_num(se[mask]),
            fmt="none",
            ecolor=color,
            elinewidth=1,
            capsize=4,
            alpha=0.7,
        )
        ax.errorbar(
            e[mask],
            att[mask],
            yerr=z * np.nan_to_num(se[mask]),
            fmt="o",
            color=color,
            elinewidth=3,
            label=lab,
        )
    ax.set_xlabel("event time (periods since start of treatment)")
    ax.set_ylabel(ylabel)
    band = "uniform" if dyn.crit_val > z + 1e-12 else "pointwise"
    ax.set_title(
        title
        or f"Event study ({round(100 * (1 - dyn.alpha))}% pointwise; "
        f"caps: {band} band, c = {dyn.crit_val:.2f})"
    )
    ax.legend(loc="best", frameon=False)
    fig.tight_layout()
    return fig


def save_event_study_plot(dyn: AggteResult, path: str | Path, title: str | None = None) -> Path:
    """Write the event-study figure as PNG or SVG (by suffix), atomically.

    Parameters
    ----------
    dyn : AggteResult
        A ``type="dynamic"`` aggregation.
    path : str or Path
        ``.png`` or ``.svg``; its mode follows the umask.
    title : str, optional

    Returns
    -------
    Path
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg"):
        raise ConfigurationError(f"plot format must be png or svg, got {fmt!r}")
    fig = event_study_figure(dyn, title=title)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=150)
    return path
