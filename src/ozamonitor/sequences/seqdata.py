"""State-sequence container with TraMineR ``seqdef`` semantics.

A :class:`SequenceData` holds ``N`` categorical sequences encoded as small
integers: ``0 .. k-1`` are the alphabet states (in alphabet order), ``k`` is the
*missing* state (TraMineR's ``nr`` code ``"*"``) and ``-1`` is *void* (TraMineR's
``"%"``: positions after the end of a shorter sequence). ``lengths`` gives each
sequence's length; every position before it is a state or missing, every
position after it is void.

:func:`seqdef` mirrors TraMineR's ``seqdef()`` handling of missing values:

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MISSING_LABEL = "*"
VOID_CODE = -1

_NA_TOKENS = ("NA", None)


@dataclass(frozen=True, eq=False)
class SequenceData:
    """Encoded state sequences (see module docstring for the coding).

    Attributes:
        codes: ``(N, L)`` int16 array: state index, ``len(alphabet)`` for missing,
            ``-1`` for void (only after ``lengths[i]``).
        lengths: ``(N,)`` int32 sequence lengths.
        alphabet: state labels, in code order.
        ids: optional identifiers, one per sequence.
        weights: optional case weights (used by TRATE costs and CHI2, as
            TraMineR's ``weighted=TRUE``).
        columns: labels of the time points (columns).
    """

    codes: np.ndarray
    lengths: np.ndarray
    alphabet: tuple[str, ...]
    ids: np.ndarray | None = None
    weights: np.ndarray | None = None
    columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        codes = np.ascontiguousarray(self.codes, dtype=np.int16)
        lengths = np.ascontiguousarray(self.lengths, dtype=np.int32)
        if codes.ndim != 2:
            raise ValueError("codes must be a 2-D array (sequences x positions)")
        if lengths.shape != (codes.shape[0],):
            raise ValueError("lengths must have one entry per sequence")
        k = len(self.alphabet)
        if codes.size and (codes.max() > k or codes.min() < VOID_CODE):
            raise ValueError("codes out of range for the alphabet")
        if np.any(lengths < 0) or np.any(lengths > codes.shape[1]):
            bad = int(np.nonzero((lengths < 0) | (lengths > codes.shape[1]))[0][0])
            raise ValueError(
                f"row {bad + 1}: length {int(lengths[bad])} outside 0..{codes.shape[1]}"
            )
        # TraMineR: void only at the end. Positions before lengths[i] hold a state
        # or missing, positions from lengths[i] on are void.
        if codes.size:
            inside = np.arange(codes.shape[1])[None, :] < lengths[:, None]
            wrong = (codes == VOID_CODE) == inside
            if wrong.any():
                r, c = (int(x) for x in np.argwhere(wrong)[0])
                what = ("void inside the sequence (void may only follow the last "
                        "position; delete it, as seqdef(left='DEL', gaps='DEL'))"
                        if inside[r, c] else "a state or missing after the sequence's end")
                raise ValueError(
                    f"row {r + 1}, position {c + 1}: {what}; length is {int(lengths[r])}"
                )
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "alphabet", tuple(str(a) for a in self.alphabet))
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=np.float64)
            if w.shape != (codes.shape[0],):
                raise ValueError("weights must have one entry per sequence")
            if np.any(~np.isfinite(w)) or np.any(w < 0):
                raise ValueError("weights must be finite and non-negative")
            object.__setattr__(self, "weights", w)

    # ------------------------------------------------------------------ info
    @property
    def n_sequences(self) -> int:
        """Number of sequences ``N``."""
        return int(self.codes.shape[0])

    @property
    def max_length(self) -> int:
        """Number of positions ``L`` (the longest possible sequence)."""
        return int(self.codes.shape[1])

    @property
    def n_states(self) -> int:
        """Alphabet size (without the missing state)."""
        return len(self.alphabet)

    @property
    def missing_code(self) -> int:
        """Integer code of the missing state (``len(alphabet)``)."""
        return len(self.alphabet)

    @property
    def has_missing(self) -> bool:
        """Whether any sequence contains the (non-void) missing state."""
        return bool(np.any(self.codes == self.missing_code))

    def __len__(self) -> int:
        return self.n_sequences

    def __getitem__(self, index: Any) -> SequenceData:
        """Subset of sequences (int, slice, index array or boolean mask)."""
        idx = np.arange(self.n_sequences)[index]
        idx = np.atleast_1d(idx)
        return SequenceData(
            codes=self.codes[idx],
            lengths=self.lengths[idx],
            alphabet=self.alphabet,
            ids=None if self.ids is None else np.asarray(self.ids)[idx],
            weights=None if self.weights is None else self.weights[idx],
            columns=self.columns,
        )

    def labels(self) -> np.ndarray:
        """The sequences as ``(N, L)`` labels (``"*"`` missing, ``None`` void)."""
        lab = np.array([*self.alphabet, MISSING_LABEL, None], dtype=object)
        return lab[np.where(self.codes < 0, len(self.alphabet) + 1, self.codes)]

    def case_weights(self, weighted: bool = True) -> np.ndarray:
        """Weights as TraMineR uses them: the weights, or ones when absent or not weighted."""
        if weighted and self.weights is not None:
            return self.weights
        return np.ones(self.n_sequences)

    # --------------------------------------------------------------- helpers
    def unique(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct sequences in order of first occurrence.

        Returns:
            ``(first_index, inverse)``: ``first_index[u]`` is the row of the
            ``u``-th distinct sequence and ``inverse[i]`` the distinct index of
            row ``i``.
        """
        return unique_rows(self.codes)

    def spells(self, with_missing: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct successive states and spell durations (``seqdss`` / ``seqdur``).

        Returns:
            ``(states, durations, n_spells)``: ``(N, L)`` int16 spell states
            (``-1`` padded), ``(N, L)`` float64 durations (0 padded) and the
            number of spells of each sequence.
        """
        if not with_missing and self.has_missing:
            raise ValueError("sequences contain missing values: use with_missing=True")
        return _spells(self.codes, self.lengths)


def unique_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D integer array in order of first occurrence.

    Returns ``(first_index, inverse)`` with ``codes[first_index][inverse] == codes``.
    """
    arr = np.ascontiguousarray(codes)
    n = arr.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if arr.shape[1] == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    view = arr.view(np.dtype((np.void, arr.dtype.itemsize * arr.shape[1]))).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order].astype(np.int64), rank[inverse].astype(np.int64)


def _spells(codes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, width = codes.shape
    states = np.full((n, max(width, 1)), VOID_CODE, dtype=np.int16)
    durs = np.zeros((n, max(width, 1)), dtype=np.float64)
    nsp = np.zeros(n, dtype=np.int32)
    if width == 0:
        return states, durs, nsp
    valid = np.arange(width)[None, :] < lengths[:, None]
    change = np.ones_like(valid)
    change[:, 1:] = codes[:, 1:] != codes[:, :-1]
    start = valid & change
    spell_id = np.cumsum(start, axis=1) - 1
    nsp[:] = start.sum(axis=1)
    rows, cols = np.nonzero(start)
    states[rows, spell_id[rows, cols]] = codes[rows, cols]
    vr, vc = np.nonzero(valid)
    np.add.at(durs, (vr, spell_id[vr, vc]), 1.0)
    return states, durs, nsp


# ---------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------


def _factorize(values: np.ndarray, extra: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """Codes of the distinct cell values (``-1`` = missing) and their text labels.

    Missing cells: None, NaN, empty strings and values whose label is in ``extra``.
    Hash-based (pandas.factorize) so that large inputs stay fast.
    """
    import pandas as pd

    flat = values.ravel()
    codes, uniques = pd.factorize(pd.Series(flat, dtype=object), use_na_sentinel=True)
    labels = [_label(u) for u in uniques]
    extra_set = {_label(e) for e in extra} | {""}
    bad = np.array([lab in extra_set for lab in labels] + [True], dtype=bool)
    codes = np.where(bad[codes], -1, codes)  # codes == -1 indexes the final True
    return codes.reshape(values.shape), labels


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
                raise ValueError(f"id column {id_col!r} not found")
            ids = frame[id_col].to_numpy()
        use = list(columns) if columns is not None else [c for c in frame.columns if c != id_col]
        missing_cols = [c for c in use if c not in frame.columns]
        if missing_cols:
            raise ValueError(f"columns not found: {missing_cols}")
        cols = tuple(str(c) for c in use)
        values = frame[use].astype(object).to_numpy()
        values = np.where(frame[use].isna().to_numpy(), None, values)
        return values, ids, cols
    if isinstance(data, (list, tuple)):
        rows = [list(r) for r in data]
        width = max((len(r) for r in rows), default=0)
        if any(len(r) != width for r in rows):
            raise ValueError(
                "non-rectangular input: rows have different lengths; pad them with "
                "missing values (None) so that right='DEL' makes them variable-length"
            )
        values = np.empty((len(rows), width), dtype=object)
        for i, r in enumerate(rows):
            values[i, :] = r
        return values, None, None
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError("sequence data must be 2-D (sequences x positions)")
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
        raise ValueError(f"{what}={rule!r}: not 'NA', 'DEL' or a state of the alphabet")
    return alphabet_index[lab]


def seqdef(
    data: Any,
    *,
    alphabet: Sequence[Any] | None = None,
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

    Args:
        data: pandas/polars frame (one row per sequence, one column per time
            point), list of equal-length rows, or 2-D array. ``None``/NaN/empty
            strings (and ``missing_values``) are missing.
        alphabet: state labels in the wanted order (TraMineR ``alphabet=``).
            Values not in it raise an error. Default: sorted distinct values.
        id_col: column with identifiers (frames only), excluded from the states.
        columns: the state columns, in time order (default: all other columns).
        missing_values: extra values that mean "missing" (e.g. ``"*"``).
        left, gaps, right: TraMineR's treatment of leading / internal /
            trailing missing values: ``"NA"`` (missing state), ``"DEL"``
            (delete) or a state label (fill). Defaults as TraMineR:
            ``left="NA", gaps="NA", right="DEL"``.
        weights: optional case weights (array or, for frames, a column name).
        void: cell value meaning *void* (TraMineR's ``"%"``: not part of the
            sequence). Void cells are deleted wherever they are (the rest of
            the row is shifted left, like ``left="DEL"``/``gaps="DEL"``) and
            are not missing values. ``None`` reads ``"%"`` as an ordinary value.

    Raises:
        ValueError: empty input, unknown states, or a bad rule.
    """
    w = None
    if isinstance(weights, str):
        mod = type(data).__module__
        if not (mod.startswith("pandas") or mod.startswith("polars")):
            raise ValueError("weights given as a column name need a data frame")
        if weights not in data.columns:
            raise ValueError(f"weights column {weights!r} not found")
        w = np.asarray(data[weights], dtype=np.float64)
        if columns is None:
            columns = [c for c in data.columns if c not in (id_col, weights)]
    elif weights is not None:
        w = np.asarray(weights, dtype=np.float64)

    values, ids, cols = _to_matrix(data, id_col, columns)
    n, width = values.shape
    if n == 0:
        raise ValueError("empty input: no sequences")
    if width == 0:
        raise ValueError("empty input: no time columns")
    ucodes, ulabels = _factorize(values, missing_values)
    if void is not None and _label(void) in ulabels:
        void_mask = ucodes == ulabels.index(_label(void))
        ucodes = np.where(void_mask, -1, ucodes)
    else:
        void_mask = np.zeros(ucodes.shape, dtype=bool)
    present = ucodes >= 0
    miss = ~present & ~void_mask
    used = sorted(set(np.unique(ucodes[present]).tolist()))
    if alphabet is None:
        alpha = _sort_alphabet([ulabels[u] for u in used])
        if not alpha:
            raise ValueError("empty input: all values are missing")
    else:
        alpha = [_label(a) for a in alphabet]
        if len(set(alpha)) != len(alpha):
            raise ValueError("alphabet has duplicate states")
        if not alpha:
            raise ValueError("alphabet is empty")
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
        raise ValueError(f"states not in the alphabet {alpha}: {where}")
    codes = mapped.astype(np.int16)

    left_c = _fill_or_na(left, index, k, "left")
    gaps_c = _fill_or_na(gaps, index, k, "gaps")
    right_c = _fill_or_na(right, index, k, "right")

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

    out = np.full((n, width), VOID_CODE, dtype=np.int16)
    lengths = np.zeros(n, dtype=np.int32)
    keep = ~void_mask
    if left_c is None:
        keep &= ~lead
    else:
        codes[lead] = left_c
    if gaps_c is None:
        keep &= ~gap
    else:
        codes[gap] = gaps_c
    if right_c is None:
        keep &= ~trail
    else:
        codes[trail] = right_c
    if keep.all():
        out = codes
        lengths[:] = width
    else:
        for r in range(n):
            row = codes[r, keep[r]]
            out[r, : len(row)] = row
            lengths[r] = len(row)
    return SequenceData(
        codes=out, lengths=lengths, alphabet=tuple(alpha), ids=ids, weights=w, columns=cols
    )


def as_seqdata(data: Any, **kwargs: Any) -> SequenceData:
    """Return ``data`` if it is a :class:`SequenceData`, else ``seqdef(data, **kwargs)``.

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
