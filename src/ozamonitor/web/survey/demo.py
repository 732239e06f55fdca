"""Demo answers: two waves (2023 closed, 2024 open) of synthetic answers for every arrangement.

The answers come from :func:`ozamonitor.survey.synth.synthetic_answers`, drawn
from each arrangement's type in the registry and its register record
(deviations, target groups, lead, financiers), so the prototypes of the demo
are recoverable. Wave 2024 starts prefilled from 2023, as the study team's
"open a wave" does; some of its parts are still in draft or not started, so
the response overview and the reminders have something to show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: registry arrangement type -> the synthetic answers' type (ozamonitor.survey.synth)
TYPE_MAP = {
    "extra_guidance": "school_support",
    "part_time_teaching": "part_time",
    "class_at_school": "school_class",
    "intermediate_provision": "intermediate",
    "opdc": "opdc",
    "distance_learning": "distance",
    "care_location_teaching": "care_location",
}
#: respondent roles of the library's synthetic answers -> the web application's roles
ROLE_MAP = {"care_provider_staff": "provider_staff", "administrator": "admin"}
WAVES = (2023, 2024)


def accounts(orgs: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """No extra accounts: SWV, school and care-provider staff answer their parts."""
    return []


def _frame(register: Any) -> Any:
    import polars as pl

    from ozamonitor.web.registry.models import Arrangement

    types = dict(Arrangement.objects.values_list("code", "type"))
    reg = register.read("arrangements")
    keep = [c for c in ("arrangement_id", "deviations", "target_groups", "lead_kind",
                        "financiers") if c in reg.columns]
    reg = reg.select(keep).filter(pl.col("arrangement_id").is_in(list(types)))
    return reg.with_columns(pl.col("arrangement_id").replace_strict(
        {k: TYPE_MAP.get(v, "school_support") for k, v in types.items()},
        return_dtype=pl.String).alias("type"))


def load(register: Any, orgs: dict[str, Any], seed: int = 0) -> None:
    """Open waves 2023 (closed) and 2024 (open) with synthetic answers of every arrangement."""
    from ozamonitor.survey.synth import synthetic_answers
    from ozamonitor.web.registry.models import Arrangement
    from ozamonitor.web.survey import service
    from ozamonitor.web.survey.models import Response, Wave

    inst = service.instrument()
    arrangements = {a.code: a for a in Arrangement.objects.all()}
    if not arrangements:
        return
    subs = synthetic_answers(_frame(register), waves=WAVES, seed=seed, instrument=inst)
    waves = {}
    for year in WAVES:
        w = Wave(year=year, instrument_version=inst.version, is_open=year == WAVES[-1],
                 deadline=dt.date(year, 11, 30))
        w.save()
        w.arrangements.set(arrangements.values())
        waves[year] = w
    for s in subs:
        r = Response(wave=waves[s.wave], arrangement=arrangements[s.arrangement_id],
                     part=s.part, instrument_version=s.instrument_version,
                     answers=_jsonable(s.answers), prefilled=sorted(s.prefilled),
                     status=s.status, respondent_role=ROLE_MAP.get(s.respondent_role,
                                                                   s.respondent_role))
        c = s.completeness(inst)
        r.shown, r.answered = c.shown, c.answered
        if s.status == "submitted":
            r.submitted_at = dt.datetime(s.wave, 10, 1, tzinfo=dt.UTC)
        r.save()


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dt.date):
        return v.isoformat()
    return v
