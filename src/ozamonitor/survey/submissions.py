"""Submissions: one part answered for one arrangement in one wave; prefill and files.

A :class:`Submission` carries the arrangement code, the wave (year), the part
(``level1`` .. ``level4``), the instrument version it was answered with, the
respondent's role, its status (``draft`` or ``submitted``), the answers and
which answers were prefilled from the previous wave. The web application
stores submissions in its database; researchers and the CLI keep them in JSON
or Parquet files (:func:`save_answers`, :func:`load_answers`).
:func:`prefill` and :func:`prefill_wave` open a new wave from the previous
wave's answers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.files import atomic_write, atomic_write_text
from ozamonitor.survey.answers import (
    Completeness,
    FormState,
    _empty,
    carry_answer,
    completeness,
    evaluate_part,
)
from ozamonitor.survey.instrument import Instrument, load_instrument

__all__ = [
    "FILE_FORMAT",
    "RESPONDENT_ROLES",
    "STATUSES",
    "AnswerSource",
    "Submission",
    "load_answers",
    "prefill",
    "prefill_wave",
    "save_answers",
]

#: Status of a submission: saved but not handed in, or handed in.
STATUSES = ("draft", "submitted")
#: Who answered a part (the roles of the arrangements registry).
RESPONDENT_ROLES = ("swv_staff", "school_staff", "care_provider_staff", "study_team",
                    "administrator")
#: The ``format`` field of an answers JSON file.
FILE_FORMAT = "ozamonitor-survey-answers"


# ---------------------------------------------------------------- submissions


@dataclass
class Submission:
    """One part of the questionnaire answered for one arrangement in one wave.

    Attributes
    ----------
    arrangement_id : str
        The arrangement's code (the register's ``arrangement_id``).
    wave : int
        The wave's year (2023 .. 2028).
    part : str
        ``level1`` .. ``level4``.
    instrument_version : str
        The instrument version the answers were given with.
    answers : dict
        Question name -> answer; repeats as lists of mappings.
    status : str
        ``draft`` or ``submitted``.
    respondent_role : str
        Who answered (see :data:`RESPONDENT_ROLES`).
    prefilled : set of str
        Question and repeat names whose answers were copied from the previous
        wave and not changed since.
    updated : str or None
        When last saved (ISO 8601), if known.
    """

    arrangement_id: str
    wave: int
    part: str
    instrument_version: str
    answers: dict[str, Any] = field(default_factory=dict)
    status: str = "draft"
    respondent_role: str = "swv_staff"
    prefilled: set[str] = field(default_factory=set)
    updated: str | None = None

    @property
    def key(self) -> tuple[str, int, str]:
        """(arrangement_id, wave, part): one submission per key."""
        return (self.arrangement_id, self.wave, self.part)

    def set_answer(self, name: str, value: Any) -> None:
        """Change one answer; it is then no longer marked as prefilled."""
        if _empty(value):
            self.answers.pop(name, None)
        else:
            self.answers[name] = value
        self.prefilled.discard(name)

    def evaluate(self, instrument: Instrument | None = None, *, final: bool | None = None,
                 today: dt.date | None = None) -> FormState:
        """:func:`evaluate_part` on this submission (final when submitted)."""
        inst = instrument or load_instrument(self.instrument_version)
        return evaluate_part(inst, self.part, self.answers,
                             final=self.status == "submitted" if final is None else final,
                             today=today)

    def completeness(self, instrument: Instrument | None = None) -> Completeness:
        """How much of this part is answered."""
        inst = instrument or load_instrument(self.instrument_version)
        return completeness(inst, self.part, self.answers)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (dates as ISO text)."""
        return {
            "arrangement_id": self.arrangement_id,
            "wave": self.wave,
            "part": self.part,
            "instrument_version": self.instrument_version,
            "status": self.status,
            "respondent_role": self.respondent_role,
            "prefilled": sorted(self.prefilled),
            "updated": self.updated,
            "answers": _jsonable(self.answers),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, file: str | Path | None = None,
                  row: int | None = None) -> Submission:
        """Read one submission, checking its fields (errors name file, row and field)."""
        def bad(fld: str, msg: str) -> InputError:
            return InputError(msg, file=file, row=row, field=fld)

        if not isinstance(d, Mapping):
            raise InputError("a submission must be a mapping", file=file, row=row)
        for fld in ("arrangement_id", "wave", "part", "instrument_version"):
            if d.get(fld) in (None, ""):
                raise bad(fld, "missing")
        aid = d["arrangement_id"]
        if not isinstance(aid, str):
            raise bad("arrangement_id", "must be text")
        try:
            wave = int(d["wave"])
        except (TypeError, ValueError):
            raise bad("wave", "must be a year") from None
        if not 2000 <= wave <= 2100:
            raise bad("wave", f"must be a year, got {wave}")
        status = d.get("status") or "draft"
        if status not in STATUSES:
            raise bad("status", f"must be one of {', '.join(STATUSES)}")
        answers = d.get("answers") or {}
        if isinstance(answers, str):
            try:
                answers = json.loads(answers)
            except json.JSONDecodeError as e:
                raise bad("answers", f"not valid JSON: {e.msg}") from None
        if not isinstance(answers, Mapping):
            raise bad("answers", "must be a mapping of question names to answers")
        prefilled = d.get("prefilled") or []
        if isinstance(prefilled, str):
            prefilled = json.loads(prefilled) if prefilled.startswith("[") else prefilled.split()
        return cls(
            arrangement_id=aid,
            wave=wave,
            part=str(d["part"]),
            instrument_version=str(d["instrument_version"]),
            answers=dict(answers),
            status=status,
            respondent_role=str(d.get("respondent_role") or "swv_staff"),
            prefilled=set(prefilled),
            updated=d.get("updated"),
        )


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set):
        return [_jsonable(x) for x in v]
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


# ---------------------------------------------------------------- prefill


def prefill(previous: Submission, *, wave: int, instrument: Instrument | None = None,
            respondent_role: str | None = None) -> Submission:
    """Start a part of a new wave from the previous wave's answers.

    Answers are copied where the new instrument still has the question and
    accepts the answer (a choice that no longer exists is dropped); each copied
    question or repeat is marked in ``prefilled``. The result is a draft with
    the new instrument's version and skipped answers removed.

    Parameters
    ----------
    previous : Submission
        The part as answered in the earlier wave.
    wave : int
        The new wave's year.
    instrument : Instrument, optional
        The new wave's instrument (default: the newest shipped version).
    respondent_role : str, optional
        Default: the previous respondent's role.
    """
    inst = instrument or load_instrument()
    if previous.part not in inst.part_names:
        raise ConfigurationError(f"part {previous.part!r} is not in instrument {inst.version}")
    answers: dict[str, Any] = {}
    marked: set[str] = set()
    for name, v in previous.answers.items():
        if inst.is_repeat(name) and inst.group(name).part == previous.part:
            rows = []
            for row in v or []:
                new = {}
                for k, x in (row or {}).items():
                    if inst.has(k) and inst.question(k).repeat == name:
                        c = carry_answer(inst.question(k), x)
                        if c is not None:
                            new[k] = c
                if new:
                    rows.append(new)
            if rows:
                answers[name] = rows
                marked.add(name)
        elif inst.has(name) and inst.question(name).part == previous.part \
                and inst.question(name).repeat is None:
            c = carry_answer(inst.question(name), v)
            if c is not None:
                answers[name] = c
                marked.add(name)
    state = evaluate_part(inst, previous.part, answers)
    answers = {k: v for k, v in _jsonable(state.values).items()
               if not (inst.has(k) and inst.question(k).type == "calculate")}
    for row_list in (v for k, v in answers.items() if inst.is_repeat(k)):
        for row in row_list:
            for k in [k for k in row if inst.question(k).type == "calculate"]:
                del row[k]
    return Submission(
        arrangement_id=previous.arrangement_id,
        wave=wave,
        part=previous.part,
        instrument_version=inst.version,
        answers=answers,
        status="draft",
        respondent_role=respondent_role or previous.respondent_role,
        prefilled={m for m in marked if m in answers},
    )


def prefill_wave(submissions: Iterable[Submission], *, from_wave: int, to_wave: int,
                 instrument: Instrument | None = None,
                 arrangements: Sequence[str] | None = None) -> list[Submission]:
    """Open wave ``to_wave``: a prefilled draft for every part submitted in ``from_wave``.

    ``arrangements`` limits the wave to some arrangements (default: all that
    submitted a part in ``from_wave``). Parts not answered before start empty
    and are not returned; the web application creates those on first save.
    """
    wanted = set(arrangements) if arrangements is not None else None
    out = []
    for s in submissions:
        if s.wave != from_wave or s.status != "submitted":
            continue
        if wanted is not None and s.arrangement_id not in wanted:
            continue
        out.append(prefill(s, wave=to_wave, instrument=instrument))
    return sorted(out, key=lambda s: s.key)


# ---------------------------------------------------------------- files


@runtime_checkable
class AnswerSource(Protocol):
    """Anything that yields submissions (the web application's database adapter)."""

    def submissions(self) -> Iterable[Submission]:
        """All submissions the caller may see."""
        ...


def save_answers(submissions: Iterable[Submission], path: str | Path) -> Path:
    """Write submissions to ``.json`` or ``.parquet`` (atomically)."""
    path = Path(path)
    subs = list(submissions)
    if path.suffix.lower() == ".json":
        doc = {"format": FILE_FORMAT, "version": 1, "submissions": [s.to_dict() for s in subs]}
        return atomic_write_text(path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    if path.suffix.lower() == ".parquet":
        import polars as pl

        rows = [s.to_dict() for s in subs]
        frame = pl.DataFrame(
            {
                "arrangement_id": [r["arrangement_id"] for r in rows],
                "wave": [r["wave"] for r in rows],
                "part": [r["part"] for r in rows],
                "instrument_version": [r["instrument_version"] for r in rows],
                "status": [r["status"] for r in rows],
                "respondent_role": [r["respondent_role"] for r in rows],
                "prefilled": [json.dumps(r["prefilled"]) for r in rows],
                "updated": [r["updated"] for r in rows],
                "answers": [json.dumps(r["answers"], ensure_ascii=False) for r in rows],
            },
            schema={"arrangement_id": pl.String, "wave": pl.Int32, "part": pl.String,
                    "instrument_version": pl.String, "status": pl.String,
                    "respondent_role": pl.String, "prefilled": pl.String,
                    "updated": pl.String, "answers": pl.String},
        )
        with atomic_write(path) as tmp:
            frame.write_parquet(tmp)
        return path
    raise ConfigurationError(f"{path.name}: answers are written as .json or .parquet")


def _check_unique(subs: list[Submission], file: str | None) -> None:
    seen: dict[tuple[str, int, str], int] = {}
    for i, s in enumerate(subs, start=1):
        if s.key in seen:
            raise InputError(
                f"arrangement {s.arrangement_id}, wave {s.wave}, {s.part} appears twice "
                f"(rows {seen[s.key]} and {i})", file=file, row=i, field="part")
        seen[s.key] = i


def load_answers(source: str | Path | AnswerSource | Iterable[Submission]) -> list[Submission]:
    """Read submissions from a file or another source.

    Parameters
    ----------
    source : path, AnswerSource or iterable of Submission
        A ``.json`` file (``{"format": "ozamonitor-survey-answers",
        "submissions": [...]}`` or a bare list) or a ``.parquet`` file as
        :func:`save_answers` writes them; or an object with a
        ``submissions()`` method (the web application's database adapter);
        or submissions already in memory.

    Raises
    ------
    InputError
        A bad record (naming file, row and field) or a duplicate
        (arrangement, wave, part).
    """
    if isinstance(source, AnswerSource):
        subs = list(source.submissions())
        _check_unique(subs, None)
        return subs
    if not isinstance(source, str | Path):
        subs = list(source)
        _check_unique(subs, None)
        return subs
    path = Path(source)
    if not path.is_file():
        raise InputError("no such answers file", file=path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"not valid JSON: {e}", file=path) from None
        records = doc.get("submissions") if isinstance(doc, dict) else doc
        if isinstance(doc, dict) and doc.get("format") not in (None, FILE_FORMAT):
            raise InputError(f"not an answers file (format {doc.get('format')!r})", file=path)
        if not isinstance(records, list):
            raise InputError("expected a list of submissions", file=path)
    elif suffix == ".parquet":
        import polars as pl

        try:
            records = pl.read_parquet(path).to_dicts()
        except Exception as e:  # polars raises several kinds for a bad file
            raise InputError(f"not a readable Parquet file: {e}", file=path) from None
    else:
        raise InputError("answers are read from .json or .parquet", file=path)
    subs = [Submission.from_dict(r, file=path.name, row=i) for i, r in enumerate(records, 1)]
    _check_unique(subs, path.name)
    return subs
