"""Across arrangements: counts by component kind and payer, and the gaps."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ozamonitor.funding import (
    KINDS,
    FundingInputError,
    RegionMatrix,
    advise,
    example_matrix_path,
    summarise,
)

MATRIX = RegionMatrix.load(example_matrix_path())


def _random_map(rng: random.Random, with_matrix: bool):
    location = rng.choice(["school", "care_location", "private", "distance"])
    oza = rng.random() < 0.4
    case = {
        "child": {"age": rng.randint(4, 22), "enrolled": True,
                  "wlz_indication": rng.random() < 0.3, "chronic_condition": rng.random() < 0.5,
                  "care_over_one_year": rng.random() < 0.5},
        "setting": {"location": location, "brin": location == "school", "oza": oza,
                    "oza_deviations": rng.choice([[], ["location"], ["location", "funding"]])
                    if oza else [], "sector": rng.choice(["po", "vo", "so", "vso"])},
        "components": [],
    }
    for i in range(rng.randint(1, 6)):
        kind = rng.choice([k for k in KINDS if k != "activity"] + ["activity"])
        comp = {"id": f"c{i}", "kind": kind}
        if kind in ("personal_care", "activity"):
            comp["cause"] = rng.sample(["upbringing", "psychological", "illness", "disability"],
                                       rng.randint(1, 2))
        if kind == "transport":
            comp["to"] = rng.choice(["school", "care_location"])
        if kind == "activity":
            comp["category"], comp["activity"] = rng.choice(
                [("eating", "bread"), ("supervision", "behaviour_support_in_class"),
                 ("learning", "lessons"), ("mobility", "wheelchair")])
        case["components"].append(comp)
    return advise(case, MATRIX if with_matrix else None)


def test_counts_match_a_brute_force_count():
    rng = random.Random(7)
    maps = {f"a{i}": _random_map(rng, i % 2 == 0) for i in range(60)}
    # half as saved JSON, as the web application stores them
    mixed = {k: (v.to_json() if i % 3 == 0 else v) for i, (k, v) in enumerate(maps.items())}
    s = summarise(mixed)
    assert s.arrangements == 60

    comps = Counter()
    arrs: dict[tuple[str, str], set[str]] = {}
    for arr, adv in maps.items():
        for c in adv:
            for p in c.payers:
                comps[(c.kind, p)] += 1
                arrs.setdefault((c.kind, p), set()).add(arr)
    got = {(r["kind"], r["payer"]): (r["components"], r["arrangements"])
           for r in s.by_kind_payer.to_dicts()}
    assert got == {k: (n, len(arrs[k])) for k, n in comps.items()}

    for row in s.by_kind.to_dicts():
        items = [(arr, c) for arr, adv in maps.items() for c in adv if c.kind == row["kind"]]
        assert row["components"] == len(items)
        assert row["gaps"] == sum(c.gap for _, c in items)
        assert row["shared"] == sum(len(c.payers) > 1 for _, c in items)
        assert row["region"] == sum(c.source == "region" for _, c in items)
        assert row["arrangements"] == len({a for a, _ in items})
        assert row["arrangements_with_gap"] == len({a for a, c in items if c.gap})
    assert s.gaps.height == sum(len(adv.gaps) for adv in maps.values())
    assert s.by_kind["gaps"].sum() > 0  # the random maps do have gaps
    # kinds in the library's order
    order = [k for k in KINDS if k in set(s.by_kind["kind"])]
    assert s.by_kind["kind"].to_list() == order


def test_empty_summary():
    s = summarise({})
    assert s.arrangements == 0 and s.by_kind.height == 0 and s.by_kind_payer.height == 0


def test_a_bad_saved_map_names_the_arrangement():
    with pytest.raises(FundingInputError) as e:
        summarise({"arr-7": {"components": [{"id": "x", "payers": ["swv"]}]}})
    assert e.value.field.startswith("arr-7: components[0].")
