"""Demo data of the who-pays app: the example region matrix and a funding map per arrangement.

Called by ``ozamonitor web init --demo`` after the registry's demo exists
(docs/web.md, "Adding an app"). Each arrangement's case follows from what the
registry holds: its location, deviations and sector, the financier of its care
provider (zorgkantoor: a Wlz indication; zorgverzekeraar: a chronic condition)
and its support needs (which components of support it offers).
"""

from __future__ import annotations

from typing import Any

from ozamonitor.funding import Case, advise, example_matrix_path
from ozamonitor.funding.matrix import RegionMatrix

#: Support needs in focus -> the components an arrangement offers for them.
_COMPONENTS = {
    "neurocognitive": [{"kind": "education_support"}],
    "social_emotional": [{"kind": "upbringing_support"}],
    "mental_health": [{"kind": "personal_care", "cause": ["psychological"]}],
    "physical_health": [{"kind": "activity", "category": "eating",
                         "activity": "tube_feeding"}, {"kind": "nursing"}],
    "family_context": [{"kind": "upbringing_support"}],
    "risky_circumstances": [{"kind": "permanent_supervision"}],
    "mismatch": [{"kind": "activity", "category": "supervision",
                  "activity": "behaviour_support_in_class"}],
}
_LOCATIONS = {"school": "school", "home": "home", "care_location": "care_location",
              "care_farm": "care_location", "private_location": "private",
              "distance": "distance"}
_DEVIATIONS = {"time": "teaching_time", "core_objectives": "core_objectives",
               "location": "location", "funding": "funding"}


def accounts(orgs: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """One municipality account, for the gemeente of the first arrangement."""
    from ozamonitor.web.registry.models import Arrangement

    first = Arrangement.objects.filter(gemeente__isnull=False).order_by("code").first()
    if first is None:
        return []
    return [(f"gemeente-{first.gemeente.code.lower()}", "gemeente_staff", first.gemeente)]


def case_of(arr: Any) -> dict[str, Any]:
    """The case of a registry arrangement (a representative child of its target group)."""
    fins = {p.financier for p in arr.partners.all()}
    places = [_LOCATIONS[x] for x in arr.locations if x in _LOCATIONS]
    location = next((p for p in places if p != "school"), places[0] if places else "school")
    wlz = "zorgkantoor" in fins
    chronic = wlz or "zorgverzekeraar" in fins
    comps: list[dict[str, Any]] = [{"kind": "teaching"}]
    for need in arr.support_needs:
        for c in _COMPONENTS.get(need, []):
            if c not in comps:
                comps.append(dict(c))
    comps.append({"kind": "transport", "to": "school" if location == "school"
                  else "care_location"})
    return {
        "child": {"age": 10 if arr.sector == "po" else 14, "enrolled": True,
                  "wlz_indication": wlz, "chronic_condition": chronic,
                  "care_over_one_year": chronic},
        "setting": {"location": location, "brin": location == "school", "oza": True,
                    "oza_deviations": [_DEVIATIONS[d] for d in arr.deviations
                                       if d in _DEVIATIONS],
                    "sector": arr.sector if arr.sector in ("po", "vo") else "po"},
        "components": [{"id": f"c{i + 1}", **c} for i, c in enumerate(comps)],
    }


def load(register: Any, orgs: dict[str, Any]) -> None:
    """The example matrix for the first SWV with arrangements, and every arrangement's map."""
    from ozamonitor.web.funding.models import FundingMap, RegionMatrixFile
    from ozamonitor.web.registry.models import Arrangement

    arrangements = list(Arrangement.objects.select_related("swv").prefetch_related(
        "partners").order_by("code"))
    if not arrangements:
        return
    path = example_matrix_path()
    text = path.read_text(encoding="utf-8")
    matrix = RegionMatrix.load(path.name, text=text)
    owner = arrangements[0].swv
    row = RegionMatrixFile(organisation=owner, matrix_id=matrix.id, name=matrix.title("nl"),
                           file_name=path.name, text=text, active=True)
    row.save()
    for arr in arrangements:
        case = case_of(arr)
        regional = arr.swv_id == owner.pk
        adv = advise(Case.from_dict(case), matrix if regional else None)
        FundingMap(arrangement=arr, case=case, advice_en=adv.to_json("en"),
                   advice_nl=adv.to_json("nl"), matrix=row if regional else None,
                   matrix_label=matrix.title("nl") if regional else "",
                   rule_set=adv.rule_set).save()
