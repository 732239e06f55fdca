"""Latent demand with the care states of schema 1.2: children in care without education."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from builders import BORN, SCHOOL_START, Builder, D, P
from ozamonitor.counting import Counter


def _members(pc: pl.DataFrame, definition: str) -> dict[str, set[str]]:
    got: dict[str, set[str]] = {}
    for r in pc.filter(pl.col("definition") == definition).select(
            "category", "person_id").iter_rows():
        got.setdefault(r[0], set()).add(r[1])
    return got


def test_latent_care_categories(tmp_path: Path) -> None:
    b = Builder()
    enrolled = [("01AA00", SCHOOL_START, None)]
    gone = [("01AA00", SCHOOL_START, D(2023, 6, 30), "removed")]
    b.child("day_no_school", BORN, enrol=gone)
    b.child("wlz_5a", BORN, enrol=[("01AA00", SCHOOL_START, D(2022, 7, 31), "exemption")],
            exempt=[("5a", D(2022, 8, 1), None)], care=[("nursing", D(2022, 9, 1), None)])
    b.child("care_at_school", BORN, enrol=enrolled)
    b.child("care24", BORN, enrol=gone, care=[("residential_24h", D(2023, 7, 1), None)])
    b.child("care_ended", BORN, enrol=gone)
    jw = [("day_no_school", D(2023, 3, 1), None), ("care_at_school", D(2023, 1, 1), None),
          ("care_ended", D(2023, 1, 1), D(2023, 9, 1))]
    for pid, start, end in jw:
        b.rows["care_spells"].append((pid, "jeugdwet", "day_treatment", "gemeente", start, end,
                                      "in_kind", "GM0001"))
    reg = b.write(tmp_path / "reg")
    got = _members(Counter(reg, ["latent"]).stock(P), "latent")
    # exclusive categories in priority order: the care groups come before av and 5a
    assert got["wlz_no_education"] == {"wlz_5a"}
    assert got["care_no_education"] == {"day_no_school"}
    assert got["av"] == {"care_ended"}
    assert "exempt_5a" not in got and got["care_24h"] == {"care24"}
    # the care groups move children between groups, the total stays
    total = set().union(*got.values())
    assert total == {"day_no_school", "wlz_5a", "care24", "care_ended"}
    assert "care_at_school" not in set().union(*got.values())
