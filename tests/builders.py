"""Registers built by hand for the tests, with every child known by construction.

Imported by ``conftest.py`` (which offers them as fixtures) and by test modules
that need the classes and constants themselves (``from builders import ...``);
this is a helper module, not a test module, so pytest does not collect it.

* :class:`Builder` - add children with their enrolments, absences, exemptions,
  care and waiting lists, then write a register (regions, SWVs and schools
  fixed: :data:`REGIONS`, :data:`GEMEENTE_REGIONS`, :data:`SCHOOLS`);
* :func:`stock_register` - the children whose status on :data:`P` under every
  counting definition is :data:`EXPECTED`;
* :func:`random_register` - children with regular, absence -> OZA, exemption and
  special-education trajectories (for the trajectory and sequence pipelines).
"""


from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.register.schema import TABLES
from ozamonitor.register.store import Register, write_register

D = dt.date
EXTRACTION = D(2024, 7, 31)

REGIONS = [
    ("GM0001", "gemeente", "Eendorp"),
    ("GM0002", "gemeente", "Tweestad"),
    ("PO01", "swv_po", "SWV PO Een"),
    ("PO02", "swv_po", "SWV PO Twee"),
    ("VO01", "swv_vo", "SWV VO Een"),
]
GEMEENTE_REGIONS = [
    ("GM0001", "PO01", "swv_po", 1.0),
    ("GM0001", "VO01", "swv_vo", 1.0),
    ("GM0002", "PO01", "swv_po", 0.3),  # Tweestad lies in two SWVs PO
    ("GM0002", "PO02", "swv_po", 0.7),
    ("GM0002", "VO01", "swv_vo", 1.0),
]
SCHOOLS = [
    ("01AA00", "01AA", "Basisschool Een", "po", None, "GM0001", "PO01"),
    ("02BB00", "02BB", "Basisschool Twee", "po", None, "GM0002", "PO02"),
    ("03CC00", "03CC", "College Een", "vo", None, "GM0001", "VO01"),
    ("04DD00", "04DD", "ROC", "mbo", None, "GM0001", None),
]


def _frame(name: str, rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    schema = TABLES[name].polars_schema
    return pl.DataFrame(rows, schema=list(schema), orient="row").cast(schema)  # type: ignore


class Builder:
    """Collects children and writes a register."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {n: [] for n in TABLES}
        self._report = 0

    def child(
        self,
        pid: str,
        birth: dt.date,
        *,
        gemeente: str | None = "GM0001",
        resident_from: dt.date | None = None,
        enrol: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
        absence: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
        exempt: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
        care: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
        waiting: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
        sex: str = "M",
    ) -> Builder:
        """Add a child. enrol: (school, start, end[, reason]); absence: (kind, start, end)."""
        self.rows["persons"].append(
            (pid, birth, sex, "middle", 5, "dutch", "two_parents", None, False))
        if gemeente is not None:
            self.rows["residences"].append((pid, gemeente, resident_from or birth, None))
        for e in enrol:
            school, start, end, *rest = e
            self.rows["enrolments"].append((pid, school, start, end, rest[0] if rest else (
                "transfer" if end else None), None))
        for kind, start, end, *rest in absence:
            self._report += 1
            school = rest[0] if rest else (enrol[0][0] if enrol else "01AA00")
            self.rows["absence_reports"].append(
                (f"R{self._report:05d}", pid, school, start, kind, start, end))
        for article, start, end in exempt:
            self.rows["exemptions"].append((pid, article, start, end, gemeente or "GM0001"))
        for kind, start, end in care:
            self.rows["care_spells"].append((pid, "wlz", kind, "zorgkantoor", start, end, None,
                                             None))
        for what, start, end in waiting:
            self.rows["waiting_lists"].append((pid, what, start, end))
        return self

    def write(self, path: Path, extraction: dt.date = EXTRACTION) -> Register:
        tables = {
            "regions": _frame("regions", REGIONS),
            "gemeente_regions": _frame("gemeente_regions", GEMEENTE_REGIONS),
            "schools": _frame("schools", SCHOOLS),
        }
        for name, rows in self.rows.items():
            if rows:
                tables[name] = _frame(name, rows)
        write_register(path, tables, extraction_date=extraction)
        return Register(path)


P = D(2023, 10, 1)  # reference date of the stock tests
BORN = D(2012, 3, 15)  # age 11 on P: leerplichtig
SCHOOL_START = D(2017, 4, 1)


def stock_register(path: Path) -> Register:
    """Children whose status on 2023-10-01 is known by construction (see EXPECTED)."""
    b = Builder()
    enrolled = [("01AA00", SCHOOL_START, None)]
    b.child("lrv28", BORN, enrol=enrolled, absence=[("lrv", D(2023, 9, 4), None)])
    b.child("lrv29", BORN, enrol=enrolled, absence=[("lrv", D(2023, 9, 3), None)])
    b.child("lrv3m_eq", BORN, enrol=enrolled, absence=[("lrv", D(2023, 7, 2), None)])
    b.child("lrv3m_plus", BORN, enrol=enrolled, absence=[("lrv", D(2023, 7, 1), None)])
    b.child("av1", BORN, enrol=[("01AA00", SCHOOL_START, D(2023, 9, 30), "removed")])
    b.child("av3m", BORN, gemeente="GM0002",
            enrol=[("02BB00", SCHOOL_START, D(2023, 6, 30), "moved")])
    b.child("exempt5a", BORN, enrol=[("01AA00", SCHOOL_START, D(2021, 12, 31), "exemption")],
            exempt=[("5a", D(2022, 1, 1), None)])
    b.child("exempt5b", BORN, exempt=[("5b", D(2017, 4, 1), None)])
    b.child("young", D(2018, 9, 15))  # leerplichtig from 2023-10-01, never enrolled
    b.child("young_not_yet", D(2018, 10, 15))  # leerplichtig from 2023-11-01
    b.child("q_nosq", D(2006, 5, 1),
            enrol=[("03CC00", D(2018, 8, 1), D(2023, 6, 30), "diploma")])
    b.child("q_sq", D(2006, 5, 1),
            enrol=[("03CC00", D(2018, 8, 1), D(2023, 6, 30), "start_qualification")])
    b.child("ill", BORN, enrol=enrolled, absence=[("ill", D(2023, 5, 1), None)])
    b.child("care24", BORN, enrol=[("01AA00", SCHOOL_START, D(2023, 1, 31), "care")],
            care=[("residential_24h", D(2023, 2, 1), None)])
    b.child("lapsed", BORN, enrol=[("01AA00", SCHOOL_START, D(2021, 12, 31), "exemption")],
            exempt=[("5a", D(2022, 1, 1), D(2023, 6, 30))])
    b.child("waiting", BORN, enrol=enrolled, absence=[("rv_16h", D(2023, 9, 20), None)],
            waiting=[("care_ambulant", D(2023, 6, 1), None)])
    b.child("rv", BORN, enrol=enrolled, absence=[("rv_16h", D(2023, 9, 20), None)])
    b.child("abroad", BORN, gemeente=None)
    b.child("adult", D(2004, 1, 1))
    b.child("ordinary", BORN, enrol=enrolled)
    return b.write(path)


#: definition -> category -> children counted on P.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "ocw2016": {"av": {"av1", "av3m", "young"},
                "lrv_4w": {"lrv29", "lrv3m_eq", "lrv3m_plus"}},
    "inspectie": {"av": {"av1", "av3m", "young"}, "lrv_3m": {"lrv3m_plus"},
                  "lrv_4w_3m": {"lrv29", "lrv3m_eq"}, "rv": {"lrv28", "rv", "waiting"}},
    "vsvkompas": {"av_3m": {"av3m", "q_nosq"}, "lrv_3m": {"lrv3m_plus"}},
    "vws": {"av": {"av1", "av3m", "young"}, "lrv_4w": {"lrv29", "lrv3m_eq", "lrv3m_plus"},
            "exempt_5a": {"exempt5a"}},
    "balans": {"enrolled_3m": {"lrv3m_plus"}, "not_enrolled_3m": {"av3m", "q_nosq"},
               "not_enrolled_lt3m": {"av1", "young"}, "enrolled_4w_3m": {"lrv29", "lrv3m_eq"},
               "exempt_5a": {"exempt5a"}},
    "oza": {"exempt_5a": {"exempt5a"}, "not_enrolled": {"av1", "av3m", "young"},
            "long_term_absent": {"lrv29", "lrv3m_eq", "lrv3m_plus"},
            "at_risk": {"lrv28", "rv", "waiting"}},
    "latent": {"av": {"av1", "av3m", "young", "q_nosq"},
               "lrv_4w": {"lrv29", "lrv3m_eq", "lrv3m_plus"}, "exempt_5a": {"exempt5a"},
               "care_24h": {"care24"}, "lapsed_exemption": {"lapsed"}, "ill": {"ill"},
               "waiting": {"waiting"}},
}


def random_register(path: Path, n: int = 150, seed: int = 0) -> Path:
    """Children with three kinds of trajectories: regular, absence -> OZA, exemption."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:04d}" for i in range(n)]
    births = [D(2008, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 1500, n)]
    kind = rng.choice(["regular", "oza", "exempt", "special"], n, p=[0.4, 0.25, 0.15, 0.2])
    persons = pl.DataFrame({
        "person_id": ids, "birth_date": births,
        "sex": np.where(kind == "oza", rng.choice(["M", "F"], n, p=[0.8, 0.2]),
                        rng.choice(["M", "F"], n)).tolist(),
        "parent_education": rng.choice(["low", "middle", "high"], n).tolist(),
        "income_decile": rng.integers(1, 11, n).tolist(),
        "migration_background": rng.choice(["dutch", "europe", "outside_europe"], n).tolist(),
        "household_type": rng.choice(["two_parents", "single_parent"], n).tolist(),
        "newcomer_arrival_date": [None] * n, "child_protection": (rng.random(n) < 0.2).tolist(),
    })
    res = pl.DataFrame({"person_id": ids, "gemeente_code": ["GM0363"] * n,
                        "start": births, "end": [None] * n})
    schools = pl.DataFrame({
        "school_id": ["00AA00", "00BB00", "00CC00"], "brin": ["00AA", "00BB", "00CC"],
        "name": ["po", "vo", "vso"], "sector": ["po", "vo", "vso"],
        "wec_cluster": [None, None, 4], "gemeente_code": ["GM0363"] * 3,
        "swv_id": ["PO1", "VO1", "VO1"],
    })
    enr, oza, absn, ex = [], [], [], []
    for i, pid in enumerate(ids):
        b = births[i]
        s = D(b.year + 5, 8, 1)
        shift = dt.timedelta(days=int(rng.integers(0, 700)))
        t1 = D(2019, 3, 1) + shift
        if kind[i] == "regular":
            enr.append((pid, "00AA00", s, None, None, None))
        elif kind[i] == "special":
            enr.append((pid, "00AA00", s, t1, "transfer", None))
            enr.append((pid, "00CC00", t1 + dt.timedelta(days=1), None, None, "middle"))
        elif kind[i] == "oza":
            enr.append((pid, "00BB00", s, None, None, None))
            absn.append((f"r{i}", pid, "00BB00", t1, "lrv", t1,
                         t1 + dt.timedelta(days=int(rng.integers(90, 300)))))
            o = t1 + dt.timedelta(days=330)
            oza.append((pid, "A1", o, o + dt.timedelta(days=int(rng.integers(200, 600))),
                        None))
        else:
            enr.append((pid, "00AA00", s, t1, "exemption", None))
            ex.append((pid, "5a", t1 + dt.timedelta(days=1), None, "GM0363"))
    enrolments = pl.DataFrame(enr, schema=["person_id", "school_id", "start", "end",
                                           "end_reason", "tlv_category"], orient="row")
    return write_register(path, {
        "persons": persons, "residences": res, "schools": schools, "enrolments": enrolments,
        "oza_participation": pl.DataFrame(oza, schema=["person_id", "arrangement_id", "start",
                                                       "end", "end_reason"], orient="row"),
        "absence_reports": pl.DataFrame(absn, schema=["report_id", "person_id", "school_id",
                                                      "report_date", "kind", "absence_start",
                                                      "absence_end"], orient="row"),
        "exemptions": pl.DataFrame(ex, schema=["person_id", "article", "start", "end",
                                               "gemeente_code"], orient="row"),
    }, extraction_date=D(2025, 1, 1))
