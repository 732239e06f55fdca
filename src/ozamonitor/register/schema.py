"""The register's schema: tables, columns, types, codes and references.

This module is the single source of truth for what the register holds. Import
(`ozamonitor.register.importer`), validation (`ozamonitor.register.validate`),
the synthetic generator (`ozamonitor.synth`) and every analysis read their
column names, polars dtypes and allowed codes from here.

Conventions
-----------
* Identifiers are strings. ``person_id`` is a pseudonym (keyed HMAC-SHA256 of
  the BSN, see :mod:`ozamonitor.register.pseudonym`); no direct identifier
  is ever stored.
* Dates are ``pl.Date``. Spells are half-open in spirit but stored with an
  *inclusive* ``end`` date (the last day of the spell, as Dutch registers do);
  a null ``end`` means the spell is still running on the extraction date.
* Codes are lower-case ASCII strings; Dutch labels for display live in
  :data:`LABELS_NL`.

Every table is described by a :class:`Table` (pydantic) holding
:class:`Column` specs; validation turns those specs into vectorised polars
checks, so adding a code here is all it takes to allow it everywhere.
"""

from __future__ import annotations

import polars as pl

from ozamonitor.register.schema_detail import CARE_SPELL_COLUMNS_1_2, DETAIL_TABLES
from ozamonitor.register.tablespec import Column as Column
from ozamonitor.register.tablespec import Kind as Kind
from ozamonitor.register.tablespec import Table, _c
from ozamonitor.register.tablespec import version_tuple as version_tuple

#: The register format; a table added in a later version has ``since`` set to it, and
#: registers written before it read that table as empty.
SCHEMA_VERSION = "1.2"

# --------------------------------------------------------------------------
# Code lists
# --------------------------------------------------------------------------

SEX = ("M", "F")
PARENT_EDUCATION = ("low", "middle", "high", "unknown")
MIGRATION_BACKGROUND = ("dutch", "europe", "outside_europe")
HOUSEHOLD_TYPE = ("two_parents", "single_parent", "other", "institution")

#: Education sectors. ``mbo`` is included because the qualification duty
#: (*kwalificatieplicht*, 16 to 18) is met by enrolment in mbo.
SECTORS = ("po", "sbo", "so", "vo", "vso", "mbo")
SPECIAL_SECTORS = ("so", "vso")
PRIMARY_SECTORS = ("po", "sbo", "so")
SECONDARY_SECTORS = ("vo", "vso", "mbo")
WEC_CLUSTERS = (1, 2, 3, 4)
#: Toelaatbaarheidsverklaring (TLV) funding category for (v)so pupils.
TLV_CATEGORIES = ("low", "middle", "high")

#: Reasons an enrolment ends (*reden uitschrijving*).
ENROLMENT_END_REASONS = (
    "transfer",  # overstap naar een andere school (incl. po -> vo, vo -> mbo)
    "moved",  # verhuizing
    "removed",  # verwijdering (expelled)
    "diploma",  # diploma that is not a start qualification (e.g. vmbo)
    "start_qualification",  # havo, vwo or mbo-2+ diploma: ends kwalificatieplicht
    "emigrated",  # vertrek naar het buitenland
    "exemption",  # vrijstelling van de leerplicht
    "dropout",  # voortijdig schoolverlaten without a new school
    "care",  # opname / zorg zonder onderwijs (e.g. 24-hour care)
    "deceased",
    "other",
)

#: Kinds of absence report (*verzuimmelding*) a school sends to DUO's
#: absence desk, plus the worrying-illness report (*zorgwekkend ziekteverzuim*).
ABSENCE_KINDS = (
    "rv_16h",  # relatief verzuim: > 16 uur ongeoorloofd in 4 lesweken
    "lrv",  # langdurig relatief verzuim: > 4 weken ongeoorloofd afwezig
    "ill",  # zorgwekkend ziekteverzuim: long-term illness at home
)

#: Kinds of a day of absence (*absence_days*). ``late`` rows hold the time missed
#: in hours (minutes / 60).
ABSENCE_DAY_KINDS = ("unauthorised", "authorised", "illness", "suspension", "late")

#: Leerplichtwet exemption articles.
EXEMPTION_ARTICLES = ("5a", "5b", "15", "partial")

CARE_LAWS = ("jeugdwet", "wlz", "zvw", "wmo", "wfz")
CARE_KINDS = ("ambulant", "day_treatment", "residential_24h", "foster_care", "nursing",
              "personal_care")
FINANCIERS = ("gemeente", "zorgkantoor", "zorgverzekeraar", "justitie", "swv", "school")

WAITING_FOR = (
    "so_place",
    "vso_place",
    "regular_place",  # e.g. a newcomer waiting for a place (ISK / nieuwkomersklas)
    "care_ambulant",
    "care_day_treatment",
    "care_residential",
)

REGION_KINDS = ("gemeente", "swv_po", "swv_vo", "youth_care", "province")

OZA_DEVIATIONS = ("time", "core_objectives", "location", "funding")
OZA_TARGET_GROUPS = ("at_risk", "long_term_absent", "not_enrolled", "exempt_5a")
OZA_LEAD_KINDS = ("school", "swv")
OZA_END_REASONS = (
    "regular_education",  # doorstroom naar regulier onderwijs
    "special_education",  # naar (v)so
    "other_arrangement",
    "care",  # zorg zonder onderwijs
    "qualification",  # diploma / startkwalificatie behaald
    "day_activities",  # dagbesteding
    "moved",
    "dropout",
    "other",
)

# --------------------------------------------------------------------------
# Table specifications
# --------------------------------------------------------------------------

PERSONS = Table(
    name="persons",
    description="Children and young people: pseudonymous id and background characteristics.",
    primary_key=("person_id",),
    columns=(
        _c("person_id", "str", description="pseudonym (HMAC-SHA256 of the BSN)"),
        _c("birth_date", "date"),
        _c("sex", "str", codes=SEX),
        _c("parent_education", "str", codes=PARENT_EDUCATION),
        _c("income_decile", "int", nullable=True, min=1, max=10),
        _c("migration_background", "str", codes=MIGRATION_BACKGROUND),
        _c("household_type", "str", codes=HOUSEHOLD_TYPE),
        _c("newcomer_arrival_date", "date", nullable=True,
           description="date of arrival in NL for newcomers (nieuwkomers), else null"),
        _c("child_protection", "bool",
           description="ever under a child-protection measure (kinderbeschermingsmaatregel)"),
    ),
)

RESIDENCES = Table(
    name="residences",
    description="Gemeente of residence as dated spells (children move; abroad = no spell).",
    primary_key=("person_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("gemeente_code", "str", references="regions.region_id"),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

REGIONS = Table(
    name="regions",
    description="Gemeenten (CBS code GMxxxx), SWV PO and VO, youth-care regions, provinces "
    "(CBS code PVxx; optional).",
    primary_key=("region_id",),
    columns=(
        _c("region_id", "str"),
        _c("kind", "str", codes=REGION_KINDS),
        _c("name", "str"),
    ),
)

GEMEENTE_REGIONS = Table(
    name="gemeente_regions",
    description=(
        "Which SWVs, youth-care region and (optionally) province each gemeente lies in. A "
        "gemeente can lie in several SWVs; ``share`` is the fraction of its pupils living in "
        "that SWV's part (1 for its youth-care region and province)."
    ),
    primary_key=("gemeente_code", "region_id"),
    columns=(
        _c("gemeente_code", "str", references="regions.region_id"),
        _c("region_id", "str", references="regions.region_id"),
        _c("kind", "str", codes=("swv_po", "swv_vo", "youth_care", "province")),
        _c("share", "float", min=0.0, max=1.0),
    ),
)

SCHOOLS = Table(
    name="schools",
    description="School locations: BRIN (4 chars) + location number (2 digits).",
    primary_key=("school_id",),
    columns=(
        _c("school_id", "str", description="BRIN + vestigingsnummer, e.g. 12AB00"),
        _c("brin", "str"),
        _c("name", "str"),
        _c("sector", "str", codes=SECTORS),
        _c("wec_cluster", "int", nullable=True, codes=WEC_CLUSTERS,
           description="WEC cluster for (v)so schools, else null"),
        _c("gemeente_code", "str", references="regions.region_id"),
        _c("swv_id", "str", nullable=True, references="regions.region_id",
           description="SWV PO for po/sbo/so, SWV VO for vo/vso; null for mbo"),
    ),
)

ENROLMENTS = Table(
    name="enrolments",
    description="Inschrijvingen: one row per enrolment of a person at a school location.",
    primary_key=("person_id", "school_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", references="schools.school_id"),
        _c("start", "date"),
        _c("end", "date", nullable=True),
        _c("end_reason", "str", nullable=True, codes=ENROLMENT_END_REASONS),
        _c("tlv_category", "str", nullable=True, codes=TLV_CATEGORIES,
           description="TLV category; required where the school is so or vso"),
    ),
)

ABSENCE_REPORTS = Table(
    name="absence_reports",
    description="Verzuimmeldingen by schools to DUO's absence desk.",
    primary_key=("report_id",),
    spell=("absence_start", "absence_end"),
    columns=(
        _c("report_id", "str"),
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", references="schools.school_id"),
        _c("report_date", "date"),
        _c("kind", "str", codes=ABSENCE_KINDS),
        _c("absence_start", "date"),
        _c("absence_end", "date", nullable=True),
    ),
)

ATTENDANCE = Table(
    name="attendance",
    description="Hours per pupil per school month (first day of the month).",
    primary_key=("person_id", "school_id", "month"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", references="schools.school_id"),
        _c("month", "date"),
        _c("scheduled_hours", "int", min=0, max=400),
        _c("present_hours", "int", min=0, max=400),
        _c("excused_hours", "int", min=0, max=400),
        _c("unexcused_hours", "int", min=0, max=400),
    ),
)

EXEMPTIONS = Table(
    name="exemptions",
    description="Vrijstellingen from the Leerplichtwet (DUO's exemption register).",
    primary_key=("person_id", "article", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("article", "str", codes=EXEMPTION_ARTICLES),
        _c("start", "date"),
        _c("end", "date", nullable=True),
        _c("gemeente_code", "str", references="regions.region_id"),
    ),
)

CARE_SPELLS = Table(
    name="care_spells",
    description="Youth care, Wlz, Zvw, Wmo and forensic care spells.",
    primary_key=("person_id", "law", "kind", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("law", "str", codes=CARE_LAWS),
        _c("kind", "str", codes=CARE_KINDS),
        _c("financier", "str", codes=FINANCIERS),
        _c("start", "date"),
        _c("end", "date", nullable=True),
        *CARE_SPELL_COLUMNS_1_2,
    ),
)

WAITING_LISTS = Table(
    name="waiting_lists",
    description="Waiting for a (v)so place, a school place or care.",
    primary_key=("person_id", "waiting_for", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("waiting_for", "str", codes=WAITING_FOR),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

ARRANGEMENTS = Table(
    name="arrangements",
    description="Education-care arrangements (OZA) admitted to the experiment.",
    primary_key=("arrangement_id",),
    columns=(
        _c("arrangement_id", "str"),
        _c("initiative_id", "str"),
        _c("name", "str"),
        _c("lead_kind", "str", codes=OZA_LEAD_KINDS),
        _c("lead_id", "str", description="school_id or SWV region_id of the lead board"),
        _c("swv_id", "str", references="regions.region_id"),
        _c("gemeente_code", "str", references="regions.region_id"),
        _c("care_provider", "str"),
        _c("financiers", "str", codes=FINANCIERS, multi=True),
        _c("deviations", "str", codes=OZA_DEVIATIONS, multi=True),
        _c("target_groups", "str", codes=OZA_TARGET_GROUPS, multi=True),
        _c("start", "date"),
    ),
)

OZA_PARTICIPATION = Table(
    name="oza_participation",
    description="Participation of pupils in an arrangement.",
    primary_key=("person_id", "arrangement_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("arrangement_id", "str", references="arrangements.arrangement_id"),
        _c("start", "date"),
        _c("end", "date", nullable=True),
        _c("end_reason", "str", nullable=True, codes=OZA_END_REASONS),
    ),
)

ABSENCE_DAYS = Table(
    name="absence_days",
    since="1.1",
    description=(
        "Absence per pupil, school, school day and kind, in hours (sparse: a school day "
        "without a row is a day present). Primary schools may deliver half days "
        "(``dagdelen``) and late arrivals may come in ``minutes``: the import converts them "
        "to ``hours`` (see docs/attendance.md)."),
    primary_key=("person_id", "school_id", "date", "kind"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", references="schools.school_id"),
        _c("date", "date", description="a school day of the school's holiday region"),
        _c("hours", "float", min=0.0, max=24.0,
           description="hours absent that day (late: time missed); filled on import from "
                       "dagdelen or minutes when empty"),
        _c("kind", "str", codes=ABSENCE_DAY_KINDS),
        _c("scheduled_hours", "float", nullable=True, min=0.0, max=24.0,
           description="the pupil's scheduled hours that day when they differ from the "
                       "sector default of the school calendar"),
        _c("dagdelen", "int", nullable=True, min=1, max=2,
           description="half days absent (primary schools); hours = dagdelen x half the "
                       "day's scheduled hours"),
        _c("minutes", "int", nullable=True, min=1, max=1440,
           description="minutes absent or late; hours = minutes / 60"),
    ),
)

#: All tables, in dependency order (referenced tables first).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        REGIONS,
        GEMEENTE_REGIONS,
        SCHOOLS,
        PERSONS,
        RESIDENCES,
        ENROLMENTS,
        ABSENCE_REPORTS,
        ATTENDANCE,
        EXEMPTIONS,
        CARE_SPELLS,
        WAITING_LISTS,
        ARRANGEMENTS,
        OZA_PARTICIPATION,
        ABSENCE_DAYS,
        *DETAIL_TABLES,
    )
}

#: Tables that carry a BSN on import (the pseudonym replaces it).
PERSON_TABLES = tuple(n for n, t in TABLES.items() if "person_id" in t.column_names)


def table(name: str) -> Table:
    """Return the :class:`Table` called ``name`` or raise a clear error."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(
            f"unknown register table {name!r}; known tables: {', '.join(TABLES)}"
        ) from None


def empty_frame(name: str) -> pl.DataFrame:
    """An empty polars frame with the table's schema."""
    return pl.DataFrame(schema=table(name).polars_schema)


def conform(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``df``'s columns to the table's schema (no validation).

    A nullable column added in a later schema version (``Column.since``) that ``df``
    lacks is filled with nulls.
    """
    t = table(name)
    have = set(df.columns)
    return df.select([
        pl.col(c.name).cast(c.dtype) if c.name in have or not (c.nullable and c.since != "1.0")
        else pl.lit(None, c.dtype).alias(c.name) for c in t.columns])


# --------------------------------------------------------------------------
# Dutch labels for user-facing output
# --------------------------------------------------------------------------

LABELS_NL: dict[str, str] = {
    "po": "basisonderwijs",
    "sbo": "speciaal basisonderwijs",
    "so": "speciaal onderwijs",
    "vo": "voortgezet onderwijs",
    "vso": "voortgezet speciaal onderwijs",
    "mbo": "middelbaar beroepsonderwijs",
    "rv_16h": "relatief verzuim (> 16 uur in 4 weken)",
    "lrv": "langdurig relatief verzuim",
    "ill": "zorgwekkend ziekteverzuim",
    "5a": "vrijstelling art. 5a (lichamelijke of psychische ongeschiktheid)",
    "5b": "vrijstelling art. 5b (richtingbezwaren)",
    "15": "vrijstelling art. 15 (onderwijs in het buitenland)",
    "partial": "gedeeltelijke vrijstelling",
    "jeugdwet": "Jeugdwet",
    "wlz": "Wet langdurige zorg",
    "zvw": "Zorgverzekeringswet",
    "wmo": "Wmo 2015",
    "wfz": "Wet forensische zorg",
    "gemeente": "gemeente",
    "swv_po": "samenwerkingsverband PO",
    "swv_vo": "samenwerkingsverband VO",
    "youth_care": "jeugdzorgregio",
    "province": "provincie",
    "nation": "Nederland",
    "unauthorised": "ongeoorloofd afwezig",
    "authorised": "geoorloofd afwezig",
    "illness": "ziek",
    "suspension": "schorsing",
    "late": "te laat",
    "neurocognitive": "neurocognitieve ontwikkeling",
    "social_emotional": "sociaal-emotionele ontwikkeling",
    "physical_health": "lichamelijke gezondheid",
    "mental_health": "psychische gezondheid",
    "family_context": "gezinscontext",
    "risky_circumstances": "risicovolle omstandigheden",
    "system_mismatch": "mismatch leerling en systeem",
    "pgb": "persoonsgebonden budget",
    "in_kind": "zorg in natura",
    "removal": "verwijdering",
    "further_education": "vervolgonderwijs",
    "labour_market": "arbeidsmarkt",
    "day_activities": "dagbesteding",
    "extra_guidance": "extra begeleiding op school",
    "part_time_teaching": "enkele uren les plus ondersteuning",
    "class_at_school": "klas op een reguliere school",
    "intermediate_provision": "tussenvoorziening",
    "opdc": "OPDC",
    "distance_learning": "afstandsonderwijs",
    "care_location_teaching": "onderwijs op een zorglocatie",
    "personal_care": "persoonlijke verzorging",
}


def label(code: str, lang: str = "nl") -> str:
    """Display label of a code (Dutch by default; English returns the code)."""
    if lang == "nl":
        return LABELS_NL.get(code, code)
    return code.replace("_", " ")
