"""The steps of :func:`ozamonitor.trajectories.analysis.run_trajectory_analysis`
after the clustering: description, background, tables and figures.

Private: the pipeline module holds the API, options and order of the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.files import atomic_write, formula_safe
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD
from ozamonitor.register.store import Register
from ozamonitor.sequences.alphabet import Language
from ozamonitor.sequences.seqdata import SequenceData

ProgressFn = Callable[[str, int, int], None]
#: Name part of tables and figures that show individual records (never publish).
MICRODATA = "_MICRODATA"
#: The owner-only (0700) subfolder of the output folder that holds every person-level file.
MICRODATA_DIR = "microdata"


def _home(out: Path, name: str) -> Path:
    """``out`` for a publishable file, ``out/microdata`` for a person-level one."""
    return out / MICRODATA_DIR if MICRODATA in name else out


def describe_tables(seq: SequenceData, clusters: np.ndarray | None, top: int
                    ) -> dict[str, pl.DataFrame]:
    """The descriptive tables of all sequences (``*_all``) and by cluster (``*_cluster``).

    Sequence frequencies and spell min/max show individual records: the full
    tables are ``*_MICRODATA``; the plain names hold what passes disclosure
    control (sequences shared by at least ``DEFAULT_THRESHOLD`` children; no
    min/max; the mean and median of fewer than ``DEFAULT_THRESHOLD`` spells are
    left empty).
    """
    from ozamonitor.sequences import describe as desc
    from ozamonitor.sequences import indicators

    tables: dict[str, pl.DataFrame] = {}
    groups: list[tuple[str, Any]] = [("all", None)]
    if clusters is not None:
        groups.append(("cluster", clusters))
    for suffix, g in groups:
        tables[f"state_distribution_{suffix}"] = desc.state_distribution(seq, g)
        tables[f"entropy_{suffix}"] = desc.transversal_entropy(seq, g)
        tables[f"mean_time_{suffix}"] = desc.mean_time(seq, g)
        freq = desc.sequence_frequencies(seq, top, g)
        tables[f"sequence_frequencies_{suffix}{MICRODATA}"] = freq
        tables[f"sequence_frequencies_{suffix}"] = freq.filter(
            pl.col("n") >= DEFAULT_THRESHOLD)
        tables[f"transition_rates_{suffix}"] = desc.transition_rates(seq, g)
        spells = desc.spell_durations(seq, g)
        tables[f"spell_durations_{suffix}{MICRODATA}"] = spells
        few = pl.col("n_spells") < DEFAULT_THRESHOLD
        tables[f"spell_durations_{suffix}"] = spells.drop("min", "max", strict=False).with_columns(
            pl.when(few).then(None).otherwise(pl.col(c)).alias(c) for c in ("mean", "median"))
        tables[f"indicators_{suffix}"] = indicators.indicator_summary(
            indicators.sequence_indicators(seq, g))
    return tables


def background_tables(reg: Register, seq: SequenceData, clusters: np.ndarray,
                      background: Sequence[str], references: Mapping[str, str],
                      messages: list[str]) -> dict[str, pl.DataFrame]:
    """Cluster sizes, clusters by background characteristics and the multinomial
    logit; a covariate that separates the clusters perfectly is left out (noted in
    ``messages``) and the model estimated again."""
    from ozamonitor.trajectories.background import (
        ConstantCovariateError,
        SeparationError,
        crosstab,
        mnlogit,
    )

    tables: dict[str, pl.DataFrame] = {}
    bg = (reg.scan("persons").select("person_id", *background).collect()
          .with_columns(pl.col("child_protection").cast(pl.String).str.to_lowercase()))
    bgs = (pl.DataFrame({"person_id": seq.id_labels().tolist()}, schema={"person_id": pl.String})
           .join(bg, on="person_id", how="left", maintain_order="left"))
    tables["cluster_sizes"] = (pl.DataFrame({"cluster": clusters.tolist()})
                               .group_by("cluster").len("n").sort("cluster"))
    tables["crosstab_background"] = crosstab(clusters, bgs, list(background))
    covs = [c for c in background if c != "income_decile"
            and bgs[c].drop_nulls().n_unique() > 1]
    while covs:
        try:
            res = mnlogit(clusters, bgs, covs,
                          reference={c: r for c, r in references.items() if c in covs},
                          categorical=covs)
        except SeparationError as e:
            if e.variable is None or e.variable not in covs:
                messages.append(f"multinomial logit not estimated: {e}")
                break
            messages.append(f"multinomial logit: {e.variable} left out ({e})")
            covs = [c for c in covs if c != e.variable]
            continue
        except (ConstantCovariateError, ValueError) as e:
            messages.append(f"multinomial logit not estimated: {e}")
            break
        tables["mnlogit"] = res.coefficients
        messages.append(f"multinomial logit on {', '.join(covs)}: n = {res.n}, base "
                        f"cluster {res.base_cluster}, McFadden R2 = {res.pseudo_r2:.3f}")
        break
    return tables


def write_table(df: pl.DataFrame, out: Path, name: str) -> list[str]:
    """``out/tables/<name>.parquet`` and ``.csv``, atomically (``*_MICRODATA``:
    owner-only, in ``out/microdata/tables``); returns their paths relative to ``out``."""
    d = _home(out, name) / "tables"
    files = []
    for suffix in ("parquet", "csv"):
        target = d / f"{name}.{suffix}"
        with atomic_write(target, private=MICRODATA in name) as tmp:
            if suffix == "parquet":
                df.write_parquet(tmp)
            else:
                formula_safe(df).write_csv(tmp)
        files.append(str(target.relative_to(out)))
    return files


def write_figures(seq: SequenceData, clusters: np.ndarray | None, out: Path,
                  formats: Sequence[str], lang: Language, progress: ProgressFn | None
                  ) -> list[str]:
    """The figures of all sequences and by cluster in ``out/figures``; index and
    frequency plots (``*_MICRODATA``) are owner-only, in ``out/microdata/figures``.
    Returns the paths relative to ``out``."""
    from ozamonitor.sequences import plots

    figs: dict[str, Callable[[], Any]] = {
        "chronogram": lambda: plots.plot_distribution(seq, lang=lang),
        "entropy": lambda: plots.plot_entropy(seq, lang=lang),
        "mean_time": lambda: plots.plot_mean_time(seq, lang=lang),
        f"frequencies{MICRODATA}": lambda: plots.plot_frequencies(seq, lang=lang),
        f"index{MICRODATA}": lambda: plots.plot_index(seq, lang=lang),
    }
    if clusters is not None:
        figs.update({
            "chronogram_by_cluster": lambda: plots.plot_distribution(seq, clusters, lang=lang),
            "entropy_by_cluster": lambda: plots.plot_entropy(seq, clusters, lang=lang,
                                                              group_label="cluster"),
            "mean_time_by_cluster": lambda: plots.plot_mean_time(seq, clusters, lang=lang),
            f"frequencies_by_cluster{MICRODATA}": lambda: plots.plot_frequencies(
                seq, clusters, lang=lang),
            f"index_by_cluster{MICRODATA}": lambda: plots.plot_index(seq, clusters, lang=lang),
        })
    files = []
    for i, (name, make) in enumerate(figs.items()):
        if progress:
            progress("figures", i, len(figs))
        for p in plots.save_figure(make(), _home(out, name) / "figures" / name, formats,
                                   private=MICRODATA in name):
            files.append(str(p.relative_to(out)))
    return files
