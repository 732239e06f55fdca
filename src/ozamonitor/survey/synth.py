"""Synthetic questionnaire answers for the demo and the tests, with planted prototypes.

Each arrangement gets a *type* (domain.md section 11) and answers drawn from
that type's profile: where pupils are taught and for how many hours, which
deviations from education law, which care and expertise, which funding
sources, which target groups and outflow perspective. Answers the
arrangement's register record already fixes override the profile: the
deviations, target groups, lead board and financiers of the register's
``arrangements`` table, when given. A share ``noise`` of answers is drawn
uniformly instead, so types overlap as real arrangements do.

Wave 1 is answered in full and submitted. Each later wave starts from the
previous one through :func:`ozamonitor.survey.submissions.prefill` (as the
web application does), changes a share ``change`` of answers (numbers drift,
choices are redrawn from the profile), and leaves some parts in draft or not
started. Everything is deterministic from ``seed`` and the arrangement code.

Every generated submission passes the form engine (types, constraints and
required answers), so the demo and the tests run on valid answers.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.survey.answers import evaluate_part
from ozamonitor.survey.instrument import Instrument, Question, load_instrument
from ozamonitor.survey.submissions import Submission, prefill

__all__ = ["ARRANGEMENT_TYPES", "PROFILES", "assign_types", "synthetic_answers"]

#: Arrangement types seen in the field (domain.md section 11), code -> (nl, en).
ARRANGEMENT_TYPES: dict[str, tuple[str, str]] = {
    "school_support": ("Extra begeleiding op school", "Extra guidance at school"),
    "part_time": ("Enkele uren les plus ondersteuning elders",
                  "Few hours of teaching plus support elsewhere"),
    "school_class": ("Klas op het terrein van een reguliere school",
                     "Class on a regular school's grounds"),
    "intermediate": ("Tussenvoorziening", "Intermediate provision"),
    "opdc": ("OPDC", "OPDC"),
    "distance": ("Afstandsonderwijs thuis of op een zorglocatie",
                 "Distance learning at home or at a care location"),
    "care_location": ("Onderwijs op een dagcentrum of zorglocatie",
                      "Teaching at a day centre or care location"),
}
#: How often each type occurs when the register gives none (weights).
TYPE_WEIGHTS = {"school_support": 3, "part_time": 3, "school_class": 3, "intermediate": 3,
                "opdc": 2, "distance": 2, "care_location": 3}

# A profile gives, per question: for a single choice {code: weight}; for a
# multiple choice {code: probability} (others: _BASE_P); for a number (low, high).
_BASE_P = 0.08
PROFILES: dict[str, dict[str, Any]] = {
    "school_support": {
        "l1_lead": {"school_board": 4, "swv": 1},
        "l1_governance": {"lead_partner": 3, "steering": 1},
        "l1_agreement": {"coop": 2, "service": 2}, "l1_meet_freq": {"quarterly": 2, "monthly": 1},
        "l2_sources": {"lumpsum": 0.9, "swv_budget": 0.9, "jeugdwet": 0.5},
        "l2_structural": {"yearly": 2, "structural": 1}, "l2_budget": (80_000, 250_000),
        "l3_needs": {"social_emotional": 0.8, "mental": 0.5, "mismatch": 0.6},
        "l3_activities": {"guidance": 0.9, "specialist": 0.5},
        "l3_expertise": {"behaviour": 0.7, "psychologist": 0.6, "youth_worker": 0.5},
        "l3_integration": {"coordinated": 3, "integrated": 1}, "l3_care_place": {"classroom": 0.9,
                                                                                "school": 0.5},
        "l3_care_hours": (1, 4), "l3_indication": {"group": 3, "partly": 1},
        "l3_consult": {"weekly": 2, "monthly": 2}, "l3_wait_weeks": (0, 4),
        "l4_sector": {"po": 2, "vo": 2}, "l4_targets": {"at_risk": 0.95, "long_term_absent": 0.3},
        "l4_locations": {"regular_class": 0.95}, "l4_hours": (22, 26),
        "l4_deviations": {"none": 0.7, "time": 0.15},
        "l4_curriculum": {"regular": 0.9, "adapted": 0.5}, "l4_teacher": {"always": 1},
        "l4_ref_level": {"f2": 3, "f1": 1}, "l4_group_size": (20, 30), "l4_capacity": (20, 60),
        "l4_duration": (6, 12), "l4_outflow": {"regular": 0.95},
    },
    "part_time": {
        "l1_lead": {"school_board": 2, "swv": 2},
        "l1_governance": {"steering": 2, "lead_partner": 1},
        "l1_agreement": {"coop": 3}, "l1_meet_freq": {"monthly": 2},
        "l2_sources": {"lumpsum": 0.8, "swv_budget": 0.8, "jeugdwet": 0.8},
        "l2_structural": {"project": 2, "yearly": 1}, "l2_budget": (60_000, 200_000),
        "l3_needs": {"mental": 0.8, "social_emotional": 0.7, "family": 0.4},
        "l3_activities": {"guidance": 0.8, "treatment": 0.7},
        "l3_expertise": {"psychologist": 0.8, "youth_worker": 0.8},
        "l3_integration": {"side_by_side": 3, "coordinated": 1},
        "l3_care_place": {"care_site": 0.9, "home": 0.3}, "l3_care_hours": (6, 12),
        "l3_indication": {"per_pupil": 3}, "l3_consult": {"monthly": 2, "weekly": 1},
        "l3_wait_weeks": (4, 12),
        "l4_sector": {"po": 2, "vo": 2}, "l4_targets": {"long_term_absent": 0.9, "at_risk": 0.4},
        "l4_locations": {"separate_class": 0.6, "care_site": 0.5}, "l4_hours": (4, 10),
        "l4_deviations": {"time": 0.95, "location": 0.3},
        "l4_curriculum": {"adapted": 0.8, "individual": 0.6}, "l4_teacher": {"always": 3},
        "l4_ref_level": {"f1": 2, "f2": 2}, "l4_group_size": (1, 6), "l4_capacity": (5, 15),
        "l4_duration": (6, 12), "l4_outflow": {"regular": 0.9, "special": 0.3},
    },
    "school_class": {
        "l1_lead": {"school_board": 4}, "l1_governance": {"lead_partner": 2, "steering": 2},
        "l1_agreement": {"coop": 3}, "l1_meet_freq": {"monthly": 2},
        "l2_sources": {"lumpsum": 0.9, "swv_budget": 0.7, "jeugdwet": 0.7, "wmo": 0.3},
        "l2_structural": {"structural": 2, "yearly": 1}, "l2_budget": (200_000, 450_000),
        "l3_needs": {"social_emotional": 0.8, "neurocognitive": 0.6, "mental": 0.6},
        "l3_activities": {"guidance": 0.9, "specialist": 0.8, "treatment": 0.4},
        "l3_expertise": {"behaviour": 0.8, "youth_worker": 0.8, "psychologist": 0.6},
        "l3_integration": {"integrated": 3, "coordinated": 1},
        "l3_care_place": {"classroom": 0.95}, "l3_care_hours": (8, 16),
        "l3_indication": {"group": 3}, "l3_consult": {"weekly": 2, "daily": 1},
        "l3_wait_weeks": (1, 6),
        "l4_sector": {"po": 3, "vo": 1}, "l4_targets": {"at_risk": 0.7, "long_term_absent": 0.7},
        "l4_locations": {"separate_class": 0.95}, "l4_hours": (18, 22),
        "l4_deviations": {"location": 0.5, "time": 0.3},
        "l4_curriculum": {"adapted": 0.9, "regular": 0.5}, "l4_teacher": {"always": 1},
        "l4_ref_level": {"f1": 2, "f2": 2}, "l4_group_size": (6, 10), "l4_capacity": (8, 15),
        "l4_duration": (12, 24), "l4_outflow": {"regular": 0.8, "special": 0.6},
    },
    "intermediate": {
        "l1_lead": {"swv": 3, "school_board": 1}, "l1_governance": {"steering": 2,
                                                                  "joint_board": 1},
        "l1_agreement": {"coop": 2, "covenant": 1}, "l1_meet_freq": {"monthly": 1, "quarterly": 1},
        "l2_sources": {"swv_budget": 0.9, "jeugdwet": 0.9, "wmo": 0.5, "grant": 0.4},
        "l2_structural": {"project": 2, "unclear": 1}, "l2_budget": (150_000, 350_000),
        "l3_needs": {"mental": 0.8, "family": 0.7, "risk": 0.6, "social_emotional": 0.7},
        "l3_activities": {"treatment": 0.8, "guidance": 0.9, "family_help": 0.7},
        "l3_expertise": {"youth_worker": 0.9, "psychologist": 0.7, "social_worker": 0.7},
        "l3_integration": {"integrated": 3}, "l3_care_place": {"care_site": 0.9},
        "l3_care_hours": (10, 20), "l3_indication": {"per_pupil": 2, "partly": 1},
        "l3_consult": {"weekly": 3}, "l3_wait_weeks": (2, 10),
        "l4_sector": {"vo": 2, "both": 1},
        "l4_targets": {"long_term_absent": 0.9, "not_enrolled": 0.7},
        "l4_locations": {"intermediate": 0.95}, "l4_hours": (6, 15),
        "l4_deviations": {"time": 0.9, "location": 0.8, "core_objectives": 0.6},
        "l4_curriculum": {"individual": 0.9, "practical": 0.4, "vocational": 0.4},
        "l4_teacher": {"sometimes": 3, "always": 1}, "l4_ref_level": {"f1": 2, "below_1f": 1},
        "l4_group_size": (3, 8), "l4_capacity": (8, 20), "l4_duration": (6, 18),
        "l4_outflow": {"regular": 0.6, "special": 0.5, "mbo": 0.5},
    },
    "opdc": {
        "l1_lead": {"swv": 4}, "l1_governance": {"lead_partner": 3},
        "l1_agreement": {"service": 2, "coop": 1}, "l1_meet_freq": {"quarterly": 2},
        "l2_sources": {"swv_budget": 0.95, "lumpsum": 0.6},
        "l2_structural": {"structural": 3}, "l2_budget": (300_000, 700_000),
        "l3_needs": {"social_emotional": 0.8, "mismatch": 0.8},
        "l3_activities": {"guidance": 0.9}, "l3_expertise": {"behaviour": 0.9, "job_coach": 0.3},
        "l3_integration": {"coordinated": 2, "side_by_side": 1},
        "l3_care_place": {"school": 0.9}, "l3_care_hours": (2, 6), "l3_indication": {"group": 3},
        "l3_consult": {"weekly": 2}, "l3_wait_weeks": (0, 3),
        "l4_sector": {"vo": 4}, "l4_targets": {"at_risk": 0.9, "long_term_absent": 0.5},
        "l4_locations": {"separate_class": 0.7, "intermediate": 0.4}, "l4_hours": (20, 26),
        "l4_deviations": {"location": 0.9},
        "l4_curriculum": {"regular": 0.8, "adapted": 0.6}, "l4_teacher": {"always": 1},
        "l4_ref_level": {"f2": 3}, "l4_group_size": (10, 16), "l4_capacity": (30, 60),
        "l4_duration": (3, 6), "l4_outflow": {"regular": 0.95},
    },
    "distance": {
        "l1_lead": {"school_board": 3, "swv": 1}, "l1_governance": {"lead_partner": 3},
        "l1_agreement": {"service": 2, "purchase": 1}, "l1_meet_freq": {"quarterly": 1,
                                                                        "less": 1},
        "l2_sources": {"lumpsum": 0.8, "swv_budget": 0.6, "private": 0.4, "zvw": 0.3},
        "l2_structural": {"yearly": 2, "project": 1}, "l2_budget": (40_000, 150_000),
        "l3_needs": {"physical": 0.7, "mental": 0.7},
        "l3_activities": {"specialist": 0.5, "treatment": 0.5},
        "l3_expertise": {"nurse": 0.4, "psychologist": 0.5},
        "l3_integration": {"side_by_side": 3}, "l3_care_place": {"home": 0.9},
        "l3_care_hours": (0, 4), "l3_indication": {"per_pupil": 2, "partly": 1},
        "l3_consult": {"monthly": 2, "quarterly": 1}, "l3_wait_weeks": (2, 8),
        "l4_sector": {"po": 1, "vo": 3}, "l4_targets": {"not_enrolled": 0.7,
                                                        "long_term_absent": 0.8},
        "l4_locations": {"home": 0.95, "care_site": 0.3}, "l4_hours": (3, 10),
        "l4_deviations": {"time": 0.9, "location": 0.9},
        "l4_curriculum": {"online": 0.95, "individual": 0.7},
        "l4_teacher": {"always": 2, "sometimes": 1}, "l4_ref_level": {"f2": 2, "f3": 1},
        "l4_group_size": (1, 2), "l4_capacity": (5, 30), "l4_duration": (6, 24),
        "l4_outflow": {"regular": 0.7, "mbo": 0.5, "qualification": 0.5},
    },
    "care_location": {
        "l1_lead": {"school_board": 3, "swv": 1}, "l1_governance": {"joint_board": 2,
                                                                  "steering": 1},
        "l1_agreement": {"coop": 2, "covenant": 1}, "l1_meet_freq": {"monthly": 2},
        "l2_sources": {"wlz": 0.9, "lumpsum": 0.8, "zvw": 0.5, "swv_budget": 0.4},
        "l2_structural": {"yearly": 1, "structural": 1, "unclear": 1},
        "l2_budget": (200_000, 500_000),
        "l3_needs": {"neurocognitive": 0.9, "physical": 0.8},
        "l3_activities": {"nursing": 0.9, "therapy": 0.8, "day_care": 0.9},
        "l3_expertise": {"nurse": 0.9, "therapist": 0.9, "psychologist": 0.4},
        "l3_integration": {"integrated": 3}, "l3_care_place": {"care_site": 0.95},
        "l3_care_hours": (20, 30), "l3_indication": {"per_pupil": 3},
        "l3_consult": {"weekly": 2, "daily": 1}, "l3_wait_weeks": (4, 20),
        "l4_sector": {"po": 3, "both": 1}, "l4_targets": {"exempt_5a": 0.9, "not_enrolled": 0.5},
        "l4_locations": {"care_site": 0.95}, "l4_hours": (4, 15),
        "l4_deviations": {"time": 0.9, "core_objectives": 0.8, "location": 0.8, "funding": 0.6},
        "l4_curriculum": {"individual": 0.9, "practical": 0.5},
        "l4_teacher": {"sometimes": 2, "never": 1}, "l4_ref_level": {"below_1f": 4},
        "l4_group_size": (3, 8), "l4_capacity": (6, 20), "l4_duration": (24, 60),
        "l4_outflow": {"day_activities": 0.9, "special": 0.5},
    },
}

# The same profiles on the network, revenue and plan questions.
_MORE: dict[str, dict[str, Any]] = {
    "school_support": {
        "l1_network": {"leerplicht": 0.8, "wijkteam": 0.7, "gp": 0.3},
        "l1_agree_covers": {"tasks": 0.9, "funding": 0.7},
        "l2_revenues": {"edu_per_pupil": 0.8, "swv_contrib": 0.9},
        "l2_startup": {"no": 3, "yes": 1}, "l2_soc_return": {"no": 3, "yes": 1},
        "l3_one_plan": {"no": 2, "yes": 1}, "l3_coordinator": {"no": 2, "yes": 1},
        "l4_core_obj": {"dutch": 0.95, "maths": 0.95, "english": 0.8, "world": 0.8,
                        "arts": 0.7, "physical": 0.8, "social": 0.6},
    },
    "part_time": {
        "l1_network": {"leerplicht": 0.9, "mental_health": 0.8, "wijkteam": 0.6},
        "l1_agree_covers": {"tasks": 0.9, "data": 0.8, "funding": 0.6},
        "l2_revenues": {"swv_contrib": 0.8, "care_jeugdwet": 0.9},
        "l2_startup": {"yes": 1, "no": 1}, "l2_soc_return": {"yes": 1, "no": 1},
        "l3_one_plan": {"yes": 2, "no": 1}, "l3_coordinator": {"yes": 3},
        "l4_core_obj": {"dutch": 0.95, "maths": 0.95, "social": 0.8},
    },
    "school_class": {
        "l1_network": {"leerplicht": 0.8, "wijkteam": 0.8, "ggd": 0.5},
        "l1_agree_covers": {"tasks": 0.95, "funding": 0.9, "data": 0.8, "quality": 0.6},
        "l2_revenues": {"edu_per_pupil": 0.9, "swv_contrib": 0.8, "care_jeugdwet": 0.8,
                        "gemeente_wmo": 0.4},
        "l2_startup": {"yes": 3}, "l2_soc_return": {"yes": 1, "no": 1},
        "l3_one_plan": {"yes": 3}, "l3_coordinator": {"yes": 2, "no": 1},
        "l4_core_obj": {"dutch": 0.95, "maths": 0.95, "world": 0.7, "social": 0.9,
                        "physical": 0.6},
    },
    "intermediate": {
        "l1_network": {"leerplicht": 0.9, "child_prot": 0.8, "mental_health": 0.7,
                       "wijkteam": 0.8},
        "l1_agree_covers": {"tasks": 0.9, "data": 0.9, "funding": 0.8, "rights": 0.5},
        "l2_revenues": {"swv_contrib": 0.9, "care_jeugdwet": 0.9, "gemeente_wmo": 0.6,
                        "grant": 0.5},
        "l2_startup": {"yes": 3}, "l2_soc_return": {"yes": 3},
        "l3_one_plan": {"yes": 3}, "l3_coordinator": {"yes": 3},
        "l4_core_obj": {"dutch": 0.8, "maths": 0.8, "social": 0.9},
    },
    "opdc": {
        "l1_network": {"leerplicht": 0.95, "wijkteam": 0.5},
        "l1_agree_covers": {"tasks": 0.9, "quality": 0.7},
        "l2_revenues": {"swv_contrib": 0.95, "edu_per_pupil": 0.6},
        "l2_startup": {"no": 3}, "l2_soc_return": {"no": 3},
        "l3_one_plan": {"no": 1, "yes": 1}, "l3_coordinator": {"no": 2, "yes": 1},
        "l4_core_obj": {"dutch": 0.95, "maths": 0.95, "english": 0.9, "world": 0.8,
                        "physical": 0.7},
    },
    "distance": {
        "l1_network": {"gp": 0.6, "mental_health": 0.5, "none": 0.2},
        "l1_agree_covers": {"tasks": 0.8, "data": 0.9},
        "l2_revenues": {"edu_per_pupil": 0.8, "private": 0.5},
        "l2_startup": {"yes": 2, "no": 1}, "l2_soc_return": {"no": 3},
        "l3_one_plan": {"no": 2, "yes": 1}, "l3_coordinator": {"no": 1, "yes": 1},
        "l4_core_obj": {"dutch": 0.95, "maths": 0.95, "english": 0.8, "world": 0.5},
    },
    "care_location": {
        "l1_network": {"gp": 0.7, "parent_org": 0.6, "care_farm": 0.4},
        "l1_agree_covers": {"tasks": 0.9, "funding": 0.9, "liability": 0.7, "rights": 0.7},
        "l2_revenues": {"care_wlz": 0.95, "care_zvw": 0.6, "edu_per_pupil": 0.7,
                        "location": 0.6},
        "l2_startup": {"yes": 2, "no": 1}, "l2_soc_return": {"yes": 2, "no": 1},
        "l3_one_plan": {"yes": 3}, "l3_coordinator": {"yes": 3},
        "l4_core_obj": {"dutch": 0.6, "maths": 0.5, "social": 0.9, "physical": 0.8,
                        "arts": 0.6},
    },
}
for _t, _extra in _MORE.items():
    PROFILES[_t].update(_extra)

_TEXTS = {
    "l1_promise_txt": "Korte lijnen tussen school en zorgaanbieder en één aanspreekpunt.",
    "l2_promise_txt": "Afspraken over meerjarige bekostiging geven rust.",
    "l3_promise_txt": "Zorg en onderwijs in één team rond de leerling.",
    "l4_promise_txt": "Geleidelijke opbouw van lesuren met een vast terugkeerpad.",
    "l1_certainty_why": "De rechtspositie van leerlingen buiten de school is niet geregeld.",
    "l1_agreement_oth": "Bestuurlijke afspraak",
    "l4_dev_time_why": "Leerlingen kunnen nog geen volledige week aan; de uren groeien mee.",
    "om_instruments": "Aanwezigheidsregistratie en doelrealisatie per periode.",
}
#: register financier codes -> financier kinds of the instrument
_FINANCIER = {"gemeente": "gemeente", "zorgkantoor": "zorgkantoor",
              "zorgverzekeraar": "insurer", "justitie": "other", "swv": "swv",
              "school": "school_board"}
_LAW_OF = {"gemeente": "jeugdwet", "zorgkantoor": "wlz", "insurer": "zvw", "swv": "wpo_wvo",
           "school_board": "wpo_wvo", "ministry": "grant", "fund": "none", "other": "none"}
_FINANCIER_OF_SOURCE = {"jeugdwet": "gemeente", "wmo": "gemeente", "wlz": "zorgkantoor",
                        "zvw": "insurer", "swv_budget": "swv", "lumpsum": "school_board",
                        "grant": "ministry", "private": "fund", "parents": "other"}


def _rng(seed: int, *keys: Any) -> np.random.Generator:
    parts = [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng([seed, *parts])


def assign_types(arrangement_ids: Sequence[str], seed: int = 0) -> dict[str, str]:
    """A type per arrangement, deterministic from ``seed`` and the codes.

    The types are dealt in proportion to :data:`TYPE_WEIGHTS` (a shuffled deck,
    so small sets still get every type), not drawn independently.
    """
    ids = sorted(set(arrangement_ids))
    names = list(TYPE_WEIGHTS)
    w = np.array([TYPE_WEIGHTS[t] for t in names], float)
    counts = np.floor(w / w.sum() * len(ids)).astype(int)
    rest = len(ids) - counts.sum()
    order = np.argsort(-(w / w.sum() * len(ids) - counts), kind="stable")
    counts[order[:rest]] += 1
    deck = np.repeat(np.arange(len(names)), counts)
    _rng(seed, "types").shuffle(deck)
    return {a: names[int(k)] for a, k in zip(ids, deck, strict=True)}


def _draw(q: Question, spec: Any, rng: np.random.Generator, noise: float) -> Any:
    """One answer to ``q`` from a profile entry (or uniformly)."""
    uniform = spec is None or rng.random() < noise
    if q.type == "select_one":
        codes = list(q.choice_names)
        if uniform or not isinstance(spec, Mapping):
            return codes[int(rng.integers(len(codes)))]
        w = np.array([float(spec.get(c, 0.0)) + 0.05 for c in codes])
        return codes[int(rng.choice(len(codes), p=w / w.sum()))]
    if q.type == "select_multiple":
        codes = [c for c in q.choice_names if c != "none"]
        p = {c: (0.3 if uniform else float(spec.get(c, _BASE_P))) for c in codes}
        chosen = [c for c in codes if rng.random() < p[c]]
        if "none" in q.choice_names and (not chosen or (not uniform and isinstance(spec, Mapping)
                                                       and rng.random() < spec.get("none", 0.0))):
            return ["none"]
        return chosen or [codes[int(rng.integers(len(codes)))]]
    if q.type in ("integer", "decimal"):
        lo, hi = spec if isinstance(spec, tuple) and not uniform else _range(q)
        x = float(rng.uniform(lo, hi))
        if q.type == "integer":
            return round(x)
        return round(x, 0) if hi > 1000 else round(x * 2) / 2
    if q.type == "text":
        return _TEXTS.get(q.name, "Zie toelichting.")
    return None


def _range(q: Question) -> tuple[float, float]:
    """A plausible uniform range for a number without a profile entry."""
    return {
        "l1_agree_year": (2019, 2024), "tz_estimate": (20, 400), "l2_startup_amt": (5_000, 80_000),
        "f_share": (10, 60), "c_amount": (5_000, 90_000), "l2_budget": (50_000, 500_000),
        "l3_care_hours": (0, 20), "l3_wait_weeks": (0, 20), "l4_hours": (3, 26),
        "l4_group_size": (1, 20), "l4_capacity": (5, 60), "l4_duration": (3, 36),
    }.get(q.name, (0, 10))


def _register_overrides(rec: Mapping[str, Any]) -> dict[str, Any]:
    def codes(v: Any) -> list[str]:
        if v is None:
            return []
        if isinstance(v, str):
            return [x for x in v.replace(",", ";").split(";") if x]
        return [str(x) for x in v]

    out: dict[str, Any] = {}
    if rec.get("deviations") is not None:
        out["l4_deviations"] = codes(rec["deviations"]) or ["none"]
    if codes(rec.get("target_groups")):
        out["l4_targets"] = codes(rec["target_groups"])
    if rec.get("lead_kind") in ("school", "swv"):
        out["l1_lead"] = "school_board" if rec["lead_kind"] == "school" else "swv"
    if codes(rec.get("financiers")):
        out["_financiers"] = [_FINANCIER.get(f, "other") for f in codes(rec["financiers"])]
    if rec.get("sector") in ("po", "vo", "both"):
        out["l4_sector"] = rec["sector"]
    return out


def _repeats(inst: Instrument, a: dict[str, Any], rng: np.random.Generator,
             override: Mapping[str, Any], code: str) -> None:
    """Partners, financiers and cost items consistent with the other answers."""
    lead = a.get("l1_lead", "school_board")
    partners = [{"p_name": f"Penvoerder {code}", "p_kind": lead,
                 "p_role": ["applicant", "education"], "p_legal": "foundation",
                 "p_signed": "yes"},
                {"p_name": f"Zorgaanbieder {code}", "p_kind": "care_provider",
                 "p_role": ["co_applicant", "care"], "p_legal": "foundation", "p_signed": "yes"}]
    for j in range(int(rng.integers(0, 3))):
        kind = ["gemeente", "school", "zorgkantoor", "other"][int(rng.integers(4))]
        partners.append({"p_name": f"Partner {j + 3} {code}", "p_kind": kind,
                         "p_role": ["financier"] if kind in ("gemeente", "zorgkantoor")
                         else ["advice"],
                         "p_legal": "public" if kind == "gemeente" else "foundation",
                         "p_signed": "yes" if rng.random() < 0.7 else "no",
                         **({"p_kind_other": "Stichting"} if kind == "other" else {})})
    a["partner"] = partners
    kinds = list(override.get("_financiers") or [])
    for s in a.get("l2_sources", []):
        f = _FINANCIER_OF_SOURCE.get(s)
        if f and f not in kinds:
            kinds.append(f)
    shares = rng.dirichlet(np.ones(len(kinds))) * 100 if kinds else []
    a["financier"] = [{"f_kind": k, "f_law": _LAW_OF.get(k, "none"), "f_share": int(np.rint(sh))}
                      for k, sh in zip(kinds, shares, strict=True)]
    budget = float(a.get("l2_budget") or 100_000)
    items = ["staff_edu", "staff_care", "rent", "management", "material", "training"]
    n = int(rng.integers(3, 7))
    w = rng.dirichlet(np.ones(n))
    a["cost_item"] = [{"c_kind": items[i], "c_amount": float(round(budget * w[i], -2)),
                       "c_payer": ["swv", "gemeente", "school_board", "care_provider"][
                           int(rng.integers(4))]} for i in range(n)]


def _answers(inst: Instrument, atype: str, code: str, override: Mapping[str, Any],
             rng: np.random.Generator, noise: float) -> dict[str, dict[str, Any]]:
    profile = PROFILES[atype]
    out: dict[str, dict[str, Any]] = {p: {} for p in inst.part_names}
    for q in inst.questions:
        if not q.answerable or q.repeat is not None:
            continue
        value = override[q.name] if q.name in override else _draw(
            q, profile.get(q.name), rng, noise)
        if q.type == "select_multiple" and isinstance(value, list):
            value = [c for c in q.choice_names if c in value]
        out[q.part][q.name] = value
    merged = out["level1"] | out["level2"]
    _repeats(inst, merged, rng, override, code)
    out["level1"]["partner"] = merged.pop("partner")
    out["level2"]["financier"] = merged.pop("financier")
    out["level2"]["cost_item"] = merged.pop("cost_item")
    return out


def _changed(inst: Instrument, sub: Submission, atype: str, rng: np.random.Generator,
             change: float) -> Submission:
    """A later wave: some answers change (numbers drift, choices redrawn)."""
    profile = PROFILES[atype]
    for q in inst.in_part(sub.part):
        if not q.answerable or q.repeat is not None or rng.random() >= change:
            continue
        old = sub.answers.get(q.name)
        if q.type in ("integer", "decimal") and old is not None:
            lo, hi = profile.get(q.name, _range(q)) if isinstance(profile.get(q.name), tuple) \
                else _range(q)
            x = min(max(float(old) * float(rng.uniform(0.85, 1.15)), lo), hi)
            new: Any = round(x) if q.type == "integer" else round(x, 1)
        else:
            new = _draw(q, profile.get(q.name), rng, 0.0)
        sub.set_answer(q.name, new)
    # a changed answer can open a question that was skipped before: answer it
    for _ in range(3):
        missing = [e for e in evaluate_part(inst, sub.part, sub.answers, final=True).errors
                   if e.kind == "required" and e.repeat is None and inst.has(e.name)]
        if not missing:
            break
        for e in missing:
            q = inst.question(e.name)
            sub.set_answer(q.name, _draw(q, profile.get(q.name), rng, 0.0))
    return sub


def _valid(inst: Instrument, sub: Submission) -> Submission:
    state = evaluate_part(inst, sub.part, sub.answers, final=True)
    if state.errors:  # a generator bug, not bad user data
        raise InputError(f"synthetic answers fail the form engine: {state.errors[0]}",
                         field=state.errors[0].field)
    calc = {q.name for q in inst.questions if q.type == "calculate"}
    clean = {}
    for k, v in state.values.items():
        if k in calc:
            continue
        if isinstance(v, list) and v and isinstance(v[0], dict):
            v = [{kk: vv for kk, vv in row.items() if kk not in calc} for row in v]
        clean[k] = v
    sub.answers = clean
    sub.prefilled &= set(clean)
    return sub


def synthetic_answers(arrangements: Any, *, waves: Sequence[int] = (2023, 2024), seed: int = 0,
                      noise: float = 0.1, change: float = 0.1, draft_share: float = 0.1,
                      missing_share: float = 0.05,
                      instrument: Instrument | None = None) -> list[Submission]:
    """Plausible answers of every arrangement in every wave, with planted types.

    Parameters
    ----------
    arrangements : frame or sequence of str
        A polars/pandas frame with ``arrangement_id`` and optionally ``type``
        (a key of :data:`ARRANGEMENT_TYPES`), ``deviations``,
        ``target_groups``, ``lead_kind``, ``financiers`` (register codes,
        ``;``-separated or lists) and ``sector``; or just the codes. Without
        ``type``, :func:`assign_types` deals the types.
    waves : sequence of int, default (2023, 2024)
        The waves; the first is answered in full, later ones start prefilled.
    seed : int, default 0
    noise : float, default 0.1
        Share of answers drawn uniformly instead of from the type's profile.
    change : float, default 0.1
        Share of answers that change from one wave to the next.
    draft_share, missing_share : float
        In later waves, the share of parts still in draft / not started.
    instrument : Instrument, optional
        Default: the newest shipped instrument.

    Returns
    -------
    list of Submission
        Valid submissions (each passes :func:`~ozamonitor.survey.answers.evaluate_part`).
    """
    inst = instrument or load_instrument()
    if isinstance(arrangements, pl.DataFrame):
        frame = arrangements
    elif hasattr(arrangements, "to_dict") and hasattr(arrangements, "columns"):
        frame = pl.from_pandas(arrangements)
    else:
        frame = pl.DataFrame({"arrangement_id": [str(a) for a in arrangements]})
    if "arrangement_id" not in frame.columns:
        raise InputError("the arrangements need an arrangement_id column", field="arrangement_id")
    records = frame.to_dicts()
    types = assign_types([r["arrangement_id"] for r in records], seed)
    if not waves:
        return []
    out: list[Submission] = []
    for rec in records:
        code = str(rec["arrangement_id"])
        atype = rec.get("type") or types[code]
        if atype not in PROFILES:
            raise InputError(f"unknown arrangement type {atype!r}; use one of "
                             f"{', '.join(PROFILES)}", field="type")
        rng = _rng(seed, "answers", code)
        parts = _answers(inst, atype, code, _register_overrides(rec), rng, noise)
        previous = []
        for part in inst.part_names:
            sub = Submission(code, int(waves[0]), part, inst.version, parts[part],
                             status="submitted", respondent_role=(
                                 "care_provider_staff" if part == "level3" else "swv_staff"))
            previous.append(_valid(inst, sub))
        out.extend(previous)
        for wave in waves[1:]:
            current = []
            for prev in previous:
                r = _rng(seed, "wave", code, wave, prev.part)
                u = r.random()
                if u < missing_share:
                    continue
                sub = _changed(inst, prefill(prev, wave=int(wave), instrument=inst), atype, r,
                               change)
                sub.status = "draft" if u < missing_share + draft_share else "submitted"
                current.append(_valid(inst, sub))
            out.extend(current)
            previous = [s for s in current if s.status == "submitted"] or previous
    return out
