"""The trajectory analysis end to end: build, align, distances, clusters, describe.

:func:`run_trajectory_analysis` is what ``ozamonitor trajectories`` runs:

1. build every (sampled) child's monthly/weekly/quarterly/yearly states
   (:func:`~ozamonitor.trajectories.build.build_trajectories`) and write them
   to ``sequences.parquet`` (calendar time, all children of the population);
2. align them (calendar window, age or event) and delete trailing missing
   positions (variable-length sequences);
3. compute OM distances (:func:`ozamonitor.sequences.distances.seqdist`) and
   cluster with PAM for every k (:func:`ozamonitor.sequences.cluster.pam_range`),
   or with CLARA (:func:`ozamonitor.sequences.clara.clara`) above ``pam_max``
   sequences; k is chosen by the average silhouette width (ASW; CLARA: the
   average medoid silhouette) unless one k is given;
4. describe all sequences and each cluster (tables as Parquet and CSV, figures
   as PNG and SVG) and link clusters to background characteristics
   (cross-tabulation, multinomial logit).

Everything lands in ``out``; ``results.json`` lists parameters and files so the
report section (:func:`ozamonitor.report.trajectories.trajectories_section`)
can be built later from the folder alone. Person-level files
(``sequences.parquet``, ``analysis_sequences.parquet``/``.csv``,
``clusters.parquet``, index and frequency plots, the ``*_MICRODATA`` tables of
sequence frequencies and spell durations) are *microdata*: never publish them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD
from ozamonitor.register.store import Register
from ozamonitor.trajectories.align import (
    EVENTS,
    align_age,
    align_calendar,
    align_event,
    event_dates,
    handle_missing,
)
from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.seqdata import SequenceData, replace_file
from ozamonitor.trajectories.states import DEFAULT_CONFIG, MISSING, TrajectoryConfig

#: Background characteristics used for cross-tabs and the multinomial logit.
BACKGROUND = ("sex", "parent_education", "migration_background", "household_type",
              "child_protection", "income_decile")
#: Reference categories of the multinomial logit.
REFERENCES = {"sex": "F", "parent_education": "high", "migration_background": "dutch",
              "household_type": "two_parents", "child_protection": "false"}
POPULATIONS = ("active", "all", "oza")
ProgressFn = Callable[[str, int, int], None]


class NoClusteringError(ValueError):
    """None of the requested numbers of clusters can be formed (too few distinct
    sequences); the pipeline then describes the sequences without clusters."""


def validate_alignment(alignment: str) -> None:
    """Raise ValueError unless ``alignment`` is calendar, age or event:<known event>."""
    if alignment in ("calendar", "age"):
        return
    if alignment.startswith("event:"):
        name = alignment.split(":", 1)[1]
        if name in EVENTS:
            return
        raise ValueError(f"unknown event {name!r} in alignment {alignment!r}; choose "
                         + ", ".join(f"event:{e}" for e in EVENTS))
    raise ValueError(f"unknown alignment {alignment!r}; use calendar, age or "
                     + ", ".join(f"event:{e}" for e in EVENTS))


def feasible_ks(ks: Sequence[int], n_distinct: int) -> tuple[list[int], list[int]]:
    """Split ``ks`` into the numbers of clusters that can be formed from
    ``n_distinct`` distinct sequences (``2 <= k < n_distinct``) and the others."""
    ks = sorted(set(int(k) for k in ks))
    ok = [k for k in ks if 2 <= k < n_distinct]
    return ok, [k for k in ks if k not in ok]


@dataclass
class TrajectoryResults:
    """What :func:`run_trajectory_analysis` produced (also in ``out/results.json``)."""

    out: Path
    params: dict[str, Any]
    sequences: SequenceData
    clusters: np.ndarray | None
    k: int | None
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, out: str | Path) -> TrajectoryResults:
        """Read a results folder written by :func:`run_trajectory_analysis`."""
        out = Path(out)
        meta_path = out / "results.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{out}: no results.json (run `ozamonitor trajectories`)")
        meta = json.loads(meta_path.read_text())
        seq = SequenceData.read_parquet(out / "analysis_sequences.parquet")
        clusters = None
        if (out / "clusters.parquet").is_file():
            cl = pl.read_parquet(out / "clusters.parquet")
            order = {i: n for n, i in enumerate(seq.ids.tolist())}
            clusters = np.empty(seq.n, dtype=object)
            for pid, c in cl.iter_rows():
                clusters[order[pid]] = c
        tables = {}
        for name in meta.get("tables", []):
            p = out / "tables" / f"{name}.parquet"
            if p.is_file():
                tables[name] = pl.read_parquet(p)
        return cls(out, meta["params"], seq, clusters, meta.get("k"), tables,
                   meta.get("files", []), meta.get("messages", []))


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    replace_file(tmp, path)


def _write_table(df: pl.DataFrame, out: Path, name: str) -> list[str]:
    d = out / "tables"
    d.mkdir(parents=True, exist_ok=True)
    files = []
    for suffix in ("parquet", "csv"):
        target = d / f"{name}.{suffix}"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=d)
        os.close(fd)
        if suffix == "parquet":
            df.write_parquet(tmp)
        else:
            df.write_csv(tmp)
        replace_file(tmp, target)
        files.append(str(target.relative_to(out)))
    return files


def select_population(seq: SequenceData, population: str) -> SequenceData:
    """Keep the children to analyse.

    ``active``: at least one period in a state other than not-compulsory,
    abroad or missing; ``oza``: ever in an OZA; ``all``: everybody.
    """
    if population == "all":
        return seq
    codes = seq.alphabet.codes
    if population == "active":
        passive = [codes.index(c) for c in ("notcomp", "abroad") if c in codes]
        active = (seq.codes < len(codes)) & ~np.isin(seq.codes, passive)
        return seq.subset(np.nonzero(active.any(axis=1))[0])
    if population == "oza":
        if "oza" not in codes:
            raise ValueError("population 'oza' needs an alphabet with state 'oza'")
        return seq.subset(np.nonzero((seq.codes == codes.index("oza")).any(axis=1))[0])
    raise ValueError(f"unknown population {population!r}; choose {', '.join(POPULATIONS)}")


def align(seq: SequenceData, how: str, register: Register, *, start: str | None = None,
          end: str | None = None, window: tuple[int, int] = (-24, 24),
          ages: tuple[int, int] = (48, 215)) -> SequenceData:
    """``calendar``, ``age`` or ``event:<name>`` (see :func:`event_dates`)."""
    if how == "calendar":
        return align_calendar(seq, start, end)
    if how == "age":
        return align_age(seq, ages)
    validate_alignment(how)
    if how.startswith("event:"):
        return align_event(seq, event_dates(register, how.split(":", 1)[1]), window)
    raise ValueError(f"unknown alignment {how!r}; use calendar, age or event:oza")


def _cluster(seq: SequenceData, ks: Sequence[int], method: str, sm: str, pam_max: int,
             seed: int, messages: list[str], progress: ProgressFn | None
             ) -> tuple[np.ndarray, int, pl.DataFrame]:
    """Cluster labels (1-based strings), chosen k and the quality table."""
    from ozamonitor.sequences.describe import to_seqdef

    sd = to_seqdef(seq)
    with_missing = bool(sd.has_missing)
    kw: dict[str, Any] = {"method": method, "with_missing": with_missing}
    if method in ("OM", "OMspell", "HAM", "DHD"):
        kw["sm"] = sm
    if method in ("OM", "OMspell"):
        kw["indel"] = "auto"
    n_distinct = len(np.unique(np.ascontiguousarray(sd.codes).view(
        np.dtype((np.void, sd.codes.dtype.itemsize * sd.codes.shape[1])))))
    ks, dropped = feasible_ks(ks, min(n_distinct, seq.n))
    if not ks:
        raise NoClusteringError(f"only {n_distinct} distinct sequences: cannot form "
                                f"{min(dropped)} or more clusters")
    if dropped:
        messages.append(f"k = {', '.join(map(str, dropped))} left out: only {n_distinct} "
                        f"distinct sequences (k must be smaller)")
    if seq.n <= pam_max:
        from ozamonitor.sequences.cluster import pam_range
        from ozamonitor.sequences.distances import seqdist

        if progress:
            progress("distances", 0, 1)
        d = seqdist(sd, **kw)
        if progress:
            progress("distances", 1, 1)
        ks = [k for k in ks if 2 <= k <= seq.n - 1]
        cr = pam_range(d, ks)
        quality = cr.to_polars()
        k = ks[0] if len(ks) == 1 else cr.best_k("ASW")
        labels = cr.labels_for(k)
        messages.append(f"PAM on {seq.n} sequences; k = {k}"
                        + (" (largest ASW)" if len(ks) > 1 else ""))
    else:
        from ozamonitor.sequences.clara import clara

        def prog(stage: str, done: int, total: int) -> None:
            if progress:
                progress(f"clara {stage}", done, total)

        cr2 = clara(sd, ks, dist_kwargs=kw, R=20, seed=seed, quality_sample=1000,
                    progress=prog)
        quality = cr2.to_polars()
        if len(ks) == 1:
            k = ks[0]
        else:
            ams = np.array([cr2.results[kk].ams for kk in cr2.ks])
            k = cr2.ks[int(np.nanargmax(ams))]
        labels = cr2.labels_for(k)
        messages.append(f"CLARA on {seq.n} sequences (R=20); k = {k}"
                        + (" (largest average medoid silhouette)" if len(ks) > 1 else ""))
    # number clusters 1..k by decreasing size
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
    return (rank[labels] + 1).astype(str).astype(object), k, quality


def run_trajectory_analysis(
    register: Register | str | Path,
    out: str | Path,
    *,
    period: str = "month",
    alignment: str = "calendar",
    start: str = "2014-08",
    end: str = "2026-07",
    window: tuple[int, int] = (-24, 24),
    ages: tuple[int, int] = (48, 215),
    population: str = "active",
    sample: int | None = None,
    seed: int = 1,
    ks: Sequence[int] = (2, 3, 4, 5, 6, 7, 8),
    method: str = "OM",
    sm: str = "TRATE",
    pam_max: int = 3000,
    config: TrajectoryConfig = DEFAULT_CONFIG,
    rule: str = "majority",
    figure_formats: Sequence[str] = ("png", "svg"),
    lang: str = "nl",
    cluster: bool = True,
    min_observed: float = 0.0,
    progress: ProgressFn | None = None,
) -> TrajectoryResults:
    """Run the whole trajectory analysis and write its outputs to ``out``.

    ``min_observed`` keeps only sequences observed (not missing) in at least that
    share of the aligned periods: with age or event alignment, children seen
    over only part of the window otherwise cluster by their missing positions
    (``1.0`` = complete sequences only).

    Alignment, population and ``ks`` are checked before anything is written.
    Everything is written to a temporary folder beside ``out`` that replaces
    ``out`` (and whatever it held) only when the analysis succeeded; on an error
    nothing is left behind.
    """
    validate_alignment(alignment)
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}; choose {', '.join(POPULATIONS)}")
    ks = list(ks)
    if cluster and (not ks or min(ks) < 2):
        raise ValueError(f"numbers of clusters must be at least 2; got {ks}")
    final = Path(out)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        res = _run(register, work, period=period, alignment=alignment, start=start, end=end,
                   window=window, ages=ages, population=population, sample=sample,
                   seed=seed, ks=ks, method=method, sm=sm, pam_max=pam_max, config=config,
                   rule=rule, figure_formats=figure_formats, lang=lang, cluster=cluster,
                   min_observed=min_observed, progress=progress)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(work, 0o777 & ~umask)  # mkdtemp makes it owner-only
        old = None
        if final.exists():
            old = final.parent / f".{final.name}.old-{work.name.rsplit('-', 1)[-1]}"
            os.replace(final, old)
        os.replace(work, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    res.out = final
    return res


def _run(
    register: Register | str | Path,
    out: str | Path,
    *,
    period: str,
    alignment: str,
    start: str,
    end: str,
    window: tuple[int, int],
    ages: tuple[int, int],
    population: str,
    sample: int | None,
    seed: int,
    ks: Sequence[int],
    method: str,
    sm: str,
    pam_max: int,
    config: TrajectoryConfig,
    rule: str,
    figure_formats: Sequence[str],
    lang: str,
    cluster: bool,
    min_observed: float,
    progress: ProgressFn | None,
) -> TrajectoryResults:
    """The body of :func:`run_trajectory_analysis` (its defaults and docs), writing
    into the temporary folder ``out``."""
    from ozamonitor.sequences import describe as desc
    from ozamonitor.sequences import plots
    from ozamonitor.sequences.background import (
        ConstantCovariateError,
        SeparationError,
        crosstab,
        mnlogit,
    )

    reg = Register.open(register)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    messages: list[str] = []
    files: list[str] = []
    ids = None
    if sample is not None:
        allp = reg.scan("persons").select("person_id").collect()["person_id"]
        if sample < allp.len():
            ids = allp.sample(n=sample, seed=seed, shuffle=False).to_list()

    def on_chunk(done: int, total: int) -> None:
        if progress:
            progress("build", done, total)

    seq_all = build_trajectories(reg, period=period, start=start, end=end, config=config,
                                 rule=rule, person_ids=ids, on_chunk=on_chunk)
    seq_all = select_population(seq_all, population)
    if seq_all.n == 0:
        raise ValueError(f"no children in population {population!r}")
    seq_all.write_parquet(out / "sequences.parquet")
    files.append("sequences.parquet")
    seq = align(seq_all, alignment, reg, window=window, ages=ages)
    seq = handle_missing(seq, right="DEL")
    keep = seq.lengths > 0
    if not keep.all():
        messages.append(f"{int((~keep).sum())} sequences without any observed period dropped")
        seq = seq.subset(np.nonzero(keep)[0])
    if min_observed > 0:
        observed = seq.valid.sum(axis=1) / seq.length
        keep = observed >= min_observed - 1e-12
        if not keep.all():
            messages.append(f"{int((~keep).sum())} sequences observed in less than "
                            f"{min_observed:.0%} of the periods dropped")
            seq = seq.subset(np.nonzero(keep)[0])
    if seq.n == 0:
        raise ValueError(f"no sequences left after alignment {alignment!r}")
    seq.meta["align"] = alignment
    seq.write_parquet(out / "analysis_sequences.parquet")
    files.append("analysis_sequences.parquet")
    if seq.n * seq.length <= 20_000_000:  # input of `ozamonitor seqdist --input`
        seq.write_csv(out / "analysis_sequences.csv")
        files.append("analysis_sequences.csv")

    clusters = None
    k = None
    tables: dict[str, pl.DataFrame] = {}
    if cluster and seq.n >= 3:
        try:
            clusters, k, quality = _cluster(seq, ks, method, sm, pam_max, seed, messages,
                                            progress)
            tables["cluster_quality"] = quality
            cl = pl.DataFrame({"person_id": seq.ids.tolist(), "cluster": clusters.tolist()},
                              schema={"person_id": pl.String, "cluster": pl.String})
            tmp = out / ".clusters.parquet.tmp"
            cl.write_parquet(tmp)
            os.replace(tmp, out / "clusters.parquet")
            files.append("clusters.parquet")
        except NoClusteringError as e:
            messages.append(f"no clustering: {e}")
            clusters = None
    elif cluster:
        messages.append(f"no clustering: only {seq.n} sequences")

    groups: list[tuple[str, Any]] = [("all", None)]
    if clusters is not None:
        groups.append(("cluster", clusters))
    for suffix, g in groups:
        tables[f"state_distribution_{suffix}"] = desc.state_distribution(seq, g)
        tables[f"entropy_{suffix}"] = desc.transversal_entropy(seq, g)
        tables[f"mean_time_{suffix}"] = desc.mean_time(seq, g)
        # sequence frequencies and spell min/max show individual records: the full
        # tables are MICRODATA; the plain names hold what passes disclosure control
        # (sequences shared by at least DEFAULT_THRESHOLD children; no min/max; the
        # mean and median of fewer than DEFAULT_THRESHOLD spells are left empty)
        freq = desc.sequence_frequencies(seq, 10, g)
        tables[f"sequence_frequencies_{suffix}_MICRODATA"] = freq
        tables[f"sequence_frequencies_{suffix}"] = freq.filter(
            pl.col("n") >= DEFAULT_THRESHOLD)
        tables[f"transition_rates_{suffix}"] = desc.transition_rates(seq, g)
        spells = desc.spell_durations(seq, g)
        tables[f"spell_durations_{suffix}_MICRODATA"] = spells
        few = pl.col("n_spells") < DEFAULT_THRESHOLD
        tables[f"spell_durations_{suffix}"] = spells.drop("min", "max", strict=False).with_columns(
            pl.when(few).then(None).otherwise(pl.col(c)).alias(c) for c in ("mean", "median"))
        tables[f"indicators_{suffix}"] = desc.indicator_summary(desc.sequence_indicators(seq, g))
    if clusters is not None:
        bg = (reg.scan("persons").select("person_id", *BACKGROUND).collect()
              .with_columns(pl.col("child_protection").cast(pl.String).str.to_lowercase()))
        bgs = (pl.DataFrame({"person_id": seq.ids.tolist()}, schema={"person_id": pl.String})
               .join(bg, on="person_id", how="left", maintain_order="left"))
        tables["cluster_sizes"] = (pl.DataFrame({"cluster": clusters.tolist()})
                                   .group_by("cluster").len("n").sort("cluster"))
        tables["crosstab_background"] = crosstab(clusters, bgs, list(BACKGROUND))
        covs = [c for c in BACKGROUND if c != "income_decile"
                and bgs[c].drop_nulls().n_unique() > 1]
        # drop a covariate that separates the clusters perfectly and try again
        while covs:
            try:
                res = mnlogit(clusters, bgs, covs,
                              reference={c: r for c, r in REFERENCES.items() if c in covs},
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
    for name, df in tables.items():
        files += _write_table(df, out, name)

    figdir = out / "figures"
    figs: dict[str, Callable[[], Any]] = {
        "chronogram": lambda: plots.plot_distribution(seq, lang=lang),
        "entropy": lambda: plots.plot_entropy(seq, lang=lang),
        "mean_time": lambda: plots.plot_mean_time(seq, lang=lang),
        "frequencies_MICRODATA": lambda: plots.plot_frequencies(seq, lang=lang),
        "index_MICRODATA": lambda: plots.plot_index(seq, lang=lang),
    }
    if clusters is not None:
        figs.update({
            "chronogram_by_cluster": lambda: plots.plot_distribution(seq, clusters, lang=lang),
            "entropy_by_cluster": lambda: plots.plot_entropy(seq, clusters, lang=lang,
                                                              group_label="cluster"),
            "mean_time_by_cluster": lambda: plots.plot_mean_time(seq, clusters, lang=lang),
            "frequencies_by_cluster_MICRODATA": lambda: plots.plot_frequencies(
                seq, clusters, lang=lang),
            "index_by_cluster_MICRODATA": lambda: plots.plot_index(seq, clusters, lang=lang),
        })
    for i, (name, make) in enumerate(figs.items()):
        if progress:
            progress("figures", i, len(figs))
        for p in plots.save_figure(make(), figdir / name, figure_formats):
            files.append(str(p.relative_to(out)))

    params = {
        "register": str(reg.path), "extraction_date": reg.extraction_date.isoformat(),
        "period": period, "alignment": alignment, "start": start, "end": end,
        "window": list(window), "ages": list(ages), "population": population,
        "sample": sample, "seed": seed, "ks": list(ks), "method": method, "sm": sm,
        "rule": rule, "min_observed": min_observed, "n_built": seq_all.n, "n_analysed": seq.n,
        "alphabet": seq.alphabet.codes,
        "missing_share": float((seq.codes == MISSING).sum() / max(seq.lengths.sum(), 1)),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    meta = {"params": params, "k": k, "tables": sorted(tables), "files": files,
            "messages": messages}
    _atomic_write_text(out / "results.json", json.dumps(meta, indent=2) + "\n")
    return TrajectoryResults(out, params, seq, clusters, k, tables, files, messages)
