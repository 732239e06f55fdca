"""Prototypes of arrangements: cluster the questionnaire answers, describe, link to outcomes.

Seed 000 sorts arrangements into prototypes from the four-level
questionnaire and asks which outcomes each prototype reaches. The chain here:

1. :func:`prototype_features` takes one row per arrangement (its latest wave
   with every chosen part submitted, or one given wave) and the questions
   whose ``measure`` is not ``none``: single choices as nominal (ordinal for
   ordered scales, in choice order), multiple choices as 0/1 dummies,
   numbers as numeric. Weights make every question count once (a multiple
   choice's dummies share its weight) and, by default, every part equally.
2. :func:`find_prototypes` computes the Gower distance
   (:func:`ozamonitor.causal.subgroups.gower_distance`, daisy's rules), runs
   PAM (:func:`ozamonitor.sequences.cluster.pam`, BUILD start, deterministic)
   for each k and picks the k with the largest average silhouette width
   (:func:`ozamonitor.sequences.quality.silhouette`).
3. :func:`describe_prototypes` says per prototype and part what sets it apart
   (the answers most over-represented compared with all arrangements).
4. :func:`prototype_outcomes` links prototypes to the register: per prototype
   the arrangements' declared target groups, the participants, durations in
   the arrangement and reasons for ending (``arrangements`` and
   ``oza_participation``).

:meth:`PrototypeResult.mapping` (arrangement_id -> prototype) is what an
``impact --by prototype`` split plugs in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.survey.frame import SurveyFrame, Variable, to_frame
from ozamonitor.survey.instrument import Instrument
from ozamonitor.survey.submissions import Submission

__all__ = [
    "PrototypeResult",
    "arrangement_prototypes",
    "describe_prototypes",
    "find_prototypes",
    "plot_prototypes",
    "prototype_features",
    "prototype_outcomes",
]


@dataclass
class Features:
    """The clustering input: one row per arrangement and how to weigh each column."""

    data: pl.DataFrame  # arrangement_id, wave, then the feature columns
    kinds: dict[str, str]
    weights: dict[str, float]
    ordinal_levels: dict[str, list[str]]
    variables: dict[str, Variable]

    @property
    def columns(self) -> list[str]:
        """The feature columns."""
        return [c for c in self.data.columns if c not in ("arrangement_id", "wave")]


def _latest_complete(wide: pl.DataFrame, parts: Sequence[str], wave: int | None) -> pl.DataFrame:
    done = pl.all_horizontal([pl.col(f"{p}_status") == "submitted" for p in parts])
    rows = wide.filter(done.fill_null(False))
    if wave is not None:
        return rows.filter(pl.col("wave") == wave)
    return rows.sort("wave").group_by("arrangement_id", maintain_order=True).last()


def prototype_features(frame: SurveyFrame, *, wave: int | None = None,
                       parts: Sequence[str] | None = None,
                       balance_parts: bool = True) -> Features:
    """The answers prototypes are clustered on (see the module docstring).

    Parameters
    ----------
    frame : SurveyFrame
        From :func:`ozamonitor.survey.frame.to_frame`.
    wave : int, optional
        Use this wave; default: each arrangement's latest wave in which all
        chosen parts are submitted.
    parts : sequence of str, optional
        The parts to use (default: all four).
    balance_parts : bool, default True
        Give every part the same total weight (else every question).
    """
    inst = frame.instrument
    parts = list(parts or inst.part_names)
    unknown = set(parts) - set(inst.part_names)
    if unknown:
        raise ConfigurationError(f"unknown part(s) {sorted(unknown)}; use "
                                 f"{', '.join(inst.part_names)}")
    rows = _latest_complete(frame.wide, parts, wave).sort("arrangement_id")
    kinds: dict[str, str] = {}
    weights: dict[str, float] = {}
    levels: dict[str, list[str]] = {}
    variables: dict[str, Variable] = {}
    part_total: dict[str, float] = dict.fromkeys(parts, 0.0)
    for v in frame.variables_of("wide"):
        if v.question is None or v.part not in parts:
            continue
        q = inst.question(v.question)
        if q.measure == "none" or v.kind not in ("single", "dummy", "integer", "decimal"):
            continue
        col = rows.get_column(v.name)
        if col.null_count() == rows.height or col.drop_nulls().n_unique() < 2:
            continue  # no information: all missing or constant
        w = 1.0 / len(q.choices) if v.kind == "dummy" else 1.0
        if v.kind == "single":
            kinds[v.name] = "ordinal" if q.measure == "ordinal" else "nominal"
            if q.measure == "ordinal":
                levels[v.name] = list(q.choice_names)
        else:
            kinds[v.name] = "nominal" if v.kind == "dummy" else "numeric"
        weights[v.name] = w
        variables[v.name] = v
        part_total[v.part] += w
    if not kinds:
        raise InputError("no answers to cluster on: every usable question is empty or constant")
    if balance_parts:
        for name, v in variables.items():
            weights[name] /= part_total[v.part] or 1.0
    data = rows.select("arrangement_id", "wave", *kinds)
    return Features(data, kinds, weights, levels, variables)


@dataclass
class PrototypeResult:
    """Prototypes found by :func:`find_prototypes`.

    Attributes
    ----------
    k : int
        The number of prototypes (the best silhouette, unless given).
    arrangement_ids : list of str
        The clustered arrangements, in row order.
    labels : numpy.ndarray
        Prototype 1..k of each arrangement (numbered by size, largest first).
    medoids : list of str
        The arrangement at the centre of each prototype (prototype 1 first).
    silhouette : dict
        Average silhouette width per k tried.
    widths : numpy.ndarray
        Each arrangement's silhouette width at the chosen k.
    distance : numpy.ndarray
        The Gower distance matrix.
    features : Features
        What was clustered.
    """

    k: int
    arrangement_ids: list[str]
    labels: np.ndarray
    medoids: list[str]
    silhouette: dict[int, float]
    widths: np.ndarray
    distance: np.ndarray
    features: Features

    def assignments(self) -> pl.DataFrame:
        """``arrangement_id, wave, prototype`` (the wave whose answers were used)."""
        return pl.DataFrame({
            "arrangement_id": self.arrangement_ids,
            "wave": self.features.data["wave"],
            "prototype": self.labels.astype(np.int32),
        })

    def mapping(self) -> dict[str, int]:
        """arrangement_id -> prototype (for ``impact --by prototype``)."""
        return dict(zip(self.arrangement_ids, (int(x) for x in self.labels), strict=True))

    def sizes(self) -> dict[int, int]:
        """Arrangements per prototype."""
        return {p: int((self.labels == p).sum()) for p in range(1, self.k + 1)}


def _relabel_by_size(labels: np.ndarray, medoids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number clusters 1..k by decreasing size (ties: by medoid row)."""
    k = len(medoids)
    sizes = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], medoids[c]))
    new = np.empty(k, dtype=np.int64)
    new[order] = np.arange(1, k + 1)
    return new[labels], medoids[order]


def find_prototypes(data: SurveyFrame | Iterable[Submission], instrument: Instrument | None = None,
                    *, wave: int | None = None, parts: Sequence[str] | None = None,
                    ks: Iterable[int] = range(2, 11), k: int | None = None,
                    balance_parts: bool = True) -> PrototypeResult:
    """Cluster arrangements on their answers: Gower distance, PAM, k by silhouette.

    Parameters
    ----------
    data : SurveyFrame or iterable of Submission
        The answers (submissions are laid out with :func:`to_frame`).
    instrument : Instrument, optional
        For submissions: the target instrument (default: newest shipped).
    wave, parts, balance_parts
        See :func:`prototype_features`.
    ks : iterable of int, default 2..10
        The numbers of prototypes to try (capped at arrangements - 1).
    k : int, optional
        Use this k instead of the best silhouette (all ``ks`` are still scored).

    Returns
    -------
    PrototypeResult

    Examples
    --------
    >>> from ozamonitor.survey.synth import synthetic_answers
    >>> subs = synthetic_answers([f"A{i:02d}" for i in range(30)], seed=1)
    >>> res = find_prototypes(subs, ks=range(2, 6))
    >>> sorted(res.silhouette) == [2, 3, 4, 5] and res.k in res.silhouette
    True
    """
    from ozamonitor.causal.subgroups import gower_distance
    from ozamonitor.sequences.cluster import pam
    from ozamonitor.sequences.quality import silhouette

    frame = data if isinstance(data, SurveyFrame) else to_frame(data, instrument)
    feats = prototype_features(frame, wave=wave, parts=parts, balance_parts=balance_parts)
    n = feats.data.height
    if n < 3:
        raise InputError(f"{n} arrangement(s) with complete answers; prototypes need at least 3")
    try:
        d = gower_distance(feats.data, feats.columns, kinds=feats.kinds,  # type: ignore[arg-type]
                           weights=feats.weights, ordinal_levels=feats.ordinal_levels)
    except ValueError as e:  # e.g. two arrangements without a question in common
        raise InputError(f"cannot compare the arrangements' answers: {e}") from None
    klist = sorted({int(x) for x in ks if 2 <= int(x) <= n - 1})
    if k is not None and not 2 <= k <= n - 1:
        raise ConfigurationError(f"k must be between 2 and {n - 1}, got {k}")
    if k is not None and k not in klist:
        klist = sorted({*klist, k})
    if not klist:
        raise ConfigurationError(f"no k to try between 2 and {n - 1}")
    fits = {kk: pam(d, kk) for kk in klist}
    asw = {kk: float(np.mean(silhouette(d, fits[kk].labels))) for kk in klist}
    best = k if k is not None else max(klist, key=lambda kk: (asw[kk], -kk))
    labels, meds = _relabel_by_size(fits[best].labels, fits[best].medoids)
    ids = feats.data["arrangement_id"].to_list()
    return PrototypeResult(
        k=best,
        arrangement_ids=ids,
        labels=labels,
        medoids=[ids[int(m)] for m in meds],
        silhouette=asw,
        widths=silhouette(d, labels),
        distance=d,
        features=feats,
    )


def arrangement_prototypes(data: SurveyFrame | Iterable[Submission], **kwargs: Any
                           ) -> dict[str, int]:
    """arrangement_id -> prototype: the grouping an ``impact --by prototype`` needs.

    Keyword arguments go to :func:`find_prototypes`.
    """
    return find_prototypes(data, **kwargs).mapping()


def describe_prototypes(result: PrototypeResult, *, lang: str = "nl", top: int = 3,
                        min_lift: float = 0.15) -> pl.DataFrame:
    """What sets each prototype apart, per part.

    For every prototype and part, the answers most over-represented compared
    with all clustered arrangements: a choice (share in the prototype vs all),
    or a number (median in the prototype vs all). Only differences of at least
    ``min_lift`` (shares) or 25% of the overall interquartile range (numbers)
    are kept, the ``top`` largest per part.

    Returns
    -------
    polars.DataFrame
        ``prototype, part, variable, label, prototype_value, overall_value, score``.
    """
    f = result.features
    data = f.data.with_columns(prototype=pl.Series(result.labels))
    rows: list[dict[str, Any]] = []
    for name, v in f.variables.items():
        col = data.get_column(name)
        kind = f.kinds[name]
        if kind == "numeric":
            vals = col.cast(pl.Float64)
            overall = vals.median()
            iqr = (vals.quantile(0.75) or 0.0) - (vals.quantile(0.25) or 0.0)
            scale = iqr if iqr and iqr > 0 else (vals.std() or 1.0)
            for p in range(1, result.k + 1):
                sub = vals.filter(data["prototype"] == p).drop_nulls()
                if sub.len() == 0 or overall is None:
                    continue
                med = sub.median()
                score = abs(med - overall) / scale  # type: ignore[operator]
                if score >= 0.25:
                    rows.append(dict(prototype=p, part=v.part, variable=name,
                                     label=v.label(lang), prototype_value=float(med),
                                     overall_value=float(overall), score=float(score)))
            continue
        if v.kind == "dummy":
            options = [(1, v.label(lang))]
        else:
            q = result.features.variables[name]
            options = [(code, f"{q.label(lang)}: {lab.get(lang, code)}")
                       for code, lab in q.value_labels.items()]
        for value, label in options:
            hit = (col == value).fill_null(False)
            answered = col.is_not_null()
            overall = hit.sum() / max(answered.sum(), 1)
            for p in range(1, result.k + 1):
                inp = data["prototype"] == p
                share = (hit & inp).sum() / max((answered & inp).sum(), 1)
                if share - overall >= min_lift:
                    rows.append(dict(prototype=p, part=v.part, variable=name, label=label,
                                     prototype_value=float(share), overall_value=float(overall),
                                     score=float(share - overall)))
    schema = {"prototype": pl.Int32, "part": pl.String, "variable": pl.String,
              "label": pl.String, "prototype_value": pl.Float64, "overall_value": pl.Float64,
              "score": pl.Float64}
    if not rows:
        return pl.DataFrame(schema=schema)
    out = pl.DataFrame(rows, schema=schema)
    return (out.sort(["prototype", "part", "score"], descending=[False, False, True])
            .group_by(["prototype", "part"], maintain_order=True).head(top))


def plot_prototypes(result: PrototypeResult, *, lang: str = "nl") -> Any:
    """Silhouette per k (the choice of k) and per arrangement at the chosen k.

    Returns a matplotlib figure (two panels).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    nl = lang == "nl"
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ks = sorted(result.silhouette)
    a1.plot(ks, [result.silhouette[k] for k in ks], marker="o", color="#154273")
    a1.axvline(result.k, color="#CC6677", linestyle="--")
    a1.set_xlabel("k")
    a1.set_ylabel("gemiddelde silhouetbreedte" if nl else "average silhouette width")
    a1.set_title("Keuze van k" if nl else "Choice of k")
    order = np.lexsort((-result.widths, result.labels))
    colors = plt.get_cmap("tab10")((result.labels[order] - 1) % 10)
    a2.barh(np.arange(len(order)), result.widths[order], color=colors, height=1.0)
    a2.invert_yaxis()
    a2.set_yticks([])
    a2.axvline(0, color="black", linewidth=0.6)
    a2.set_xlabel("silhouetbreedte" if nl else "silhouette width")
    a2.set_title(f"{result.k} prototypen" if nl else f"{result.k} prototypes")
    fig.tight_layout()
    return fig


def _codes(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [x for x in v.split(";") if x]
    return [str(x) for x in v]


def prototype_outcomes(result: PrototypeResult | dict[str, int], register: Any) -> pl.DataFrame:
    """Per prototype: declared target groups, participants, durations and end reasons.

    Parameters
    ----------
    result : PrototypeResult or dict
        The prototypes (or a mapping arrangement_id -> prototype).
    register : Register or path
        The register whose ``arrangements`` and ``oza_participation`` tables
        hold the same arrangement codes.

    Returns
    -------
    polars.DataFrame
        One row per prototype: ``prototype``, ``arrangements`` (in the
        register), ``target_<group>`` (share of its arrangements declaring
        that target group), ``participants`` (persons), ``participations``,
        ``median_days`` (all participations, running ones censored at the
        extraction date), ``ended``, and ``end_<reason>`` counts. Counts of
        persons must pass disclosure control before publication.
    """
    from ozamonitor.causal.outcomes import arrangement_durations
    from ozamonitor.register.schema import OZA_END_REASONS, OZA_TARGET_GROUPS
    from ozamonitor.register.store import Register

    mapping = result.mapping() if isinstance(result, PrototypeResult) else dict(result)
    reg = Register.open(register)
    protos = pl.DataFrame({"arrangement_id": list(mapping),
                           "prototype": [int(x) for x in mapping.values()]},
                          schema={"arrangement_id": pl.String, "prototype": pl.Int32})
    arr = reg.read("arrangements", ["arrangement_id", "target_groups"]).join(
        protos, on="arrangement_id", how="inner")
    if arr.is_empty():
        raise InputError("none of the prototypes' arrangements is in the register",
                         file=str(reg.path), field="arrangement_id")
    tg = arr.with_columns(pl.col("target_groups").map_elements(_codes,
                                                               return_dtype=pl.List(pl.String)))
    base = tg.group_by("prototype").agg(arrangements=pl.len())
    for g in OZA_TARGET_GROUPS:
        share = tg.group_by("prototype").agg(
            pl.col("target_groups").list.contains(g).mean().alias(f"target_{g}"))
        base = base.join(share, on="prototype", how="left")
    dur = arrangement_durations(reg).join(protos, on="arrangement_id", how="inner")
    part = dur.group_by("prototype").agg(
        participants=pl.col("person_id").n_unique(),
        participations=pl.len(),
        median_days=pl.col("duration_days").median(),
        ended=(~pl.col("censored")).sum(),
    )
    reasons = (dur.filter(pl.col("end_reason").is_not_null())
               .group_by("prototype", "end_reason").agg(n=pl.len())
               .pivot(on="end_reason", index="prototype", values="n"))
    reasons = reasons.rename({r: f"end_{r}" for r in reasons.columns if r != "prototype"})
    out = base.join(part, on="prototype", how="left").join(reasons, on="prototype", how="left")
    for r in OZA_END_REASONS:
        if f"end_{r}" not in out.columns:
            out = out.with_columns(pl.lit(0, pl.UInt32).alias(f"end_{r}"))
    counts = ["participants", "participations", "ended", *[f"end_{r}" for r in OZA_END_REASONS]]
    out = out.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
    cols = ["prototype", "arrangements", *[f"target_{g}" for g in OZA_TARGET_GROUPS],
            "participants", "participations", "median_days", "ended",
            *[f"end_{r}" for r in OZA_END_REASONS]]
    return out.select(cols).sort("prototype")
