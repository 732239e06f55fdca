"""OOGO agreements: the regional arrangements that govern the case chain, as data.

Gemeente and SWV agree in their *op overeenstemming gericht overleg* (OOGO) on
a covenant, a prevention plan, an absence protocol, the breakthrough approach
(in the SWV's support plan and the gemeente's youth plan) and who is case
director with which mandate (domain brief sections 9 and 10). They are
recorded once per region and shown on each case of that gemeente or SWV:
:func:`agreements_for`.

File format (YAML, TOML or JSON; a list under ``agreements``)::

    agreements:
      - region_id: PO01                 # an SWV or a gemeente (GMxxxx)
        kind: breakthrough_approach
        title: Doorbraakaanpak SWV PO01
        valid_from: 2024-01-01
        valid_to: null                  # open
        reference: ondersteuningsplan 2024-2028, par. 5
        case_director_body: null        # for kind case_director: who appoints / mandates
        parties: [SWV PO01, GM0001, GM0002]
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ozamonitor.casework.model import Case
from ozamonitor.errors import InputError

__all__ = ["AGREEMENT_KINDS", "OOGOAgreement", "agreements_for", "load_agreements"]

AGREEMENT_KINDS: tuple[str, ...] = ("covenant", "prevention_plan", "absence_protocol",
                                    "breakthrough_approach", "case_director")
Kind = Literal["covenant", "prevention_plan", "absence_protocol", "breakthrough_approach",
               "case_director"]


class OOGOAgreement(BaseModel):
    """One regional agreement (covenant, plan, protocol, approach or case-director mandate)."""

    model_config = ConfigDict(frozen=True)

    region_id: str
    kind: Kind
    title: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    reference: str | None = None
    case_director_body: str | None = None
    parties: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _dates(self) -> OOGOAgreement:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def load_agreements(path: str | Path) -> list[OOGOAgreement]:
    """Read agreements from a YAML, TOML or JSON file.

    Raises
    ------
    InputError
        The file cannot be read, or an agreement is invalid (``field`` =
        ``agreements[i].<field>``).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = (tomllib.loads(text) if p.suffix.lower() == ".toml"
                else json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text))
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise InputError(f"cannot read the agreements ({e})", file=p) from None
    items = data.get("agreements") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InputError("expected a list under 'agreements'", file=p, field="agreements")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(OOGOAgreement.model_validate(item))
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise InputError(err["msg"], file=p, field=f"agreements[{i}]" + (
                f".{loc}" if loc else "")) from None
    return out


def agreements_for(agreements: Iterable[OOGOAgreement], case: Case,
                   on: dt.date | None = None) -> list[OOGOAgreement]:
    """The agreements of the case's gemeente and SWV valid on ``on`` (default: opening)."""
    day = on or case.opened_on
    regions = {case.gemeente_code, case.swv_id}
    found = [a for a in agreements if a.region_id in regions and a.valid_on(day)]
    return sorted(found, key=lambda a: (AGREEMENT_KINDS.index(a.kind), a.region_id,
                                        a.valid_from))
