"""Parameters of the absence signals and the attendance tiers (every threshold is one).

The defaults are the definitions of issue 14 and the domain brief (sections 3,
4, 9 and 10); each can be changed, e.g. to count 16 hours in 4 *school* weeks
or to let the breakthrough team start at 12 weeks (seed 002 names both 8 and
12 weeks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ozamonitor.errors import ConfigurationError
from ozamonitor.register.schema import ABSENCE_DAY_KINDS

__all__ = ["DEFAULT_TIMERS", "SignalParams", "TierParams"]

#: Timers per absence episode: name -> calendar days from the episode's first day.
DEFAULT_TIMERS: dict[str, int] = {"casusregie_due": 28, "doorbraak_due": 56, "alarm_3m": 84}


def _kinds(where: str, kinds: tuple[str, ...]) -> None:
    bad = [k for k in kinds if k not in ABSENCE_DAY_KINDS]
    if bad:
        raise ConfigurationError(f"{where}: unknown kind(s) {', '.join(bad)}; known: "
                                 f"{', '.join(ABSENCE_DAY_KINDS)}")


@dataclass(frozen=True)
class SignalParams:
    """Definitions of the absence signals.

    Parameters
    ----------
    report_hours : float
        ``report_16h_4w`` fires when the unauthorised hours in the window
        *exceed* this (16: exactly 16 hours does not fire, 16.5 does).
    report_window_days : int
        Calendar days of the window ending on the day evaluated (28).
    unauthorised_kinds : tuple of str
        Kinds counted as unauthorised for ``report_16h_4w`` and LRV days.
        ``("unauthorised",)``; add ``"late"`` to count late arrivals too.
    episode_kinds : tuple of str
        Kinds that start or extend an absence episode (every absence, advice 1;
        late arrivals do not by default).
    episode_gap_school_days : int
        An episode ends after this many consecutive school days without absence (20).
    lrv_days : int
        ``lrv_4w``: unauthorised absence on every school day that has lasted more
        than this many calendar days, counting its first day (28).
    lrv_months : int
        ``lrv_3m``: the same, more than this many calendar months (3).
    lrv_day_share : float
        A school day counts as a day of unauthorised absence when its
        unauthorised hours are at least this share of the day's scheduled hours (0.5).
    fallback_day_hours : float
        Scheduled hours of a day when neither the row nor the school's sector
        gives them (absence files without a register).
    timers : dict of str to int
        Timers per episode (calendar days from its first day), emitted only when
        the episode is still open on that date.
    timer_min_absence_share : float
        A timer is emitted only when the days with absence make up at least this
        share of the episode's school days up to the timer's date. 0 (the
        default, the issue's definition): any open episode; e.g. 0.5 keeps the
        timers of children absent most of the time and drops those of children
        who were ill twice within four weeks.
    """

    report_hours: float = 16.0
    report_window_days: int = 28
    unauthorised_kinds: tuple[str, ...] = ("unauthorised",)
    episode_kinds: tuple[str, ...] = ("unauthorised", "authorised", "illness", "suspension")
    episode_gap_school_days: int = 20
    lrv_days: int = 28
    lrv_months: int = 3
    lrv_day_share: float = 0.5
    fallback_day_hours: float = 5.0
    timers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIMERS))
    timer_min_absence_share: float = 0.0

    def __post_init__(self) -> None:
        _kinds("unauthorised_kinds", self.unauthorised_kinds)
        _kinds("episode_kinds", self.episode_kinds)
        if not set(self.unauthorised_kinds) <= set(self.episode_kinds):
            raise ConfigurationError("unauthorised_kinds must be episode kinds too (an "
                                     "unauthorised day is an absence)")
        checks = [("report_hours", self.report_hours >= 0),
                  ("report_window_days", self.report_window_days >= 1),
                  ("episode_gap_school_days", self.episode_gap_school_days >= 1),
                  ("lrv_days", self.lrv_days >= 1), ("lrv_months", self.lrv_months >= 1),
                  ("lrv_day_share", 0 < self.lrv_day_share <= 1),
                  ("fallback_day_hours", self.fallback_day_hours > 0),
                  ("timer_min_absence_share", 0 <= self.timer_min_absence_share <= 1)]
        for name, ok in checks:
            if not ok:
                raise ConfigurationError(f"{name}={getattr(self, name)!r} is out of range")
        for name, days in self.timers.items():
            if not isinstance(days, int) or days < 0:
                raise ConfigurationError(f"timer {name}: {days!r} is not a number of days")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignalParams:
        """Build from a dict (e.g. a TOML table); unknown keys are a ConfigurationError."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigurationError(f"unknown signal parameter(s) {', '.join(unknown)}; "
                                     f"known: {', '.join(sorted(known))}")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


@dataclass(frozen=True)
class TierParams:
    """Attendance tiers (MD-MTSS, Kearney & Graczyk; domain brief section 4).

    Parameters
    ----------
    good : float
        Present share at or above this is *good* (0.95).
    chronic : float
        Absent share (all reasons, suspension included) at or above this is
        *chronic* (0.10); between ``1 - good`` and this it is *at risk*.
    severe : float
        Absent share at or above this is *severe* (0.20), a part of chronic.
    early_warning_ages : tuple of int
        Ages (completed years on the as-of date, inclusive) of the early-warning flag (4, 8).
    early_warning_share : float
        The flag is set when the absent share *exceeds* this (0.20).
    improved_min_gain : float
        Improved attendance: the present share rose by more than this against
        the previous period (0: any rise).
    """

    good: float = 0.95
    chronic: float = 0.10
    severe: float = 0.20
    early_warning_ages: tuple[int, int] = (4, 8)
    early_warning_share: float = 0.20
    improved_min_gain: float = 0.0

    def __post_init__(self) -> None:
        if not (0 < 1 - self.good <= self.chronic <= self.severe <= 1):
            raise ConfigurationError("tiers need 1 - good <= chronic <= severe (absent shares)")
        lo, hi = self.early_warning_ages
        if lo > hi:
            raise ConfigurationError("early_warning_ages: the first age is above the second")
