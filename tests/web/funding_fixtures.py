"""Funding maps and region matrices on top of the web tests' world (SWVs A and B)."""

from __future__ import annotations

from typing import Any

from ozamonitor.funding import Case, advise, example_matrix_path


def add_funding(world: Any) -> dict[str, Any]:
    """A funding map for OZAA and OZAB, the example matrix for SWV B, one for gemeente A."""
    from ozamonitor.web.core.models import Organisation
    from ozamonitor.web.funding.demo import case_of
    from ozamonitor.web.funding.models import FundingMap, RegionMatrixFile

    text = example_matrix_path().read_text(encoding="utf-8")
    world.orgs["gemA"].swvs.add(world.orgs["A"])
    mats = {}
    for key, org in (("B", world.orgs["B"]), ("gemA", world.orgs["gemA"])):
        m = RegionMatrixFile(organisation=org, matrix_id="voorbeeldregio", name=f"Matrix {key}",
                             file_name="region.yaml", text=text)
        m.save()
        mats[key] = m
    maps = {}
    for key in ("A", "B"):
        arr = world.arrangements[key]
        case = case_of(arr)
        case["components"].append({"id": "teach-home", "kind": "teaching"})
        case["setting"] = {**case["setting"], "location": "care_location", "brin": False,
                           "oza": False, "oza_deviations": []}
        adv = advise(Case.from_dict(case))
        fm = FundingMap(arrangement=arr, case=case, advice_en=adv.to_json("en"),
                        advice_nl=adv.to_json("nl"), rule_set=adv.rule_set)
        fm.save()
        maps[key] = fm
    gem_user = _gemeente_user(world.orgs["gemA"])
    assert Organisation.objects.filter(kind="gemeente").count() == 2
    return {"matrices": mats, "maps": maps, "gemA": gem_user}


def _gemeente_user(org: Any) -> Any:
    from fixtures_web import make_user

    return make_user("gemA", "gemeente_staff", org)
