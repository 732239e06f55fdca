"""The one container of state sequences: :class:`SequenceData`.

A :class:`SequenceData` is TraMineR's ``stslist``: ``N`` categorical sequences
encoded as small integers, with what travels with them. ``codes`` is an
``(N, L)`` int16 matrix: ``0 .. k-1`` are the states of the
:class:`~ozamonitor.sequences.alphabet.Alphabet` (in alphabet order), ``k`` is
the *missing* state (TraMineR's ``nr`` code ``"*"``) and ``-1``
(:data:`~ozamonitor.sequences.alphabet.VOID_CODE`) is *void* (TraMineR's
``"%"``: positions after the end of a shorter sequence). ``lengths`` gives each
sequence's length; every position before it is a state or missing, every
position after it is void. Besides the codes a container carries, all optional:
identifiers, column (time point) labels, case weights, what a column is
(``period``: ``"month"``, ``"age_month"``, ``"event_month"``, ...), birth dates
and the first day of each column (for alignment in age or calendar time) and a
free ``meta`` mapping. It knows nothing of where the sequences come from.

Every sequence function of :mod:`ozamonitor.sequences` takes a
:class:`SequenceData` (or anything :func:`~ozamonitor.sequences.define.seqdef`
accepts, which builds one from labelled data as TraMineR's ``seqdef``); the
tabular and Parquet forms are in :mod:`ozamonitor.sequences.seqio`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ozamonitor.errors import InputError
from ozamonitor.sequences.alphabet import (
    MISSING_LABEL,
    VOID_CODE,
    Alphabet,
    State,
    as_alphabet,
)

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

__all__ = ["SequenceData", "drop_void", "unique_rows"]


@dataclass(frozen=True, eq=False)
class SequenceData:
    """Encoded state sequences (TraMineR's ``stslist``; see the module docstring).

    Parameters
    ----------
    codes : ndarray
        ``(N, L)`` integer codes: state index, ``len(alphabet)`` for missing,
        ``-1`` for void (only after ``lengths[i]``). Stored as int16.
    alphabet : Alphabet or sequence of str or State
        The states in code order, with labels and colours
        (:class:`~ozamonitor.sequences.alphabet.Alphabet`).
    lengths : ndarray, optional
        ``(N,)`` sequence lengths; default: the positions before the trailing
        void ones. When given they must agree with the void positions.
    ids : array-like, optional
        One identifier per sequence (kept as an object array).
    weights : array-like, optional
        Case weights, finite and non-negative (used by TRATE costs, CHI2, the
        descriptive statistics and clustering, as TraMineR's ``weighted=TRUE``).
    columns : sequence of str, optional
        Labels of the time points (columns).
    period : str, optional
        What a column is: ``"month"``, ``"week"``, ``"quarter"``, ``"year"``,
        ``"age_month"``, ``"event_month"``, ...
    birth_dates : ndarray, optional
        ``(N,)`` ``datetime64[D]`` birth dates (alignment on age).
    period_starts : ndarray, optional
        ``(L,)`` ``datetime64[D]`` first day of each column (calendar sequences).
    meta : dict, default {}
        Free provenance (how the sequences were built, aligned, ...); what is
        JSON-serialisable travels with the Parquet form.

    Raises
    ------
    InputError
        Codes outside the alphabet, void inside a sequence, lengths that do not
        match the codes, or per-sequence / per-column arrays of the wrong size.
    """

    codes: np.ndarray
    alphabet: Alphabet
    _: KW_ONLY
    lengths: np.ndarray = None  # type: ignore[assignment]  # derived when None
    ids: np.ndarray | None = None
    weights: np.ndarray | None = None
    columns: tuple[str, ...] | None = None
    period: str | None = None
    birth_dates: np.ndarray | None = None
    period_starts: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        codes = np.ascontiguousarray(self.codes, dtype=np.int16)
        if codes.ndim != 2:
            raise InputError("codes must be a 2-D array (sequences x positions)")
        n, width = codes.shape
        alphabet = as_alphabet(self.alphabet)
        k = len(alphabet)
        if codes.size and (codes.max() > k or codes.min() < VOID_CODE):
            r, c = (int(x) for x in np.argwhere((codes > k) | (codes < VOID_CODE))[0])
            raise InputError(f"row {r + 1}, position {c + 1}: code {int(codes[r, c])} is "
                             f"outside the alphabet of {k} states")
        notvoid = codes != VOID_CODE
        if self.lengths is None:
            last = width - np.argmax(notvoid[:, ::-1], axis=1) if width else np.zeros(n)
            lengths = np.where(notvoid.any(axis=1), last, 0).astype(np.int32)
        else:
            lengths = np.ascontiguousarray(self.lengths, dtype=np.int32)
            if lengths.shape != (n,):
                raise InputError("lengths must have one entry per sequence")
            if np.any(lengths < 0) or np.any(lengths > width):
                bad = int(np.nonzero((lengths < 0) | (lengths > width))[0][0])
                raise InputError(
                    f"row {bad + 1}: length {int(lengths[bad])} outside 0..{width}")
        # TraMineR: void only at the end. Positions before lengths[i] hold a state
        # or missing, positions from lengths[i] on are void.
        if codes.size:
            inside = np.arange(width)[None, :] < lengths[:, None]
            wrong = notvoid != inside
            if wrong.any():
                r, c = (int(x) for x in np.argwhere(wrong)[0])
                what = ("void inside the sequence (void may only follow the last "
                        "position; delete it, as seqdef(left='DEL', gaps='DEL'))"
                        if inside[r, c] else "a state or missing after the sequence's end")
                raise InputError(
                    f"row {r + 1}, position {c + 1}: {what}; length is {int(lengths[r])}")
        set_ = object.__setattr__
        set_(self, "codes", codes)
        set_(self, "lengths", lengths)
        set_(self, "alphabet", alphabet)
        if self.ids is not None:
            ids = np.asarray(self.ids, dtype=object)
            if ids.shape != (n,):
                raise InputError(f"{ids.size} ids for {n} sequences")
            set_(self, "ids", ids)
        if self.columns is not None:
            cols = tuple(str(c) for c in self.columns)
            if len(cols) != width:
                raise InputError(f"{len(cols)} column labels for {width} positions")
            set_(self, "columns", cols)
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=np.float64)
            if w.shape != (n,):
                raise InputError("weights must have one entry per sequence")
            if np.any(~np.isfinite(w)) or np.any(w < 0):
                raise InputError("weights must be finite and non-negative")
            set_(self, "weights", w)
        if self.birth_dates is not None:
            bd = np.asarray(self.birth_dates, dtype="datetime64[D]")
            if bd.shape != (n,):
                raise InputError(f"{bd.size} birth dates for {n} sequences")
            set_(self, "birth_dates", bd)
        if self.period_starts is not None:
            ps = np.asarray(self.period_starts, dtype="datetime64[D]")
            if ps.shape != (width,):
                raise InputError(f"{ps.size} period starts for {width} positions")
            set_(self, "period_starts", ps)

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

    @property
    def valid(self) -> np.ndarray:
        """``(N, L)`` boolean matrix: the position holds a state (not missing, not void)."""
        return (self.codes >= 0) & (self.codes < len(self.alphabet))

    def __len__(self) -> int:
        return self.n_sequences

    def __getitem__(self, index: Any) -> SequenceData:
        """Subset of sequences (int, slice, index array or boolean mask).

        Per-sequence fields (ids, weights, birth dates) follow; ``meta`` is copied.
        """
        idx = np.atleast_1d(np.arange(self.n_sequences)[index])
        return dataclasses.replace(
            self,
            codes=self.codes[idx],
            lengths=self.lengths[idx],
            ids=None if self.ids is None else self.ids[idx],
            weights=None if self.weights is None else self.weights[idx],
            birth_dates=None if self.birth_dates is None else self.birth_dates[idx],
            meta=dict(self.meta),
        )

    def replace(self, **changes: Any) -> SequenceData:
        """A copy with ``changes`` (as :func:`dataclasses.replace`).

        New ``codes`` without new ``lengths`` get their lengths derived again;
        ``meta`` is copied unless given.
        """
        if "codes" in changes and "lengths" not in changes:
            changes["lengths"] = None
        changes.setdefault("meta", dict(self.meta))
        return dataclasses.replace(self, **changes)

    def id_labels(self) -> np.ndarray:
        """The ids, or ``"0" .. "N-1"`` when there are none (object array)."""
        if self.ids is not None:
            return self.ids
        return np.arange(self.n_sequences).astype(str).astype(object)

    def column_labels(self) -> tuple[str, ...]:
        """The column labels, or ``"1" .. "L"`` when there are none."""
        if self.columns is not None:
            return self.columns
        return tuple(str(i + 1) for i in range(self.max_length))

    def labels(self) -> np.ndarray:
        """The sequences as ``(N, L)`` labels (``"*"`` missing, ``None`` void)."""
        lab = np.array([*self.alphabet, MISSING_LABEL, None], dtype=object)
        return lab[np.where(self.codes < 0, len(self.alphabet) + 1, self.codes)]

    def case_weights(self, weighted: bool = True) -> np.ndarray:
        """Weights as TraMineR uses them: the weights, or ones when absent or not weighted."""
        if weighted and self.weights is not None:
            return self.weights
        return np.ones(self.n_sequences)

    def with_missing_state(self, code: str = "missing") -> SequenceData:
        """The missing state as an ordinary last state of the alphabet (TraMineR's
        ``with.missing=TRUE``); the codes stay as they are, void stays void."""
        return self.replace(alphabet=self.alphabet.with_missing_state(code))

    # --------------------------------------------------------------- helpers
    def unique(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct sequences in order of first occurrence.

        Returns
        -------
        first_index : ndarray
            Row of the ``u``-th distinct sequence.
        inverse : ndarray
            Distinct index of each row.
        """
        return unique_rows(self.codes)

    def spells(self, with_missing: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct successive states and spell durations (``seqdss`` / ``seqdur``).

        Returns
        -------
        states : ndarray
            ``(N, L)`` int16 spell states (``-1`` padded).
        durations : ndarray
            ``(N, L)`` float64 durations (0 padded).
        n_spells : ndarray
            The number of spells of each sequence.
        """
        if not with_missing and self.has_missing:
            raise InputError("sequences contain missing values: use with_missing=True")
        return _spells(self.codes, self.lengths)

    def to_long(self, id_column: str = "id") -> pl.DataFrame:
        """Long form: id, position, column label, state (valid positions only)."""
        import polars as pl

        r, c = np.nonzero(self.valid)
        return pl.DataFrame({
            id_column: self.id_labels()[r].tolist(),
            "position": c.astype(np.int32),
            "period": np.asarray(self.column_labels(), dtype=object)[c].tolist(),
            "state": np.asarray(self.alphabet.codes, dtype=object)[self.codes[r, c]].tolist(),
        })

    # ------------------------------------------------- tabular form and files
    def to_arrow(self, id_column: str = "id", *, dictionary: bool = False) -> pa.Table:
        """The tabular form as an Arrow table (:func:`ozamonitor.sequences.seqio.to_arrow`)."""
        from ozamonitor.sequences import seqio

        return seqio.to_arrow(self, id_column, dictionary=dictionary)

    def to_polars(self, id_column: str = "id") -> pl.DataFrame:
        """``id`` + one string column per period (:func:`ozamonitor.sequences.seqio.to_polars`)."""
        from ozamonitor.sequences import seqio

        return seqio.to_polars(self, id_column)

    def write_parquet(self, path: str | Path, *, dictionary: bool | None = None,
                      private: bool = False) -> Path:
        """Write the Parquet form atomically (:func:`ozamonitor.sequences.seqio.write_parquet`)."""
        from ozamonitor.sequences import seqio

        return seqio.write_parquet(self, path, dictionary=dictionary, private=private)

    def write_csv(self, path: str | Path, *, private: bool = False) -> Path:
        """Write the CSV form atomically (:func:`ozamonitor.sequences.seqio.write_csv`)."""
        from ozamonitor.sequences import seqio

        return seqio.write_csv(self, path, private=private)

    @classmethod
    def from_polars(cls, df: Any, alphabet: Alphabet | Sequence[State | str] | None = None,
                    *, id_column: str = "id", period: str = "month") -> SequenceData:
        """Read the tabular form (:func:`ozamonitor.sequences.seqio.from_polars`)."""
        from ozamonitor.sequences import seqio

        return seqio.from_polars(df, alphabet, id_column=id_column, period=period)

    @classmethod
    def read_parquet(cls, path: str | Path,
                     alphabet: Alphabet | Sequence[State | str] | None = None) -> SequenceData:
        """Read the Parquet form (:func:`ozamonitor.sequences.seqio.read_parquet`)."""
        from ozamonitor.sequences import seqio

        return seqio.read_parquet(path, alphabet)


def drop_void(codes: np.ndarray) -> np.ndarray:
    """Delete void cells wherever they are and shift the rest of each row left.

    The result holds void only after each row's last state or missing
    position, as :class:`SequenceData` requires (TraMineR's ``seqdef`` with
    void cells deleted: ``left="DEL", gaps="DEL", right="DEL"`` on them).
    """
    c = np.asarray(codes, dtype=np.int16)
    isvoid = c == VOID_CODE
    if not isvoid.any():
        return c
    # a stable sort on "is void" moves void cells to the end, keeping the order
    order = np.argsort(isvoid, axis=1, kind="stable")
    return np.take_along_axis(c, order, axis=1)


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
