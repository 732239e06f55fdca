"""A tiny hand-made register in exchange format (with BSNs), valid by construction.

Four children in two gemeenten, five schools, two arrangements: enough to touch
every table and every validation rule once. Used by ``ozamonitor
export-template --example``, the documentation and the tests. All persons and
BSNs are made up (the BSNs merely pass the eleven-test).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ozamonitor.register.schema import TABLES

#: Extraction date of the example.
EXAMPLE_EXTRACTION_DATE = dt.date(2025, 10, 15)

_D = dt.date.fromisoformat


def _frame(name: str, rows: list[tuple[object, ...]], *, bsn: bool = True) -> pl.DataFrame:
    t = TABLES[name]
    schema = dict(t.polars_schema)
    if bsn and "person_id" in schema:
        schema = {("bsn" if k == "person_id" else k): v for k, v in schema.items()}
    cols = list(schema)
    data = {
        c: [(_D(v) if schema[c] == pl.Date and isinstance(v, str) else v) for v in col]
        for c, col in zip(cols, zip(*rows, strict=True), strict=True)
    }
    return pl.DataFrame(data, schema=schema)


def example_source_tables() -> dict[str, pl.DataFrame]:
    """The example as the field would deliver it: person tables carry ``bsn``."""
    n = None
    return {
        "regions": _frame("regions", [
            ("GM0363", "gemeente", "Amsterdam"),
            ("GM0344", "gemeente", "Utrecht"),
            ("PO2701", "swv_po", "SWV PO Voorbeeld"),
            ("VO2701", "swv_vo", "SWV VO Voorbeeld"),
            ("JZ14", "youth_care", "Jeugdzorgregio Voorbeeld"),
        ]),
        "gemeente_regions": _frame("gemeente_regions", [
            ("GM0363", "PO2701", "swv_po", 1.0),
            ("GM0363", "VO2701", "swv_vo", 1.0),
            ("GM0363", "JZ14", "youth_care", 1.0),
            ("GM0344", "PO2701", "swv_po", 1.0),
            ("GM0344", "VO2701", "swv_vo", 1.0),
            ("GM0344", "JZ14", "youth_care", 1.0),
        ]),
        "schools": _frame("schools", [
            ("10AA00", "10AA", "Basisschool De Linde", "po", n, "GM0363", "PO2701"),
            ("20BB00", "20BB", "Het Lyceum", "vo", n, "GM0363", "VO2701"),
            ("30CC00", "30CC", "SO De Brug", "so", 4, "GM0344", "PO2701"),
            ("40DD00", "40DD", "ROC Voorbeeld", "mbo", n, "GM0363", n),
            ("50EE00", "50EE", "VSO De Horizon", "vso", 3, "GM0344", "VO2701"),
        ]),
        "persons": _frame("persons", [
            ("111222333", "2012-03-15", "M", "middle", 5, "dutch", "two_parents", n, False),
            ("123456782", "2009-11-02", "F", "low", n, "outside_europe", "single_parent",
             "2016-05-01", True),
            ("012345672", "2014-07-20", "F", "high", 9, "europe", "two_parents", n, False),
            ("100000009", "2007-01-10", "M", "unknown", 2, "dutch", "institution", n, True),
        ]),
        "residences": _frame("residences", [
            ("111222333", "GM0363", "2012-03-15", n),
            ("123456782", "GM0344", "2016-05-01", "2020-06-30"),
            ("123456782", "GM0363", "2020-07-01", n),
            ("012345672", "GM0344", "2014-07-20", n),
            ("100000009", "GM0363", "2010-01-01", n),
        ]),
        "enrolments": _frame("enrolments", [
            ("111222333", "10AA00", "2016-08-01", "2024-07-31", "transfer", n),
            ("111222333", "20BB00", "2024-08-01", n, n, n),
            ("123456782", "10AA00", "2016-06-01", "2019-03-31", "removed", n),
            ("123456782", "30CC00", "2019-09-01", "2022-07-31", "transfer", "middle"),
            ("123456782", "50EE00", "2022-08-01", "2023-12-31", "exemption", "high"),
            ("012345672", "10AA00", "2018-09-01", n, n, n),
            ("100000009", "20BB00", "2019-08-01", "2022-02-28", "dropout", n),
            ("100000009", "40DD00", "2024-09-01", n, n, n),
        ]),
        "absence_reports": _frame("absence_reports", [
            ("R0001", "100000009", "20BB00", "2021-11-15", "lrv", "2021-10-01", "2022-02-28"),
            ("R0002", "123456782", "10AA00", "2018-12-01", "rv_16h", "2018-11-05", "2018-11-30"),
        ]),
        "attendance": _frame("attendance", [
            ("111222333", "10AA00", "2024-05-01", 100, 90, 6, 4),
            ("100000009", "20BB00", "2021-10-01", 120, 20, 0, 100),
        ]),
        "exemptions": _frame("exemptions", [
            ("123456782", "5a", "2024-01-01", n, "GM0363"),
        ]),
        "care_spells": _frame("care_spells", [
            ("123456782", "jeugdwet", "day_treatment", "gemeente", "2019-01-01", "2021-12-31",
             "in_kind", "GM0344"),
            ("100000009", "wlz", "residential_24h", "zorgkantoor", "2022-03-01", n, "pgb", n),
        ]),
        "waiting_lists": _frame("waiting_lists", [
            ("123456782", "vso_place", "2019-04-01", "2019-08-31"),
        ]),
        "arrangements": _frame("arrangements", [
            ("OZA01", "INI01", "Samen naar school", "school", "30CC00", "PO2701", "GM0363",
             "Zorgaanbieder A", "gemeente;swv", "time;location", "long_term_absent;exempt_5a",
             "2023-08-01"),
            ("OZA02", "INI02", "Leren op de zorgboerderij", "swv", "VO2701", "VO2701", "GM0344",
             "Zorgaanbieder B", "zorgkantoor", "funding", "not_enrolled", "2024-01-01"),
        ]),
        "oza_participation": _frame("oza_participation", [
            ("123456782", "OZA01", "2023-09-01", n, n),
            ("100000009", "OZA02", "2024-09-01", "2025-06-30", "qualification"),
        ]),
        "absence_days": _frame("absence_days", [
            ("012345672", "10AA00", "2024-09-10", 5.0, "unauthorised", n, n, n),
            ("012345672", "10AA00", "2024-09-11", 2.0, "illness", n, n, n),
            ("012345672", "10AA00", "2024-09-12", 0.25, "late", n, n, 15),
            ("012345672", "10AA00", "2024-11-05", 2.5, "illness", n, 1, n),
            ("012345672", "10AA00", "2024-11-06", 3.0, "authorised", 3.0, n, n),
        ]),
        **_detail_tables(),
    }


def _detail_tables() -> dict[str, pl.DataFrame]:
    """The tables of schema 1.2 (support needs, care by law, school events, arrangement detail)."""
    n = None
    return {
        "support_needs": _frame("support_needs", [
            ("123456782", "mental_health", "opp", "2019-09-01", n),
            ("123456782", "family_context", "care_indication", "2019-01-01", n),
            ("100000009", "neurocognitive", "tlv", "2019-08-01", n),
            ("100000009", "physical_health", "care_indication", "2022-02-01", n),
        ]),
        "tlvs": _frame("tlvs", [
            ("123456782", "PO2701", "middle", 4, "2019-08-15", "2022-07-31"),
            ("123456782", "VO2701", "high", 4, "2022-08-01", n),
            ("100000009", "VO2701", "high", 3, "2019-08-01", "2022-02-28"),
        ]),
        "wlz_indications": _frame("wlz_indications", [
            ("100000009", "vg", "2022-02-01", n),
        ]),
        "school_events": _frame("school_events", [
            ("123456782", "10AA00", "suspension", "2018-10-01", "2018-10-03"),
            ("123456782", "10AA00", "removal", "2019-03-31", "2019-03-31"),
        ]),
        "opps": _frame("opps", [
            ("123456782", "50EE00", "day_activities", "2022-09-01", n),
        ]),
        "qualifications": _frame("qualifications", [
            ("100000009", "20BB00", "diploma", "2021-07-01"),
        ]),
        "pupil_transport": _frame("pupil_transport", [
            ("123456782", "school", "gemeente", "2019-09-01", "2022-07-31"),
            ("100000009", "care_location", "zorgkantoor", "2024-09-01", "2025-06-30"),
        ]),
        "arrangement_periods": _frame("arrangement_periods", [
            ("OZA01", "2023-08-01", "2024-07-31", "class_at_school", 12.0, "school_grounds",
             "time;location", "gemeente;swv"),
            ("OZA01", "2024-08-01", n, "class_at_school", 16.0, "school_grounds", "time",
             "gemeente;swv"),
            ("OZA02", "2024-01-01", n, "care_location_teaching", 8.0, "care_location",
             "funding", "zorgkantoor"),
        ]),
        "arrangement_providers": _frame("arrangement_providers", [
            ("OZA01", "AGB01234567", "gemeente", "2023-08-01", n),
            ("OZA02", "AGB07654321", "zorgkantoor", "2024-01-01", n),
        ]),
    }
