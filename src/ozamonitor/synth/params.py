"""All rates and parameters of the synthetic register in one dataclass.

A later calibration tunes :class:`SynthParams` (``dataclasses.replace`` or
:meth:`SynthParams.from_dict`) without touching the generator's code. Counts
are given at scale 1 (the whole Netherlands); the generator multiplies them by
``scale``. Rates are *monthly* probabilities unless a name says otherwise.
Year-indexed dictionaries map a calendar year (or school-year start year) to a
value; years not listed take the value of the nearest listed year before them
(or the first listed year).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ozamonitor.errors import ConfigurationError


def year_value(table: dict[int, float], year: int) -> float:
    """Value of a year-indexed parameter (step function, carried forward)."""
    keys = sorted(table)
    val = table[keys[0]]
    for k in keys:
        if k <= year:
            val = table[k]
    return float(val)


def _births() -> dict[int, float]:
    # CBS live births (rounded), the cohorts that are of school age in 2014-2026.
    return {1996: 189_000, 1997: 192_000, 1998: 199_000, 1999: 200_000, 2000: 206_000,
            2001: 202_000, 2002: 202_000, 2003: 200_000, 2004: 194_000, 2005: 188_000,
            2006: 185_000, 2007: 181_000, 2008: 185_000, 2009: 184_000, 2010: 184_000,
            2011: 180_000, 2012: 176_000, 2013: 171_000, 2014: 175_000, 2015: 171_000,
            2016: 173_000, 2017: 169_000, 2018: 169_000, 2019: 170_000, 2020: 169_000,
            2021: 179_000, 2022: 168_000}


def _newcomers() -> dict[int, float]:
    # Newcomer children (0-17) arriving per calendar year; waves 2015-16 and 2022.
    return {2013: 11_000, 2014: 14_000, 2015: 26_000, 2016: 24_000, 2017: 14_000,
            2018: 13_000, 2019: 14_000, 2020: 9_000, 2021: 13_000, 2022: 42_000,
            2023: 24_000, 2024: 20_000, 2025: 18_000, 2026: 16_000}


class SynthParamsError(ConfigurationError, TypeError):
    """A parameter file names a parameter that does not exist."""


#: parameters renamed since an earlier version (old name -> new), still accepted
_RENAMED = {"ground_truth_y0_replicates": "ground_truth_replicates"}


@dataclass
class SynthParams:
    """Parameters of the synthetic population, careers, absence, care and OZA."""

    # ---------------- regional structure (always full size) ----------------
    n_gemeenten: int = 342
    n_swv_po: int = 77
    n_swv_vo: int = 75
    n_youth_regions: int = 42
    total_population: float = 17_900_000
    gemeente_size_sigma: float = 0.85
    #: shares of a gemeente in an SWV below this are merged into its main SWV
    min_swv_share: float = 0.12
    #: school locations at scale 1 per kind (po, sbo, so1..so4, vo, vso1..vso4, mbo)
    schools_scale1: dict[str, int] = field(default_factory=lambda: {
        "po": 6000, "sbo": 210, "so1": 6, "so2": 40, "so3": 90, "so4": 130, "vo": 650,
        "vso1": 5, "vso2": 25, "vso3": 90, "vso4": 150, "mbo": 300})
    schools_min: dict[str, int] = field(default_factory=lambda: {
        "po": 77, "sbo": 12, "so1": 1, "so2": 3, "so3": 5, "so4": 6, "vo": 75,
        "vso1": 1, "vso2": 2, "vso3": 5, "vso4": 6, "mbo": 8})

    # ---------------- population ----------------
    births_by_year: dict[int, float] = field(default_factory=_births)
    newcomers_by_year: dict[int, float] = field(default_factory=_newcomers)
    newcomer_europe_share: dict[int, float] = field(
        default_factory=lambda: {2013: 0.3, 2015: 0.15, 2017: 0.3, 2022: 0.8, 2023: 0.45})
    male_share: float = 0.512
    emigration_rate: float = 0.0002
    newcomer_emigration_rate: float = 0.003
    mortality_rate: float = 0.000012
    move_rate: float = 0.0035
    #: share of moves of an enrolled pupil that leave a gap (not enrolled) before a new school
    move_gap_share: float = 0.004
    migration_outside_europe: float = 0.14
    migration_europe: float = 0.08
    single_parent_base: float = 0.15
    other_household: float = 0.03
    institution_household: float = 0.004
    child_protection_base: float = 0.013
    unknown_parent_education: float = 0.03
    missing_income: float = 0.015
    #: latent risk: weights of (-ses, single parent, institution, child protection, male, noise sd)
    risk_weights: tuple[float, ...] = (0.45, 0.5, 1.2, 0.9, 0.15, 0.85)

    # ---------------- careers ----------------
    #: vo tracks pro, vmbo, havo, vwo shares
    vo_track_shares: tuple[float, float, float, float] = (0.03, 0.50, 0.25, 0.22)
    repeat_year_prob: float = 0.15
    vmbo_to_mbo: float = 0.998
    mbo_start_qualification: float = 0.85
    #: probability of each special-education class (sbo, so1, so2, so3, so4, late vso3, vso4)
    special_class_prob: tuple[float, ...] = (0.08, 0.0005, 0.0058, 0.0075, 0.025,
                                              0.0008, 0.0014)
    #: acceptance of a referral to special education by calendar year of referral
    sbo_trend: dict[int, float] = field(default_factory=lambda: {
        2000: 1.0, 2011: 0.97, 2012: 0.94, 2013: 0.91, 2014: 0.88, 2015: 0.86, 2016: 0.86,
        2017: 0.87, 2018: 0.88, 2020: 0.89, 2022: 0.90})
    so_trend: dict[int, float] = field(default_factory=lambda: {
        2000: 1.0, 2012: 0.97, 2013: 0.95, 2014: 0.92, 2015: 0.88, 2016: 0.88, 2017: 0.9,
        2018: 0.92, 2020: 0.94, 2022: 0.96})
    sbo_to_vso: float = 0.04
    so34_to_vso: float = 0.8
    so2_to_vso: float = 0.45
    special_return_rate: float = 0.0015
    tlv_shares: tuple[float, float, float] = (0.81, 0.07, 0.12)

    # ---------------- absence (monthly, per compulsory-age pupil) ----------------
    lrv_incidence: float = 0.00018
    #: age factor for LRV/removal incidence by age in years 4..20
    lrv_age_factor: tuple[float, ...] = (0.2, 0.4, 0.5, 0.5, 0.6, 0.6, 0.7, 0.8, 1.2, 1.6, 2.0,
                                         2.3, 2.2, 1.6, 1.2, 1.0, 1.0)
    lrv_trend: dict[int, float] = field(default_factory=lambda: {
        2000: 0.98, 2015: 0.98, 2016: 0.99, 2017: 1.0, 2018: 1.02, 2019: 1.08, 2020: 0.98,
        2021: 1.5, 2022: 1.85, 2023: 1.9, 2024: 1.95, 2025: 2.0})
    #: LRV onset multiplier within 24 months after an earlier LRV spell (recurrence)
    lrv_recurrence_multiplier: float = 12.0
    lrv_exit_short: float = 0.40
    lrv_exit_long: float = 0.24
    #: multiplier of the long-spell exit hazard by year (lower: longer spells)
    lrv_exit_trend: dict[int, float] = field(default_factory=lambda: {
        2000: 1.0, 2019: 0.95, 2020: 0.85, 2021: 0.75, 2022: 0.72, 2023: 0.72})
    lrv_to_new_school: float = 0.25
    lrv_new_school_special: float = 0.45
    lrv_to_removed: float = 0.015
    lrv_to_5a: float = 0.02
    lrv_to_care: float = 0.006
    ill_incidence: float = 0.00005
    ill_exit: float = 0.22
    ill_to_5a: float = 0.03
    removed_rate: float = 0.000012
    dropout_rate: float = 0.00004
    enr_to_5a: float = 0.00001
    care24_rate: float = 0.000005
    #: relative absence reports (> 16 hours in 4 weeks) per enrolled compulsory-age pupil-month
    rv16_rate: float = 0.0022
    #: exit hazards from absolute absence by reason
    av_exit_newcomer: dict[int, float] = field(default_factory=lambda: {
        2000: 0.55, 2015: 0.45, 2016: 0.5, 2022: 0.55, 2023: 0.5})
    newcomer_wait_share: dict[int, float] = field(default_factory=lambda: {
        2000: 0.12, 2015: 0.16, 2017: 0.12, 2022: 0.25, 2023: 0.14})
    av_exit_moved: float = 0.65
    av_exit_removed_short: float = 0.35
    av_exit_removed_long: float = 0.12
    av_exit_trend: dict[int, float] = field(default_factory=lambda: {
        2000: 1.0, 2020: 0.9, 2021: 0.85, 2022: 0.8, 2023: 0.8})
    av_exit_dropout: float = 0.25
    av_exit_waiting: float = 0.22
    av_exit_lapsed: float = 0.08
    av_to_5a: float = 0.008
    av_waiting_share: float = 0.2
    #: exemptions: stock at school entry (5b, 15) and exit hazards
    ex5a_at_entry: float = 0.0004
    ex5b_at_entry: float = 0.0011
    ex15_at_entry: float = 0.0035
    ex5a_exit: float = 0.018
    ex5a_lapse_share: float = 0.25
    ex5b_exit: float = 0.004
    ex15_exit: float = 0.006
    partial_exemption_rate: float = 0.00004
    care24_exit: float = 0.08

    # ---------------- attendance ----------------
    #: scheduled hours per full month by sector (po, sbo, so, vo, vso, mbo)
    monthly_hours: tuple[int, ...] = (82, 82, 80, 90, 88, 72)
    #: fraction of a full month scheduled per calendar month (Jan..Dec)
    month_factor: tuple[float, ...] = (0.95, 0.8, 1.0, 0.8, 0.75, 0.95, 0.45, 0.2, 1.0,
                                       0.8, 1.0, 0.7)
    excused_mean: float = 0.045
    unexcused_mean: float = 0.006
    #: first school year (start year) with full attendance detail
    attendance_first_year: int = 2014

    # ---------------- care (per person-year) ----------------
    jeugdwet_ambulant: float = 0.085
    day_treatment: float = 0.006
    foster_care: float = 0.002
    foster_care_protected: float = 0.3
    residential_with_school: float = 0.002
    wlz_nursing_cluster3: float = 0.25
    zvw_nursing: float = 0.003
    wmo_support: float = 0.003
    care_absence_multiplier: float = 3.0
    care_waiting_share: float = 0.3

    # ---------------- OZA experiment ----------------
    oza_n_initiatives: int = 62
    oza_n_arrangements: int = 76
    oza_participants_scale1: int = 2500
    oza_min_participants: int = 300
    #: at most this share of the eligible pool is taken in one month
    oza_max_pool_share: float = 0.4
    oza_end_rate: float = 0.06
    #: selection weights (observables only) by target group
    oza_group_weight: dict[str, float] = field(default_factory=lambda: {
        "at_risk": 0.3, "long_term_absent": 3.0, "not_enrolled": 2.0, "exempt_5a": 2.0})
    oza_weight_child_protection: float = 1.4
    oza_weight_low_education: float = 1.2
    oza_weight_per_history_month: float = 0.06
    #: ground-truth effects while participating, by target group: multiplier of the monthly
    #: LRV onset hazard (rr) and of the LRV recovery hazard (hr)
    oza_lrv_onset_rr: dict[str, float] = field(default_factory=lambda: {
        "at_risk": 0.45, "long_term_absent": 0.55, "not_enrolled": 0.65, "exempt_5a": 0.8})
    oza_lrv_recovery_hr: dict[str, float] = field(default_factory=lambda: {
        "at_risk": 2.0, "long_term_absent": 1.8, "not_enrolled": 1.5, "exempt_5a": 1.3})
    #: multiplier applied to both effects for pupils of primary age (< 12) at the start
    oza_primary_age_modifier: float = 1.25
    #: risk that a participant in poor state (LRV) at an end drops out
    oza_end_dropout_if_absent: float = 0.45
    ground_truth_max_event_time: int = 36
    #: independent untreated and treated replicates per participant (their own random
    #: numbers from the start month on): their means are E[Y(0)] and E[Y(1)] given the
    #: simulated state at the start, the participant's chances without and with OZA
    ground_truth_replicates: int = 20

    # ---------------- daily absence (absence_days, synth/absence.py) ----------------
    #: first school year (start year) with daily absence rows (2023 = 2023-2024 onwards)
    absence_days_first_year: int = 2023
    #: kind of a block of excused days: shares of illness, authorised, suspension
    absence_excused_kinds: tuple[float, ...] = (0.72, 0.26, 0.02)
    #: chance of one or two late arrivals (0.25 h each) in a pupil-month with unexcused
    #: hours (a quarter of it without)
    absence_late_rate: float = 0.3
    #: share of the school days of an LRV spell on which the child came for part of the day
    absence_lrv_partial_days: float = 0.08
    #: children aged 4-8 who stay home later (a later lrv or ill spell or 5a exemption)
    #: with more than 20% absence that school year
    absence_early_warning_share: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (year keys as strings)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dict):
                v = {str(k): v[k] for k in sorted(v, key=str)}
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SynthParams:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        SynthParamsError
            For a key that is not a parameter (a ``TypeError`` too, as before).
        """
        base = cls()
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in d if _RENAMED.get(k, k) not in names)
        if unknown:
            raise SynthParamsError(f"unknown SynthParams key(s): {', '.join(unknown)}")
        kw: dict[str, Any] = {}
        for k, v in d.items():
            k = _RENAMED.get(k, k)
            cur = getattr(base, k) if hasattr(base, k) else None
            if isinstance(cur, dict) and cur and isinstance(next(iter(cur)), int):
                v = {int(kk): vv for kk, vv in v.items()}
            elif isinstance(cur, tuple):
                v = tuple(v)
            kw[k] = v
        return cls(**kw)
