"""Observed counts versus the published national figures (calibration).

The synthetic population is meant to reproduce the published figures (flows
per school year) within 10% at scale 1. At a smaller scale ``s`` the expected
count is ``s * published`` and the count is a sum of many rare independent
events, so its noise is close to Poisson: standard deviation
``sqrt(expected)``. :func:`calibration_table` reports the relative deviation
and a tolerance of ``10% + z * sqrt(expected) / expected`` (z = 3 by default).

Calibration is a diagnostic for the *synthetic* population: its counts are not
disclosure-controlled. :func:`is_synthetic` tells whether a register is synthetic
(its manifest has a ``synth`` key); on any other register use
:func:`publishable_calibration` (observed counts of 1..threshold-1 children
suppressed, with the ratio and verdict columns that would reveal them).
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from ozamonitor.counting.count import Counter
from ozamonitor.counting.timeline import CountingError
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD, SUPPRESSION_COL, suppress
from ozamonitor.register.store import Register

#: (definition, school year, published figure, source) - flows over a school year.
PUBLISHED: tuple[tuple[str, str, int, str], ...] = (
    ("ocw2016", "2014-2015", 10_000, "OCW Kamerbrief 2024 (~10.000)"),
    ("ocw2016", "2022-2023", 17_500, "OCW Kamerbrief 2024 (~17.500)"),
    ("vsvkompas", "2020-2021", 3_448, "Ingrado Vsvkompas / leerplichttelling"),
    ("vsvkompas", "2022-2023", 6_423, "Ingrado Vsvkompas / leerplichttelling"),
    ("balans", "2018-2019", 14_897, "Balans, Thuiszitters tellen"),
)


def is_synthetic(register: Register | str | Path) -> bool:
    """Whether the register's manifest marks it as synthetic (has a ``synth`` key)."""
    reg = Register.open(register)
    return "synth" in reg.manifest


def publishable_calibration(t: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """:func:`calibration_table` with small observed counts suppressed (for real registers).

    ``observed`` is set to null where it counts 1..threshold-1 children (primary
    suppression; each row is a separate figure, no sum relations), and so are
    ``ratio``, ``ok`` and ``within_10pct`` (which would reveal it). A
    ``suppression`` column says ``"primary"`` or null.
    """
    s = suppress(t, "observed", threshold=threshold)
    hidden = pl.col(SUPPRESSION_COL).is_not_null()
    return s.with_columns(
        *[pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("ratio", "ok", "within_10pct")])


def register_scale(register: Register) -> float | None:
    """The synthetic population's scale from the manifest (None if not synthetic)."""
    synth = register.manifest.get("synth")
    if isinstance(synth, dict):
        for key in ("scale",):
            if key in synth:
                return float(synth[key])
        params = synth.get("params")
        if isinstance(params, dict) and "scale" in params:
            return float(params["scale"])
    return None


def calibration_table(
    register: Register | str | Path,
    *,
    scale: float | None = None,
    z: float = 3.0,
    base_tolerance: float = 0.10,
    counter: Counter | None = None,
) -> pl.DataFrame:
    """Observed flows vs published figures scaled to the register's population.

    Columns: definition, school_year, published, expected (published x scale),
    observed, ratio (observed / expected), tolerance, ok (|ratio - 1| <= tolerance),
    within_10pct, source. Years outside the register give null observed values.
    """
    reg = Register.open(register)
    s = scale if scale is not None else register_scale(reg)
    if s is None:
        s = 1.0
    if s <= 0:
        raise CountingError(f"scale must be positive, got {s}")
    defs = sorted({d for d, *_ in PUBLISHED})
    c = counter or Counter(reg, defs)
    rows = []
    for d, sy, pub, src in PUBLISHED:
        try:
            pc = c.flow(sy).filter(pl.col("definition") == d)
            obs: int | None = pc["person_id"].n_unique()
        except CountingError:
            obs = None
        exp = pub * s
        tol = base_tolerance + z * math.sqrt(exp) / exp if exp > 0 else float("inf")
        ratio = obs / exp if obs is not None and exp > 0 else None
        rows.append((d, sy, pub, exp, obs, ratio, tol,
                     None if ratio is None else abs(ratio - 1) <= tol,
                     None if ratio is None else abs(ratio - 1) <= base_tolerance, src))
    return pl.DataFrame(
        rows,
        schema={"definition": pl.String, "school_year": pl.String, "published": pl.Int64,
                "expected": pl.Float64, "observed": pl.Int64, "ratio": pl.Float64,
                "tolerance": pl.Float64, "ok": pl.Boolean, "within_10pct": pl.Boolean,
                "source": pl.String},
        orient="row",
    )


def calibration_breakdown(
    register: Register | str | Path, *, counter: Counter | None = None
) -> pl.DataFrame:
    """Flows of the calibrated definitions by category and age band (for tuning).

    Columns: definition, school_year, category, age_band, count. Not
    disclosure-controlled: a diagnostic for the synthetic population only.
    """
    reg = Register.open(register)
    defs = sorted({d for d, *_ in PUBLISHED})
    c = counter or Counter(reg, defs)
    years = sorted({y for _, y, *_ in PUBLISHED})
    parts = []
    for y in years:
        try:
            pc = c.flow(y)
        except CountingError:
            continue
        parts.append(pc.filter(pl.col("definition").is_in(defs))
                     .group_by("definition", "period", "category", "age_band")
                     .agg(count=pl.len()))
    if not parts:
        return pl.DataFrame(schema={"definition": pl.String, "school_year": pl.String,
                                    "category": pl.String, "age_band": pl.String,
                                    "count": pl.UInt32})
    return (pl.concat(parts).rename({"period": "school_year"})
            .sort("definition", "school_year", "category", "age_band"))


def print_calibration(register: Register | str | Path, scale: float | None = None) -> None:
    """Print :func:`calibration_table` (for scripts and the generator engineer)."""
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=160):
        print(calibration_table(register, scale=scale))


if __name__ == "__main__":  # pragma: no cover
    import sys

    print_calibration(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None)
