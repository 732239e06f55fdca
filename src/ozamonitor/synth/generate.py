"""``generate()``: write a complete synthetic register."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ozamonitor.errors import ConfigurationError
from ozamonitor.register.schema import OZA_TARGET_GROUPS
from ozamonitor.register.store import RegisterWriter
from ozamonitor.synth.absence import write_absence_days
from ozamonitor.synth.boundaries import GEOMETRY_FILE, geometry_geojson
from ozamonitor.synth.detail import build_detail
from ozamonitor.synth.evaluate import PARTICIPANT_TRUTH_FILE
from ozamonitor.synth.geography import build_geography
from ozamonitor.synth.oza import build_arrangements
from ozamonitor.synth.params import SynthParams
from ozamonitor.synth.population import Population, build_population, month_index, month_start
from ozamonitor.synth.provinces import province_tables
from ozamonitor.synth.simulate import SimResult, run
from ozamonitor.synth.tables import build_tables

GENERATOR_VERSION = "1"
DEFAULT_EXTRACTION_DATE = dt.date(2026, 7, 31)
#: (stage, done, total) progress callback
ProgressFn = Callable[[str, float, float], None]

OUTCOME_DEFINITION = (
    "in_education(person, month) = 1 when on the last day of the calendar month the person "
    "has an enrolment spell covering that day (start <= day and (end is null or end >= day)) "
    "and no absence report of kind 'lrv' or 'ill' whose spell (absence_start .. absence_end, "
    "null end = open) covers that day; else 0 (also when not enrolled, exempt, abroad or "
    "deceased). Event time e = months since the calendar month of the OZA start (e = 0 is the "
    "start month; participation always starts on the 1st of a month)."
)
SUBGROUP_DEFINITION = {
    "target_group": (
        "state on the day before the OZA start: 'exempt_5a' = an exemption spell with article "
        "5a covers that day; 'not_enrolled' = no enrolment and no exemption covers it; "
        "'long_term_absent' = enrolled and an 'lrv' report spell covers it; 'at_risk' = "
        "enrolled, no lrv spell that day, but an 'lrv' spell in the 24 months before"),
    "age_band": "'primary_age' when younger than 12 on the OZA start date, else "
                "'secondary_age' (age in months since the birth month < 144)",
}


def _ground_truth(res: SimResult, params: SynthParams) -> dict[str, Any]:
    """True effects: model parameters and realised sample ATT by event time and subgroup."""
    y1, y0 = res.y1.astype(np.int16), res.y0.astype(np.int16)
    pt = res.participants
    groups = np.array(OZA_TARGET_GROUPS)[pt["group"]] if len(pt["group"]) else np.array([])
    band = np.where(pt["primary"], "primary_age", "secondary_age")

    def att(mask: np.ndarray) -> dict[str, Any]:
        by_e: dict[str, Any] = {}
        for e in range(y1.shape[1]):
            ok = mask & (y1[:, e] >= 0)
            k = int(ok.sum())
            if k == 0:
                continue
            by_e[str(e)] = {"n": k, "att": round(float((y1[ok, e] - y0[ok, e]).mean()), 6),
                            "mean_y1": round(float(y1[ok, e].mean()), 6),
                            "mean_y0": round(float(y0[ok, e].mean()), 6)}
        win: dict[str, Any] = {}
        for lo, hi in ((0, 5), (6, 11), (12, 23), (0, 23)):
            sl = slice(lo, hi + 1)
            ob = y1[mask, sl] >= 0
            diff = (y1[mask, sl] - y0[mask, sl])[ob]
            win[f"{lo}_{hi}"] = {"n_person_months": int(ob.sum()),
                                 "att": round(float(diff.mean()), 6) if diff.size else None}
        return {"n": int(mask.sum()), "by_event_time": by_e, "windows": win}

    all_mask = np.ones(len(groups), bool)
    subgroups: dict[str, Any] = {}
    for g in OZA_TARGET_GROUPS:
        for b in ("primary_age", "secondary_age"):
            m = (groups == g) & (band == b)
            if m.any():
                subgroups[f"{g}|{b}"] = att(m)
    by_group = {g: att(groups == g) for g in OZA_TARGET_GROUPS if (groups == g).any()}
    by_band = {b: att(band == b) for b in ("primary_age", "secondary_age") if (band == b).any()}
    return {
        "outcome": "in_education",
        "outcome_definition": OUTCOME_DEFINITION,
        "subgroup_definition": SUBGROUP_DEFINITION,
        "estimand": "ATT = mean over participants observed at event time e of "
                    "Y(1) - Y(0); Y(0) simulated with the same random numbers without OZA",
        "model": {
            "lrv_onset_rate_ratio": dict(params.oza_lrv_onset_rr),
            "lrv_recovery_hazard_ratio": dict(params.oza_lrv_recovery_hr),
            "primary_age_modifier": params.oza_primary_age_modifier,
            "note": "while participating: monthly LRV-onset (and removal/dropout) hazard x "
                    "1-(1-rr)*mod, LRV recovery hazard x 1+(hr-1)*mod, mod = "
                    "primary_age_modifier for primary age else 1; at the start every "
                    "participant is enrolled at the arrangement's host school",
            "selection": "weighted sampling on observables only: target group weight x "
                         "child_protection x low parent education x exp(w * months of LRV "
                         "history, capped at 24)",
            "selection_weights": {
                "target_group": dict(params.oza_group_weight),
                "child_protection": params.oza_weight_child_protection,
                "parent_education_low": params.oza_weight_low_education,
                "per_lrv_history_month": params.oza_weight_per_history_month,
            },
        },
        "n_participants": len(groups),
        "overall": att(all_mask),
        "by_target_group": by_group,
        "by_age_band": by_band,
        "by_subgroup": subgroups,
    }


def _participant_truth(res: SimResult, pop: Population) -> pl.DataFrame:
    """Per participant and observed event time: Y(1), Y(0) (long format).

    Columns ``person_id, start, target_group, age_band, e, y1, y0, y0_mean,
    y1_mean``; one row per participant and event time ``e`` whose month is
    recorded (``y1 >= 0``). ``y1`` is the observed world, ``y0`` the untreated copy
    with the participant's own random numbers. ``y0_mean`` and ``y1_mean`` are the
    means over ``ground_truth_replicates`` untreated and treated copies with their
    own random numbers from the start month on: estimates of ``E[Y(d) | full
    simulated state at the start]`` (static attributes such as the latent risk and
    pre-drawn future events included), the participant's chance of being in
    education without and with OZA. ``y1_mean - y0_mean`` is the planted effect on
    that chance; ``y1 - y0`` its realisation.
    Participants take part once, so ``(person_id, start)`` is the participation.
    """
    pt = res.participants
    n = res.y1.shape[0]
    k, e = np.nonzero(res.y1 >= 0)
    pid = pop.person_id.gather(pl.Series(pt["idx"][k].astype(np.int64)))
    groups = np.array(OZA_TARGET_GROUPS)[pt["group"][k]] if n else np.array([], str)
    return pl.DataFrame({
        "person_id": pid,
        "start": pl.Series(month_start(pt["start_m"][k]), dtype=pl.Date),
        "target_group": pl.Series(groups, dtype=pl.String),
        "age_band": pl.Series(np.where(pt["primary"][k], "primary_age", "secondary_age"),
                              dtype=pl.String),
        "e": pl.Series(e, dtype=pl.Int16),
        "y1": pl.Series(res.y1[k, e], dtype=pl.Int8),
        "y0": pl.Series(res.y0[k, e], dtype=pl.Int8),
        "y0_mean": pl.Series(res.y0_mean[k, e], dtype=pl.Float32),
        "y1_mean": pl.Series(res.y1_mean[k, e], dtype=pl.Float32),
    }).sort("person_id", "start", "e")


def _manifest(p: SynthParams, seed: int, scale: float, n_target: int, res: SimResult,
              gt: dict[str, Any], absence_info: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``synth`` section: how the register was made, and its truth."""
    return {
        "generator": "ozamonitor.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "params": p.to_dict(),
        "attendance": {
            "first_school_year": f"{p.attendance_first_year}-{p.attendance_first_year + 1}",
            "rows": res.attendance_rows,
            "note": "one row per pupil, school and calendar month with scheduled hours "
                    "> 0; full detail from the first school year given",
        },
        "absence_days": absence_info,
        "oza": {"min_participants": p.oza_min_participants,
                "target_participants": n_target,
                "participants": len(res.participants["idx"]),
                # how many times the national share of the pools is selected each month
                # (the floor raises it below scale 0.12; above ~2 impact estimates are
                # biased by weak overlap over time, docs/impact.md)
                "selection_intensity": round(
                    n_target / max(p.oza_participants_scale1 * scale, 1e-9), 3)},
        "person_id": "first 20 hex chars of HMAC-SHA256(SHA-256('ozamonitor-synth:<seed>'),"
                     " synthetic 9-digit BSN passing the eleven-test)",
        "ground_truth": gt,
    }


def generate(out: str | Path, *, scale: float = 0.01, seed: int = 1,
             extraction_date: dt.date = DEFAULT_EXTRACTION_DATE,
             params: SynthParams | None = None,
             progress: ProgressFn | None = None) -> Path:
    """Generate a synthetic national register into folder ``out`` (atomically).

    Parameters
    ----------
    out : str or Path
        The register folder (replaced as a whole if it exists).
    scale : float, default 0.01
        Fraction of the Dutch population simulated, in (0, 2]; regions are always
        full size.
    seed : int, default 1
        Fixes every random number: the same seed, scale, extraction date and params
        give byte-identical files.
    extraction_date : datetime.date, default 2026-07-31
        The register's extraction date (not before 2015-08-01).
    params : SynthParams, optional
        Rates and settings (default ``SynthParams()``).
    progress : callable, optional
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    Path
        ``out``. The manifest's ``synth`` section records the seed, scale,
        parameters and the planted truth (:mod:`ozamonitor.synth.evaluate`).

    Raises
    ------
    ConfigurationError
        A scale or extraction date out of range.
    """
    if not 0 < scale <= 2:
        raise ConfigurationError(f"scale must be in (0, 2], got {scale}")
    if extraction_date < dt.date(2015, 8, 1):
        raise ConfigurationError(f"extraction_date {extraction_date} is before 2015-08-01")
    p = params or SynthParams()
    out = Path(out)
    ss = np.random.SeedSequence(seed)
    r_geo, r_pop, r_arr, r_sim, r_tab = (np.random.Generator(np.random.PCG64(s))
                                         for s in ss.spawn(5))

    def report(stage: str, done: float, total: float) -> None:
        if progress is not None:
            progress(stage, done, total)

    report("regions", 0, 1)
    last_month = int(month_index(np.array([np.datetime64(extraction_date)]))[0])
    geo = build_geography(p, scale, r_geo)
    report("regions", 1, 1)
    report("persons", 0, 1)
    pop = build_population(p, scale, seed, geo, last_month, r_pop)
    arr = build_arrangements(p, geo, r_arr)
    report("persons", 1, 1)
    n_target = max(p.oza_min_participants, round(p.oza_participants_scale1 * scale))

    with RegisterWriter(out, extraction_date=extraction_date) as w:
        writer = w.open_stream("attendance")
        schema = writer.schema
        pid_arr = pop.person_id.to_arrow().cast(schema.field("person_id").type)
        sch_arr = pa.array(geo.school_ids, type=schema.field("school_id").type)
        # parquet encoding runs in a worker thread (pyarrow releases the GIL), overlapping
        # the simulation of the next months; writes stay in month order
        pool = ThreadPoolExecutor(max_workers=1)
        pending: deque[Future[None]] = deque()
        try:
            def sink(m: int, rows: dict[str, np.ndarray]) -> None:
                if len(rows["idx"]) == 0:
                    return
                ms = month_start(m)
                tbl = pa.Table.from_arrays([
                    pid_arr.take(pa.array(rows["idx"])),
                    sch_arr.take(pa.array(rows["school"])),
                    pa.array(np.full(len(rows["idx"]), ms), type=pa.date32()),
                    pa.array(rows["scheduled"], type=pa.int32()),
                    pa.array(rows["present"], type=pa.int32()),
                    pa.array(rows["excused"], type=pa.int32()),
                    pa.array(rows["unexcused"], type=pa.int32()),
                ], schema=schema)
                while len(pending) >= 2:
                    pending.popleft().result()
                pending.append(pool.submit(writer.write_table, tbl))

            res = run(pop, geo, arr, p, last_month, r_sim, n_participants_target=n_target,
                      attendance=sink, progress=report,
                      extraction_date=np.datetime64(extraction_date))
            while pending:
                pending.popleft().result()
        finally:
            pool.shutdown(wait=True)
            writer.close()
        report("tables", 0, 1)
        tables = build_tables(res, pop, geo, arr, p, extraction_date, r_tab)
        # streams spawned after the simulation's: absence days first, then the schema 1.2
        # tables (so the earlier tables keep their bytes)
        r_abs, r_detail = (np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(2))
        tables.update(build_detail(tables, geo.schools, extraction_date, r_detail))
        # provinces: from the gemeenten's map positions (no draws of the register's streams)
        prov, prov_gr = province_tables(geo.regions, seed)
        all_regions = pl.concat([geo.regions, prov])
        all_gr = pl.concat([geo.gemeente_regions, prov_gr]).sort("gemeente_code", "kind",
                                                                  "region_id")
        w.write("regions", all_regions)
        w.write("gemeente_regions", all_gr)
        w.write("schools", geo.schools)
        for name, df in tables.items():
            w.write(name, df)
        report("tables", 1, 1)
        # daily absence from the tables above, with its own stream (spawned after the
        # others, so every other table is unchanged)
        absence_info = write_absence_days(
            w, tables, geo.schools, p, extraction_date,
            r_abs, progress=report)
        # map boundaries of the regions (their own stream, from the seed alone)
        w.side_file(GEOMETRY_FILE).write_text(
            geometry_geojson(all_regions, all_gr, seed), encoding="utf-8")
        gt = _ground_truth(res, p)
        # per-participant potential outcomes: a side file next to the tables, committed
        # atomically with them
        ptruth = _participant_truth(res, pop)
        ptruth.write_parquet(w.side_file(PARTICIPANT_TRUTH_FILE), compression="zstd",
                             statistics=False)
        gt["participants_file"] = {
            "file": PARTICIPANT_TRUTH_FILE, "rows": ptruth.height,
            "columns": "person_id, start, target_group, age_band, e, y1, y0, y0_mean, "
                       "y1_mean (one row per participant and recorded event time; "
                       "y1_mean - y0_mean = the planted effect on the participant's chance "
                       "of being in education given its simulated state at the start; "
                       "y1 - y0 = its realisation)"}
        w.manifest_extra["synth"] = _manifest(p, seed, scale, n_target, res, gt,
                                              absence_info)
    return out
