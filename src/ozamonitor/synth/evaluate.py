"""Compare estimates with the truth planted in a synthetic register.

The generator (:func:`ozamonitor.synth.generate.generate`) leaves two records of
the OZA effects it planted: the ``synth.ground_truth`` section of the manifest
(sample ATT by event time for the target groups and age bands) and a side file
with every participant's potential outcomes (:data:`PARTICIPANT_TRUTH_FILE`).
This module is the one place that reads them and lines them up with an
estimate; the impact pipeline (:mod:`ozamonitor.causal.impact`) knows nothing
of the generator, and the recovery benchmark, the tests and the report all use
the functions here.

Where this module sits: the comparison needs both the truth (``synth``) and an
estimate (``causal``, later on the data's path). It lives beside the generator
because it is the generator's knowledge (what its files mean) and because it
takes the estimate as *plain frames* - the participant-months that entered an
estimate (:attr:`ozamonitor.causal.impact.ImpactResult.cells`: ``person_id,
start, e, group``) and a summary with ``group, lower*, upper*`` columns - so it
imports nothing from ``causal`` and the layering (a module imports only from
earlier on the path) holds.

On a register that is not synthetic every function returns ``None`` (or an
unchanged frame), so callers need not check first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.register.store import Register

__all__ = [
    "PARTICIPANT_TRUTH_FILE",
    "coverage",
    "ground_truth",
    "impact_truth",
    "matched_truth",
    "participant_truth",
    "truth_table",
]

#: Side file of a synthetic register with the potential outcomes of every participant.
PARTICIPANT_TRUTH_FILE = "synth_participant_truth.parquet"

#: Manifest section of the generator's ground truth per split of the estimates.
_TRUTH_KEYS = {"target_group": "by_target_group", "primary": "by_age_band", None: "overall"}


def ground_truth(register: Register | str | Path) -> dict[str, Any] | None:
    """The true OZA effects the generator recorded in the manifest.

    Parameters
    ----------
    register : Register, str or Path
        A register folder or an open :class:`~ozamonitor.register.store.Register`.

    Returns
    -------
    dict or None
        The manifest's ``synth.ground_truth`` section (see ``docs/synth.md``);
        ``None`` for a register that was not generated.
    """
    synth = Register.open(register).manifest.get("synth")
    return synth.get("ground_truth") if isinstance(synth, dict) else None


def participant_truth(register: Register | str | Path) -> pl.DataFrame | None:
    """Per-participant potential outcomes of a synthetic register.

    Parameters
    ----------
    register : Register, str or Path
        A register folder or an open register.

    Returns
    -------
    polars.DataFrame or None
        Columns ``person_id, start, target_group, age_band, e, y1, y0, y0_mean,
        y1_mean``, one row per participant and recorded event time ``e``
        (``y1 - y0``: the participant's realised effect; ``y1_mean - y0_mean``: the
        planted effect on its chance of being in education). ``None`` when the
        register has no such file.
    """
    path = Register.open(register).path / PARTICIPANT_TRUTH_FILE
    return pl.read_parquet(path) if path.is_file() else None


def truth_table(
    register: Register | str | Path, *, by: str | None = "target_group", max_e: int = 23
) -> pl.DataFrame | None:
    """True effects from the manifest, aggregated like the impact estimates.

    Averages the generator's per-event-time sample ATT over e = 0..``max_e``
    weighted by the participants observed at each e (did's ``simple``
    weighting).

    Parameters
    ----------
    register : Register, str or Path
        The register.
    by : {"target_group", "primary", None}, default "target_group"
        The split of the estimates; other splits are not in the manifest.
    max_e : int, default 23
        Last event month averaged.

    Returns
    -------
    polars.DataFrame or None
        Columns ``group, true_att, n_person_months`` (and an ``all`` row for a
        split); ``None`` for a register without ground truth or a split the
        generator does not record.
    """
    gt = ground_truth(register)
    key = _TRUTH_KEYS.get(by, "")
    if not gt or key not in gt:
        return None
    node = gt[key]
    groups = {"all": node} if by is None else node
    rows = []
    for name, g in groups.items():
        label = {"primary_age": "1", "secondary_age": "0"}.get(name, name)
        ev = g.get("by_event_time", {})
        cells = [(v["att"], v["n"]) for e, v in ev.items() if 0 <= int(e) <= max_e and v["n"]]
        n = sum(c[1] for c in cells)
        if n:
            rows.append(
                {"group": label, "true_att": sum(a * k for a, k in cells) / n, "n_person_months": n}
            )
    if by is not None and "overall" in gt and rows:
        overall = truth_table(register, by=None, max_e=max_e)
        if overall is not None:
            rows.extend(overall.to_dicts())
    return pl.DataFrame(rows) if rows else None


def matched_truth(
    register: Register | str | Path, cells: pl.DataFrame, *, by: str | None = "target_group"
) -> pl.DataFrame | None:
    """True effect on exactly the participant-months that entered an estimate.

    The impact estimate averages ``d(s, e)`` over matched participants *s* and
    event times where it is defined, with equal weight per participant-month;
    this averages the generator's per-participant truth over the same cells:

    * ``true_att_matched`` - the realised sample ATT ``Y(1) - Y(0)`` of the
      matched participants: the recovery criterion, for which the participants'
      interval (``se_sample``) is built (see docs/impact.md);
    * ``true_att_expected`` - the planted effect: ``E[Y(1) - Y(0) | simulated
      state at the start]``, the change OZA makes in each participant's chance of
      being in education (means of the generator's independent treated and
      untreated replicates), without the participants' month-by-month luck.

    Parameters
    ----------
    register : Register, str or Path
        The register the estimate was made on.
    cells : polars.DataFrame
        The participant-months of the estimate: ``person_id, start, e, group``
        (:attr:`ozamonitor.causal.impact.ImpactResult.cells`).
    by : str or None, default "target_group"
        The split of the estimate; when not ``None`` an ``all`` row is added.

    Returns
    -------
    polars.DataFrame or None
        Columns ``group, true_att_expected, true_att_matched,
        n_person_months_matched``; ``None`` for a register without per-participant
        truth (``true_att_expected`` is null for one generated without replicates).
    """
    pt = participant_truth(register)
    if pt is None:
        return None
    has_means = {"y0_mean", "y1_mean"} <= set(pt.columns)
    expected = pl.col("y1_mean") - pl.col("y0_mean") if has_means else pl.lit(None)
    eff = pt.select(
        "person_id", "start", "e",
        expected.cast(pl.Float64).fill_nan(None).alias("eff_expected"),
        (pl.col("y1") - pl.col("y0")).cast(pl.Float64).alias("eff"),
    )
    j = cells.with_columns(pl.col("e").cast(pl.Int16)).join(
        eff, on=["person_id", "start", "e"], how="inner")
    parts = [j] if by is None else [j, j.with_columns(group=pl.lit("all"))]
    return (
        pl.concat(parts)
        .group_by("group")
        .agg(true_att_expected=pl.col("eff_expected").mean(),
             true_att_matched=pl.col("eff").mean(),
             n_person_months_matched=pl.len())
        .sort("group")
    )


def impact_truth(
    register: Register | str | Path,
    cells: pl.DataFrame,
    *,
    by: str | None = "target_group",
    max_e: int = 23,
) -> pl.DataFrame | None:
    """All the truth there is for an impact estimate: :func:`truth_table` joined with
    :func:`matched_truth` on ``group``.

    Parameters
    ----------
    register : Register, str or Path
        The register the estimate was made on.
    cells : polars.DataFrame
        ``person_id, start, e, group`` of the estimate (``ImpactResult.cells``).
    by : str or None, default "target_group"
        The split of the estimate.
    max_e : int, default 23
        Last event month of the overall effect.

    Returns
    -------
    polars.DataFrame or None
        ``group, true_att, n_person_months`` (target-group and age splits only),
        ``true_att_expected, true_att_matched, n_person_months_matched``; ``None``
        for a register that is not synthetic.
    """
    truth = truth_table(register, by=by, max_e=max_e)
    matched = matched_truth(register, cells, by=by)
    if truth is None or matched is None:
        return truth if matched is None else matched
    return truth.join(matched, on="group", how="left")


def coverage(summary: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Estimates beside the truth, with whether each interval covers it.

    Parameters
    ----------
    summary : polars.DataFrame
        One row per group with ``group, att, lower, upper, lower_sample,
        upper_sample`` (``ImpactResult.summary``).
    truth : polars.DataFrame
        From :func:`impact_truth`.

    Returns
    -------
    polars.DataFrame
        The groups with an estimate (``att`` not NaN) present in both, with
        boolean columns ``covered`` (the participants' interval covers the
        realised effect ``true_att_matched``: the recovery criterion),
        ``covered_pop`` (the population interval covers it) and
        ``covered_planted`` (the population interval covers the planted effect
        ``true_att_expected``).
    """

    def covers(col: str, suffix: str = "") -> pl.Expr:
        lo, hi = pl.col(f"lower{suffix}"), pl.col(f"upper{suffix}")
        return (lo <= pl.col(col)) & (pl.col(col) <= hi)

    return (
        summary.join(truth, on="group", how="inner")
        .filter(pl.col("att").is_not_nan())
        .with_columns(
            covered=covers("true_att_matched", "_sample"),
            covered_pop=covers("true_att_matched"),
            covered_planted=covers("true_att_expected"),
        )
    )
