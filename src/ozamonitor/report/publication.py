"""The public statistics of a register as one protected publication folder (``ozamonitor publish``).

Every table published together is protected **jointly**
(:mod:`ozamonitor.privacy.publication`: one model matrix, one disclosure system):

* thuiszitters per definition and category, stock on 1 October of every school
  year and flow per school year, per nation, gemeente, SWV, sector and school
  (:func:`ozamonitor.counting.publication.count_publication`, tables
  ``by_nation``, ``by_gemeente``, ``by_swv``, ``by_sector``, ``by_school``);
* the reconciliation of the definitions per period: ``waterfall`` (from the
  smallest to the largest definition: ``count`` and ``added``) and ``overlap``
  (children counted by both of two definitions), over the same inner cells as
  the counts (:func:`ozamonitor.counting.publication.count_publication`);
* attendance tiers and absence signals per school year and SWV
  (:mod:`ozamonitor.report.publication_attendance`, when the register has
  absence days);
* the OZA monitor (:func:`ozamonitor.causal.monitor.monitor_tables`: reach,
  inflow and outflow, durations, end reasons, destinations, reach per SWV, the
  comparison with regular and special education and 5a exemptions, and the
  accessibility and continuity outcomes).

The monitor's counted units (children and participations) become extra inner
cells of the same publication: a unit's inner cell is its pattern of monitor
cells, so the relations among the monitor tables (a reach total that equals
the national reach of the SWV table, categories that add up, ...) follow from
the data. Thuiszitter counts and monitor cells count different things (children
on a date under a definition, participations, children in a comparison group)
and share no inner cell.

Beside the tables (:func:`ozamonitor.privacy.folder.write_folder`: manifest,
``tables/*.csv``, ``relations.csv``, ``ledger.json``) the folder holds what the
dashboard needs and nothing person-level:

* ``definitions.json`` - the definition files' text (labels, source,
  description, categories and their rules), so a page explaining a definition
  and its counts come from one run;
* ``regions.csv`` - region ids, kinds and names (gemeenten, SWVs);
* ``geometry.geojson`` - boundaries for maps (``--geometry``, else the
  register's own ``geometry.geojson``, else synthetic ones from its regions);
* ``tables/oza_durations_stats.csv`` - mean and median duration for the cells
  of ``oza_durations`` that are published with at least ``threshold``
  participations (``x`` elsewhere).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.causal.monitor import YEARS, MonitorTable, durations, monitor_tables
from ozamonitor.counting.count import Counter
from ozamonitor.counting.publication import count_publication
from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_dir, formula_safe
from ozamonitor.privacy.folder import ledger_masks, read_ledger, write_folder
from ozamonitor.privacy.publication import SYMBOL, Protected, Protection, Publication, TableSpec
from ozamonitor.register.calendar import parse_school_year
from ozamonitor.register.store import Register
from ozamonitor.report.publication_attendance import attendance_tables

__all__ = ["DEFAULT_FIRST", "DEFAULT_LAST", "build_publication", "periods", "publish"]

DEFAULT_FIRST = "2014-2015"
DEFAULT_LAST = "2025-2026"
GEOMETRY = "geometry.geojson"
Progress = Callable[[str, int, int], None]


def periods(register: Register, first: str = DEFAULT_FIRST, last: str = DEFAULT_LAST
            ) -> tuple[list[dt.date], list[str]]:
    """Reference dates (1 October of each school year) and school years from
    ``first`` to ``last``, up to the register's extraction date."""
    try:
        y0, y1 = parse_school_year(first), parse_school_year(last)
    except ValueError as e:
        raise ConfigurationError(f"--from/--to: {e}") from None
    if y1 < y0:
        raise ConfigurationError(f"--to {last} lies before --from {first}")
    ext = register.extraction_date
    years = [y for y in range(y0, y1 + 1) if dt.date(y, 8, 1) <= ext]
    if not years:
        raise ConfigurationError(
            f"no school year from {first} to {last} starts before the register's extraction "
            f"date {ext}")
    dates = [dt.date(y, 10, 1) for y in years if dt.date(y, 10, 1) <= ext]
    return dates, [f"{y}-{y + 1}" for y in years]


def _add_monitor(pub: Publication, tables: list[MonitorTable]) -> None:
    """Add the monitor tables to ``pub`` with one inner cell per pattern of units."""
    cells, off = [], 0
    unit_cells = {t.name: t.cells() for t in tables}
    for t in tables:
        c = unit_cells[t.name]
        keys = (pl.concat([t.full_grid(), c.select(t.dims)]).unique(maintain_order=True)
                .with_row_index("cid", offset=off))
        cells.append(c.join(keys, on=list(t.dims)).select("unit", "cid"))
        off += keys.height
    allc = pl.concat(cells) if cells else pl.DataFrame(schema={"unit": pl.String,
                                                               "cid": pl.UInt32})
    # a unit's pattern: the sorted list of every monitor cell it counts in
    pats = (allc.group_by("unit", maintain_order=True).agg(pat=pl.col("cid").sort())
            .group_by("pat", maintain_order=True).agg(n=pl.len(), units=pl.col("unit")))
    offset = int(pub.inner_counts.size)
    pats = pats.with_row_index("inner_id", offset=offset)
    # extend the publication's inner cells (the model matrix is built when protecting)
    pub.inner_counts = np.concatenate([pub.inner_counts, pats["n"].to_numpy().astype(np.int64)])
    unit_inner = pats.select("inner_id", "units").explode("units").rename({"units": "unit"})
    for prio, t in enumerate(tables):
        mem = unit_cells[t.name].join(unit_inner, on="unit").select("inner_id", *t.dims).unique()
        spec = TableSpec(t.name, t.dims, title=t.title, unit=t.unit,
                         description=t.description, priority=-1 - prio)
        pub.add_table(spec, mem, t.full_grid())


def build_publication(register: Register | str, *, first: str = DEFAULT_FIRST,
                      last: str = DEFAULT_LAST, threshold: int = 10,
                      definitions: str = "all", ledger: dict[str, Any] | None = None,
                      progress: Progress | None = None
                      ) -> tuple[Protected, Counter, dict[str, Any]]:
    """Compute every published table and protect them jointly.

    Returns
    -------
    (Protected, Counter, dict)
        The protected publication, the counter (definitions, regions) and the
        manifest's extra fields (periods, monitor years, levels).
    """
    say = progress or (lambda *_: None)
    reg = Register.open(register)
    dates, years = periods(reg, first, last)
    say("counting", 0, 3)
    counter = Counter(reg, definitions)
    say("counting", 1, 3)
    parts = [counter.stock(dates)] if dates else []
    parts.append(counter.flow(years))
    pc = pl.concat(parts, how="vertical_relaxed")
    say("counting", 2, 3)
    plist = [d.isoformat() for d in dates] + years
    pub = count_publication(counter, pc, periods=plist, reconcile=True)
    say("counting", 3, 3)
    say("monitor", 0, 1)
    mon_years = [y for y in YEARS if dt.date(y, 1, 1) <= reg.extraction_date]
    mon = monitor_tables(reg, mon_years) if mon_years else []
    # attendance tiers and absence signals per flow school year (when the register has them)
    _add_monitor(pub, [*mon, *attendance_tables(reg, years)])
    say("monitor", 1, 1)
    say("protection", 0, 1)
    public = hidden = None
    if ledger and ledger.get("runs"):
        public, hidden = ledger_masks(pub, ledger)
    res = pub.protect(Protection(threshold=threshold), public, hidden)
    say("protection", 1, 1)
    extra = {
        "periods": {"stock": [d.isoformat() for d in dates], "flow": years},
        "monitor_years": [str(y) for y in mon_years],
        "levels": {"by_nation": "nation", "by_gemeente": "gemeente", "by_swv": "swv",
                   "by_sector": "sector", "by_school": "school"},
        "definitions": "definitions.json",
        "regions": "regions.csv",
        "geometry": GEOMETRY,
        "measures": [{"name": "oza_durations_stats", "file": "tables/oza_durations_stats.csv",
                      "of": "oza_durations", "columns": ["mean_days", "median_days"],
                      "description": "mean and median days of the ended participations of "
                                     "each published cell with at least the threshold"}],
    }
    return res, counter, extra


def _source(reg: Register) -> dict[str, Any]:
    man = reg.manifest
    synth = man.get("synth", {})
    return {"register": reg.path.name, "extraction_date": reg.extraction_date.isoformat(),
            "schema_version": man.get("schema_version"),
            "synthetic": bool(synth),
            **({"synth_seed": synth.get("seed"), "synth_scale": synth.get("scale")}
               if synth else {}),
            "tables": {n: t.get("rows") for n, t in man.get("tables", {}).items()}}


def _duration_stats(reg: Register, res: Protected, threshold: int) -> pl.DataFrame:
    pub = res.rendered("oza_durations")
    stats = durations(reg)
    out = pub.join(stats.drop("count"), on=["target_group", "lead_kind"], how="left",
                   maintain_order="left")
    ok = (pl.col("count") != SYMBOL) & (pl.col("count").cast(pl.Int64, strict=False)
                                        >= threshold)
    return out.select(
        "target_group", "lead_kind", "count",
        *(pl.when(ok).then(pl.col(c).cast(pl.String)).otherwise(pl.lit(SYMBOL)).alias(c)
          for c in ("mean_days", "median_days")))


def geometry_text(reg: Register, geometry: Path | None) -> str:
    """GeoJSON text of ``geometry``, else the register's ``geometry.geojson``, else
    synthetic boundaries of its regions."""
    if geometry is not None:
        try:
            doc = json.loads(Path(geometry).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigurationError(f"{geometry}: cannot read GeoJSON: {e}") from None
        if doc.get("type") != "FeatureCollection":
            raise ConfigurationError(f"{geometry}: not a GeoJSON FeatureCollection")
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    own = reg.path / GEOMETRY
    if own.exists():
        return own.read_text(encoding="utf-8")
    from ozamonitor.synth.boundaries import geometry_geojson

    seed = int(reg.manifest.get("synth", {}).get("seed", 0))
    return geometry_geojson(reg.read("regions"), reg.read("gemeente_regions"), seed)


def publish(register: Register | str, out: str | Path, *, first: str = DEFAULT_FIRST,
            last: str = DEFAULT_LAST, threshold: int = 10, geometry: str | Path | None = None,
            definitions: str = "all", progress: Progress | None = None) -> Path:
    """Compute, protect and write the publication folder ``out`` (atomically).

    An existing ``out/ledger.json`` is read first: cells an earlier run published
    are published again and cells it suppressed stay suppressed.
    """
    reg = Register.open(register)
    out = Path(out)
    geo = geometry_text(reg, Path(geometry) if geometry else None)  # fail early
    ledger = read_ledger(out) if out.exists() else None
    res, counter, extra = build_publication(reg, first=first, last=last, threshold=threshold,
                                            definitions=definitions, ledger=ledger,
                                            progress=progress)
    defs = [d.model_dump(mode="json") for d in counter.definitions]
    regions = reg.read("regions").filter(
        pl.col("kind").is_in(["gemeente", "swv_po", "swv_vo", "province"]))
    with atomic_dir(out) as stage:
        if out.exists() and (out / "ledger.json").exists():
            shutil.copy2(out / "ledger.json", stage / "ledger.json")
        write_folder(res, stage, source=_source(reg), extra=extra)
        (stage / GEOMETRY).write_text(geo, encoding="utf-8")
        (stage / "definitions.json").write_text(
            json.dumps(defs, indent=1, ensure_ascii=False), encoding="utf-8")
        formula_safe(regions.sort("kind", "region_id")).write_csv(stage / "regions.csv")
        formula_safe(_duration_stats(reg, res, threshold)).write_csv(
            stage / "tables" / "oza_durations_stats.csv")
    return out
