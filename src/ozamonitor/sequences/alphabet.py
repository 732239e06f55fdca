"""The alphabet of a set of state sequences: state codes with labels and colours.

An :class:`Alphabet` is what TraMineR's ``seqdef`` keeps as ``alphabet``,
``labels`` and ``cpal``: the states in code order, and for each a label (in
Dutch and English, as every figure of ozamonitor can be drawn in either) and a
colour. It *is* the tuple of its state codes (``Alphabet(["a", "b"]) == ("a",
"b")``), so the distance engine compares alphabets by their codes only, and it
carries the labels and colours for tables and plots.

The integer coding of the sequences themselves (see
:class:`~ozamonitor.sequences.seqdata.SequenceData`): ``0 .. k-1`` are the
states in alphabet order, ``k`` (:attr:`Alphabet.missing_code`) is the missing
state (TraMineR's ``"*"``) and :data:`VOID_CODE` (``-1``) is *void* (TraMineR's
``"%"``, a position after the end of a shorter sequence).

>>> a = Alphabet(["work", "school"])
>>> a == ("work", "school"), a.missing_code, a.index("school")
(True, 2, 1)
>>> a.decode([1, 2, -1]).tolist()
['school', None, None]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ozamonitor.errors import ConfigurationError, InputError

__all__ = [
    "FALLBACK_COLOURS",
    "MISSING_LABEL",
    "VOID_CODE",
    "VOID_LABEL",
    "Alphabet",
    "Language",
    "State",
]

#: How a missing position is written (TraMineR's ``nr`` symbol).
MISSING_LABEL = "*"
#: How a void position is written (TraMineR's ``void`` symbol).
VOID_LABEL = "%"
#: Integer code of a void position.
VOID_CODE = -1
#: Largest number of states: the missing code ``k`` must fit the int16 codes.
MAX_STATES = int(np.iinfo(np.int16).max) - 1
#: Colour-blind-friendly palette (Paul Tol) for states without a colour of their own.
FALLBACK_COLOURS = ("#88CCEE", "#44AA99", "#117733", "#332288", "#DDCC77", "#999933",
                    "#CC6677", "#882255", "#AA4499", "#EE8866", "#77AADD", "#BBBBBB",
                    "#DDDDDD", "#000000")

Language = Literal["nl", "en"]


@dataclass(frozen=True)
class State:
    """One state of an alphabet.

    Parameters
    ----------
    code : str
        The state code (what the data holds, e.g. ``"oza"``).
    label_nl, label_en : str
        Labels in Dutch and English (tables, legends).
    colour : str
        Colour of the state in every plot (``"#RRGGBB"``).
    """

    code: str
    label_nl: str
    label_en: str
    colour: str

    def label(self, lang: Language = "nl") -> str:
        """The label in ``"nl"`` or ``"en"``."""
        return self.label_nl if lang == "nl" else self.label_en


class Alphabet(tuple[str, ...]):
    """An ordered tuple of state codes that also holds each state's labels and colour.

    Parameters
    ----------
    states : iterable of State or str
        The states in code order (a state's integer code is its position). A
        plain string is a state whose labels are its code and whose colour
        comes from :data:`FALLBACK_COLOURS` (by position).
    missing_label_nl, missing_label_en : str, default "onbekend", "missing"
        Labels of the missing state.
    missing_colour : str, default "#FFFFFF"
        Colour of missing positions in plots.

    Raises
    ------
    ConfigurationError
        No states, more than :data:`MAX_STATES`, or a duplicate code.

    Notes
    -----
    Equality and hashing are those of the tuple of codes: two alphabets with
    the same codes in the same order are equal whatever their labels.
    """

    _states: tuple[State, ...]
    missing_label_nl: str
    missing_label_en: str
    missing_colour: str

    def __new__(cls, states: Iterable[State | str], *, missing_label_nl: str = "onbekend",
                missing_label_en: str = "missing", missing_colour: str = "#FFFFFF"
                ) -> Alphabet:
        sts = tuple(
            s if isinstance(s, State) else State(
                str(s), str(s), str(s), FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)])
            for i, s in enumerate(states)
        )
        codes = [s.code for s in sts]
        if len(set(codes)) != len(codes):
            raise ConfigurationError(f"duplicate state codes in alphabet: {codes}")
        if not 1 <= len(codes) <= MAX_STATES:
            raise ConfigurationError(
                f"an alphabet needs 1..{MAX_STATES} states, got {len(codes)}")
        obj = super().__new__(cls, codes)
        obj._states = sts
        obj.missing_label_nl = missing_label_nl
        obj.missing_label_en = missing_label_en
        obj.missing_colour = missing_colour
        return obj

    def __repr__(self) -> str:
        return f"Alphabet({tuple(self)!r})"

    @property
    def states(self) -> tuple[State, ...]:
        """The :class:`State` objects, in code order."""
        return self._states

    @property
    def codes(self) -> list[str]:
        """The state codes, in code order."""
        return list(self)

    @property
    def colours(self) -> list[str]:
        """The state colours, in code order."""
        return [s.colour for s in self._states]

    @property
    def missing_code(self) -> int:
        """Integer code of the missing state (the number of states)."""
        return len(self)

    def labels(self, lang: Language = "nl") -> list[str]:
        """The state labels in ``"nl"`` or ``"en"``, in code order."""
        return [s.label(lang) for s in self._states]

    def missing_label(self, lang: Language = "nl") -> str:
        """The label of the missing state in ``"nl"`` or ``"en"``."""
        return self.missing_label_nl if lang == "nl" else self.missing_label_en

    def index(self, code: Any, *_: Any) -> int:  # type: ignore[override]
        """Integer code of a state code.

        Raises
        ------
        KeyError
            The code is not in the alphabet (the message lists the alphabet).
        """
        try:
            return tuple.index(self, code)
        except ValueError:
            raise KeyError(f"unknown state {code!r}; alphabet: {', '.join(self)}") from None

    def colour_of(self, i: int) -> str:
        """Colour of integer code ``i`` (the missing colour past the states)."""
        return self.missing_colour if i >= len(self) or i < 0 else self._states[i].colour

    def decode(self, codes: Sequence[int] | np.ndarray) -> np.ndarray:
        """Integer codes -> object array of state codes (``None`` for missing and void)."""
        c = np.asarray(codes, dtype=np.int64)
        lut = np.array([*self, None, None], dtype=object)  # k: missing, k + 1: void
        return lut[np.where(c < 0, len(self) + 1, np.minimum(c, len(self)))]

    def encode(self, values: Sequence[str | None] | np.ndarray) -> np.ndarray:
        """State codes -> int16 codes: ``None``, ``""`` and ``"*"`` are missing, ``"%"`` void.

        Raises
        ------
        InputError
            A value that is not a state of the alphabet.
        """
        m = {c: i for i, c in enumerate(self)}
        m.update({"": len(self), MISSING_LABEL: len(self), VOID_LABEL: VOID_CODE})
        out = np.empty(len(values), dtype=np.int16)
        for k, v in enumerate(values):
            if v is None:
                out[k] = len(self)
                continue
            try:
                out[k] = m[v]
            except KeyError:
                raise InputError(f"unknown state {v!r}; alphabet: {', '.join(self)}") from None
        return out

    def with_missing_state(self, code: str = "missing") -> Alphabet:
        """This alphabet plus the missing state as an ordinary last state
        (TraMineR's ``with.missing=TRUE``), labelled and coloured as missing."""
        extra = State(code, self.missing_label_nl, self.missing_label_en, "#F0F0F0")
        return Alphabet((*self._states, extra), missing_label_nl=self.missing_label_nl,
                        missing_label_en=self.missing_label_en,
                        missing_colour=self.missing_colour)

    def to_json(self) -> list[dict[str, Any]]:
        """The states as JSON-ready mappings (every field of each state's class)."""
        return [dict(s.__dict__) for s in self._states]

    @classmethod
    def from_json(cls, items: Iterable[dict[str, Any]]) -> Alphabet:
        """Inverse of :meth:`to_json`; fields other than :class:`State`'s are ignored."""
        return cls(State(str(d["code"]), str(d.get("label_nl", d["code"])),
                         str(d.get("label_en", d["code"])), str(d.get("colour", "#999999")))
                   for d in items)


def as_alphabet(alphabet: Alphabet | Iterable[State | str]) -> Alphabet:
    """``alphabet`` itself if it is an :class:`Alphabet`, else ``Alphabet(alphabet)``."""
    return alphabet if isinstance(alphabet, Alphabet) else Alphabet(alphabet)
