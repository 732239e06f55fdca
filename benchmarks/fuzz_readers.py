"""Coverage-guided fuzzing (atheris) of the source readers: CSV and xlsx bytes into an import.

Each input is written as one source file (``persons.csv`` or ``persons.xlsx``)
and imported as the ``persons`` table (read, parse, pseudonymise, validate).
The invariant: an :class:`~ozamonitor.errors.OzamonitorError` (a clear message)
or a result; any other exception is a crash. A crash is saved to
``tests/data/fuzz_cases/`` (``<kind>-<sha1>.bin``), where
``tests/test_hardening_fuzz.py`` replays every saved case as a regression test.

Usage::

    python benchmarks/fuzz_readers.py --kind csv --seconds 120
    python benchmarks/fuzz_readers.py --kind xlsx --seconds 120

Runs until the time budget is spent (``-max_total_time``); libFuzzer prints the
number of inputs tried (``Done N runs in S second(s)``), and each crash saved is
named on stderr as it is found.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
import tempfile
from pathlib import Path

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "fuzz_cases"
KEY = b"fuzz-key-0123456789abcdefghijklmnopqrstuv"
SEEDS = {
    "csv": [b"bsn,birth_date,sex\n123456782,2012-03-15,M\n",
            b"bsn;birth_date;sex\r\n111222333;15-03-2012;V\r\n"],
    "xlsx": [],
}


def run_one(data: bytes, kind: str) -> None:
    """Import ``data`` as the persons table; raise only on a crash (not an OzamonitorError)."""
    import datetime as dt

    from ozamonitor.errors import OzamonitorError
    from ozamonitor.register.importer import import_tables

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"persons.{kind}"
        path.write_bytes(data)
        with contextlib.suppress(OzamonitorError):
            import_tables(path, table="persons", key=KEY, extraction_date=dt.date(2025, 1, 1))


def _xlsx_seed() -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "persons"
    ws.append(["bsn", "birth_date", "sex"])
    ws.append(["123456782", "2012-03-15", "M"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=("csv", "xlsx"), default="csv")
    ap.add_argument("--seconds", type=int, default=60, help="Time budget.")
    args = ap.parse_args(argv)

    import atheris

    with atheris.instrument_imports(include=["ozamonitor"]):
        import ozamonitor.register.importer
        import ozamonitor.register.sources  # noqa: F401

    CASES.mkdir(parents=True, exist_ok=True)
    corpus = Path(tempfile.mkdtemp(prefix="ozm-fuzz-corpus-"))
    seeds = SEEDS[args.kind] or [_xlsx_seed()]
    for i, s in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(s)
    seen: set[tuple[str, str]] = set()

    def one_input(data: bytes) -> None:
        try:
            run_one(data, args.kind)
        except Exception as e:  # a crash: saved once per kind and place, fuzzing goes on
            import traceback

            frames = [f for f in traceback.extract_tb(e.__traceback__)
                      if "ozamonitor" in f.filename]
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
            if (type(e).__name__, where) in seen:
                return
            seen.add((type(e).__name__, where))
            name = f"{args.kind}-{hashlib.sha1(data).hexdigest()[:16]}.bin"
            (CASES / name).write_bytes(data)
            print(f"crash {type(e).__name__} at {where} saved as {CASES / name}",
                  file=sys.stderr)

    atheris.Setup([sys.argv[0], f"-max_total_time={args.seconds}", "-rss_limit_mb=4096",
                   str(corpus)], one_input)
    atheris.Fuzz()  # libFuzzer ends the process when the budget is spent
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
