"""Synthetic persons: birth cohorts, newcomers, background and latent risk.

Every person gets a synthetic BSN that passes the eleven-test and a pseudonym
``person_id`` made exactly as :mod:`ozamonitor.register.pseudonym` does it:
the first 20 hex characters of ``HMAC-SHA256(key, bsn)``, with the key
``SHA-256("ozamonitor-synth:<seed>")``. Persons are held in birth-date order (ties by
``person_id``) so that the children of school age in any month form one slice.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from ozamonitor.register.calendar import SCHOOL_ENTRY_MONTHS
from ozamonitor.synth.geography import Geography
from ozamonitor.synth.params import SynthParams, year_value

#: Month index 0 is August 2013; simulation months are counted from here.
EPOCH = np.datetime64("2013-08", "M")
FIRST_BIRTH = np.datetime64("1996-08-01", "D")
LAST_BIRTH = np.datetime64("2022-07-31", "D")
NEVER = 1_000_000  # month index sentinel for "never"
BEFORE = -1_000_000  # month index sentinel for "always" (natives: arrival)

# special-education classes
CLS_NONE, CLS_SBO, CLS_SO1, CLS_SO2, CLS_SO3, CLS_SO4, CLS_VSO3, CLS_VSO4 = range(8)


def month_index(d: np.ndarray) -> np.ndarray:
    """Month index (0 = Aug 2013) of datetime64[D] values."""
    return (d.astype("datetime64[M]") - EPOCH).astype(np.int32)


def month_start(m: np.ndarray | int) -> np.ndarray:
    """First day (datetime64[D]) of month index ``m``."""
    return (EPOCH + np.asarray(m).astype("timedelta64[M]")).astype("datetime64[D]")


def days_in_month(m: np.ndarray | int) -> np.ndarray:
    """Number of days in month index ``m``."""
    return (month_start(np.asarray(m) + 1) - month_start(m)).astype(np.int32)


@dataclass
class Population:
    """Static per-person attributes (arrays of equal length, sorted by person_id)."""

    person_id: pl.Series  # String
    birth: np.ndarray  # datetime64[D]
    bm: np.ndarray  # birth month index
    bday: np.ndarray  # day of month of birth
    male: np.ndarray
    arrival: np.ndarray  # datetime64[D], NaT for natives
    arr_m: np.ndarray
    arr_day: np.ndarray
    emig_m: np.ndarray
    emig_day: np.ndarray
    death_m: np.ndarray
    death_day: np.ndarray
    ses: np.ndarray
    parent_edu: np.ndarray  # 0 low 1 middle 2 high 3 unknown
    income: np.ndarray  # 1..10, 0 = missing
    migration: np.ndarray  # 0 dutch 1 europe 2 outside_europe
    household: np.ndarray  # 0 two_parents 1 single 2 other 3 institution
    child_protection: np.ndarray
    risk: np.ndarray  # multiplier, mean 1
    cls: np.ndarray
    cls_entry: np.ndarray  # age in months of referral to special education
    vo_track: np.ndarray  # 0 pro 1 vmbo 2 havo 3 vwo
    vo_years: np.ndarray
    mbo_years: np.ndarray
    home_ex: np.ndarray  # 0 none, 1 = 5a, 2 = 5b, 3 = 15 (exempt from the start of leerplicht)
    gem0: np.ndarray  # gemeente at birth / arrival
    excused: np.ndarray  # baseline excused absence rate
    unexcused: np.ndarray  # baseline unexcused absence rate

    def __len__(self) -> int:
        return len(self.bm)

    def take(self, order: np.ndarray) -> Population:
        """Reorder / subset all arrays."""
        return Population(**{f.name: getattr(self, f.name)[order] for f in fields(self)})

    def slice(self, lo: int, hi: int) -> Population:
        """Views of rows ``lo:hi``."""
        return Population(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})


def _bsns(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 9-digit BSNs passing the eleven-test (as int64)."""
    m = int(n * 1.15) + 100
    start = int(rng.integers(10_000_000, 90_000_000))
    stride = 7_654_321  # odd, not a multiple of 5: coprime with 10**8 -> distinct
    eight = (start + np.arange(m, dtype=np.int64) * stride) % 100_000_000
    digits = np.stack([(eight // 10 ** (7 - i)) % 10 for i in range(8)])
    s = (digits * np.arange(9, 1, -1)[:, None]).sum(axis=0)
    d9 = s % 11
    ok = (d9 < 10) & (eight > 0)
    bsn = eight[ok] * 10 + d9[ok]
    if len(bsn) < n:  # pragma: no cover - 1.15 margin is ample
        raise RuntimeError("not enough BSNs")
    return bsn[:n]


def pseudonyms(bsn: np.ndarray, seed: int) -> pl.Series:
    """person_id = first 20 hex chars of HMAC-SHA256(SHA-256('ozamonitor-synth:<seed>'), bsn)."""
    key = hashlib.sha256(f"ozamonitor-synth:{seed}".encode()).digest()
    base = hmac.new(key, digestmod=hashlib.sha256)
    out = []
    for b in bsn.tolist():
        h = base.copy()
        h.update(f"{b:09d}".encode())
        out.append(h.hexdigest()[:20])
    return pl.Series("person_id", out, dtype=pl.String)


def _uniform_dates(rng: np.random.Generator, lo: np.datetime64, hi: np.datetime64,
                   n: int) -> np.ndarray:
    span = int((hi - lo).astype(int)) + 1
    return lo + rng.integers(0, span, n).astype("timedelta64[D]")


def build_population(params: SynthParams, scale: float, seed: int, geo: Geography,
                     last_month: int, rng: np.random.Generator) -> Population:
    """Draw all persons (natives and newcomers) with background characteristics."""
    # Long on purpose: one pass of draws from one random stream in a fixed order (the
    # register's bytes depend on it); the steps are commented in that order.
    p = params
    births: list[np.ndarray] = []
    for y, cnt in sorted(p.births_by_year.items()):
        lo = max(np.datetime64(f"{y}-01-01"), FIRST_BIRTH)
        hi = min(np.datetime64(f"{y}-12-31"), LAST_BIRTH)
        if hi < lo:
            continue
        frac = (int((hi - lo).astype(int)) + 1) / 365.25
        k = int(rng.poisson(cnt * scale * frac))
        births.append(np.sort(_uniform_dates(rng, lo, hi, k)))
    nat_birth = np.concatenate(births)
    n_nat = len(nat_birth)
    arrivals: list[np.ndarray] = []
    nbirths: list[np.ndarray] = []
    europe: list[np.ndarray] = []
    last_day = month_start(last_month + 1) - np.timedelta64(1, "D")
    for y, cnt in sorted(p.newcomers_by_year.items()):
        lo = np.datetime64(f"{y}-01-01")
        hi = min(np.datetime64(f"{y}-12-31"), last_day, np.datetime64("2026-07-31"))
        if hi < lo:
            continue
        frac = (int((hi - lo).astype(int)) + 1) / 365.25
        k = int(rng.poisson(cnt * scale * frac))
        arr = _uniform_dates(rng, lo, hi, k)
        age_days = rng.integers(0, int(17.9 * 365.25), k).astype("timedelta64[D]")
        b = arr - age_days
        keep = (b >= FIRST_BIRTH) & (b <= LAST_BIRTH)
        arrivals.append(arr[keep])
        nbirths.append(b[keep])
        europe.append(rng.random(int(keep.sum())) < year_value(p.newcomer_europe_share, y))
    arrival = np.concatenate([np.full(n_nat, np.datetime64("NaT"), dtype="datetime64[D]"),
                              *arrivals])
    birth = np.concatenate([nat_birth, *nbirths])
    newcomer = ~np.isnat(arrival)
    n = len(birth)
    eu = np.concatenate([np.zeros(n_nat, bool), *europe])

    bm = month_index(birth)
    bday = (birth - month_start(bm)).astype(np.int32) + 1
    male = rng.random(n) < p.male_share
    arr_m = np.where(newcomer, month_index(np.where(newcomer, arrival, birth)), BEFORE)
    arr_day = np.where(newcomer, (arrival - month_start(np.where(newcomer, arr_m, 0))
                                  ).astype(np.int64) + 1, 1).astype(np.int32)
    # emigration and death months (static so that potential outcomes share them)
    start_m = np.where(newcomer, arr_m, bm)
    emig_rate = np.where(newcomer, p.newcomer_emigration_rate, p.emigration_rate)
    emig_m = start_m + rng.geometric(emig_rate).astype(np.int64)
    emig_m = np.where(emig_m > last_month, NEVER, emig_m).astype(np.int32)
    death_m = bm + rng.geometric(p.mortality_rate, n).astype(np.int64)
    death_m = np.where(death_m > last_month, NEVER, death_m).astype(np.int32)
    emig_day = rng.integers(1, 29, n).astype(np.int32)
    death_day = rng.integers(1, 29, n).astype(np.int32)

    # background: latent socio-economic status z
    ses = rng.standard_normal(n).astype(np.float32)
    ses = np.where(newcomer, ses - 0.6, ses).astype(np.float32)
    e = ses + 0.6 * rng.standard_normal(n)
    parent_edu = np.where(e < -0.95, 0, np.where(e < 0.35, 1, 2)).astype(np.int8)
    unknown = rng.random(n) < np.where(newcomer, 0.6, p.unknown_parent_education)
    parent_edu = np.where(unknown, 3, parent_edu).astype(np.int8)
    inc_lat = 0.75 * ses + 0.66 * rng.standard_normal(n)
    ranks = np.argsort(np.argsort(inc_lat, kind="stable"), kind="stable")
    income = (ranks * 10 // max(n, 1) + 1).astype(np.int8)
    income = np.where((rng.random(n) < np.where(newcomer, 0.3, p.missing_income)), 0,
                      income).astype(np.int8)
    mig_u = rng.random(n)
    p_out = np.clip(p.migration_outside_europe * np.exp(-0.5 * ses) / 1.13, 0, 0.9)
    migration = np.where(mig_u < p_out, 2, np.where(mig_u < p_out + p.migration_europe, 1, 0))
    migration = np.where(newcomer, np.where(eu, 1, 2), migration).astype(np.int8)
    hh_u = rng.random(n)
    p_single = np.clip(p.single_parent_base * np.exp(-0.45 * ses) / 1.1, 0, 0.8)
    household = np.where(hh_u < p.institution_household, 3,
                         np.where(hh_u < p.institution_household + p.other_household, 2,
                                  np.where(hh_u < p.institution_household + p.other_household
                                           + p_single, 1, 0))).astype(np.int8)
    cp_lat = -0.5 * ses + 0.9 * (household == 1) + 2.5 * (household >= 2)
    p_cp = p.child_protection_base * np.exp(cp_lat) / np.mean(np.exp(cp_lat))
    child_protection = rng.random(n) < np.clip(p_cp, 0, 0.9)

    w = p.risk_weights
    r = (w[0] * -ses + w[1] * (household == 1) + w[2] * (household >= 2)
         + w[3] * child_protection + w[4] * male + w[5] * rng.standard_normal(n))
    risk = np.exp(r)
    risk = (risk / risk.mean()).astype(np.float32)

    # special education classes (referral at cls_entry months of age)
    mult_m = np.where(male, 1.3, 0.7)
    cu = rng.random(n)
    probs = np.array(p.special_class_prob)
    cls = np.zeros(n, np.uint8)
    acc = np.zeros(n)
    rmult = np.sqrt(risk)
    for c in range(len(probs)):
        pc = probs[c] * (mult_m if c in (0, 4, 6) else 1.0) * (rmult if c in (0, 4, 6) else 1.0)
        pc = np.where(newcomer, pc * 0.5, pc)
        hit = (cls == 0) & (cu >= acc) & (cu < acc + pc)
        cls[hit] = c + 1
        acc = acc + pc
    cls_entry = np.zeros(n, np.int16)
    eu2 = rng.random(n)
    early = rng.random(n)
    entry = np.select(
        [cls == CLS_SBO, (cls == CLS_SO1) | (cls == CLS_SO2), cls == CLS_SO3, cls == CLS_SO4,
         cls >= CLS_VSO3],
        [72 + eu2 * 68,
         np.where(early < 0.6, SCHOOL_ENTRY_MONTHS, SCHOOL_ENTRY_MONTHS + eu2 * 82),
         np.where(early < 0.5, SCHOOL_ENTRY_MONTHS, SCHOOL_ENTRY_MONTHS + eu2 * 92),
         54 + eu2 * 86, 146 + eu2 * 54], 0)
    cls_entry[:] = entry.astype(np.int16)

    t = 0.9 * ses + 0.8 * rng.standard_normal(n)
    qs = np.cumsum(p.vo_track_shares)[:-1]
    cuts = np.quantile(t, qs) if n else qs
    vo_track = np.searchsorted(cuts, t).astype(np.uint8)
    vo_track = np.where(cls == CLS_SBO, np.minimum(vo_track, 1), vo_track).astype(np.uint8)
    vo_years = np.array([6, 4, 5, 6], np.uint8)[vo_track]
    vo_years = (vo_years + (rng.random(n) < p.repeat_year_prob)).astype(np.uint8)
    mbo_years = rng.choice(np.array([2, 3, 4], np.uint8), n, p=[0.3, 0.25, 0.45])
    hu = rng.random(n)
    c5b = p.ex5a_at_entry + p.ex5b_at_entry
    home_ex = np.select([hu < p.ex5a_at_entry, hu < c5b, hu < c5b + p.ex15_at_entry],
                        [1, 2, 3], 0).astype(np.uint8)
    gem0 = geo.draw_gemeente(rng.random(n))
    excused = np.clip(rng.gamma(3.0, p.excused_mean / 3.0, n) * np.sqrt(risk), 0,
                      0.5).astype(np.float32)
    unexcused = np.clip(rng.gamma(0.6, p.unexcused_mean / 0.6, n) * risk, 0,
                        0.4).astype(np.float32)

    pid = pseudonyms(_bsns(rng, n), seed)
    pop = Population(
        person_id=pid, birth=birth, bm=bm.astype(np.int32), bday=bday.astype(np.int32),
        male=male, arrival=arrival, arr_m=arr_m.astype(np.int32), arr_day=arr_day,
        emig_m=emig_m, emig_day=emig_day, death_m=death_m, death_day=death_day, ses=ses,
        parent_edu=parent_edu, income=income, migration=migration, household=household,
        child_protection=child_protection, risk=risk, cls=cls, cls_entry=cls_entry,
        vo_track=vo_track, vo_years=vo_years, mbo_years=mbo_years, home_ex=home_ex,
        gem0=gem0, excused=excused, unexcused=unexcused,
    )
    # keep persons present at some time from August 2014 (month 12) on; order by birth date
    # (then person_id) so that the persons of school age in a month are one slice
    keep = (emig_m >= 12) & (death_m >= 12)
    order = (pl.DataFrame({"b": birth, "p": pid}).with_row_index("i").sort("b", "p")
             ["i"].to_numpy())
    return pop.take(order[keep[order]])
