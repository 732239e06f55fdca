"""Build a :class:`~ozamonitor.sequences.seqdata.SequenceData` from labelled data:
:func:`seqdef`, as TraMineR's ``seqdef()``.

:func:`seqdef` mirrors TraMineR's handling of missing values:

* ``left=NA`` (default): leading missing values are kept as the missing state;
  ``left="DEL"`` deletes them (the sequence is shifted to the left);
  any alphabet label fills them with that state.
* ``gaps=NA`` (default): internal missing values (between the first and last
  valid state) are the missing state; ``"DEL"`` deletes them; a label fills them.
* ``right="DEL"`` (default): trailing missing values are deleted, giving
  variable-length sequences; ``right=NA`` keeps them as the missing state; a
  label fills them.

A sequence that is missing everywhere becomes empty (length 0), as in TraMineR.
Sequences containing the missing state can only be compared with
``with_missing=True`` (the missing state then acts as an additional state), as in
``seqdist``.

The alphabet is either given (order kept as given, as ``seqdef(alphabet=...)``)
or taken from the data and sorted as TraMineR does (numbers numerically, text
case-insensitively with lower case first on ties, like R's ``sort`` in UTF-8
locales).

>>> s = seqdef([["a", "b", None], ["b", "b", "b"]])
>>> s.alphabet, s.lengths.tolist()
(Alphabet(('a', 'b')), [2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.alphabet import VOID_CODE, Alphabet
from ozamonitor.sequences.seqdata import SequenceData

__all__ = ["as_seqdata", "seqdef"]




def _factorize(values: np.ndarray, extra: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """Codes of the distinct cell values (``-1`` = missing) and their text labels.

    Missing cells: None, NaN, empty strings and values whose label is in ``extra``.
    Hash-based: a dict (no pandas import, which costs a command-line run more
    than the factorisation) up to ``_DICT_CELLS`` cells, pandas.factorize above.
    Both number the distinct values in order of first appearance and compare them
    with Python's ``==`` (``1`` and ``1.0`` are one value).
    """
    flat = values.ravel()
    if flat.size <= _DICT_CELLS:
        cells = flat.tolist()
        uniq = list(dict.fromkeys(cells))
        lookup = {u: i for i, u in enumerate(uniq)}
        codes = np.fromiter(map(lookup.__getitem__, cells), dtype=np.int64, count=len(cells))
        na = np.array([_is_na(u) for u in uniq] + [True], dtype=bool)
        codes = np.where(na[codes], -1, codes)
        keep = ~na[:-1]
        renum = np.cumsum(keep) - 1  # codes of the non-missing values, in order
        codes = np.where(codes >= 0, renum[codes], -1)
        uniques = [u for u, k in zip(uniq, keep, strict=True) if k]
    else:
        import pandas as pd

        codes, uniques = pd.factorize(pd.Series(flat, dtype=object), use_na_sentinel=True)
    labels = [_label(u) for u in uniques]
    extra_set = {_label(e) for e in extra} | {""}
    bad = np.array([lab in extra_set for lab in labels] + [True], dtype=bool)
    codes = np.where(bad[codes], -1, codes)  # codes == -1 indexes the final True
    return codes.reshape(values.shape), labels


_DICT_CELLS = 20_000_000


def _is_na(v: Any) -> bool:
    """Missing as pandas.factorize sees it: None, NaN, pandas' NA and NaT."""
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(v != v)
    return type(v).__name__ in ("NAType", "NaTType")


def _label(v: Any) -> str:
    """Canonical text label of a cell value (integral floats print without '.0')."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v)


def _sort_alphabet(values: list[Any]) -> list[str]:
    """Sort distinct data values like TraMineR's ``seqstatl`` (R's ``sort``).

    All-numeric labels sort numerically; text sorts case-insensitively with
    lower case first on ties, as R's ``sort`` in the usual UTF-8 locales
    (``"a" < "B" < "b"``).
    """
    labels = sorted({_label(v) for v in values})
    try:
        nums = [float(x) for x in labels]
    except ValueError:
        return sorted(labels, key=lambda x: (x.casefold(), x.swapcase()))
    return [x for _, x in sorted(zip(nums, labels, strict=True))]


def _to_matrix(
    data: Any, id_col: str | None, columns: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
    """Extract an object matrix, ids and column labels from a frame or array."""
    ids = None
    cols: tuple[str, ...] | None = None
    mod = type(data).__module__
    if mod.startswith("polars"):
        data = data.to_pandas()
        mod = "pandas"
    if mod.startswith("pandas") and hasattr(data, "columns"):
        frame = data
        if id_col is not None:
            if id_col not in frame.columns:
                raise ConfigurationError(f"id column {id_col!r} not found")
            ids = frame[id_col].to_numpy()
        use = list(columns) if columns is not None else [c for c in frame.columns if c != id_col]
        missing_cols = [c for c in use if c not in frame.columns]
        if missing_cols:
            raise ConfigurationError(f"columns not found: {missing_cols}")
        cols = tuple(str(c) for c in use)
        values = frame[use].astype(object).to_numpy()
        values = np.where(frame[use].isna().to_numpy(), None, values)
        return values, ids, cols
    if isinstance(data, (list, tuple)):
        rows = [list(r) for r in data]
        width = max((len(r) for r in rows), default=0)
        if any(len(r) != width for r in rows):
            raise InputError(
                "non-rectangular input: rows have different lengths; pad them with "
                "missing values (None) so that right='DEL' makes them variable-length"
            )
        values = np.empty((len(rows), width), dtype=object)
        for i, r in enumerate(rows):
            values[i, :] = r
        return values, None, None
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise InputError("sequence data must be 2-D (sequences x positions)")
    return arr.astype(object), None, None


def _fill_or_na(
    rule: Any, alphabet_index: dict[str, int], missing_code: int, what: str
) -> int | None:
    """Code to put in a missing region for ``rule``; None means delete."""
    if rule is None or (isinstance(rule, float) and np.isnan(rule)) or rule == "NA":
        return missing_code
    if rule == "DEL":
        return None
    lab = _label(rule)
    if lab not in alphabet_index:
        raise ConfigurationError(
            f"{what}={rule!r}: not 'NA', 'DEL' or a state of the alphabet")
    return alphabet_index[lab]


def seqdef(
    data: Any,
    *,
    alphabet: Alphabet | Sequence[Any] | None = None,
    id_col: str | None = None,
    columns: Sequence[str] | None = None,
    missing_values: Sequence[Any] = (),
    left: Any = "NA",
    gaps: Any = "NA",
    right: Any = "DEL",
    weights: Any = None,
    void: Any = "%",
) -> SequenceData:
    """Build a :class:`SequenceData` from a frame, nested list or 2-D array.

    Parameters
    ----------
    data : DataFrame, list of rows or ndarray
        pandas/polars frame (one row per sequence, one column per time point),
        list of equal-length rows, or 2-D array. ``None``/NaN/empty strings (and
        ``missing_values``) are missing.
    alphabet : Alphabet or sequence, optional
        State labels in the wanted order (TraMineR ``alphabet=``); an
        :class:`~ozamonitor.sequences.alphabet.Alphabet` also brings its labels
        and colours. Values not in it raise an error. Default: the sorted
        distinct values.
    id_col : str, optional
        Column with identifiers (frames only), excluded from the states.
    columns : sequence of str, optional
        The state columns, in time order (default: all other columns).
    missing_values : sequence, default ()
        Extra values that mean "missing" (e.g. ``"*"``).
    left, gaps, right : {"NA", "DEL"} or a state, default "NA", "NA", "DEL"
        TraMineR's treatment of leading / internal / trailing missing values:
        ``"NA"`` (missing state), ``"DEL"`` (delete) or a state label (fill).
    weights : array-like or str, optional
        Case weights (array or, for frames, a column name).
    void : object, default "%"
        Cell value meaning *void* (TraMineR's ``"%"``: not part of the
        sequence). Void cells are deleted wherever they are (the rest of the row
        is shifted left, like ``left="DEL"``/``gaps="DEL"``) and are not missing
        values. ``None`` reads ``"%"`` as an ordinary value.

    Returns
    -------
    SequenceData

    Raises
    ------
    InputError
        Empty input or values outside the given alphabet.
    ConfigurationError
        A bad rule, alphabet or weights column.
    """
    w, columns = _read_weights(data, weights, id_col, columns)
    values, ids, cols = _to_matrix(data, id_col, columns)
    n, width = values.shape
    if n == 0:
        raise InputError("empty input: no sequences")
    if width == 0:
        raise InputError("empty input: no time columns")
    ucodes, ulabels = _factorize(values, missing_values)
    if void is not None and _label(void) in ulabels:
        void_mask = ucodes == ulabels.index(_label(void))
        ucodes = np.where(void_mask, -1, ucodes)
    else:
        void_mask = np.zeros(ucodes.shape, dtype=bool)
    present = ucodes >= 0
    alpha = _resolve_alphabet(alphabet, ulabels, ucodes[present])
    index = {a: i for i, a in enumerate(alpha)}
    k = len(alpha)
    # distinct value -> state code (-2 = not in the alphabet)
    lut = np.array([index.get(lab, -2) for lab in ulabels] + [k], dtype=np.int64)
    mapped = lut[ucodes]  # missing cells (-1) pick the final entry k
    bad = mapped == -2
    if bad.any():
        where = ", ".join(
            f"row {r + 1} column {cols[c] if cols else c + 1} value {ulabels[ucodes[r, c]]!r}"
            for r, c in list(zip(*np.nonzero(bad), strict=True))[:5]
        )
        raise InputError(f"states not in the alphabet {list(alpha)}: {where}")
    rules = tuple(_fill_or_na(rule, index, k, what)
                  for rule, what in ((left, "left"), (gaps, "gaps"), (right, "right")))
    out, lengths = _apply_rules(mapped.astype(np.int16), present, void_mask, rules)
    return SequenceData(out, alpha, lengths=lengths, ids=ids, weights=w, columns=cols)


def _read_weights(data: Any, weights: Any, id_col: str | None,
                  columns: Sequence[str] | None
                  ) -> tuple[np.ndarray | None, Sequence[str] | None]:
    """Case weights from an array or a frame's column (then left out of ``columns``)."""
    if isinstance(weights, str):
        mod = type(data).__module__
        if not (mod.startswith("pandas") or mod.startswith("polars")):
            raise ConfigurationError("weights given as a column name need a data frame")
        if weights not in data.columns:
            raise ConfigurationError(f"weights column {weights!r} not found")
        if columns is None:
            columns = [c for c in data.columns if c not in (id_col, weights)]
        return np.asarray(data[weights], dtype=np.float64), columns
    if weights is not None:
        return np.asarray(weights, dtype=np.float64), columns
    return None, columns


def _resolve_alphabet(alphabet: Alphabet | Sequence[Any] | None, ulabels: list[str],
                      present: np.ndarray) -> Alphabet:
    """The given alphabet (labels kept) or the sorted distinct values of the data."""
    if alphabet is None:
        used = sorted(set(np.unique(present).tolist()))
        alpha = _sort_alphabet([ulabels[u] for u in used])
        if not alpha:
            raise InputError("empty input: all values are missing")
        return Alphabet(alpha)
    if isinstance(alphabet, Alphabet):
        return alphabet
    alpha = [_label(a) for a in alphabet]
    if len(set(alpha)) != len(alpha):
        raise ConfigurationError("alphabet has duplicate states")
    if not alpha:
        raise ConfigurationError("alphabet is empty")
    return Alphabet(alpha)


def _apply_rules(codes: np.ndarray, present: np.ndarray, void_mask: np.ndarray,
                 rules: tuple[int | None, int | None, int | None]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Fill or delete leading / internal / trailing missing cells (``rules``: the
    code to fill with, None to delete) and delete void cells; returns the codes
    with void after each row's end and the lengths."""
    left_c, gaps_c, right_c = rules
    n, width = codes.shape
    miss = ~present & ~void_mask
    any_valid = present.any(axis=1)
    first = np.where(any_valid, present.argmax(axis=1), width)
    last = np.where(any_valid, width - 1 - present[:, ::-1].argmax(axis=1), -1)
    pos = np.arange(width)[None, :]
    lead = miss & (pos < first[:, None])
    trail = miss & (pos > last[:, None])
    # all-missing rows: TraMineR treats them as trailing missing (empty sequence)
    lead &= any_valid[:, None]
    trail |= miss & ~any_valid[:, None]
    gap = miss & ~lead & ~trail

    keep = ~void_mask
    for region, fill in ((lead, left_c), (gap, gaps_c), (trail, right_c)):
        if fill is None:
            keep &= ~region
        else:
            codes[region] = fill
    lengths = np.zeros(n, dtype=np.int32)
    if keep.all():
        lengths[:] = width
        return codes, lengths
    out = np.full((n, width), VOID_CODE, dtype=np.int16)
    for r in range(n):
        row = codes[r, keep[r]]
        out[r, : len(row)] = row
        lengths[r] = len(row)
    return out, lengths


def as_seqdata(data: Any, **kwargs: Any) -> SequenceData:
    """Return ``data`` if it is a :class:`SequenceData`, else ``seqdef(data, **kwargs)``.

    What every sequence function does with its input, so all of them accept the
    one container or anything :func:`seqdef` reads.

    For a data frame with a column named ``id`` (and no ``id_col``/``columns``
    given) that column is taken as the identifier, not as a time point.
    """
    if isinstance(data, SequenceData):
        return data
    if (
        "id_col" not in kwargs
        and "columns" not in kwargs
        and hasattr(data, "columns")
        and "id" in list(data.columns)
    ):
        kwargs["id_col"] = "id"
    return seqdef(data, **kwargs)
