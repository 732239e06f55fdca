"""The Inspectie's quarterly thuiszitter registration per SWV, as delivered.

Every three months each samenwerkingsverband (SWV) sends the Inspectie van het
Onderwijs its thuiszitter list. The form is **cumulative**: a row is never
deleted; a child who is no longer a thuiszitter keeps its row with an end date.
Rows (one per episode):

* **LRV episodes** of enrolled pupils (*langdurig relatief verzuim*, report kind
  ``lrv``) that lasted more than 4 weeks by the end of the quarter; attributed
  to the SWV of the reporting school (mbo schools belong to no SWV and are left
  out). Category ``lrv_4w_3m`` or ``lrv_3m`` by the duration reached by the
  earlier of the episode's end and the quarter's end.
* **Exemptions 5a** (included in the Inspectie's form although the child is not
  enrolled); attributed via the exemption's gemeente and ``gemeente_regions``
  (SWV PO below age 12 at the start, SWV VO from 12; largest share).

The list holds every episode that was running on some day from ``since``
(default: the first day of the register) up to the quarter's end. It is
anonymised: no person_id, only a running row number per SWV (ordered by the
day the child entered the list, so earlier numbers never change), age at the
start, sector, category, start date, end date (empty while running) and the
duration in days up to the end date or the quarter's end.

This is a delivery of person-level (anonymised) rows to the regulator, not a
published table: it is not disclosure-controlled.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from pathlib import Path

import polars as pl

from ozamonitor.counting.output import write_table
from ozamonitor.counting.swv import SWV_KINDS, gemeente_swv, swv_kind
from ozamonitor.counting.timeline import CountingError
from ozamonitor.files import confined, safe_name, sweep_stale, temp_prefix
from ozamonitor.register.calendar import age_expr
from ozamonitor.register.store import Register

_Q = re.compile(r"^(\d{4})[- ]?Q([1-4])$", re.IGNORECASE)

COLUMNS = ("volgnummer", "swv", "leeftijd", "sector", "categorie", "startdatum",
           "einddatum", "duur_dagen")
CATEGORY_LABELS = {
    "lrv_4w_3m": "langdurig relatief verzuim 4 weken - 3 maanden",
    "lrv_3m": "langdurig relatief verzuim > 3 maanden",
    "exempt_5a": "vrijstelling 5a",
}


def parse_quarter(q: str) -> tuple[dt.date, dt.date]:
    """``"2023Q4"`` -> (2023-10-01, 2023-12-31)."""
    m = _Q.match(q.strip())
    if not m:
        raise CountingError(f"invalid quarter {q!r}; expected e.g. '2023Q4'")
    y, k = int(m.group(1)), int(m.group(2))
    start = dt.date(y, 3 * k - 2, 1)
    end = (dt.date(y + 1, 1, 1) if k == 4 else dt.date(y, 3 * k + 1, 1)) - dt.timedelta(days=1)
    return start, end


def registration(
    register: Register | str | Path,
    quarter: str,
    *,
    swv: str = "all",
    since: dt.date | None = None,
    category_labels: bool = True,
) -> pl.DataFrame:
    """The cumulative registration up to the end of ``quarter`` (all or one SWV)."""
    reg = Register.open(register)
    _, qend = parse_quarter(quarter)
    ext = reg.extraction_date
    if qend > ext:
        raise CountingError(
            f"quarter {quarter} ends {qend.isoformat()}, after the register's extraction date "
            f"{ext.isoformat()}")
    if since is not None and since > qend:
        raise CountingError(
            f"--since {since.isoformat()} lies after the end of quarter {quarter} "
            f"({qend.isoformat()}); the list would be empty. Give a start date on or "
            "before the quarter's end")
    swvs = reg.read("regions").filter(pl.col("kind").is_in(SWV_KINDS))
    known = set(swvs["region_id"].to_list())
    if swv != "all" and swv not in known:
        raise CountingError(f"unknown SWV {swv!r}; known: {', '.join(sorted(known)) or '(none)'}")
    if since is None:
        first = reg.scan("enrolments").select(pl.col("start").min()).collect().item()
        since = first or dt.date(1900, 1, 1)
    persons = reg.scan("persons").select("person_id", "birth_date")
    schools = reg.scan("schools").select("school_id", "sector", "swv_id")

    eff_end = pl.min_horizontal(pl.col("end").fill_null(pl.lit(qend)), pl.lit(qend))
    duration = (eff_end - pl.col("start")).dt.total_days() + 1

    lrv = (
        reg.scan("absence_reports").filter(pl.col("kind") == "lrv")
        .select("person_id", "school_id", pl.col("absence_start").alias("start"),
                pl.col("absence_end").alias("end"))
        .filter(pl.col("start") <= qend)
        .filter(pl.col("end").is_null() | (pl.col("end") >= since))
        .with_columns(duur=duration)
        .filter(pl.col("duur") > 28)
        .join(schools, on="school_id", how="left")
        .filter(pl.col("swv_id").is_not_null())
        .with_columns(
            entry=pl.col("start").dt.offset_by("28d"),
            categorie=pl.when(eff_end >= pl.col("start").dt.offset_by("3mo"))
            .then(pl.lit("lrv_3m")).otherwise(pl.lit("lrv_4w_3m")),
        )
        .join(persons, on="person_id", how="left")
        .select("person_id", pl.col("swv_id").alias("swv"), "sector", "categorie", "start",
                "end", "duur", "entry", "birth_date")
    )
    gr = gemeente_swv(reg.scan("gemeente_regions"), "largest_share").drop("w")
    ex = (
        reg.scan("exemptions").filter(pl.col("article") == "5a")
        .filter(pl.col("start") <= qend)
        .filter(pl.col("end").is_null() | (pl.col("end") >= since))
        .join(persons, on="person_id", how="left")
        .with_columns(
            duur=duration,
            kind=swv_kind(age_expr(pl.col("birth_date"), pl.col("start"))),
        )
        .join(gr, on=["gemeente_code", "kind"], how="inner")
        .select("person_id", pl.col("region_id").alias("swv"),
                pl.lit(None, pl.String).alias("sector"), pl.lit("exempt_5a").alias("categorie"),
                "start", "end", "duur", pl.col("start").alias("entry"), "birth_date")
    )
    rows = pl.concat([lrv, ex]).with_columns(
        end=pl.when(pl.col("end") <= qend).then(pl.col("end")).otherwise(None),
        leeftijd=age_expr(pl.col("birth_date"), pl.col("start")),
    )
    if swv != "all":
        rows = rows.filter(pl.col("swv") == swv)
    out = (
        rows.sort("swv", "entry", "person_id", "start")
        .with_columns(volgnummer=pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("swv"))
        .select(
            "volgnummer", "swv", "leeftijd", "sector",
            (pl.col("categorie").replace_strict(CATEGORY_LABELS) if category_labels
             else pl.col("categorie")),
            pl.col("start").alias("startdatum"), pl.col("end").alias("einddatum"),
            pl.col("duur").cast(pl.Int32).alias("duur_dagen"),
        )
        .collect()
    )
    return out


def export(
    register: Register | str | Path,
    quarter: str,
    out_dir: str | Path,
    *,
    swv: str = "all",
    since: dt.date | None = None,
) -> list[Path]:
    """Write ``inspectie_<SWV>_<quarter>.xlsx`` and ``.csv`` per SWV; return the paths.

    With ``swv="all"`` every SWV in the register gets its files, also when its
    list is empty. The SWV id in a file name goes through
    :func:`ozamonitor.files.safe_name` (an id such as ``PO/../../x`` cannot
    write outside ``out_dir``). The rows are per child: the files are private
    (0600, a new folder 0700). All or nothing: the files are written into a
    temporary folder and only moved into ``out_dir`` once every file is written
    (a new ``out_dir`` is the temporary folder renamed; into an existing one
    each file is moved with ``os.replace``). On an error nothing is left in
    ``out_dir``.
    """
    reg = Register.open(register)
    df = registration(reg, quarter, swv=swv, since=since)
    q = safe_name(quarter.strip().upper().replace("-", "").replace(" ", ""))
    if swv == "all":
        ids = reg.read("regions").filter(pl.col("kind").is_in(SWV_KINDS))[
            "region_id"].sort().to_list()
    else:
        ids = [swv]
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CountingError(f"{out}: exists and is not a folder")
    names: list[str] = []
    for sid in ids:
        for ext in ("xlsx", "csv"):
            name = f"inspectie_{safe_name(sid)}_{q}.{ext}"
            if name in names:
                raise CountingError(f"SWV ids {sid!r} and another give the same file name {name}")
            names.append(name)
    existed = out.is_dir()
    # an existing folder holds the temporary one (same file system: renames are
    # atomic); a new folder is created by renaming the temporary one
    parent = out if existed else out.parent
    parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(parent)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), dir=parent))
    try:
        for i, sid in enumerate(ids):
            part = df.filter(pl.col("swv") == sid)
            for j, ext in enumerate(("xlsx", "csv")):
                write_table(part, confined(tmp, names[2 * i + j]), ext, sheet="thuiszitters",
                            private=True)
        if existed:
            for name in names:
                os.replace(tmp / name, confined(out, name))
            tmp.rmdir()
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in names]
