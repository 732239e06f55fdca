"""Sequence plots with one fixed colour per state (matplotlib, no pyplot).

=========================  ================  ===========================================
function                   TraMineR          what
=========================  ================  ===========================================
:func:`plot_distribution`  ``seqdplot``      state distribution per period (chronogram)
:func:`plot_index`         ``seqIplot``      every sequence as a row, sorted
:func:`plot_frequencies`   ``seqfplot``      the most frequent sequences, bar height ~ n
:func:`plot_mean_time`     ``seqmtplot``     mean time in each state
:func:`plot_entropy`       ``seqHtplot``     transversal entropy per period
=========================  ================  ===========================================

Every function accepts ``group`` (one label per sequence) and then draws small
multiples (one panel per group, shared axes), and ``lang`` (``"nl"`` or
``"en"``) for the labels. Colours come from the alphabet
(:mod:`ozamonitor.trajectories.states`), missing positions are white. Figures
are :class:`matplotlib.figure.Figure` objects (thread-safe, no global state);
:func:`save_figure` writes PNG and/or SVG.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.files import atomic_write
from ozamonitor.sequences.alphabet import Language
from ozamonitor.sequences.define import as_seqdata
from ozamonitor.sequences.describe import (
    group_rows,
    mean_time,
    state_matrix,
    top_sequences,
    transversal_entropy,
)
from ozamonitor.sequences.seqdata import SequenceData

_T = {
    "nl": {
        "share": "aandeel",
        "period": "periode",
        "sequences": "reeksen",
        "mean": "gemiddeld aantal perioden (foutbalk: 95%-interval, ±1,96 SE)",
        "group": "groep",
        "x_event": "maanden sinds de start",
        "x_age": "leeftijd (maanden)",
        "x_month": "maand",
        "x_quarter": "kwartaal",
        "entropy": "transversale entropie",
        "cum": "cum. %",
        "all": "alle",
        "missing": "onbekend",
    },
    "en": {
        "share": "share",
        "period": "period",
        "sequences": "sequences",
        "mean": "mean number of periods (error bars: 95% interval, ±1.96 SE)",
        "group": "group",
        "x_event": "months since the start",
        "x_age": "age (months)",
        "x_month": "month",
        "x_quarter": "quarter",
        "entropy": "transversal entropy",
        "cum": "cum. %",
        "all": "all",
        "missing": "missing",
    },
}


def _tr(lang: str, key: str) -> str:
    if lang not in _T:
        raise ConfigurationError(f"unknown language {lang!r}; choose nl or en")
    return _T[lang][key]


def _grid(n_panels: int, ncols: int | None, size: tuple[float, float], *,
          sharey: bool = True) -> tuple[Figure, list[Any]]:
    ncols = ncols or min(n_panels, 3)
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(size[0] * ncols + 2.6, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=sharey)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def _legend(
    fig: Figure, seq: SequenceData, lang: str, used: np.ndarray | None = None, missing: bool = False
) -> None:
    k = len(seq.alphabet)
    handles = [
        Patch(
            facecolor=seq.alphabet.states[i].colour,
            edgecolor="#666666",
            linewidth=0.3,
            label=seq.alphabet.states[i].label(lang),
        )
        for i in range(k)
        if used is None or used[i]
    ]
    if missing:
        handles.append(
            Patch(
                facecolor=seq.alphabet.missing_colour,
                edgecolor="#666666",
                linewidth=0.3,
                label=_tr(lang, "missing"),
            )
        )
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)


def _xlabel(columns: Sequence[str], lang: str) -> str:
    """What the positions are: months since an event, age, calendar months or quarters."""
    first = columns[0] if columns else ""
    if re.fullmatch(r"t[+-]\d+", first):
        return _tr(lang, "x_event")
    if re.fullmatch(r"age\d+m", first):
        return _tr(lang, "x_age")
    if re.fullmatch(r"\d{4}-\d{2}", first):
        return _tr(lang, "x_month")
    if re.fullmatch(r"\d{4}-Q\d", first):
        return _tr(lang, "x_quarter")
    return _tr(lang, "period")


def _xticks(ax: Any, columns: Sequence[str], lang: str, max_ticks: int = 8) -> None:
    """Ticks at school-year starts (``YYYY-08``, ``YYYY-Q3``) when there are
    such columns, else evenly spaced; at most ``max_ticks``. The axis label (on
    the bottom row of a grid) says what a position is."""
    T = len(columns)
    anchors = [t for t, c in enumerate(columns) if c.endswith(("-08", "-Q3"))]
    rel = [_offset(c) for c in columns]
    if T > 1 and all(r is not None for r in rel):
        # event time (t-24 .. t+24) or age (age48m ..): multiples of 6, 12, 24, ...
        unit = 6
        while T / unit > max_ticks:
            unit *= 2
        anchors = [t for t, r in enumerate(rel) if r is not None and r % unit == 0]
    if len(anchors) >= 2:
        step = max(1, math.ceil(len(anchors) / max_ticks))
        ticks = anchors[::step]
    else:
        step = max(1, math.ceil(T / max_ticks))
        ticks = list(range(0, T, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([columns[t] for t in ticks], rotation=45, ha="right", fontsize=7)
    spec = ax.get_subplotspec()
    if spec is None or spec.is_last_row():
        ax.set_xlabel(_xlabel(columns, lang), fontsize=8)


def _offset(label: str) -> int | None:
    """``t-24`` -> -24, ``age48m`` -> 48; None for calendar labels."""
    m = re.fullmatch(r"t([+-]\d+)|age(\d+)[a-z]", label)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def _panel_title(lab: str, n: int, lang: str) -> str:
    name = _tr(lang, "all") if lab == "all" else lab
    return f"{name} (n = {n:,})".replace(",", "\u202f")


def plot_distribution(
    seq: Any,
    group: Any = None,
    *,
    lang: Language = "nl",
    with_missing: bool = False,
    ncols: int | None = None,
    title: str | None = None,
) -> Figure:
    """Chronogram: stacked state shares per period (``seqdplot``)."""
    s = as_seqdata(seq)
    _, m, k, w = state_matrix(s, with_missing)
    groups = group_rows(s.n_sequences, group)
    fig, axes = _grid(len(groups), ncols, (4.2, 2.8))
    colours = [*s.alphabet.colours, s.alphabet.missing_colour]
    x = np.arange(s.max_length)
    used = np.zeros(k, dtype=bool)
    for ax, (lab, rows) in zip(axes, groups, strict=True):
        sub = m[rows]
        if w is None:
            cnt = np.stack([(sub == j).sum(axis=0) for j in range(k)])
        else:  # case weights: weighted shares, as TraMineR's seqdplot
            wr = w[rows][:, None]
            cnt = np.stack([((sub == j) * wr).sum(axis=0) for j in range(k)])
        tot = np.maximum(cnt.sum(axis=0), 1)
        share = cnt / tot
        used |= cnt.sum(axis=1) > 0
        # one polygon per state: step edges at the period boundaries
        xe = np.append(x, s.max_length) - 0.5
        ye = np.concatenate([share, share[:, -1:]], axis=1)
        ax.stackplot(xe, ye, colors=colours[:k], step="post", linewidth=0)
        ax.set_xlim(-0.5, s.max_length - 0.5)
        ax.set_ylim(0, 1)
        ax.set_title(_panel_title(lab, len(rows), lang), fontsize=9)
        _xticks(ax, s.column_labels(), lang)
    axes[0].set_ylabel(_tr(lang, "share"))
    _legend(fig, s, lang, used[: len(s.alphabet)], missing=with_missing and k > len(s.alphabet))
    if title:
        fig.suptitle(title)
    return fig


def _cmap(s: SequenceData) -> tuple[ListedColormap, dict[str, float]]:
    """Colormap of the cells drawn by :func:`_cells` (code i -> state colour, then
    missing, then void in white) and the ``vmin``/``vmax`` that map code i to entry i."""
    k = len(s.alphabet)
    palette = [*s.alphabet.colours, s.alphabet.missing_colour, "#FFFFFF"]
    return ListedColormap(palette), {"vmin": -0.5, "vmax": k + 1.5}


def _cells(codes: np.ndarray, k: int) -> np.ndarray:
    """Codes to draw: states ``0..k-1``, missing ``k``, void ``k + 1`` (sorted last)."""
    return np.where(codes < 0, k + 1, codes)


def _sort_rows(cells: np.ndarray, sort: str | np.ndarray | None) -> np.ndarray:
    n = cells.shape[0]
    if sort is None:
        return np.arange(n)
    if isinstance(sort, np.ndarray):
        return np.argsort(sort, kind="stable")
    if sort == "from_start":
        return np.lexsort(cells[:, ::-1].T)
    if sort == "from_end":
        return np.lexsort(cells.T)
    raise ConfigurationError(
        f"sort must be 'from_start', 'from_end', None or an array, got {sort!r}")


def _used(codes: np.ndarray, k: int) -> np.ndarray:
    """Which of the ``k`` states occur in ``codes``."""
    return np.bincount(codes[(codes >= 0) & (codes < k)].astype(np.int64), minlength=k) > 0


def plot_index(
    seq: Any,
    group: Any = None,
    *,
    lang: Language = "nl",
    sort: Literal["from_start", "from_end"] | np.ndarray | None = "from_start",
    max_rows: int = 5000,
    seed: int = 0,
    ncols: int | None = None,
    title: str | None = None,
) -> Figure:
    """Sorted index plot: every sequence a row of coloured cells (``seqIplot``).

    Groups with more than ``max_rows`` sequences show a random sample of that
    size (seeded). ``sort``: ``from_start`` (TraMineR ``sortv="from.start"``),
    ``from_end``, None, or a numeric sort key per sequence (e.g. a cluster
    label or a multidimensional-scaling score).
    """
    s = as_seqdata(seq)
    groups = group_rows(s.n_sequences, group)
    fig, axes = _grid(len(groups), ncols, (4.2, 3.2), sharey=False)
    k = len(s.alphabet)
    cmap, limits = _cmap(s)
    rng = np.random.default_rng(seed)
    key = sort if isinstance(sort, np.ndarray) else None
    if key is not None and len(key) != s.n_sequences:
        raise InputError(f"sort key has {len(key)} values for {s.n_sequences} sequences")
    used = np.zeros(k, dtype=bool)
    for ax, (lab, rows) in zip(axes, groups, strict=True):
        if len(rows) > max_rows:
            rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
        codes = s.codes[rows]
        used |= _used(codes, k)
        cells = _cells(codes, k)
        order = _sort_rows(cells, key[rows] if key is not None else sort)
        ax.imshow(
            cells[order],
            aspect="auto",
            interpolation="nearest",
            cmap=cmap,
            origin="lower",
            **limits,
        )
        ax.set_title(_panel_title(lab, len(rows), lang), fontsize=9)
        _xticks(ax, s.column_labels(), lang)
    axes[0].set_ylabel(_tr(lang, "sequences"))
    _legend(fig, s, lang, used, missing=s.has_missing)
    if title:
        fig.suptitle(title)
    return fig


def plot_frequencies(
    seq: Any,
    group: Any = None,
    *,
    top: int = 10,
    lang: Language = "nl",
    ncols: int | None = None,
    title: str | None = None,
) -> Figure:
    """The ``top`` most frequent sequences, bar heights proportional to their
    frequency (``seqfplot``); the axis shows the cumulated percentage."""
    s = as_seqdata(seq)
    groups = group_rows(s.n_sequences, group)
    fig, axes = _grid(len(groups), ncols, (4.2, 3.2), sharey=False)
    k = len(s.alphabet)
    cmap, limits = _cmap(s)
    used = np.zeros(k, dtype=bool)
    for ax, (lab, rows) in zip(axes, groups, strict=True):
        codes, counts, n = top_sequences(s, top, rows)
        pct = 100.0 * counts / max(n, 1)
        used |= _used(codes, k)
        y_edges = np.concatenate([[0.0], np.cumsum(pct)])
        x_edges = np.arange(s.max_length + 1) - 0.5
        if len(codes):
            ax.pcolormesh(x_edges, y_edges, _cells(codes, k), cmap=cmap, edgecolors="none",
                          **limits)
        ax.set_xlim(-0.5, s.max_length - 0.5)
        ax.set_ylim(0, max(float(y_edges[-1]), 1e-9))
        ax.set_title(_panel_title(lab, n, lang), fontsize=9)
        _xticks(ax, s.column_labels(), lang)
    axes[0].set_ylabel(_tr(lang, "cum"))
    _legend(fig, s, lang, used)
    if title:
        fig.suptitle(title)
    return fig


def plot_mean_time(
    seq: Any,
    group: Any = None,
    *,
    lang: Language = "nl",
    ncols: int | None = None,
    title: str | None = None,
) -> Figure:
    """Mean number of periods in each state, with 95% error bars (``seqmtplot``)."""
    s = as_seqdata(seq)
    mt = mean_time(s, group)
    labels = [st.label(lang) for st in s.alphabet.states]
    glabels = mt["group"].unique(maintain_order=True).to_list()
    fig, axes = _grid(len(glabels), ncols, (4.0, 0.28 * len(labels) + 1.0))
    for ax, g in zip(axes, glabels, strict=True):
        sub = mt.filter(mt["group"] == g)
        y = np.arange(len(labels))
        ax.barh(
            y,
            sub["mean"].to_numpy(),
            xerr=1.96 * np.nan_to_num(sub["se"].to_numpy()),
            color=s.alphabet.colours,
            edgecolor="#666666",
            linewidth=0.3,
            error_kw={"elinewidth": 0.6},
        )
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(_panel_title(g, int(sub["n"][0]), lang), fontsize=9)
        ax.set_xlabel(_tr(lang, "mean"), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_entropy(
    seq: Any, group: Any = None, *, lang: Language = "nl", title: str | None = None,
    group_label: str | None = None,
) -> Figure:
    """Transversal entropy per period (``seqHtplot``); one line per group.

    ``group_label`` titles the legend (e.g. ``"cluster"``; default "group").
    """
    s = as_seqdata(seq)
    ent = transversal_entropy(s, group)
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    ax = fig.subplots()
    palette = [
        "#332288",
        "#CC6677",
        "#117733",
        "#DDCC77",
        "#88CCEE",
        "#AA4499",
        "#44AA99",
        "#999933",
        "#882255",
    ]
    for i, g in enumerate(ent["group"].unique(maintain_order=True).to_list()):
        sub = ent.filter(ent["group"] == g)
        name = _tr(lang, "all") if g == "all" else g
        ax.plot(
            sub["position"].to_numpy(),
            sub["entropy"].to_numpy(),
            color=palette[i % len(palette)],
            label=name,
            linewidth=1.4,
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel(_tr(lang, "entropy"))
    _xticks(ax, s.column_labels(), lang)
    if ent["group"].n_unique() > 1:
        ax.legend(fontsize=8, frameon=False, title=group_label or _tr(lang, "group"),
                  title_fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def save_figure(
    fig: Figure, path: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 120,
    *, private: bool = False,
) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats``, atomically.

    Parameters
    ----------
    fig : Figure
    path : str or Path
        The file name; its suffix is replaced by each format's.
    formats : sequence of {"png", "svg", "pdf"}, default ("png", "svg")
    dpi : int, default 120
    private : bool, default False
        The figure shows individual records (an index plot): files are 0600.

    Returns
    -------
    list of Path
        The files written.
    """
    base = Path(path)
    out = []
    for fmt in formats:
        if fmt not in ("png", "svg", "pdf"):
            raise ConfigurationError(f"unsupported figure format {fmt!r}; use png, svg or pdf")
        target = base.with_suffix(f".{fmt}")
        with atomic_write(target, private=private) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        out.append(target)
    return out
