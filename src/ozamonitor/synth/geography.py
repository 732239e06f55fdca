"""Synthetic regional structure: gemeenten, SWVs, youth-care regions and schools.

The structure is always full size (342 gemeenten, 77 PO and 75 VO SWVs, 42
youth-care regions) whatever the scale; only the number of school locations
scales, with minimums so that every SWV has po and vo schools.

Gemeenten get heavy-tailed (log-normal) sizes and random coordinates; they are
ordered along a serpentine path through the country and SWVs and youth-care
regions are consecutive stretches of that path (by a compressed size, so big
cities span more than one SWV). A gemeente on a boundary is split between 2-3
SWVs; ``share`` is the overlap of its stretch with each SWV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ozamonitor.synth.params import SynthParams

#: School kinds used internally (sector + WEC cluster), in this order.
SCHOOL_KINDS = ("po", "sbo", "so1", "so2", "so3", "so4", "vo", "vso1", "vso2", "vso3", "vso4",
                "mbo")
KIND_INDEX = {k: i for i, k in enumerate(SCHOOL_KINDS)}
#: sector code (1-based index into schema SECTORS) of each school kind
KIND_SECTOR = np.array([1, 2, 3, 3, 3, 3, 4, 5, 5, 5, 5, 6], dtype=np.uint8)
KIND_CLUSTER = np.array([0, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0], dtype=np.uint8)
#: whether the kind is chosen within the SWV PO (True) or SWV VO (False)
KIND_PO = np.array([True, True, True, True, True, True, False, False, False, False, False,
                    False])

_ROOTS = ("Aal", "Ber", "Bos", "Bre", "Dor", "Dre", "Ede", "Ems", "Gel", "Gor", "Haa", "Hel",
          "Her", "Hoo", "Kam", "Lan", "Lee", "Lin", "Mar", "Mid", "Mol", "Nij", "Oir", "Olde",
          "Ooster", "Pur", "Roo", "Ros", "Sche", "Sta", "Ter", "Uit", "Val", "Vee", "Wes",
          "Wij", "Win", "Zan", "Zee", "Zwa")
_SUFFIXES = ("dam", "dijk", "veen", "wijk", "horst", "broek", "berg", "zand", "meer", "kerk",
             "burg", "woude", "rade", "lo", "hoven", "haven", "voort", "sum", "werd", "um")
_PREFIX = ("", "", "", "", "Nieuw-", "Oud-", "Groot-", "Klein-", "Noord-", "Zuid-")
_SCHOOL_WORDS = ("De Linde", "Het Kompas", "De Regenboog", "De Wegwijzer", "Het Anker",
                 "De Fontein", "De Zonnebloem", "Het Palet", "De Vlinder", "De Horizon",
                 "Het Baken", "De Springplank", "Het Mozaïek", "De Ster", "De Meander")
_KIND_LABEL = {"po": "Basisschool", "sbo": "SBO", "so1": "SO cluster 1", "so2": "SO cluster 2",
               "so3": "SO cluster 3", "so4": "SO cluster 4", "vo": "College",
               "vso1": "VSO cluster 1", "vso2": "VSO cluster 2", "vso3": "VSO cluster 3",
               "vso4": "VSO cluster 4", "mbo": "ROC"}


@dataclass
class Geography:
    """Regions, schools and the lookup arrays the simulation needs."""

    regions: pl.DataFrame
    gemeente_regions: pl.DataFrame
    schools: pl.DataFrame
    gem_codes: np.ndarray  # str, per gemeente index
    gem_pop: np.ndarray  # float, population
    gem_weight: np.ndarray  # cumulative probability of living in gemeente (children)
    #: per gemeente, cumulative SWV shares (n_gem x 3) and SWV indices (n_gem x 3), PO and VO
    swv_po_cum: np.ndarray
    swv_po_idx: np.ndarray
    swv_vo_cum: np.ndarray
    swv_vo_idx: np.ndarray
    youth_region: np.ndarray  # per gemeente index
    swv_po_ids: list[str]
    swv_vo_ids: list[str]
    school_ids: np.ndarray  # str
    school_kind: np.ndarray  # int (index into SCHOOL_KINDS)
    school_gem: np.ndarray
    school_swv: np.ndarray  # SWV index (PO or VO by kind), for mbo the gemeente's main VO SWV
    # CSR lookup: schools of (swv, kind)
    csr_start: np.ndarray
    csr_count: np.ndarray
    csr_order: np.ndarray
    nat_start: np.ndarray
    nat_count: np.ndarray
    nat_order: np.ndarray

    def choose_school(self, kind: np.ndarray, swv: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A school index of ``kind`` in SWV ``swv`` (national fallback), chosen by ``u``."""
        kind = kind.astype(np.int64)
        key = swv.astype(np.int64) * len(SCHOOL_KINDS) + kind
        cnt = self.csr_count[key]
        pos = np.minimum((u * np.maximum(cnt, 1)).astype(np.int64), np.maximum(cnt - 1, 0))
        local = self.csr_order[np.minimum(self.csr_start[key] + pos, len(self.csr_order) - 1)]
        ncnt = self.nat_count[kind]
        npos = np.minimum((u * ncnt).astype(np.int64), ncnt - 1)
        nat = self.nat_order[self.nat_start[kind] + npos]
        return np.where(cnt > 0, local, nat).astype(np.int32)

    def draw_gemeente(self, u: np.ndarray) -> np.ndarray:
        """Gemeente index by population weight."""
        return np.minimum(np.searchsorted(self.gem_weight, u, side="right"),
                          len(self.gem_weight) - 1).astype(np.int16)

    def draw_swv(self, gem: np.ndarray, u: np.ndarray, po: bool) -> np.ndarray:
        """SWV index (PO or VO) of a child living in gemeente ``gem``."""
        cum = self.swv_po_cum if po else self.swv_vo_cum
        idx = self.swv_po_idx if po else self.swv_vo_idx
        g = gem.astype(np.int64)
        c = cum[g]
        j = (u[:, None] >= c[:, :2]).sum(axis=1)
        return idx[g, j].astype(np.int16)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    combos = [f"{p}{r}{s}" for p in _PREFIX[:1] for r in _ROOTS for s in _SUFFIXES]
    base = [combos[i] for i in rng.permutation(len(combos))]
    out: list[str] = []
    seen: set[str] = set()
    i = 0
    while len(out) < n:
        name = base[i % len(base)]
        pre = _PREFIX[int(rng.integers(len(_PREFIX)))]
        cand = f"{pre}{name}" if pre and pre + name not in seen else name
        if cand not in seen:
            seen.add(cand)
            out.append(cand)
        i += 1
    return out


def _partition(weights: np.ndarray, n_groups: int, min_share: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Split an ordered path of weights into ``n_groups`` stretches.

    Returns ``(idx, share)`` arrays of shape (n, 3): the groups each element
    overlaps (up to 3) and its share in each (rows sum to 1; unused slots have
    share 0 and repeat the main group).
    """
    n = len(weights)
    cum = np.concatenate([[0.0], np.cumsum(weights)])
    total = cum[-1]
    size = total / n_groups
    idx = np.zeros((n, 3), dtype=np.int64)
    share = np.zeros((n, 3))
    for g in range(n):
        a, b = cum[g], cum[g + 1]
        k0 = min(int(a // size), n_groups - 1)
        k1 = min(int((b - 1e-9) // size), n_groups - 1)
        ks = list(range(k0, k1 + 1))
        ov = np.array([max(0.0, min(b, (k + 1) * size) - max(a, k * size)) for k in ks])
        if ks[-1] == n_groups - 1:
            ov[-1] += max(0.0, b - n_groups * size)
        ov = ov / ov.sum()
        order = np.argsort(-ov, kind="stable")
        ks_s = [ks[i] for i in order]
        ov_s = ov[order]
        keep = [i for i in range(len(ks_s)) if i == 0 or ov_s[i] >= min_share][:3]
        kk = [ks_s[i] for i in keep]
        ss = ov_s[keep] / ov_s[keep].sum()
        for j in range(3):
            idx[g, j] = kk[j] if j < len(kk) else kk[0]
            share[g, j] = ss[j] if j < len(kk) else 0.0
    # every group needs at least one member: give an empty group to its largest overlapper
    present = set(idx[share > 0].tolist())
    for k in range(n_groups):
        if k in present:
            continue
        mid = (k + 0.5) * size
        g = int(np.searchsorted(cum, mid, side="right") - 1)
        g = min(max(g, 0), n - 1)
        j = int(np.argmin(share[g])) if (share[g] > 0).all() else int(np.argmin(share[g] > 0))
        if (share[g] > 0).all():
            j = 2
        idx[g, j] = k
        share[g, j] = 0.15
        share[g] = share[g] / share[g].sum()
    return idx, share


def build_geography(params: SynthParams, scale: float, rng: np.random.Generator) -> Geography:
    """Build regions, gemeente_regions and schools (deterministic given ``rng``)."""
    # Long on purpose: one pass of draws from one random stream in a fixed order (the
    # register's bytes depend on it); the steps are commented in that order.
    p = params
    n = p.n_gemeenten
    pop = rng.lognormal(0.0, p.gemeente_size_sigma, n)
    pop = np.maximum(pop / pop.sum() * p.total_population, 950.0).round()
    # serpentine path through random coordinates
    x, y = rng.random(n), rng.random(n)
    band = np.floor(y * 12).astype(int)
    xs = np.where(band % 2 == 0, x, 1 - x)
    order = np.lexsort((xs, band))
    pop = pop[order]
    names = _names(rng, n)
    gem_codes = np.array([f"GM{i + 1:04d}" for i in range(n)])

    w = pop ** 0.6
    po_idx, po_share = _partition(w, p.n_swv_po, p.min_swv_share)
    vo_idx, vo_share = _partition(w * (1 + 0.3 * rng.random(n)), p.n_swv_vo, p.min_swv_share)
    yc = np.cumsum(pop) / pop.sum()
    youth = np.minimum((yc - pop / pop.sum() / 2) * p.n_youth_regions,
                       p.n_youth_regions - 1).astype(int)

    swv_po_ids = [f"PO{i + 1:02d}" for i in range(p.n_swv_po)]
    swv_vo_ids = [f"VO{i + 1:02d}" for i in range(p.n_swv_vo)]
    youth_ids = [f"JR{i + 1:02d}" for i in range(p.n_youth_regions)]

    def main_name(idx: np.ndarray, share: np.ndarray, k: int) -> str:
        rows = np.where((idx == k) & (share > 0))
        g = rows[0][np.argmax(pop[rows[0]])] if len(rows[0]) else 0
        return names[int(g)]

    reg_rows: list[tuple[str, str, str]] = [(gem_codes[i], "gemeente", names[i])
                                           for i in range(n)]
    reg_rows += [(swv_po_ids[k], "swv_po",
                  f"Samenwerkingsverband PO {main_name(po_idx, po_share, k)} e.o.")
                 for k in range(p.n_swv_po)]
    reg_rows += [(swv_vo_ids[k], "swv_vo",
                  f"Samenwerkingsverband VO {main_name(vo_idx, vo_share, k)} e.o.")
                 for k in range(p.n_swv_vo)]
    for k in range(p.n_youth_regions):
        members = np.where(youth == k)[0]
        big = members[np.argmax(pop[members])] if len(members) else 0
        reg_rows.append((youth_ids[k], "youth_care", f"Jeugdzorgregio {names[int(big)]}"))
    regions = pl.DataFrame(reg_rows, schema={"region_id": pl.String, "kind": pl.String,
                                             "name": pl.String}, orient="row")

    gr: list[tuple[str, str, str, float]] = []
    for g in range(n):
        for idx, share, ids, kind in ((po_idx, po_share, swv_po_ids, "swv_po"),
                                      (vo_idx, vo_share, swv_vo_ids, "swv_vo")):
            agg: dict[int, float] = {}
            for j in range(3):
                if share[g, j] > 0:
                    agg[int(idx[g, j])] = agg.get(int(idx[g, j]), 0.0) + float(share[g, j])
            for k in sorted(agg):
                gr.append((gem_codes[g], ids[k], kind, round(agg[k], 6)))
        gr.append((gem_codes[g], youth_ids[int(youth[g])], "youth_care", 1.0))
    gemeente_regions = pl.DataFrame(
        gr, schema={"gemeente_code": pl.String, "region_id": pl.String, "kind": pl.String,
                    "share": pl.Float64}, orient="row").sort("gemeente_code", "kind",
                                                             "region_id")

    # ---------------- schools ----------------
    swv_pop_po = np.zeros(p.n_swv_po)
    swv_pop_vo = np.zeros(p.n_swv_vo)
    np.add.at(swv_pop_po, po_idx.ravel(), (po_share * pop[:, None]).ravel())
    np.add.at(swv_pop_vo, vo_idx.ravel(), (vo_share * pop[:, None]).ravel())
    kinds: list[int] = []
    swvs: list[int] = []
    gems: list[int] = []
    for ki, kind in enumerate(SCHOOL_KINDS):
        cnt = max(round(p.schools_scale1[kind] * scale), p.schools_min[kind])
        if kind == "mbo":
            gsel = rng.choice(n, size=cnt, p=pop / pop.sum())
            for g in np.sort(gsel):
                kinds.append(ki)
                gems.append(int(g))
                swvs.append(int(vo_idx[g, 0]))
            continue
        is_po = bool(KIND_PO[ki])
        nsw = p.n_swv_po if is_po else p.n_swv_vo
        spop = swv_pop_po if is_po else swv_pop_vo
        if kind in ("po", "vo"):
            base = np.arange(nsw)
            extra = rng.choice(nsw, size=max(cnt - nsw, 0), p=spop / spop.sum())
            sel = np.sort(np.concatenate([base, extra]))
        else:
            sel = np.sort(rng.choice(nsw, size=cnt, p=spop / spop.sum()))
        idx, share = (po_idx, po_share) if is_po else (vo_idx, vo_share)
        for k in sel:
            members = np.where((idx == k) & (share > 0))
            gsel = members[0]
            wts = share[members] * pop[gsel]
            g = int(gsel[rng.choice(len(gsel), p=wts / wts.sum())])
            kinds.append(ki)
            swvs.append(int(k))
            gems.append(g)
    ns = len(kinds)
    kinds_a = np.array(kinds)
    # BRIN: 2 digits + 2 letters, unique; 1-3 locations per BRIN (mbo: ~5)
    letters = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
    all_brin = np.array([f"{d:02d}{a}{b}" for d in range(100) for a in letters for b in letters])
    brins = all_brin[rng.permutation(len(all_brin))]
    school_ids: list[str] = []
    brin_of: list[str] = []
    names_s: list[str] = []
    bi = 0
    i = 0
    while i < ns:
        kind = SCHOOL_KINDS[kinds_a[i]]
        nloc = int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1])) if kind != "mbo" else 5
        brin = str(brins[bi])
        bi += 1
        word = _SCHOOL_WORDS[int(rng.integers(len(_SCHOOL_WORDS)))]
        for loc in range(nloc):
            if i >= ns or (loc > 0 and (kinds_a[i] != kinds_a[i - 1] or swvs[i] != swvs[i - 1])):
                break
            school_ids.append(f"{brin}{loc:02d}")
            brin_of.append(brin)
            names_s.append(f"{_KIND_LABEL[kind]} {word} {names[gems[i]]}")
            i += 1
    school_ids_a = np.array(school_ids)
    sector_names = ("po", "sbo", "so", "vo", "vso", "mbo")
    schools = pl.DataFrame({
        "school_id": school_ids_a,
        "brin": brin_of,
        "name": names_s,
        "sector": [sector_names[KIND_SECTOR[k] - 1] for k in kinds_a],
        "wec_cluster": pl.Series([int(KIND_CLUSTER[k]) or None for k in kinds_a],
                                 dtype=pl.Int32),
        "gemeente_code": gem_codes[np.array(gems)],
        "swv_id": [None if SCHOOL_KINDS[k] == "mbo" else
                   (swv_po_ids[s] if KIND_PO[k] else swv_vo_ids[s])
                   for k, s in zip(kinds_a, swvs, strict=True)],
    })
    # CSR lookup by (swv, kind); SWV index space is max(n_po, n_vo)
    nk = len(SCHOOL_KINDS)
    nsw = max(p.n_swv_po, p.n_swv_vo)
    key = np.array(swvs) * nk + kinds_a
    order_s = np.argsort(key, kind="stable")
    csr_count = np.bincount(key, minlength=nsw * nk)
    csr_start = np.concatenate([[0], np.cumsum(csr_count)[:-1]])
    nat_order = np.argsort(kinds_a, kind="stable")
    nat_count = np.bincount(kinds_a, minlength=nk)
    nat_start = np.concatenate([[0], np.cumsum(nat_count)[:-1]])

    child_pop = pop / pop.sum()
    return Geography(
        regions=regions, gemeente_regions=gemeente_regions, schools=schools,
        gem_codes=gem_codes, gem_pop=pop, gem_weight=np.cumsum(child_pop),
        swv_po_cum=np.cumsum(po_share, axis=1), swv_po_idx=po_idx,
        swv_vo_cum=np.cumsum(vo_share, axis=1), swv_vo_idx=vo_idx,
        youth_region=youth, swv_po_ids=swv_po_ids, swv_vo_ids=swv_vo_ids,
        school_ids=school_ids_a, school_kind=kinds_a, school_gem=np.array(gems),
        school_swv=np.array(swvs), csr_start=csr_start, csr_count=csr_count,
        csr_order=order_s, nat_start=nat_start, nat_count=nat_count, nat_order=nat_order,
    )

