"""Subgroups on support needs and care history recover planted groups, stably."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from ozamonitor.causal.support_subgroups import support_profile, support_subgroups
from ozamonitor.register.store import write_register

D = dt.date


def _register(tmp: Path, n: int = 60, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    ids = [f"c{i:03d}" for i in range(n)]
    group = np.arange(n) % 2
    persons = pl.DataFrame({
        "person_id": ids,
        "birth_date": [D(2010, 1, 1) + dt.timedelta(days=int(x))
                       for x in rng.integers(0, 700, n)],
        "sex": rng.choice(["M", "F"], n).tolist(), "parent_education": ["middle"] * n,
        "income_decile": [5] * n, "migration_background": ["dutch"] * n,
        "household_type": ["two_parents"] * n, "newcomer_arrival_date": [None] * n,
        "child_protection": [False] * n})
    needs, care = [], []
    for pid, g in zip(ids, group, strict=True):
        start = D(2021, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
        kinds = ["mental_health", "social_emotional"] if g == 0 else [
            "physical_health", "neurocognitive"]
        needs += [(pid, k, "care_indication", start, None) for k in kinds]
        law, kind, fin = ("jeugdwet", "day_treatment", "gemeente") if g == 0 else (
            "wlz", "nursing", "zorgkantoor")
        care.append((pid, law, kind, fin, start, None, "in_kind", None))
    sn = pl.DataFrame(needs, schema=["person_id", "need", "source", "start", "end"],
                      orient="row")
    cs = pl.DataFrame(care, schema=["person_id", "law", "kind", "financier", "start", "end",
                                    "delivery", "decided_by"], orient="row")
    return write_register(tmp / "reg", {"persons": persons, "support_needs": sn,
                                        "care_spells": cs}, extraction_date=D(2023, 6, 30))


def test_recovers_planted_groups_stably(tmp_path: Path) -> None:
    path = _register(tmp_path)
    prof = support_profile(path, "2023-01")
    assert prof.height == 60
    assert set(prof["n_needs"]) == {2.0} and prof["care_months_24"].min() > 0
    res = support_subgroups(prof, n_boot=20, seed=3)
    assert res.k == 2
    planted = (np.arange(60) % 2)[np.argsort([f"c{i:03d}" for i in range(60)])]
    labels = res.labels
    # same partition as planted (labels may be swapped)
    assert len(set(zip(labels.tolist(), planted.tolist(), strict=True))) == 2
    assert np.all(res.stability > 0.9)
    assert res.profiles.height >= 2
    # before any need is recorded nobody is in the population
    assert support_profile(path, "2020-06").height == 0
    assert support_profile(path, "2023-01", population="care").height == 60
