"""State of the monthly microsimulation: codes, per-person arrays, one month's output.

Every person has a monthly state (``uint8``, the ``S_*`` codes): not in scope,
enrolled, long-term relative absence (LRV, enrolled), long illness at home
(enrolled), absolute absence (not enrolled), exempt, 24-hour care without
education, or done (start qualification / left school). :class:`Dyn` holds
the arrays that change month by month, :class:`Context` the fixed inputs and
:class:`StepOut` what one month's step (:func:`ozamonitor.synth.transitions.step`)
did. The other codes index the register schema's code lists (1-based), so the
table builders (:mod:`ozamonitor.synth.tables`) can decode them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ozamonitor.register.schema import ENROLMENT_END_REASONS, OZA_END_REASONS, OZA_TARGET_GROUPS
from ozamonitor.synth.geography import Geography
from ozamonitor.synth.oza import Arrangements
from ozamonitor.synth.params import SynthParams

S_NONE, S_ENR, S_LRV, S_ILL, S_AV, S_EX, S_CARE, S_DONE = range(8)
STATE_NAMES = ("none", "enrolled", "lrv", "ill", "absolute_absence", "exempt", "care24",
               "done")
ENROLLED = (S_ENR, S_LRV, S_ILL)
# sectors (1-based index into schema.SECTORS)
SEC_PO, SEC_SBO, SEC_SO, SEC_VO, SEC_VSO, SEC_MBO = range(1, 7)
# absolute-absence reasons
AVR_NEWCOMER, AVR_MOVED, AVR_REMOVED, AVR_DROPOUT, AVR_WAIT_SO, AVR_WAIT_VSO, AVR_LAPSED, \
    AVR_OTHER = range(1, 9)
# exemption articles
EX_5A, EX_5B, EX_15 = 1, 2, 3
# target groups (index into schema.OZA_TARGET_GROUPS)
G_AT_RISK, G_LTA, G_NOT_ENROLLED, G_EX5A = (
    OZA_TARGET_GROUPS.index(g)
    for g in ("at_risk", "long_term_absent", "not_enrolled", "exempt_5a"))
#: 21 years: the simulation follows persons up to this age (school ends by then).
MAX_AGE_MONTHS = 252


def _reason(code: str) -> int:
    return ENROLMENT_END_REASONS.index(code) + 1


R_TRANSFER, R_MOVED, R_REMOVED, R_DIPLOMA, R_SQ, R_EMIGRATED, R_EXEMPTION, R_DROPOUT, \
    R_CARE, R_DECEASED, R_OTHER = (_reason(c) for c in ENROLMENT_END_REASONS)


def _oza_reason(code: str) -> int:
    return OZA_END_REASONS.index(code) + 1


O_REGULAR, O_SPECIAL, O_OTHER_ARR, O_CARE, O_QUAL, O_DAY, O_MOVED, O_DROPOUT, O_OTHER = (
    _oza_reason(c) for c in OZA_END_REASONS)

N_UNIFORMS = 8



@dataclass
class Dyn:
    """Dynamic per-person state arrays."""

    state: np.ndarray
    dur: np.ndarray
    sec: np.ndarray
    kind: np.ndarray
    school: np.ndarray
    gem: np.ndarray
    swvp: np.ndarray
    swvv: np.ndarray
    sec_start: np.ndarray
    exart: np.ndarray
    avr: np.ndarray
    tlv: np.ndarray
    cls: np.ndarray
    sqf: np.ndarray
    lrv_hist: np.ndarray
    last_lrv: np.ndarray
    day_in: np.ndarray
    oza: np.ndarray
    oza_start: np.ndarray
    oza_grp: np.ndarray
    oza_primary: np.ndarray
    pending: np.ndarray
    part: np.ndarray

    @classmethod
    def empty(cls, n: int, pop_cls: np.ndarray) -> Dyn:
        z8 = np.zeros(n, np.uint8)
        return cls(
            state=z8.copy(), dur=np.zeros(n, np.int16), sec=z8.copy(),
            kind=np.full(n, -1, np.int8), school=np.full(n, -1, np.int32),
            gem=np.full(n, -1, np.int16), swvp=np.zeros(n, np.int16),
            swvv=np.zeros(n, np.int16), sec_start=np.zeros(n, np.int32), exart=z8.copy(),
            avr=z8.copy(), tlv=z8.copy(), cls=pop_cls.astype(np.uint8).copy(),
            sqf=np.zeros(n, bool), lrv_hist=np.zeros(n, np.int16),
            last_lrv=np.full(n, -10_000, np.int32), day_in=np.ones(n, np.uint8),
            oza=np.full(n, -1, np.int16), oza_start=np.zeros(n, np.int32),
            oza_grp=z8.copy(), oza_primary=np.zeros(n, bool),
            pending=np.full(n, -1, np.int16), part=np.zeros(n, bool))

    def take(self, idx: np.ndarray) -> Dyn:
        return Dyn(**{f.name: getattr(self, f.name)[idx].copy() for f in fields(self)})

    def slice(self, lo: int, hi: int) -> Dyn:
        """Views of rows ``lo:hi`` (the step writes through them)."""
        return Dyn(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})


@dataclass
class StepOut:
    """What one month's step did (per person of the stepped arrays)."""

    ev: np.ndarray
    ev_day: np.ndarray
    ev_reason: np.ndarray
    oza_end: np.ndarray  # OZA end reason code (0 = none)
    oza_end_day: np.ndarray


@dataclass
class Context:
    """Fixed inputs of the step function."""

    params: SynthParams
    geo: Geography
    arr: Arrangements | None
    lrv_age: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lrv_age = np.array(self.params.lrv_age_factor, np.float32)



def concat_dyn(a: Dyn, b: Dyn) -> Dyn:
    """The persons of ``a`` followed by those of ``b``."""
    return Dyn(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
                  for f in fields(a)})


def school_year_of_month(m: int) -> int:
    """Start year of the school year of month index ``m``."""
    year = 2013 + (7 + m) // 12
    cal = (7 + m) % 12 + 1
    return year if cal >= 8 else year - 1
