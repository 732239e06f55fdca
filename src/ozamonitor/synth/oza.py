"""OZA experiment: arrangements, and the ground-truth summary of planted effects.

Arrangements: 62 initiatives with 76 arrangements (the first 14 initiatives
run two), each led by a school board (``lead_kind`` school, ``lead_id`` a
school_id) or an SWV (``lead_kind`` swv, ``lead_id`` the SWV's region_id).
Participants are enrolled at the arrangement's *host school* while they take
part: the lead school, or for an SWV-led arrangement a school in that SWV
(special education where the SWV has one). Starts are staggered between
January 2023 and January 2025.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ozamonitor.register.schema import FINANCIERS, OZA_DEVIATIONS, OZA_TARGET_GROUPS
from ozamonitor.synth.geography import KIND_INDEX, SCHOOL_KINDS, Geography
from ozamonitor.synth.params import SynthParams
from ozamonitor.synth.population import month_index

_PROVIDERS = ("De Brug", "Horizon Jeugdzorg", "Karakter", "Accare", "Pluryn", "Youké",
              "Entrea Lindenhout", "Levvel", "Lijn5", "Ambiq", "Cello", "Reinaerde",
              "Het Raster", "Kompaan", "Timon", "Yorneo", "Elker", "Lucertis", "Triade",
              "Trajectum")
#: start dates of arrangements and their weights
_STARTS = (("2023-01-01", 8), ("2023-04-01", 4), ("2023-08-01", 24), ("2024-01-01", 14),
           ("2024-08-01", 18), ("2025-01-01", 8))


@dataclass
class Arrangements:
    """Arrangements table plus arrays used by the simulation."""

    table: pl.DataFrame
    host_school: np.ndarray  # school index where participants are enrolled
    host_kind: np.ndarray
    is_po: np.ndarray  # arrangement of an SWV PO (else VO)
    swv: np.ndarray  # SWV index
    start_m: np.ndarray  # month index of start
    accepts: np.ndarray  # (n_arr, 4) bool by target group


def build_arrangements(params: SynthParams, geo: Geography,
                       rng: np.random.Generator) -> Arrangements:
    """Draw the 76 arrangements (independent of scale)."""
    p = params
    n = p.oza_n_arrangements
    n_init = p.oza_n_initiatives
    initiative = [min(i // 2, n - 1) if i < 2 * (n - n_init) else i - (n - n_init)
                  for i in range(n)]
    is_po = rng.random(n) < 0.3
    dates = np.array([np.datetime64(d) for d, _ in _STARTS])
    wts = np.array([w for _, w in _STARTS], float)
    start = np.sort(dates[rng.choice(len(dates), n, p=wts / wts.sum())])
    rows = []
    host = np.zeros(n, np.int64)
    swv = np.zeros(n, np.int64)
    kinds = geo.school_kind
    accepts = np.zeros((n, len(OZA_TARGET_GROUPS)), bool)
    for a in range(n):
        po = bool(is_po[a])
        nsw = len(geo.swv_po_ids) if po else len(geo.swv_vo_ids)
        k = int(rng.integers(nsw))
        swv[a] = k
        special = [KIND_INDEX["so3"], KIND_INDEX["so4"]] if po else [KIND_INDEX["vso3"],
                                                                       KIND_INDEX["vso4"]]
        regular = KIND_INDEX["po"] if po else KIND_INDEX["vo"]
        cand = np.where((geo.school_swv == k) & np.isin(kinds, special))[0]
        if len(cand) == 0 or rng.random() < 0.35:
            cand = np.where((geo.school_swv == k) & (kinds == regular))[0]
        h = int(cand[rng.integers(len(cand))])
        host[a] = h
        lead_school = rng.random() < 0.6
        swv_id = geo.swv_po_ids[k] if po else geo.swv_vo_ids[k]
        prov = _PROVIDERS[int(rng.integers(len(_PROVIDERS)))]
        fin = {"gemeente"}
        for f, pr in (("swv", 0.8), ("zorgkantoor", 0.25), ("zorgverzekeraar", 0.15),
                      ("school", 0.2)):
            if rng.random() < pr:
                fin.add(f)
        dev = [d for d, pr in zip(OZA_DEVIATIONS, (0.7, 0.3, 0.6, 0.4), strict=True)
               if rng.random() < pr] or ["location"]
        tg_p = (0.6, 0.85, 0.6, 0.5)
        tg = [g for g, pr in zip(OZA_TARGET_GROUPS, tg_p, strict=True) if rng.random() < pr]
        tg = tg or ["long_term_absent"]
        accepts[a] = [g in tg for g in OZA_TARGET_GROUPS]
        gem = geo.gem_codes[geo.school_gem[h]]
        rows.append({
            "arrangement_id": f"OZA{a + 1:03d}",
            "initiative_id": f"INI{initiative[a] + 1:02d}",
            "name": f"Onderwijszorgarrangement {prov} {SCHOOL_KINDS[kinds[h]].upper()}"
                    f" {a + 1}",
            "lead_kind": "school" if lead_school else "swv",
            "lead_id": str(geo.school_ids[h]) if lead_school else swv_id,
            "swv_id": swv_id,
            "gemeente_code": str(gem),
            "care_provider": prov,
            "financiers": ";".join(f for f in FINANCIERS if f in fin),
            "deviations": ";".join(dev),
            "target_groups": ";".join(tg),
            "start": start[a].astype(object),
        })
    table = pl.DataFrame(rows, schema={
        "arrangement_id": pl.String, "initiative_id": pl.String, "name": pl.String,
        "lead_kind": pl.String, "lead_id": pl.String, "swv_id": pl.String,
        "gemeente_code": pl.String, "care_provider": pl.String, "financiers": pl.String,
        "deviations": pl.String, "target_groups": pl.String, "start": pl.Date})
    return Arrangements(table=table, host_school=host, host_kind=kinds[host], is_po=is_po,
                        swv=swv, start_m=month_index(start), accepts=accepts)
