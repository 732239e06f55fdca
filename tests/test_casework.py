"""The case engine: transitions, timers, due steps, timeline, consent, ledger, OOGO."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from pydantic import ValidationError

from ozamonitor.casework.engine import (
    case_state,
    due_steps,
    open_from_signal,
    states_of,
    step_summary,
    timeline,
)
from ozamonitor.casework.ledger import export_ledger, ledger_frame, ledger_totals
from ozamonitor.casework.machine import STATES, CaseChain
from ozamonitor.casework.model import Case, CaseEvent, ChainTimers, Consent, LedgerEntry
from ozamonitor.casework.oogo import agreements_for, load_agreements
from ozamonitor.errors import InputError

D = dt.date
START = D(2024, 9, 2)  # the worked example


def base(case_id: str = "C1", gemeente: str = "GM0001", swv: str = "PO01") -> Case:
    return open_from_signal({"person_id": f"p{case_id}", "signal": "report_16h_4w",
                             "date": D(2024, 9, 10)}, case_id=case_id,
                            gemeente_code=gemeente, swv_id=swv, opened_on=D(2024, 9, 11),
                            episode_start=START)


def ev(date: dt.date, kind: str, **kw: object) -> CaseEvent:
    return CaseEvent(date=date, kind=kind, **kw)  # type: ignore[arg-type]


def steps(case: Case, asof: dt.date, **kw: object) -> dict[str, tuple[str, object]]:
    df = due_steps([case], asof, **kw)  # type: ignore[arg-type]
    return {s: (st, d) for s, st, d in df.select("step", "status", "due").iter_rows()}


def test_open_from_signal_and_the_full_chain() -> None:
    c = base()
    assert c.start == START and c.source == "signal"
    assert case_state(c).state == "opened"
    c = c.with_events(ev(D(2024, 9, 16), "convene_mdt"),
                      ev(D(2024, 9, 27), "appoint_case_director", actor="cd"),
                      ev(D(2024, 10, 25), "mobilise_breakthrough"),
                      ev(D(2024, 11, 20), "start_arbitration"),
                      ev(D(2024, 12, 10), "resolve", outcome="oza_arrangement"),
                      ev(D(2025, 1, 10), "close", outcome="oza_arrangement"))
    st = case_state(c)
    assert st.state == "closed" and st.outcome == "oza_arrangement"
    assert list(st.entered) == list(STATES)
    assert case_state(c, D(2024, 11, 1)).state == "doorbraak"
    s = steps(c.with_consent(Consent(party="parent", given=True, date=D(2024, 9, 11)),
                             Consent(party="child", given=True, date=D(2024, 9, 11))),
              D(2025, 2, 1))
    assert {k: v[0] for k, v in s.items()} == {"consent": "done", "casusregie": "done",
                                               "doorbraak": "done", "arbitration": "done"}


def test_timers_of_the_worked_example_due_and_overdue() -> None:
    c = base()
    s = steps(c, D(2024, 9, 20))
    assert s["casusregie"] == ("due", D(2024, 9, 30))  # within 14 days
    assert s["doorbraak"] == ("upcoming", D(2024, 10, 28))
    assert s["arbitration"] == ("upcoming", D(2024, 11, 25))
    s = steps(c, D(2024, 11, 26))
    assert s["casusregie"][0] == s["doorbraak"][0] == s["arbitration"][0] == "overdue"
    df = due_steps([c], D(2024, 11, 26))
    assert dict(df.select("step", "days_overdue").iter_rows())["arbitration"] == 1
    # on the deadline itself the step is due, not overdue
    assert steps(c, D(2024, 9, 30))["casusregie"][0] == "due"
    # the case director came two days late
    late = c.with_events(ev(D(2024, 10, 2), "appoint_case_director"))
    assert steps(late, D(2024, 10, 10))["casusregie"] == ("done_late", D(2024, 9, 30))
    # 12 weeks for the breakthrough team (seed 002's other reading)
    t = ChainTimers(doorbraak=84)
    assert steps(c, D(2024, 9, 20), timers=t)["doorbraak"][1] == D(2024, 11, 25)
    with pytest.raises(ValidationError):
        ChainTimers(casusregie=60, doorbraak=56)


def test_resolved_case_has_no_open_steps_and_waivers() -> None:
    c = base().with_events(ev(D(2024, 9, 20), "resolve", outcome="back_to_school"))
    s = steps(c, D(2024, 12, 1))
    assert s["casusregie"][0] == s["arbitration"][0] == "not_needed"
    w = base().with_events(ev(D(2024, 9, 20), "appoint_case_director"),
                           ev(D(2024, 10, 20), "waive_step", step="doorbraak",
                              note="school place from 1 November"))
    s = steps(w, D(2024, 11, 1))
    assert s["doorbraak"][0] == "waived" and s["arbitration"][0] == "upcoming"
    with pytest.raises(ValidationError):
        ev(D(2024, 10, 20), "waive_step", step="doorbraak")  # no reason
    with pytest.raises(ValidationError):
        ev(D(2024, 10, 20), "resolve")  # no outcome
    with pytest.raises(ValidationError):
        ev(D(2024, 10, 20), "fly")


def test_transitions_not_allowed_are_located_errors() -> None:
    c = base().with_events(ev(D(2024, 9, 20), "mobilise_breakthrough"))
    with pytest.raises(InputError) as e:
        case_state(c)
    assert "events[1].kind" in str(e.value) and "opened" in str(e.value)
    closed = base().with_events(ev(D(2024, 9, 20), "close", outcome="moved"),
                                ev(D(2024, 9, 21), "reopen"))
    with pytest.raises(InputError):
        case_state(closed)
    early = base().with_events(ev(D(2024, 8, 1), "convene_mdt"))
    with pytest.raises(InputError, match="before the case's start"):
        case_state(early)
    # the machine itself: reopen only from resolved
    c2 = base().with_events(ev(D(2024, 9, 20), "resolve", outcome="care"),
                            ev(D(2024, 10, 1), "reopen"))
    st = case_state(c2)
    assert st.state == "opened" and st.outcome is None

    class M:
        state = None

    sm = CaseChain(M())
    assert {e.id for e in sm.allowed_events} == {"open", "close"}


def test_events_apply_in_date_order() -> None:
    c = base().with_events(ev(D(2024, 10, 1), "appoint_case_director"),
                           ev(D(2024, 9, 20), "convene_mdt"))
    assert case_state(c).entered["mdt"] == D(2024, 9, 20)


def test_consent_latest_record_counts() -> None:
    c = base().with_consent(Consent(party="parent", given=True, date=D(2024, 9, 11)),
                            Consent(party="child", given=True, date=D(2024, 9, 12)))
    st = case_state(c)
    assert st.consent and st.consent_since == D(2024, 9, 12)
    assert steps(c, D(2024, 9, 20))["consent"][0] == "done_late"  # due on opening day
    w = c.with_consent(Consent(party="child", given=False, date=D(2024, 10, 1)))
    assert not case_state(w).consent and case_state(w, D(2024, 9, 30)).consent
    assert steps(w, D(2024, 10, 2))["consent"][0] == "overdue"
    assert steps(base(), D(2024, 9, 11))["consent"][0] == "due"


def test_lists_per_gemeente_and_swv() -> None:
    cases = [base("C1", "GM0001", "PO01"), base("C2", "GM0002", "PO01"),
             base("C3", "GM0002", "PO02").with_events(
                 ev(D(2024, 9, 25), "appoint_case_director"))]
    df = due_steps(cases, D(2024, 10, 5), only_open=True)
    assert set(df["status"]) <= {"due", "overdue"}
    g = step_summary(due_steps(cases, D(2024, 10, 5)), "gemeente")
    row = g.filter((pl.col("region") == "GM0002") & (pl.col("step") == "casusregie"))
    assert dict(row.select("status", "cases").iter_rows()) == {"done": 1, "overdue": 1}
    s = step_summary(due_steps(cases, D(2024, 10, 5)), "swv")
    assert set(s["region"]) == {"PO01", "PO02"}
    st = states_of(cases, D(2024, 10, 5))
    assert dict(st.select("case_id", "state").iter_rows()) == {
        "C1": "opened", "C2": "opened", "C3": "casusregie"}
    assert due_steps(cases, D(2024, 9, 1)).height == 0  # not opened yet


def test_timeline_in_date_order_with_deadlines() -> None:
    c = base().with_events(ev(D(2024, 9, 27), "appoint_case_director", actor="cd")) \
        .with_consent(Consent(party="parent", given=True, date=D(2024, 9, 11))) \
        .with_ledger(LedgerEntry(entry_id="L1", date=D(2024, 10, 1), amount=Decimal("99.50"),
                                 payer="gemeente", purpose="taxi"))
    tl = timeline(c, D(2024, 10, 15))
    assert tl["date"].is_sorted()
    kinds = tl["kind"].to_list()
    assert kinds[0] == "episode_start" and kinds.count("deadline") == 4
    assert "appoint_case_director" in kinds and "ledger" in kinds and "consent" in kinds
    row = tl.filter(pl.col("kind") == "appoint_case_director")
    assert row["state"][0] == "casusregie"


def test_ledger_totals_to_the_cent_and_export(tmp_path: Path) -> None:
    a = base("C1").with_ledger(
        LedgerEntry(entry_id="1", date=D(2024, 10, 1), amount=Decimal("0.10"),
                    payer="gemeente", purpose="a", approved_by="x", approved_on=D(2024, 10, 2)),
        LedgerEntry(entry_id="2", date=D(2024, 10, 1), amount=Decimal("0.20"),
                    payer="gemeente", purpose="b", approved_by="x", approved_on=D(2024, 10, 2)),
        LedgerEntry(entry_id="3", date=D(2024, 10, 3), amount=Decimal("1000.01"),
                    payer="swv", purpose="c"))
    b = base("C2").with_ledger(
        LedgerEntry(entry_id="1", date=D(2024, 11, 1), amount=Decimal("-0.10"),
                    payer="gemeente", purpose="correction", approved_by="y",
                    approved_on=D(2024, 11, 1)))
    entries = ledger_frame([a, b])
    tot = ledger_totals(entries)
    grand = tot.filter(pl.col("level") == "total").row(0, named=True)
    assert grand["total"] == Decimal("1000.21") and grand["approved"] == Decimal("0.20")
    assert grand["unapproved"] == Decimal("1000.01") and grand["entries"] == 4
    g = tot.filter((pl.col("level") == "payer") & (pl.col("payer") == "gemeente")).row(
        0, named=True)
    assert g["total"] == Decimal("0.20")
    files = export_ledger([a, b], tmp_path / "led" / "ledger.csv")
    assert [f.name for f in files] == ["ledger.csv", "ledger_totals.csv"]
    assert (files[0].stat().st_mode & 0o777) == 0o600
    back = pl.read_csv(files[1])
    assert back.filter(pl.col("level") == "total")["total"][0] == pytest.approx(1000.21)
    x = export_ledger([a, b], tmp_path / "ledger.xlsx")[0]
    wb = openpyxl.load_workbook(x)
    assert wb.sheetnames == ["entries", "totals"]
    with pytest.raises(ValidationError):
        LedgerEntry(entry_id="9", date=D(2024, 10, 1), amount=Decimal("1.005"),
                    payer="gemeente", purpose="x")
    with pytest.raises(ValidationError):
        LedgerEntry(entry_id="9", date=D(2024, 10, 1), amount=Decimal("1"), payer="bank",
                    purpose="x")
    with pytest.raises(ValidationError):
        a.with_ledger(LedgerEntry(entry_id="1", date=D(2024, 10, 1), amount=Decimal("1"),
                                  payer="swv", purpose="dup"))


def test_oogo_agreements(tmp_path: Path) -> None:
    f = tmp_path / "oogo.yaml"
    f.write_text("""
agreements:
  - {region_id: PO01, kind: breakthrough_approach, title: Doorbraakaanpak,
     valid_from: 2024-01-01}
  - {region_id: GM0001, kind: case_director, title: Casusregie, valid_from: 2020-01-01,
     valid_to: 2023-12-31, case_director_body: Stichting X}
  - {region_id: GM0001, kind: covenant, title: Convenant, valid_from: 2023-01-01}
  - {region_id: GM0009, kind: covenant, title: Elders, valid_from: 2023-01-01}
""")
    ags = load_agreements(f)
    got = agreements_for(ags, base())
    assert [a.title for a in got] == ["Convenant", "Doorbraakaanpak"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("agreements:\n  - {region_id: PO01, kind: law, title: x, "
                   "valid_from: 2024-01-01}\n")
    with pytest.raises(InputError, match=r"agreements\[0\]\.kind"):
        load_agreements(bad)
