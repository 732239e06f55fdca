"""The records of the case chain: cases, events, consent, the friction budget, timers.

Plain pydantic models, free of any storage: the web application maps them to
its own models; the engine (:mod:`ozamonitor.casework.engine`) takes them and
returns states and due steps. Dutch terms are in the docstrings and labels.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ozamonitor.register.schema import FINANCIERS

__all__ = [
    "CONSENT_PARTIES",
    "EVENT_KINDS",
    "OUTCOMES",
    "Case",
    "CaseEvent",
    "ChainTimers",
    "Consent",
    "LedgerEntry",
]

#: Outcomes of a resolved or closed case.
OUTCOMES: tuple[str, ...] = (
    "back_to_school",        # terug naar de eigen of een andere school
    "special_education",     # (v)so
    "oza_arrangement",       # onderwijszorgarrangement
    "care",                  # zorg (met of zonder onderwijs)
    "exemption",             # vrijstelling (laatste middel)
    "moved",                 # verhuisd: de zaak gaat naar een andere regio
    "withdrawn",             # ingetrokken (bijv. dubbele melding, geen verzuim)
    "other",
)

#: Who gives consent (advice 5: parents and child, from the first contact).
CONSENT_PARTIES: tuple[str, ...] = ("parent", "child")

#: Event kinds: the transitions of :class:`~ozamonitor.casework.machine.CaseChain`
#: plus records that do not change the state.
TRANSITIONS: tuple[str, ...] = (
    "open", "convene_mdt", "appoint_case_director", "mobilise_breakthrough",
    "start_arbitration", "resolve", "close", "reopen",
)
RECORDS: tuple[str, ...] = (
    "meeting",        # overleg (thuiszitterstafel, MDO, doorbraakteam)
    "decision",       # besluit
    "offer",          # aanbod: school, OZA-arrangement, zorg
    "member",         # lid van het MDO of doorbraakteam
    "note",
    "waive_step",     # een stap is niet nodig (reden verplicht), bijv. geen doorbraakteam
)
EVENT_KINDS: tuple[str, ...] = (*TRANSITIONS, *RECORDS)


class ChainTimers(BaseModel):
    """Days from the case's start (the absence episode's first day) to each step.

    Defaults: case director after 4 weeks, breakthrough team at 8 weeks,
    binding arbitration at 12 weeks (the Thuiszitterspact's 3 months). Seed 002
    names both 8 and 12 weeks for the breakthrough team (domain brief section
    9): set ``doorbraak=84`` for the later reading. ``consent`` counts from the
    case's opening (advice 5: from the first report).
    """

    model_config = ConfigDict(frozen=True)

    casusregie: int = Field(28, ge=0)
    doorbraak: int = Field(56, ge=0)
    arbitration: int = Field(84, ge=0)
    consent: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ChainTimers:
        if not self.casusregie <= self.doorbraak <= self.arbitration:
            raise ValueError("timers must satisfy casusregie <= doorbraak <= arbitration")
        return self


class CaseEvent(BaseModel):
    """Something that happened in a case, on a date, by someone.

    ``kind`` is a transition (``open``, ``convene_mdt``, ``appoint_case_director``,
    ``mobilise_breakthrough``, ``start_arbitration``, ``resolve``, ``close``,
    ``reopen``) or a record (``meeting``, ``decision``, ``offer``, ``member``,
    ``note``, ``waive_step``). ``resolve`` and ``close`` need an ``outcome``;
    ``waive_step`` a ``step`` and a ``note`` (the reason).
    """

    model_config = ConfigDict(frozen=True)

    date: dt.date
    kind: str
    actor: str | None = None
    role: str | None = None
    note: str | None = None
    outcome: str | None = None
    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {v!r}; known: {', '.join(EVENT_KINDS)}")
        return v

    @model_validator(mode="after")
    def _needs(self) -> CaseEvent:
        if self.kind in ("resolve", "close") and self.outcome not in OUTCOMES:
            raise ValueError(f"{self.kind} needs an outcome: one of {', '.join(OUTCOMES)}")
        if self.kind == "waive_step":
            if self.step not in ("casusregie", "doorbraak", "arbitration"):
                raise ValueError("waive_step needs step casusregie, doorbraak or arbitration")
            if not self.note:
                raise ValueError("waive_step needs the reason in note")
        return self


class Consent(BaseModel):
    """Informed consent of a parent or the child (given or withdrawn), as recorded."""

    model_config = ConfigDict(frozen=True)

    party: Literal["parent", "child"]
    given: bool
    date: dt.date
    scope: str = "case"
    recorded_by: str | None = None


class LedgerEntry(BaseModel):
    """A friction-budget (*frictiebudget*) amount spent on a case.

    ``amount`` in euros with at most two decimals (negative: a correction);
    ``payer`` a financier code (gemeente, zorgkantoor, zorgverzekeraar,
    justitie, swv, school); ``approved_by`` and ``approved_on`` are required
    together (an unapproved entry is listed apart in the export).
    """

    model_config = ConfigDict(frozen=True)

    entry_id: str
    date: dt.date
    amount: Decimal
    payer: str
    purpose: str
    approved_by: str | None = None
    approved_on: dt.date | None = None
    invoice: str | None = None

    @field_validator("amount")
    @classmethod
    def _cents(cls, v: Decimal) -> Decimal:
        if v != v.quantize(Decimal("0.01")):
            raise ValueError(f"amount {v} has more than two decimals")
        return v.quantize(Decimal("0.01"))

    @field_validator("payer")
    @classmethod
    def _payer(cls, v: str) -> str:
        if v not in FINANCIERS:
            raise ValueError(f"unknown payer {v!r}; known: {', '.join(FINANCIERS)}")
        return v

    @model_validator(mode="after")
    def _approval(self) -> LedgerEntry:
        if (self.approved_by is None) != (self.approved_on is None):
            raise ValueError("approved_by and approved_on go together")
        if self.approved_on is not None and self.approved_on < self.date:
            raise ValueError("approved_on is before the entry's date")
        return self

    @property
    def approved(self) -> bool:
        return self.approved_by is not None


class Case(BaseModel):
    """One child's case in one gemeente and SWV.

    ``start`` is the first day of the absence episode (the timers count from it);
    for a case opened by hand without known absence it is the opening date.
    ``person_id`` is the register pseudonym; direct identifiers stay out of
    the engine.
    """

    model_config = ConfigDict(frozen=True)

    case_id: str
    person_id: str
    gemeente_code: str
    swv_id: str | None = None
    start: dt.date
    opened_on: dt.date
    source: str = "manual"
    signal: str | None = None
    case_director: str | None = None
    mandated_by: tuple[str, ...] = ()
    events: tuple[CaseEvent, ...] = ()
    consents: tuple[Consent, ...] = ()
    ledger: tuple[LedgerEntry, ...] = ()

    @model_validator(mode="after")
    def _dates(self) -> Case:
        if self.opened_on < self.start:
            raise ValueError("opened_on is before the episode's start")
        ids = [e.entry_id for e in self.ledger]
        if len(ids) != len(set(ids)):
            raise ValueError("ledger entry ids must be unique within a case")
        return self

    def with_events(self, *events: CaseEvent) -> Case:
        """A copy with ``events`` appended."""
        return self.model_copy(update={"events": (*self.events, *events)})

    def with_consent(self, *consents: Consent) -> Case:
        """A copy with consent records appended."""
        return self.model_copy(update={"consents": (*self.consents, *consents)})

    def with_ledger(self, *entries: LedgerEntry) -> Case:
        """A copy with ledger entries appended (ids checked)."""
        return Case.model_validate({**self.model_dump(), "ledger": (*self.ledger, *entries)})
