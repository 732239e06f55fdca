"""Exports, the exchange import, register tables and the demo built from a synthetic register."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from ozamonitor.errors import InputError

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def tiny_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ozamonitor.web.demo import synthetic_register

    return synthetic_register(tmp_path_factory.mktemp("reg") / "register")


def test_export_import_round_trip(world, tmp_path: Path) -> None:
    from ozamonitor.web.registry.exchange import export_bytes, import_file
    from ozamonitor.web.registry.models import Arrangement

    data, _, _ = export_bytes(Arrangement.objects.all(), "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [r["code"] for r in rows] == ["OZAA", "OZAB"]
    assert rows[0]["partners"] == "ZA-A:care_provider:gemeente;11AA00:school:gemeente"
    rows[0]["name"] = "Renamed in Excel"
    rows.append(dict(rows[0], code="OZANEW", name="New from the sheet"))
    path = tmp_path / "in.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result = import_file(path, user=world.users["admin"])
    assert result == {"created": 1, "updated": 2}
    a = Arrangement.objects.get(code="OZAA")
    assert a.name == "Renamed in Excel" and a.version == 2
    assert a.history.first().history_user == world.users["admin"]
    new = Arrangement.objects.get(code="OZANEW")
    assert new.partners.count() == 2 and new.deviations == ["time"]


def test_import_errors_name_row_and_field_and_import_nothing(world, tmp_path: Path) -> None:
    from openpyxl import Workbook

    from ozamonitor.web.registry.exchange import COLUMNS, import_file
    from ozamonitor.web.registry.models import Arrangement

    wb = Workbook()
    ws = wb.active
    ws.title = "arrangements"
    ws.append(list(COLUMNS))
    good = {"code": "OZAN1", "name": "n", "initiative": "INIA", "swv": "PO01", "sector": "po",
            "type": "opdc", "deviations": "time", "status": "planned"}
    ws.append([good.get(c, "") for c in COLUMNS])
    ws.append([dict(good, code="OZAN2", start="2024-02-30").get(c, "") for c in COLUMNS])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match=r"in.xlsx:2: start"):
        import_file(path)
    assert not Arrangement.objects.filter(code__startswith="OZAN").exists()
    ws.delete_rows(3)
    ws.append([dict(good, code="OZAN2", deviations="time;holidays").get(c, "")
               for c in COLUMNS])
    wb.save(path)
    with pytest.raises(InputError, match=r"in.xlsx:2: deviations"):
        import_file(path)
    ws.delete_rows(3)
    ws.append([dict(good, code="OZAN3", swv="GM0001").get(c, "") for c in COLUMNS])
    wb.save(path)
    with pytest.raises(InputError, match=r"in.xlsx:2: swv"):
        import_file(path)
    assert not Arrangement.objects.filter(code__startswith="OZAN").exists()


def test_demo_from_a_synthetic_register(tiny_register: Path, tmp_path: Path) -> None:
    from ozamonitor.web.core.models import Membership
    from ozamonitor.web.demo import load_demo
    from ozamonitor.web.registry.exchange import register_tables, write_register
    from ozamonitor.web.registry.models import Arrangement, Initiative

    accounts = load_demo(tiny_register, accounts_csv=tmp_path / "accounts.csv")
    assert Initiative.objects.count() == 62 and Arrangement.objects.count() == 76
    roles = {r["role"] for r in accounts.rows}
    assert {"admin", "study_team", "swv_staff", "school_staff", "provider_staff"} <= roles
    assert (tmp_path / "accounts.csv").stat().st_mode & 0o777 == 0o600
    assert Membership.objects.count() == len(accounts.rows) - 1  # admin is a superuser
    types = set(Arrangement.objects.values_list("type", flat=True))
    assert len(types) >= 5
    for ini in Initiative.objects.all()[:10]:
        report = ini.besluit_report()
        assert report.ok, [(r.id, r.message("en")) for r in report.results if r.status != "pass"]
    # the registry gives back the register's arrangements
    reg = pl.read_parquet(tiny_register / "arrangements.parquet").sort("arrangement_id")
    mine = register_tables(Arrangement.objects.all()).sort("arrangement_id")
    for col in ("arrangement_id", "initiative_id", "name", "swv_id", "gemeente_code",
                "care_provider", "deviations", "target_groups", "start"):
        assert mine[col].to_list() == reg[col].to_list(), col
    # the registry takes the lead from the initiative's applicant; the synthetic register
    # draws it per arrangement, so compare where an initiative has one lead kind
    single = reg.group_by("initiative_id").agg(pl.col("lead_kind").n_unique().alias("n")) \
        .filter(pl.col("n") == 1)["initiative_id"]
    keep = pl.col("initiative_id").is_in(single.implode())
    assert mine.filter(keep)["lead_kind"].to_list() == reg.filter(keep)["lead_kind"].to_list()
    assert mine.filter(keep)["lead_id"].to_list() == reg.filter(keep)["lead_id"].to_list()
    out = write_register(Arrangement.objects.all(), tmp_path / "reg2", tiny_register)
    from ozamonitor.register.validate import validate_register

    assert not list(validate_register(out))
    part = pl.read_parquet(out / "oza_participation.parquet")
    assert part.height == pl.read_parquet(tiny_register / "oza_participation.parquet").height


def test_register_export_without_a_base(world, tmp_path: Path) -> None:
    from ozamonitor.register.store import Register
    from ozamonitor.web.registry.exchange import write_register
    from ozamonitor.web.registry.models import Arrangement

    out = write_register(Arrangement.objects.all(), tmp_path / "r")
    reg = Register(out)
    assert reg.read("arrangements")["arrangement_id"].to_list() == ["OZAA", "OZAB"]
    assert reg.read("oza_participation").height == 0
