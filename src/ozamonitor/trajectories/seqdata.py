"""State sequences as an integer matrix: :class:`SequenceData`.

Rows are persons, columns are periods (calendar months, months of age, months
relative to an event, ...). Cells hold the integer code of a state of an
:class:`~ozamonitor.trajectories.states.Alphabet` (its position),
:data:`~ozamonitor.trajectories.states.MISSING` (254) for a missing position
inside a sequence, or :data:`~ozamonitor.trajectories.states.VOID` (255) for a
position that is not part of the sequence (TraMineR's *void*, e.g. after the
trailing missing positions were deleted).

The tabular form (:meth:`SequenceData.to_polars`) is one ``id`` column plus one
string column per period holding state codes (null/empty = missing, ``"%"`` =
void, as TraMineR writes void); it is the input format of the sequence-distance
CLI (``ozamonitor seqdist --input ... --missing state`` deletes ``"%"`` cells and
keeps empty cells as the missing state) and is what ``sequences.parquet`` holds.
Writing and reading back is exact: missing stays missing, void stays void. The
alphabet travels in the Parquet file's metadata.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ozamonitor.trajectories.states import (
    DEFAULT_CONFIG,
    MISSING,
    VOID,
    Alphabet,
    State,
    alphabet_from_codes,
)

_META_KEY = b"ozamonitor.sequences"
#: How void positions are written in the tabular form (TraMineR's void symbol).
VOID_SYMBOL = "%"


@dataclass
class SequenceData:
    """Integer-coded state sequences with ids, period labels and alphabet."""

    codes: np.ndarray
    ids: np.ndarray
    columns: list[str]
    alphabet: Alphabet
    #: What a column is: ``"month"``, ``"week"``, ``"quarter"``, ``"year"``,
    #: ``"age_month"``, ``"event_month"``, ...
    period: str = "month"
    #: Per-person birth dates (``datetime64[D]``), used by age alignment.
    birth_dates: np.ndarray | None = None
    #: First day of each column for calendar sequences (``datetime64[D]``).
    period_starts: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.codes = np.ascontiguousarray(self.codes, dtype=np.uint8)
        self.ids = np.asarray(self.ids, dtype=object)
        if self.codes.ndim != 2:
            raise ValueError(f"codes must be 2-D, got shape {self.codes.shape}")
        if self.codes.shape != (len(self.ids), len(self.columns)):
            raise ValueError(
                f"codes shape {self.codes.shape} does not match {len(self.ids)} ids x "
                f"{len(self.columns)} columns"
            )
        k = len(self.alphabet)
        bad = (self.codes >= k) & (self.codes != MISSING) & (self.codes != VOID)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(
                f"code {self.codes[r, c]} at row {r} ({self.ids[r]}), column "
                f"{self.columns[c]!r} is outside the alphabet of {k} states"
            )

    # ------------------------------------------------------------------ shape
    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    @property
    def length(self) -> int:
        return int(self.codes.shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """Sequence lengths: positions before the trailing void positions."""
        notvoid = self.codes != VOID
        rev = notvoid[:, ::-1]
        last = self.length - np.argmax(rev, axis=1)
        return np.where(notvoid.any(axis=1), last, 0).astype(np.int64)

    @property
    def valid(self) -> np.ndarray:
        """Boolean matrix: position holds a state (not missing, not void)."""
        return self.codes < len(self.alphabet)

    def subset(self, rows: np.ndarray | Sequence[int] | slice) -> SequenceData:
        """Rows ``rows`` (indices, boolean mask or slice) as a new object."""
        idx = rows if isinstance(rows, slice) else np.asarray(rows)
        return replace(
            self,
            codes=self.codes[idx],
            ids=self.ids[idx],
            birth_dates=None if self.birth_dates is None else self.birth_dates[idx],
            meta=dict(self.meta),
        )

    def with_missing_state(self, code: str = "missing") -> SequenceData:
        """Turn MISSING into an explicit extra state of the alphabet (TraMineR's
        ``with.missing=TRUE``); void stays void."""
        alph = self.alphabet
        k = len(alph)
        new = Alphabet((*alph.states, State(code, alph.missing_label_nl, alph.missing_label_en,
                                            "#F0F0F0", "False")))
        codes = self.codes.copy()
        codes[codes == MISSING] = k
        return replace(self, codes=codes, alphabet=new, meta=dict(self.meta))

    def delete_trailing_missing(self) -> SequenceData:
        """Right-delete: trailing missing positions become void (variable length)."""
        codes = self.codes.copy()
        is_gap = (codes == MISSING) | (codes == VOID)
        # positions after the last valid one
        valid = ~is_gap
        last = np.where(valid.any(axis=1), self.length - 1 - np.argmax(valid[:, ::-1], axis=1),
                        -1)
        after = np.arange(self.length)[None, :] > last[:, None]
        codes[after] = VOID
        return replace(self, codes=codes, meta=dict(self.meta))

    # ---------------------------------------------------------------- tabular
    def to_polars(self, id_column: str = "id") -> pl.DataFrame:
        """``id`` + one string column per period (state code; null = missing, ``"%"`` = void)."""
        df = pl.from_arrow(self.to_arrow(id_column))
        assert isinstance(df, pl.DataFrame)
        return df

    def to_long(self, id_column: str = "id") -> pl.DataFrame:
        """Long form: id, position, column label, state (valid positions only)."""
        r, c = np.nonzero(self.valid)
        return pl.DataFrame({
            id_column: self.ids[r].tolist(),
            "position": c.astype(np.int32),
            "period": np.asarray(self.columns, dtype=object)[c].tolist(),
            "state": np.asarray(self.alphabet.codes, dtype=object)[self.codes[r, c]].tolist(),
        })

    @classmethod
    def from_polars(
        cls,
        df: pl.DataFrame | Any,
        alphabet: Alphabet | None = None,
        *,
        id_column: str = "id",
        period: str = "month",
    ) -> SequenceData:
        """Read the tabular form (pandas accepted); unknown codes raise."""
        if not isinstance(df, pl.DataFrame):
            df = pl.from_pandas(df)
        if id_column not in df.columns:
            raise ValueError(f"sequence table has no id column {id_column!r}")
        cols = [c for c in df.columns if c != id_column]
        alph = alphabet
        if alph is None:
            seen = set()
            for c in cols:
                seen.update(v for v in df[c].cast(pl.String).unique().to_list()
                            if v not in (None, "", "*", "%"))
            default = DEFAULT_CONFIG.alphabet
            alph = default if seen <= set(default.codes) else alphabet_from_codes(sorted(seen))
        codes = np.empty((df.height, len(cols)), dtype=np.uint8)
        mapping = {c: i for i, c in enumerate(alph.codes)}
        mapping.update({"*": MISSING, "%": VOID, "": MISSING})
        for j, c in enumerate(cols):
            col = df[c].cast(pl.String)
            unknown = col.drop_nulls().unique().filter(~col.drop_nulls().unique().is_in(
                list(mapping)))
            if unknown.len():
                raise ValueError(f"column {c!r}: unknown state {unknown[0]!r}; alphabet: "
                                 f"{', '.join(alph.codes)}")
            codes[:, j] = col.replace_strict(mapping, default=MISSING,
                                             return_dtype=pl.UInt8).to_numpy()
        return cls(codes, df[id_column].cast(pl.String).to_numpy().astype(object), cols, alph,
                   period=period)

    def to_arrow(self, id_column: str = "id", *, dictionary: bool = False) -> pa.Table:
        """The tabular form as an Arrow table; ``dictionary=True`` keeps the state
        columns dictionary-encoded (strings in Parquet, Categorical in polars):
        much faster and smaller for millions of sequences."""
        n, k = self.n, len(self.alphabet)
        states = pa.array([*self.alphabet.codes, VOID_SYMBOL], type=pa.string())
        flat = np.ascontiguousarray(self.codes.T).ravel()
        # state i -> i, VOID -> k ("%"), MISSING -> null
        idx = np.where(flat == VOID, k, flat).astype(np.int32)
        big = pa.DictionaryArray.from_arrays(pa.array(idx, mask=flat == MISSING), states)
        cols: list[pa.Array] = [pa.array(self.ids.tolist(), type=pa.string())]
        for j in range(self.length):
            col = big.slice(j * n, n)
            cols.append(col if dictionary else col.cast(pa.string()))
        return pa.table(cols, names=[id_column, *self.columns])

    def write_parquet(self, path: str | Path, *, dictionary: bool | None = None) -> Path:
        """Write the tabular form atomically, alphabet and period in the metadata.

        State columns are plain strings, or dictionary-encoded strings when
        ``dictionary`` is true (default: when there are more than 10 million cells).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if dictionary is None:
            dictionary = self.n * self.length > 10_000_000
        table = self.to_arrow(dictionary=dictionary)
        meta = {
            "period": self.period,
            "alphabet": [s.__dict__ for s in self.alphabet.states],
            "meta": {k: v for k, v in self.meta.items() if _jsonable(v)},
        }
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _META_KEY: json.dumps(meta).encode()})
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            pq.write_table(table, tmp, compression="zstd")
            replace_file(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def write_csv(self, path: str | Path) -> Path:
        """Write the tabular form as CSV (empty cell = missing, ``%`` = void), atomically:
        the input format of ``ozamonitor seqdist --input``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            self.to_polars().write_csv(tmp)
            replace_file(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def _from_dictionary_table(cls, table: pa.Table, alphabet: Alphabet, period: str
                               ) -> SequenceData:
        """Fast path: dictionary-encoded state columns -> codes via their indices."""
        names = table.column_names
        codes = np.empty((table.num_rows, len(names) - 1), dtype=np.uint8)
        mapping = {c: i for i, c in enumerate(alphabet.codes)}
        mapping.update({"*": MISSING, "%": VOID, "": MISSING})
        for j, c in enumerate(names[1:]):
            col = table.column(c).combine_chunks()
            if isinstance(col, pa.ChunkedArray):  # pragma: no cover - empty table
                col = pa.concat_arrays(col.chunks) if col.num_chunks else pa.array([])
            words = col.dictionary.to_pylist()
            bad = [w for w in words if w not in mapping]
            if bad:
                raise ValueError(f"column {c!r}: unknown state {bad[0]!r}; alphabet: "
                                 f"{', '.join(alphabet.codes)}")
            lut = np.array([mapping[w] for w in words] + [MISSING], dtype=np.uint8)
            idx = col.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
            codes[:, j] = lut[idx.astype(np.int64)]
        ids = np.asarray(table.column(0).to_pylist(), dtype=object)
        return cls(codes, ids, list(names[1:]), alphabet, period=period)

    @classmethod
    def read_parquet(cls, path: str | Path, alphabet: Alphabet | None = None) -> SequenceData:
        """Read a file written by :meth:`write_parquet` (or any id + periods table)."""
        path = Path(path)
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(_META_KEY)
        period = "month"
        meta: dict[str, Any] = {}
        if raw and alphabet is None:
            m = json.loads(raw)
            alphabet = Alphabet(tuple(State(**s) for s in m["alphabet"]))
            period = m.get("period", period)
            meta = m.get("meta", {})
        names = table.column_names
        if alphabet is not None and len(names) > 1 and all(
                pa.types.is_dictionary(table.schema.field(c).type) for c in names[1:]):
            seq = cls._from_dictionary_table(table, alphabet, period)
        else:
            df = pl.from_arrow(table)
            assert isinstance(df, pl.DataFrame)
            seq = cls.from_polars(df, alphabet, id_column=names[0], period=period)
        seq.meta.update(meta)
        return seq


def replace_file(tmp: str | Path, target: str | Path) -> None:
    """Move a finished temporary file into place with normal permissions
    (``mkstemp`` creates files readable by the owner only)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, target)


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except TypeError:
        return False
    return True
