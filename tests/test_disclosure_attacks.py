"""The attacks of issue 11 on published count tables (scale 0.01, seed 3), as an outsider.

Every publication is made with the command line (``count --out DIR``) and
attacked from the folder alone: ``audit-disclosure`` (our relations) and an
independent attacker that declares the sums by hand (regions add up to the
nation, categories to the total, Inspectie AV = OCW 2016 AV) and solves with
scipy.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.counting.count import Counter
from ozamonitor.counting.publication import count_publication
from ozamonitor.privacy.folder import audit_folder

D1, D2 = "2023-10-01", "2024-10-01"
WIDTH = 9


@pytest.fixture(scope="module")
def reg(synthetic_register):  # type: ignore[no-untyped-def]
    return synthetic_register(0.01, 3)


@pytest.fixture(scope="module")
def pub(reg, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Two adjacent reference dates, published together."""
    out = tmp_path_factory.mktemp("pub") / "pub"
    r = CliRunner().invoke(app, ["count", "-r", str(reg), "--peildatum", f"{D1},{D2}",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def table(pub, name: str) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return pl.read_csv(pub / "tables" / f"{name}.csv", infer_schema=False)


def test_definition_identities_hold_in_the_model(reg):
    """Identities between definitions follow from the model matrix (not declared)."""
    c = Counter(reg, "all")
    pc = c.stock([dt.date(2023, 10, 1)])
    p = count_publication(c, pc)
    m = p.matrix()
    t = next(t for t in p.tables if t.spec.name == "by_gemeente")
    idx = t.cells.with_row_index("j").with_columns(pl.col("j") + t.offset)

    def rows(d: str, k: str) -> np.ndarray:
        return idx.filter((pl.col("definition") == d) & (pl.col("category") == k)) \
            .sort("region")["j"].to_numpy()

    a, b = rows("inspectie", "av"), rows("ocw2016", "av")
    assert (m[a] != m[b]).nnz == 0  # the same children in every gemeente
    lat = m[rows("latent", "lrv_4w")]
    bal = m[rows("balans", "enrolled_3m")] + m[rows("balans", "enrolled_4w_3m")]
    assert abs(lat - bal).sum() == 0


def test_audit_command_passes_and_fails(reg, pub, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["audit-disclosure", str(pub), "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 0, r.output
    a = pl.read_csv(tmp_path / "a.csv")
    assert a.height > 0 and a["ok"].all()
    # reveal the true values of every hidden gemeente of one small group but one: the
    # remaining cell is then the national figure minus the others
    bad = tmp_path / "bad"
    shutil.copytree(pub, bad)
    c = Counter(reg, "all")
    pc = c.stock([dt.date.fromisoformat(D1), dt.date.fromisoformat(D2)])
    true = c.table(pc, "gemeente", threshold=None).rename({"count": "true"})
    dims = ["definition", "category", "region", "period"]
    f = bad / "tables" / "by_gemeente.csv"
    df = pl.read_csv(f, infer_schema=False).join(true.cast({"true": pl.String}), on=dims,
                                                 maintain_order="left")
    small = df.filter((pl.col("count") == "x") & (pl.col("true").cast(pl.Int64) < 10)).row(
        0, named=True)
    group = ((pl.col("definition") == small["definition"])
             & (pl.col("category") == small["category"]) & (pl.col("period") == small["period"]))
    df = df.with_columns(pl.when(group & (pl.col("region") != small["region"]))
                         .then(pl.col("true")).otherwise(pl.col("count")).alias("count"))
    df.drop("true").write_csv(f)
    nat = bad / "tables" / "by_nation.csv"
    true_nat = c.table(pc, "nation", threshold=None).rename({"count": "true"})
    n = pl.read_csv(nat, infer_schema=False).join(true_nat.cast({"true": pl.String}), on=dims,
                                                   maintain_order="left")
    n.with_columns(pl.col("true").alias("count")).drop("true").write_csv(nat)
    r = runner.invoke(app, ["audit-disclosure", str(f)])
    assert r.exit_code == 1, r.output


def test_one_symbol_and_shown_zeros(pub):
    for name in ("by_nation", "by_gemeente", "by_swv", "by_school", "by_sector"):
        c = table(pub, name)["count"]
        assert set(c.filter(~c.str.contains(r"^\d+$")).unique().to_list()) <= {"x"}
    m = json.loads((pub / "manifest.json").read_text())
    assert m["format"] == "ozamonitor-publication/1" and m["symbols"].keys() >= {"x"}


def test_report_attack_swv(pub):
    """Attack 1: per-SWV cells against the national figure (each <10 was exactly 1)."""
    a = audit_folder(pub)
    swv = a.filter(pl.col("table") == "by_swv")
    assert swv.height > 0 and swv["ok"].all()
    # the hidden OCW 2016 totals per SWV are no longer each pinned to 1
    ocw = swv.filter(pl.col("key").str.starts_with("ocw2016|total|"))
    assert (ocw["lower"] == 0).all()


def test_nation_gemeente_attack_independent_lp(pub):
    """Attack 2: an LP over the nation and gemeente tables with the sums and identities
    declared by hand (as the issue's attacker did): no small cell narrower than 9."""
    nat, gem = table(pub, "by_nation"), table(pub, "by_gemeente")
    cells = pl.concat([nat, gem]).with_row_index("j")
    hid = (cells["count"] == "x").to_numpy()
    val = cells["count"].cast(pl.Int64, strict=False).fill_null(0).to_numpy()
    key = {(r["definition"], r["category"], r["region"], r["period"]): r["j"]
           for r in cells.iter_rows(named=True)}
    rels: list[dict[int, float]] = []
    for (d, k, reg_, per), j in key.items():  # gemeenten add up to the nation
        if reg_ == "NL":
            rel = {j: 1.0}
            for (d2, k2, r2, p2), j2 in key.items():
                if (d2, k2, p2) == (d, k, per) and r2 != "NL":
                    rel[j2] = -1.0
            rels.append(rel)
    for (d, k, reg_, per), j in key.items():  # Inspectie AV = OCW 2016 AV
        if (d, k) == ("inspectie", "av"):
            rels.append({j: 1.0, key[("ocw2016", "av", reg_, per)]: -1.0})
    A = np.zeros((len(rels), len(key)))
    for i, rel in enumerate(rels):
        for j, x in rel.items():
            A[i, j] = x
    h = np.flatnonzero(hid)
    b = -(A[:, ~hid] @ val[~hid])
    Ah = A[:, h]
    rng = np.random.default_rng(0)
    for t in rng.choice(h.size, size=min(25, h.size), replace=False):
        c = np.zeros(h.size)
        c[t] = 1
        lo = linprog(c, A_eq=Ah, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=Ah, b_eq=b, bounds=(0, None), method="highs")
        lo_v = np.ceil(lo.fun - 1e-6)
        hi_v = np.inf if hi.status == 3 else np.floor(-hi.fun + 1e-6)
        assert lo_v >= 10 or hi_v - lo_v >= WIDTH


def test_school_sector_swv_hierarchy(pub):
    """Attack 3: school, sector and SWV tables are one hierarchy in the relations."""
    rel = pl.read_csv(pub / "relations.csv")
    tabs = rel.group_by("relation").agg(pl.col("table").unique())
    mixed = tabs.filter(pl.col("table").list.contains("by_school")
                        & pl.col("table").list.len().gt(1))
    assert mixed.height > 0
    a = audit_folder(pub)
    for name in ("by_school", "by_sector", "by_swv"):
        assert a.filter(pl.col("table") == name)["ok"].all()


def test_adjacent_dates_and_ledger(reg, pub, tmp_path):
    """Attack 4: adjacent dates are one publication; a later run keeps earlier cells."""
    a = audit_folder(pub)
    periods = {k.split("|")[3] for k in a["key"].to_list()}
    assert periods == {D1, D2}
    runner = CliRunner()
    out = tmp_path / "series"
    assert runner.invoke(app, ["count", "-r", str(reg), "--peildatum", D1,
                               "--out", str(out)]).exit_code == 0
    first = table(out, "by_gemeente")
    r = runner.invoke(app, ["count", "-r", str(reg), "--peildatum", f"{D1},{D2}",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    second = table(out, "by_gemeente").filter(pl.col("period") == D1)
    assert second.equals(first)
    assert len(json.loads((out / "ledger.json").read_text())["runs"]) == 2
    assert audit_folder(out)["ok"].all()


def test_shown_counts_equal_unprotected(reg, pub):
    c = Counter(reg, "all")
    pc = c.stock([dt.date.fromisoformat(D1), dt.date.fromisoformat(D2)])
    true = c.table(pc, "gemeente", threshold=None)
    shown = table(pub, "by_gemeente").filter(pl.col("count") != "x").with_columns(
        pl.col("count").cast(pl.Int64))
    j = shown.join(true.rename({"count": "true"}),
                   on=["definition", "category", "region", "period"])
    assert j.height == shown.height and (j["count"] == j["true"]).all()
