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
   (cross-tabulation, multinomial logit; :mod:`ozamonitor.trajectories.background`).

Everything lands in ``out``; ``results.json`` lists parameters and files so the
report section (:func:`ozamonitor.report.trajectories.trajectories_section`)
can be built later from the folder alone. Person-level files
(``sequences.parquet``, ``analysis_sequences.parquet``/``.csv``,
``clusters.parquet``, index and frequency plots, the ``*_MICRODATA`` tables of
sequence frequencies and spell durations) are *microdata*: never publish them.
They are written owner-only (0600, :func:`ozamonitor.files.atomic_write` with
``private=True``) in their own owner-only folder ``out/microdata`` (0700), never
beside the publishable tables, figures and ``report.html``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.files import atomic_dir, atomic_write, atomic_write_text
from ozamonitor.register.store import Register
from ozamonitor.sequences.alphabet import Language
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.trajectories._analysis_steps import (
    MICRODATA,
    MICRODATA_DIR,
    background_tables,
    describe_tables,
    write_figures,
    write_table,
)
from ozamonitor.trajectories.align import (
    EVENTS,
    align_age,
    align_calendar,
    align_event,
    event_dates,
    handle_missing,
)
from ozamonitor.trajectories.build import PeriodKind, Rule, build_trajectories
from ozamonitor.trajectories.care import write_care_outputs
from ozamonitor.trajectories.states import DEFAULT_CONFIG, TrajectoryConfig

#: Background characteristics used for cross-tabs and the multinomial logit.
BACKGROUND = ("sex", "parent_education", "migration_background", "household_type",
              "child_protection", "income_decile")
#: Reference categories of the multinomial logit.
REFERENCES = {"sex": "F", "parent_education": "high", "migration_background": "dutch",
              "household_type": "two_parents", "child_protection": "false"}
POPULATIONS = ("active", "all", "oza")
Population = Literal["active", "all", "oza"]
ProgressFn = Callable[[str, int, int], None]
#: Above this many cells (sequences x periods) no ``analysis_sequences.csv`` is written.
CSV_MAX_CELLS = 20_000_000
#: CLARA iterations and the sample its quality indices are computed on.
CLARA_ITERATIONS = 20
CLARA_QUALITY_SAMPLE = 1000
#: Most frequent sequences in the frequency tables.
TOP_SEQUENCES = 10


class NoClusteringError(InputError):
    """None of the requested numbers of clusters can be formed (too few distinct
    sequences); the pipeline then describes the sequences without clusters."""


def validate_alignment(alignment: str) -> None:
    """Check ``alignment``: calendar, age or event:<a known event>.

    Raises
    ------
    ConfigurationError
        Any other alignment.
    """
    if alignment in ("calendar", "age"):
        return
    if alignment.startswith("event:"):
        name = alignment.split(":", 1)[1]
        if name in EVENTS:
            return
        raise ConfigurationError(f"unknown event {name!r} in alignment {alignment!r}; choose "
                                 + ", ".join(f"event:{e}" for e in EVENTS))
    raise ConfigurationError(f"unknown alignment {alignment!r}; use calendar, age or "
                             + ", ".join(f"event:{e}" for e in EVENTS))


def feasible_ks(ks: Sequence[int], n_distinct: int) -> tuple[list[int], list[int]]:
    """Split ``ks`` into the numbers of clusters that can be formed from
    ``n_distinct`` distinct sequences (``2 <= k < n_distinct``) and the others."""
    ks = sorted(set(int(k) for k in ks))
    ok = [k for k in ks if 2 <= k < n_distinct]
    return ok, [k for k in ks if k not in ok]


@dataclass
class TrajectoryResults:
    """What :func:`run_trajectory_analysis` produced (also in ``out/results.json``).

    Attributes
    ----------
    out : Path
        The output folder.
    params : dict
        The parameters and counts of the run.
    sequences : SequenceData
        The analysed (aligned) sequences.
    clusters : ndarray or None
        Cluster label (``"1"`` .. ``"k"``, by decreasing size) of each sequence.
    k : int or None
        The number of clusters.
    tables : dict of str to DataFrame
        The tables, by name.
    files : list of str
        The files written, relative to ``out``.
    messages : list of str
        Notes of the run (dropped sequences, the chosen k, ...).
    """

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
        """Read a results folder written by :func:`run_trajectory_analysis`.

        Raises
        ------
        FileNotFoundError
            ``out`` holds no ``results.json``.
        """
        out = Path(out)
        meta_path = out / "results.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{out}: no results.json (run `ozamonitor trajectories`)")
        meta = json.loads(meta_path.read_text())
        micro = out / MICRODATA_DIR
        seq = SequenceData.read_parquet(micro / "analysis_sequences.parquet")
        clusters = None
        if (micro / "clusters.parquet").is_file():
            cl = pl.read_parquet(micro / "clusters.parquet")
            order = {i: n for n, i in enumerate(seq.id_labels().tolist())}
            clusters = np.empty(seq.n_sequences, dtype=object)
            for pid, c in cl.iter_rows():
                clusters[order[pid]] = c
        tables = {}
        for name in meta.get("tables", []):
            p = out / ("tables" if MICRODATA not in name else f"{MICRODATA_DIR}/tables"
                       ) / f"{name}.parquet"
            if p.is_file():
                tables[name] = pl.read_parquet(p)
        return cls(out, meta["params"], seq, clusters, meta.get("k"), tables,
                   meta.get("files", []), meta.get("messages", []))


def select_population(seq: SequenceData, population: Population) -> SequenceData:
    """Keep the children to analyse.

    ``active``: at least one period in a state other than not-compulsory,
    abroad or missing; ``oza``: ever in an OZA; ``all``: everybody.
    """
    if population == "all":
        return seq
    codes = seq.alphabet.codes
    if population == "active":
        passive = [codes.index(c) for c in ("notcomp", "abroad") if c in codes]
        active = seq.valid & ~np.isin(seq.codes, passive)
        return seq[np.nonzero(active.any(axis=1))[0]]
    if population == "oza":
        if "oza" not in codes:
            raise ConfigurationError("population 'oza' needs an alphabet with state 'oza'")
        return seq[np.nonzero((seq.codes == codes.index("oza")).any(axis=1))[0]]
    raise ConfigurationError(
        f"unknown population {population!r}; choose {', '.join(POPULATIONS)}")


def align(seq: SequenceData, how: str, register: Register, *, start: str | None = None,
          end: str | None = None, window: tuple[int, int] = (-24, 24),
          ages: tuple[int, int] = (48, 215)) -> SequenceData:
    """Align calendar sequences: ``calendar``, ``age`` or ``event:<name>``
    (see :func:`~ozamonitor.trajectories.align.event_dates`)."""
    if how == "calendar":
        return align_calendar(seq, start, end)
    if how == "age":
        return align_age(seq, ages)
    validate_alignment(how)
    return align_event(seq, event_dates(register, how.split(":", 1)[1]), window)


def run_trajectory_analysis(
    register: Register | str | Path,
    out: str | Path,
    *,
    period: PeriodKind = "month",
    alignment: str = "calendar",
    start: str = "2014-08",
    end: str = "2026-07",
    window: tuple[int, int] = (-24, 24),
    ages: tuple[int, int] = (48, 215),
    population: Population = "active",
    sample: int | None = None,
    seed: int = 1,
    ks: Sequence[int] = (2, 3, 4, 5, 6, 7, 8),
    method: str = "OM",
    sm: str = "TRATE",
    pam_max: int = 3000,
    config: TrajectoryConfig = DEFAULT_CONFIG,
    rule: Rule = "majority",
    figure_formats: Sequence[str] = ("png", "svg"),
    lang: Language = "nl",
    cluster: bool = True,
    min_observed: float = 0.0,
    progress: ProgressFn | None = None,
) -> TrajectoryResults:
    """Run the whole trajectory analysis and write its outputs to ``out``.

    Alignment, population and ``ks`` are checked before anything is written.
    Everything is written to a temporary folder beside ``out`` that replaces
    ``out`` (and whatever it held) only when the analysis succeeded
    (:func:`ozamonitor.files.atomic_dir`); on an error nothing is left behind.

    Parameters
    ----------
    register : Register, str or Path
    out : str or Path
        The output folder (replaced as a whole).
    period : {"month", "week", "quarter", "year"}, default "month"
    alignment : str, default "calendar"
        ``calendar``, ``age`` or ``event:<name>`` (``event:oza``, ...).
    start, end : str, default "2014-08", "2026-07"
        The calendar window (first and last month).
    window : tuple of int, default (-24, 24)
        Periods around the event (``event:`` alignments).
    ages : tuple of int, default (48, 215)
        Ages in periods (``age`` alignment).
    population : {"active", "all", "oza"}, default "active"
    sample : int, optional
        Analyse a random sample of this many persons (drawn before ``population``).
    seed : int, default 1
        Seed of the sample and of CLARA.
    ks : sequence of int, default 2..8
        Numbers of clusters; several: k by the average silhouette width.
    method : str, default "OM"
        Distance (:data:`ozamonitor.sequences.distances.METHODS`).
    sm : str, default "TRATE"
        Substitution costs (OM, OMspell, HAM, DHD).
    pam_max : int, default 3000
        PAM on the full distance matrix up to this many sequences, CLARA above.
    config : TrajectoryConfig, default DEFAULT_CONFIG
        Alphabet and precedence rules.
    rule : {"majority", "reference"}, default "majority"
    figure_formats : sequence of str, default ("png", "svg")
    lang : {"nl", "en"}, default "nl"
        Language of the figures.
    cluster : bool, default True
        Cluster the sequences (else only build and describe).
    min_observed : float, default 0.0
        Keep only sequences observed (not missing) in at least this share of the
        aligned periods: with age or event alignment, children seen over only
        part of the window otherwise cluster by their missing positions
        (``1.0`` = complete sequences only).
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    TrajectoryResults
    """
    validate_alignment(alignment)
    if population not in POPULATIONS:
        raise ConfigurationError(
            f"unknown population {population!r}; choose {', '.join(POPULATIONS)}")
    ks = list(ks)
    if cluster and (not ks or min(ks) < 2):
        raise ConfigurationError(f"numbers of clusters must be at least 2; got {ks}")
    final = Path(out)
    opts = _Options(period=period, alignment=alignment, start=start, end=end, window=window,
                    ages=ages, population=population, sample=sample, seed=seed, ks=ks,
                    method=method, sm=sm, pam_max=pam_max, config=config, rule=rule,
                    figure_formats=figure_formats, lang=lang, cluster=cluster,
                    min_observed=min_observed)
    with atomic_dir(final) as work:
        res = _run(Register.open(register), work, opts, progress)
    res.out = final
    return res


@dataclass(frozen=True)
class _Options:
    """The options of :func:`run_trajectory_analysis` (its docstring)."""

    period: PeriodKind
    alignment: str
    start: str
    end: str
    window: tuple[int, int]
    ages: tuple[int, int]
    population: Population
    sample: int | None
    seed: int
    ks: list[int]
    method: str
    sm: str
    pam_max: int
    config: TrajectoryConfig
    rule: Rule
    figure_formats: Sequence[str]
    lang: Language
    cluster: bool
    min_observed: float


def _run(reg: Register, out: Path, o: _Options, progress: ProgressFn | None
         ) -> TrajectoryResults:
    """The body of :func:`run_trajectory_analysis`, writing into the temporary folder ``out``."""
    messages: list[str] = []
    files: list[str] = []
    seq_all, seq = _sequences(reg, out, o, messages, files, progress)
    files += write_care_outputs(reg, seq_all, out, period=o.period, start=o.start, end=o.end,
                                figure_formats=o.figure_formats, lang=o.lang)
    clusters = None
    k = None
    tables: dict[str, pl.DataFrame] = {}
    if o.cluster and seq.n_sequences >= 3:
        try:
            clusters, k, tables["cluster_quality"] = cluster_sequences(
                seq, o.ks, method=o.method, sm=o.sm, pam_max=o.pam_max, seed=o.seed,
                messages=messages, progress=progress, clara_iterations=CLARA_ITERATIONS,
                clara_quality_sample=CLARA_QUALITY_SAMPLE)
            cl = pl.DataFrame({"person_id": seq.id_labels().tolist(),
                               "cluster": clusters.tolist()},
                              schema={"person_id": pl.String, "cluster": pl.String})
            with atomic_write(out / MICRODATA_DIR / "clusters.parquet", private=True) as tmp:
                cl.write_parquet(tmp)
            files.append(f"{MICRODATA_DIR}/clusters.parquet")
        except NoClusteringError as e:
            messages.append(f"no clustering: {e}")
            clusters = None
    elif o.cluster:
        messages.append(f"no clustering: only {seq.n_sequences} sequences")

    tables.update(describe_tables(seq, clusters, TOP_SEQUENCES))
    if clusters is not None:
        tables.update(background_tables(reg, seq, clusters, BACKGROUND, REFERENCES, messages))
    for name, df in tables.items():
        files += write_table(df, out, name)
    files += write_figures(seq, clusters, out, o.figure_formats, o.lang, progress)

    params = {
        "register": str(reg.path), "extraction_date": reg.extraction_date.isoformat(),
        "period": o.period, "alignment": o.alignment, "start": o.start, "end": o.end,
        "window": list(o.window), "ages": list(o.ages), "population": o.population,
        "sample": o.sample, "seed": o.seed, "ks": list(o.ks), "method": o.method, "sm": o.sm,
        "rule": o.rule, "min_observed": o.min_observed, "n_built": seq_all.n_sequences,
        "n_analysed": seq.n_sequences, "alphabet": seq.alphabet.codes,
        "missing_share": float((seq.codes == seq.missing_code).sum()
                               / max(seq.lengths.sum(), 1)),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    meta = {"params": params, "k": k, "tables": sorted(tables), "files": files,
            "messages": messages}
    atomic_write_text(out / "results.json", json.dumps(meta, indent=2) + "\n")
    return TrajectoryResults(out, params, seq, clusters, k, tables, files, messages)


def _sequences(reg: Register, out: Path, o: _Options, messages: list[str], files: list[str],
               progress: ProgressFn | None) -> tuple[SequenceData, SequenceData]:
    """Build, select, write ``sequences.parquet``; align, filter, write the analysed
    sequences. Returns (built sequences, analysed sequences)."""
    ids = None
    if o.sample is not None:
        allp = reg.scan("persons").select("person_id").collect()["person_id"]
        if o.sample < allp.len():
            ids = allp.sample(n=o.sample, seed=o.seed, shuffle=False).to_list()

    def on_chunk(done: int, total: int) -> None:
        if progress:
            progress("build", done, total)

    seq_all = build_trajectories(reg, period=o.period, start=o.start, end=o.end,
                                 config=o.config, rule=o.rule, person_ids=ids,
                                 on_chunk=on_chunk)
    seq_all = select_population(seq_all, o.population)
    if seq_all.n_sequences == 0:
        raise InputError(f"no children in population {o.population!r}")
    micro = out / MICRODATA_DIR
    micro.mkdir(mode=0o700, exist_ok=True)
    seq_all.write_parquet(micro / "sequences.parquet", private=True)
    files.append(f"{MICRODATA_DIR}/sequences.parquet")
    seq = align(seq_all, o.alignment, reg, window=o.window, ages=o.ages)
    seq = handle_missing(seq, right="DEL")
    keep = seq.lengths > 0
    if not keep.all():
        messages.append(f"{int((~keep).sum())} sequences without any observed period dropped")
        seq = seq[np.nonzero(keep)[0]]
    if o.min_observed > 0:
        observed = seq.valid.sum(axis=1) / seq.max_length
        keep = observed >= o.min_observed - 1e-12
        if not keep.all():
            messages.append(f"{int((~keep).sum())} sequences observed in less than "
                            f"{o.min_observed:.0%} of the periods dropped")
            seq = seq[np.nonzero(keep)[0]]
    if seq.n_sequences == 0:
        raise InputError(f"no sequences left after alignment {o.alignment!r}")
    seq.meta["align"] = o.alignment
    seq.write_parquet(micro / "analysis_sequences.parquet", private=True)
    files.append(f"{MICRODATA_DIR}/analysis_sequences.parquet")
    if seq.n_sequences * seq.max_length <= CSV_MAX_CELLS:  # input of `ozamonitor seqdist`
        seq.write_csv(micro / "analysis_sequences.csv", private=True)  # seqio: formula_safe(
        files.append(f"{MICRODATA_DIR}/analysis_sequences.csv")
    return seq_all, seq


def cluster_sequences(
    seq: SequenceData, ks: Sequence[int], *, method: str, sm: str, pam_max: int, seed: int,
    messages: list[str], progress: ProgressFn | None, clara_iterations: int,
    clara_quality_sample: int,
) -> tuple[np.ndarray, int, pl.DataFrame]:
    """Cluster labels (``"1"`` .. ``"k"`` by decreasing size), the chosen k and the
    quality table: PAM on the full distance matrix up to ``pam_max`` sequences,
    CLARA above; several ``ks``: k by the (medoid) average silhouette width.

    Raises
    ------
    NoClusteringError
        Too few distinct sequences for any of ``ks``.
    """
    with_missing = bool(seq.has_missing)
    kw: dict[str, Any] = {"method": method, "with_missing": with_missing}
    if method in ("OM", "OMspell", "HAM", "DHD"):
        kw["sm"] = sm
    if method in ("OM", "OMspell"):
        kw["indel"] = "auto"
    n_distinct = len(seq.unique()[0])
    ks, dropped = feasible_ks(ks, min(n_distinct, seq.n_sequences))
    if not ks:
        raise NoClusteringError(f"only {n_distinct} distinct sequences: cannot form "
                                f"{min(dropped)} or more clusters")
    if dropped:
        messages.append(f"k = {', '.join(map(str, dropped))} left out: only {n_distinct} "
                        f"distinct sequences (k must be smaller)")
    if seq.n_sequences <= pam_max:
        labels, k, quality = _pam(seq, ks, kw, progress)
        messages.append(f"PAM on {seq.n_sequences} sequences; k = {k}"
                        + (" (largest ASW)" if len(ks) > 1 else ""))
    else:
        labels, k, quality = _clara(seq, ks, kw, seed, progress, clara_iterations,
                                    clara_quality_sample)
        messages.append(f"CLARA on {seq.n_sequences} sequences (R={clara_iterations}); k = {k}"
                        + (" (largest average medoid silhouette)" if len(ks) > 1 else ""))
    # number clusters 1..k by decreasing size
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
    return (rank[labels] + 1).astype(str).astype(object), k, quality


def _pam(seq: SequenceData, ks: list[int], kw: dict[str, Any], progress: ProgressFn | None
         ) -> tuple[np.ndarray, int, pl.DataFrame]:
    from ozamonitor.sequences.cluster import pam_range
    from ozamonitor.sequences.distances import seqdist

    if progress:
        progress("distances", 0, 1)
    d = seqdist(seq, **kw)
    if progress:
        progress("distances", 1, 1)
    ks = [k for k in ks if 2 <= k <= seq.n_sequences - 1]
    cr = pam_range(d, ks)
    k = ks[0] if len(ks) == 1 else cr.best_k("ASW")
    return cr.labels_for(k), k, cr.to_polars()


def _clara(seq: SequenceData, ks: list[int], kw: dict[str, Any], seed: int,
           progress: ProgressFn | None, iterations: int, quality_sample: int
           ) -> tuple[np.ndarray, int, pl.DataFrame]:
    from ozamonitor.sequences.clara import clara

    def prog(stage: str, done: int, total: int) -> None:
        if progress:
            progress(f"clara {stage}", done, total)

    cr = clara(seq, ks, dist_kwargs=kw, R=iterations, seed=seed,
               quality_sample=quality_sample, progress=prog)
    if len(ks) == 1:
        k = ks[0]
    else:
        ams = np.array([cr.results[kk].ams for kk in cr.ks])
        k = cr.ks[int(np.nanargmax(ams))]
    return cr.labels_for(k), k, cr.to_polars()
