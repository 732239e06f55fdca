"""The tabular and file forms of a :class:`~ozamonitor.sequences.seqdata.SequenceData`.

The tabular form is one ``id`` column plus one string column per time point
holding state codes: null (or an empty cell, or ``"*"``) is missing and ``"%"``
is void, as TraMineR writes them. It is the input format of the
sequence-distance CLI (``ozamonitor seqdist --input ... --missing state``
deletes ``"%"`` cells and keeps empty cells as the missing state).

:func:`write_parquet` stores the alphabet (codes, labels, colours and any
further fields of the states' class), the ``period`` and the JSON-serialisable
``meta`` in the Parquet file's metadata, so :func:`read_parquet` gives back the
same sequences: missing stays missing, void stays void. Files are written
atomically through :mod:`ozamonitor.files` (``private=True`` for person-level
sequences).

Reading deletes void cells wherever they stand (a ``"%"`` inside a row shifts
the rest of the row left), as :func:`~ozamonitor.sequences.define.seqdef` does:
void may only follow a sequence's last position.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ozamonitor.errors import InputError
from ozamonitor.files import atomic_write, formula_safe
from ozamonitor.sequences.alphabet import (
    MISSING_LABEL,
    VOID_CODE,
    VOID_LABEL,
    Alphabet,
    State,
    as_alphabet,
)
from ozamonitor.sequences.seqdata import SequenceData, drop_void

__all__ = ["from_polars", "read_parquet", "to_arrow", "to_polars", "write_csv",
           "write_parquet"]

#: Key of the sequences' metadata in a Parquet file's schema metadata.
META_KEY = b"ozamonitor.sequences"
#: Above this many cells :func:`write_parquet` dictionary-encodes the state columns.
DICTIONARY_CELLS = 10_000_000


def to_arrow(seq: SequenceData, id_column: str = "id", *, dictionary: bool = False
             ) -> pa.Table:
    """The tabular form as an Arrow table.

    Parameters
    ----------
    seq : SequenceData
    id_column : str, default "id"
    dictionary : bool, default False
        Keep the state columns dictionary-encoded (strings in Parquet,
        Categorical in polars): much faster and smaller for millions of sequences.
    """
    n, k = seq.n_sequences, len(seq.alphabet)
    states = pa.array([*seq.alphabet, VOID_LABEL], type=pa.string())
    flat = np.ascontiguousarray(seq.codes.T).ravel()
    # state i -> i, void -> k ("%"), missing -> null
    idx = np.where(flat == VOID_CODE, k, flat).astype(np.int32)
    big = pa.DictionaryArray.from_arrays(pa.array(idx, mask=flat == k), states)
    cols: list[pa.Array] = [pa.array(seq.id_labels().tolist(), type=pa.string())]
    for j in range(seq.max_length):
        col = big.slice(j * n, n)
        cols.append(col if dictionary else col.cast(pa.string()))
    return pa.table(cols, names=[id_column, *seq.column_labels()])


def to_polars(seq: SequenceData, id_column: str = "id") -> pl.DataFrame:
    """``id`` + one string column per period (state code; null = missing, ``"%"`` = void)."""
    df = pl.from_arrow(to_arrow(seq, id_column))
    if not isinstance(df, pl.DataFrame):  # pragma: no cover - a table gives a frame
        raise TypeError("expected a polars DataFrame from an Arrow table")
    return df


def write_parquet(seq: SequenceData, path: str | Path, *, dictionary: bool | None = None,
                  private: bool = False) -> Path:
    """Write the tabular form atomically, with alphabet, period and meta in the metadata.

    Parameters
    ----------
    seq : SequenceData
    path : str or Path
    dictionary : bool, optional
        Dictionary-encode the state columns; default: when there are more than
        :data:`DICTIONARY_CELLS` cells.
    private : bool, default False
        Person-level sequences: the file is 0600 (see :func:`ozamonitor.files.atomic_write`).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if dictionary is None:
        dictionary = seq.n_sequences * seq.max_length > DICTIONARY_CELLS
    table = to_arrow(seq, dictionary=dictionary)
    meta = {
        "period": seq.period,
        "alphabet": seq.alphabet.to_json(),
        "meta": {k: v for k, v in seq.meta.items() if _jsonable(v)},
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           META_KEY: json.dumps(meta).encode()})
    with atomic_write(path, private=private) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def write_csv(seq: SequenceData, path: str | Path, *, private: bool = False) -> Path:
    """Write the tabular form as CSV (empty cell = missing, ``%`` = void), atomically:
    the input format of ``ozamonitor seqdist --input``.

    Parameters
    ----------
    seq : SequenceData
    path : str or Path
    private : bool, default False
        Person-level sequences: the file is 0600.
    """
    path = Path(path)
    with atomic_write(path, private=private) as tmp:
        formula_safe(to_polars(seq)).write_csv(tmp)
    return path


def _state_lut(alphabet: Alphabet) -> dict[str, int]:
    """State code -> integer code, with the missing and void symbols."""
    k = len(alphabet)
    mapping = {c: i for i, c in enumerate(alphabet)}
    mapping.update({MISSING_LABEL: k, VOID_LABEL: VOID_CODE, "": k})
    return mapping


def from_polars(df: pl.DataFrame | Any, alphabet: Alphabet | Sequence[State | str] | None = None,
                *, id_column: str = "id", period: str = "month") -> SequenceData:
    """Read the tabular form (pandas accepted).

    Parameters
    ----------
    df : polars or pandas DataFrame
        ``id_column`` plus one column per time point.
    alphabet : Alphabet or sequence, optional
        The states (with labels and colours); default: the sorted state codes
        found (plain labels, fallback colours).
    id_column : str, default "id"
    period : str, default "month"
        What a column is (stored on the result).

    Raises
    ------
    InputError
        No id column, or a code that is not in ``alphabet``.
    """
    if not isinstance(df, pl.DataFrame):
        df = pl.from_pandas(df)
    if id_column not in df.columns:
        raise InputError(f"sequence table has no id column {id_column!r}")
    cols = [c for c in df.columns if c != id_column]
    if alphabet is None:
        seen: set[str] = set()
        for c in cols:
            seen.update(v for v in df[c].cast(pl.String).unique().to_list()
                        if v not in (None, "", MISSING_LABEL, VOID_LABEL))
        alphabet = sorted(seen)
    alph = as_alphabet(alphabet)
    mapping = _state_lut(alph)
    codes = np.empty((df.height, len(cols)), dtype=np.int16)
    for j, c in enumerate(cols):
        col = df[c].cast(pl.String)
        values = col.drop_nulls().unique()
        unknown = values.filter(~values.is_in(list(mapping)))
        if unknown.len():
            raise InputError(f"column {c!r}: unknown state {unknown[0]!r}; alphabet: "
                             f"{', '.join(alph)}")
        codes[:, j] = col.replace_strict(mapping, default=len(alph),
                                         return_dtype=pl.Int16).to_numpy()
    return SequenceData(drop_void(codes), alph,
                        ids=df[id_column].cast(pl.String).to_numpy().astype(object),
                        columns=cols, period=period)


def _from_dictionary_table(table: pa.Table, alphabet: Alphabet, period: str) -> SequenceData:
    """Fast path: dictionary-encoded state columns -> codes via their indices."""
    names = table.column_names
    codes = np.empty((table.num_rows, len(names) - 1), dtype=np.int16)
    mapping = _state_lut(alphabet)
    for j, c in enumerate(names[1:]):
        col = table.column(c).combine_chunks()
        if isinstance(col, pa.ChunkedArray):  # pragma: no cover - empty table
            col = pa.concat_arrays(col.chunks) if col.num_chunks else pa.array([])
        words = col.dictionary.to_pylist()
        bad = [w for w in words if w not in mapping]
        if bad:
            raise InputError(f"column {c!r}: unknown state {bad[0]!r}; alphabet: "
                             f"{', '.join(alphabet)}")
        lut = np.array([mapping[w] for w in words] + [len(alphabet)], dtype=np.int16)
        idx = col.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
        codes[:, j] = lut[idx.astype(np.int64)]
    ids = np.asarray(table.column(0).to_pylist(), dtype=object)
    return SequenceData(drop_void(codes), alphabet, ids=ids, columns=names[1:], period=period)


def read_parquet(path: str | Path, alphabet: Alphabet | Sequence[State | str] | None = None
                 ) -> SequenceData:
    """Read a file written by :func:`write_parquet` (or any id + periods table).

    Parameters
    ----------
    path : str or Path
    alphabet : Alphabet or sequence, optional
        Overrides the alphabet in the file's metadata. States come back as
        :class:`~ozamonitor.sequences.alphabet.State` (code, labels, colour);
        further fields of a state subclass are in the file but not read back.
    """
    path = Path(path)
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(META_KEY)
    period = "month"
    meta: dict[str, Any] = {}
    alph = None if alphabet is None else as_alphabet(alphabet)
    if raw and alph is None:
        m = json.loads(raw)
        alph = Alphabet.from_json(m["alphabet"])
        period = m.get("period", period)
        meta = m.get("meta", {})
    names = table.column_names
    if alph is not None and len(names) > 1 and all(
            pa.types.is_dictionary(table.schema.field(c).type) for c in names[1:]):
        seq = _from_dictionary_table(table, alph, period)
    else:
        df = pl.from_arrow(table)
        if not isinstance(df, pl.DataFrame):  # pragma: no cover - a table gives a frame
            raise TypeError("expected a polars DataFrame from an Arrow table")
        seq = from_polars(df, alph, id_column=names[0], period=period)
    seq.meta.update(meta)
    return seq


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except TypeError:
        return False
    return True
