"""Schema 1.2: what the study needs to know about each child and each arrangement.

Support needs over time, the TLV and the child's WEC cluster, the Wlz indication
(CIZ) with its care profile, school-side events (suspension, removal), the OPP with
its exit profile, diplomas, pupil transport, and the arrangement's detail over time
(type, hours, location, deviations, financiers) and its care providers with their
financiers (domain.md sections 2, 3, 5, 7 and 11). ``care_spells`` gains two columns
(:data:`CARE_SPELL_COLUMNS_1_2`): how care is delivered (pgb or in kind) and which
gemeente decided (Jeugdwet).

Every table and column here has ``since="1.2"``: a register written before reads the
tables as empty and the columns as null (:class:`ozamonitor.register.store.Register`).
"""

from __future__ import annotations

from ozamonitor.register.tablespec import Table, _c

__all__ = [
    "ARRANGEMENT_LOCATIONS",
    "ARRANGEMENT_PERIODS",
    "ARRANGEMENT_PROVIDERS",
    "ARRANGEMENT_TYPES",
    "CARE_DELIVERY",
    "CARE_FINANCIERS",
    "CARE_SPELL_COLUMNS_1_2",
    "DETAIL_TABLES",
    "EXIT_PROFILES",
    "OPPS",
    "PUPIL_TRANSPORT",
    "QUALIFICATIONS",
    "QUALIFICATION_KINDS",
    "SCHOOL_EVENTS",
    "SCHOOL_EVENT_KINDS",
    "SUPPORT_NEEDS",
    "SUPPORT_NEED_KINDS",
    "SUPPORT_NEED_SOURCES",
    "TLVS",
    "TRANSPORT_DESTINATIONS",
    "WLZ_CARE_PROFILES",
    "WLZ_INDICATIONS",
]

V = "1.2"

#: The seven kinds of complex support need named in the OZA plans (domain.md section 5).
SUPPORT_NEED_KINDS = (
    "neurocognitive",  # neurocognitieve ontwikkeling
    "social_emotional",  # sociaal-emotionele ontwikkeling
    "physical_health",  # lichamelijke gezondheid
    "mental_health",  # psychische gezondheid (ICD-10; ASS, ADHD; internaliserend, externaliserend)
    "family_context",  # gezinscontext
    "risky_circumstances",  # risicovolle omstandigheden (jeugdbescherming, uithuisplaatsing)
    "system_mismatch",  # mismatch leerling-schoolsysteem of onderwijs-zorgwetgeving
)
#: Where a recorded support need comes from.
SUPPORT_NEED_SOURCES = ("opp", "tlv", "care_indication")
#: Wlz care profiles (*zorgprofielen*) of a CIZ indication.
WLZ_CARE_PROFILES = ("vg", "lvg", "sglvg", "lg", "zg_auditief", "zg_visueel", "ggz_b", "vv")
#: How care is delivered: a personal budget (pgb) or in kind (*zorg in natura*).
CARE_DELIVERY = ("pgb", "in_kind")
#: Financiers of care providers (section 7): never the school or SWV.
CARE_FINANCIERS = ("gemeente", "zorgkantoor", "zorgverzekeraar", "justitie")
SCHOOL_EVENT_KINDS = ("suspension", "removal")
#: Exit profile (*uitstroomprofiel*) of an OPP in vso / pro.
EXIT_PROFILES = ("further_education", "labour_market", "day_activities")
QUALIFICATION_KINDS = ("diploma", "start_qualification")
TRANSPORT_DESTINATIONS = ("school", "care_location")
#: Arrangement types seen in the field (domain.md section 11).
ARRANGEMENT_TYPES = (
    "extra_guidance",  # extra begeleiding op school (expertiseteam in de klas)
    "part_time_teaching",  # enkele uren les plus ondersteuning elders
    "class_at_school",  # een klas op het terrein van een reguliere school
    "intermediate_provision",  # tussenvoorziening (zorg plus onderwijs)
    "opdc",  # orthopedagogisch-didactisch centrum
    "distance_learning",  # afstandsonderwijs thuis of op een zorglocatie
    "care_location_teaching",  # onderwijs op een dagcentrum / zorglocatie (KDC)
)
ARRANGEMENT_LOCATIONS = ("school", "school_grounds", "care_location", "day_centre", "home",
                         "other")

#: Columns added to ``care_spells`` in schema 1.2 (appended to its columns).
CARE_SPELL_COLUMNS_1_2 = (
    _c("delivery", "str", nullable=True, codes=CARE_DELIVERY, since=V,
       description="pgb (personal budget) or in_kind (zorg in natura)"),
    _c("decided_by", "str", nullable=True, references="regions.region_id", since=V,
       description="the gemeente that decided on Jeugdwet or Wmo care"),
)

SUPPORT_NEEDS = Table(
    name="support_needs",
    since=V,
    description="Support needs of a child over time (several at once), with their source.",
    primary_key=("person_id", "need", "source", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("need", "str", codes=SUPPORT_NEED_KINDS),
        _c("source", "str", codes=SUPPORT_NEED_SOURCES),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

TLVS = Table(
    name="tlvs",
    since=V,
    description=("Toelaatbaarheidsverklaringen: the SWV's admission to (v)so over time, with "
                 "the TLV category and the child's WEC cluster."),
    primary_key=("person_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("swv_id", "str", references="regions.region_id"),
        _c("category", "str", codes=("low", "middle", "high")),
        _c("wec_cluster", "int", nullable=True, codes=(1, 2, 3, 4),
           description="the child's WEC cluster (1 visual, 2 hearing/language, 3 physical/"
                       "intellectual/long-term ill, 4 psychiatric/behaviour)"),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

WLZ_INDICATIONS = Table(
    name="wlz_indications",
    since=V,
    description="Wlz indications by the CIZ, with the care profile; a Wlz spell needs one.",
    primary_key=("person_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("care_profile", "str", codes=WLZ_CARE_PROFILES),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

SCHOOL_EVENTS = Table(
    name="school_events",
    since=V,
    description="Suspensions (schorsing, a spell of days) and removals (verwijdering, one day).",
    primary_key=("person_id", "school_id", "kind", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", references="schools.school_id"),
        _c("kind", "str", codes=SCHOOL_EVENT_KINDS),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

OPPS = Table(
    name="opps",
    since=V,
    description="Ontwikkelingsperspectiefplannen: the OPP of a pupil and its exit profile.",
    primary_key=("person_id", "school_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", references="schools.school_id"),
        _c("exit_profile", "str", codes=EXIT_PROFILES),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

QUALIFICATIONS = Table(
    name="qualifications",
    since=V,
    description="Diplomas; a start qualification (havo, vwo, mbo-2+) ends the qualification duty.",
    primary_key=("person_id", "kind", "date"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("school_id", "str", nullable=True, references="schools.school_id"),
        _c("kind", "str", codes=QUALIFICATION_KINDS),
        _c("date", "date"),
    ),
)

PUPIL_TRANSPORT = Table(
    name="pupil_transport",
    since=V,
    description=("Pupil transport to school (gemeente) or to a care location (gemeente, "
                 "zorgkantoor)."),
    primary_key=("person_id", "destination", "start"),
    spell=("start", "end"),
    columns=(
        _c("person_id", "str", references="persons.person_id"),
        _c("destination", "str", codes=TRANSPORT_DESTINATIONS),
        _c("financier", "str", codes=("gemeente", "zorgkantoor")),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

ARRANGEMENT_PERIODS = Table(
    name="arrangement_periods",
    since=V,
    description=("An arrangement's detail over time: type, teaching hours per week, location, "
                 "the deviations used and the financiers."),
    primary_key=("arrangement_id", "start"),
    spell=("start", "end"),
    columns=(
        _c("arrangement_id", "str", references="arrangements.arrangement_id"),
        _c("start", "date"),
        _c("end", "date", nullable=True),
        _c("arrangement_type", "str", codes=ARRANGEMENT_TYPES),
        _c("hours_per_week", "float", min=0.0, max=40.0,
           description="teaching hours per week"),
        _c("location", "str", codes=ARRANGEMENT_LOCATIONS),
        _c("deviations", "str", nullable=True,
           codes=("time", "core_objectives", "location", "funding"), multi=True),
        _c("financiers", "str",
           codes=("gemeente", "zorgkantoor", "zorgverzekeraar", "justitie", "swv", "school"),
           multi=True),
    ),
)

ARRANGEMENT_PROVIDERS = Table(
    name="arrangement_providers",
    since=V,
    description="The care providers of an arrangement over time, each with its financier.",
    primary_key=("arrangement_id", "provider_id", "financier", "start"),
    spell=("start", "end"),
    columns=(
        _c("arrangement_id", "str", references="arrangements.arrangement_id"),
        _c("provider_id", "str", description="AGB code or KvK number of the care provider"),
        _c("financier", "str", codes=CARE_FINANCIERS),
        _c("start", "date"),
        _c("end", "date", nullable=True),
    ),
)

#: The tables of schema 1.2, in dependency order.
DETAIL_TABLES: tuple[Table, ...] = (
    SUPPORT_NEEDS, TLVS, WLZ_INDICATIONS, SCHOOL_EVENTS, OPPS, QUALIFICATIONS, PUPIL_TRANSPORT,
    ARRANGEMENT_PERIODS, ARRANGEMENT_PROVIDERS,
)
