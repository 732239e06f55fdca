"""Benchmark: register validation, info, BSN checks and pseudonyms at scale.

Builds a large *valid* register with numpy (persons with random valid BSNs,
three school careers each, residences, attendance), then times

* ``pseudonymise`` + ``elfproef`` of all BSNs (distinct),
* ``validate_register`` (every check; expects zero problems),
* ``register_info`` (DuckDB),
* ``import_register`` of the same data written as a CSV delivery with BSNs,

and prints each against a reference measured in the same run: the time to
read every table into memory with ``pl.read_parquet`` (validation must be a
small multiple of just reading the data), and a smaller scale (near-linear).

    python benchmarks/bench_register.py                      # 2 million persons (~18M rows)
    python benchmarks/bench_register.py --persons 200000     # quicker

Target (2 cores): validation of ~20 million rows < 2 minutes and < 10x the
plain read; pseudonyms >= 500,000 BSNs per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from ozamonitor.register.importer import import_register
from ozamonitor.register.info import register_info
from ozamonitor.register.pseudonym import elfproef, pseudonymise
from ozamonitor.register.schema import TABLES
from ozamonitor.register.store import Register, write_register
from ozamonitor.register.validate import validate_register

EXT = dt.date(2025, 10, 15)
KEY = b"benchmark-key-0123456789"


def valid_bsns(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct valid BSNs as 9-character strings (vectorised)."""
    out: list[np.ndarray] = []
    have = 0
    seen: set[str] = set()
    while have < n:
        d = rng.integers(0, 10, size=(int((n - have) * 1.2) + 100, 8))
        s = (d * np.arange(9, 1, -1)).sum(axis=1) % 11
        d = d[s != 10]
        s = s[s != 10]
        nums = (d * (10 ** np.arange(8, 0, -1))).sum(axis=1) + s
        strs = np.char.zfill(nums.astype(str), 9)
        strs = np.unique(strs[strs != "000000000"])
        strs = np.array([x for x in strs if x not in seen])
        seen.update(strs.tolist())
        out.append(strs)
        have += len(strs)
    return np.concatenate(out)[:n]


def build(n: int, seed: int = 0) -> tuple[dict[str, pl.DataFrame], float, pl.DataFrame]:
    """A valid register of ``n`` persons: tables, pseudonymisation time, bsn -> person_id."""
    rng = np.random.default_rng(seed)
    gm = [f"GM{i:04d}" for i in range(1, 343)]
    po = [f"PO{i:04d}" for i in range(1, 76)]
    vo = [f"VO{i:04d}" for i in range(1, 77)]
    jz = [f"JZ{i:02d}" for i in range(1, 43)]
    regions = pl.DataFrame({
        "region_id": gm + po + vo + jz,
        "kind": ["gemeente"] * 342 + ["swv_po"] * 75 + ["swv_vo"] * 76 + ["youth_care"] * 42,
        "name": gm + po + vo + jz,
    })
    gi = np.arange(342)
    gemeente_regions = pl.DataFrame({
        "gemeente_code": np.repeat(np.array(gm), 3),
        "region_id": np.stack([np.array(po)[gi % 75], np.array(vo)[gi % 76],
                               np.array(jz)[gi % 42]], axis=1).ravel(),
        "kind": np.tile(["swv_po", "swv_vo", "youth_care"], 342),
        "share": np.ones(342 * 3),
    })
    sectors = {"po": 7000, "vo": 650, "mbo": 70}
    rows = []
    k = 0
    for sector, count in sectors.items():
        for _ in range(count):
            k += 1
            sid = f"{k:04X}00"
            g = k % 342
            swv = po[g % 75] if sector == "po" else (vo[g % 76] if sector == "vo" else None)
            rows.append((sid, sid[:4], f"school {k}", sector, None, gm[g], swv))
    schools = pl.DataFrame(rows, schema=TABLES["schools"].polars_schema, orient="row")
    ids = {s: schools.filter(pl.col("sector") == s)["school_id"].to_numpy() for s in sectors}

    bsn = valid_bsns(n, rng)
    t0 = time.perf_counter()
    assert bool(elfproef(pl.Series(bsn)).all())
    pid = pseudonymise(pl.Series(bsn), KEY, check=False)
    t_pseudo = time.perf_counter() - t0

    birth = pl.Series(np.datetime64("2000-01-01") + rng.integers(0, 21 * 365, n)).cast(pl.Date)
    persons = pl.DataFrame({
        "person_id": pid,
        "birth_date": birth,
        "sex": rng.choice(["M", "F"], n),
        "parent_education": rng.choice(["low", "middle", "high", "unknown"], n),
        "income_decile": rng.integers(1, 11, n).astype(np.int32),
        "migration_background": rng.choice(["dutch", "europe", "outside_europe"], n),
        "household_type": rng.choice(["two_parents", "single_parent", "other"], n),
        "newcomer_arrival_date": pl.Series([None] * n, dtype=pl.Date),
        "child_protection": rng.random(n) < 0.02,
    })
    b = pl.col("birth_date")
    y4 = b.dt.year() + 4
    spells = []
    for sector, a0, a1 in (("po", 4, 12), ("vo", 12, 16), ("mbo", 16, 19)):
        start = (pl.date(y4 + (a0 - 4), 8, 1) if sector != "po"
                 else pl.date(y4 + 1, 8, 1))
        end = pl.date(y4 + (a1 - 4), 7, 31)
        spells.append(persons.select(
            "person_id",
            pl.Series("school_id", rng.choice(ids[sector], n)),
            start.alias("start"), end.alias("end"),
            pl.lit("transfer").alias("end_reason"), pl.lit(None, pl.String).alias("tlv_category"),
        ))
    enr = pl.concat(spells).filter(pl.col("start") <= EXT).with_columns(
        end=pl.when(pl.col("end") > EXT).then(None).otherwise(pl.col("end")),
    ).with_columns(end_reason=pl.when(pl.col("end").is_null()).then(None)
                   .otherwise(pl.col("end_reason")))
    residences = persons.select("person_id", pl.Series("gemeente_code", rng.choice(gm, n)),
                                pl.col("birth_date").alias("start"),
                                pl.lit(None, pl.Date).alias("end"))
    first = enr.group_by("person_id").agg(pl.col("school_id").first(), pl.col("start").min())
    attendance = first.select(
        "person_id", "school_id", pl.col("start").dt.month_start().alias("month"),
        pl.lit(100, pl.Int32).alias("scheduled_hours"), pl.lit(90, pl.Int32).alias("present_hours"),
        pl.lit(6, pl.Int32).alias("excused_hours"), pl.lit(4, pl.Int32).alias("unexcused_hours"),
    )
    tables = dict(regions=regions, gemeente_regions=gemeente_regions, schools=schools,
                  persons=persons, residences=residences, enrolments=enr, attendance=attendance)
    return tables, t_pseudo, pl.DataFrame({"bsn": bsn, "person_id": pid})


def read_all(path: Path) -> float:
    t0 = time.perf_counter()
    for name in TABLES:
        pl.read_parquet(path / TABLES[name].file)
    return time.perf_counter() - t0


def run(n: int, tmp: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    tables, t_pseudo, ids = build(n)
    out = write_register(tmp / f"reg{n}", tables, extraction_date=EXT)
    t_build = time.perf_counter() - t0
    # the same data as a CSV delivery with BSNs, imported again
    src = tmp / f"src{n}"
    src.mkdir()
    for name, df in tables.items():
        if "person_id" in df.columns:
            df = df.join(ids, on="person_id", how="left", maintain_order="left").select(
                [("bsn" if c == "person_id" else c) for c in df.columns])
        df.write_csv(src / f"{name}.csv")
    t0 = time.perf_counter()
    for f in src.iterdir():
        pl.read_csv(f, infer_schema=False)
    t_csv = time.perf_counter() - t0
    t0 = time.perf_counter()
    imported = import_register(src, tmp / f"imp{n}", key=KEY, extraction_date=EXT)
    t_import = time.perf_counter() - t0
    assert Register(imported).read("persons").equals(tables["persons"])
    rows = sum(Register(out).rows(t) for t in TABLES)
    t_read = read_all(out)
    t0 = time.perf_counter()
    report = validate_register(out, max_problems=20)
    t_val = time.perf_counter() - t0
    assert report.ok, report.lines()
    t0 = time.perf_counter()
    register_info(out)
    t_info = time.perf_counter() - t0
    print(f"persons {n:>10,}  rows {rows:>12,}  import CSV {t_import:6.1f} s "
          f"({t_import / t_csv:4.1f}x pl.read_csv, {rows / t_import:,.0f} rows/s)")
    print(f"persons {n:>10,}  rows {rows:>12,}  build {t_build:6.1f} s  "
          f"pseudonyms {t_pseudo:6.2f} s ({n / t_pseudo:,.0f}/s)  read {t_read:5.2f} s  "
          f"validate {t_val:6.1f} s ({t_val / t_read:4.1f}x read, {rows / t_val:,.0f} rows/s)  "
          f"info {t_info:5.2f} s", flush=True)
    return dict(rows=rows, validate=t_val, read=t_read, info=t_info, pseudo=t_pseudo,
                imp=t_import)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=2_000_000)
    ap.add_argument("--reference", type=int, default=0,
                    help="smaller scale for the linearity ratio (default persons/10)")
    args = ap.parse_args()
    ref_n = args.reference or max(args.persons // 10, 1000)
    with tempfile.TemporaryDirectory() as d:
        ref = run(ref_n, Path(d))
        big = run(args.persons, Path(d))
    scale = big["rows"] / ref["rows"]
    print(f"validation time ratio {big['validate'] / ref['validate']:.1f} for {scale:.1f}x rows "
          f"(1.0 = linear: {big['validate'] / ref['validate'] / scale:.2f})")


if __name__ == "__main__":
    main()
