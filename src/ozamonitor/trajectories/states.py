"""The trajectory alphabet: states, labels, colours and precedence rules.

A child's situation in a period is one *state* of a small alphabet. It is
derived from *layers*: for every register spell kind (residence, compulsory
education, enrolment by sector, OZA participation, exemption by article, long
absence, illness, waiting list, 24-hour care) a layer says whether that kind of
spell covers a day. A state is chosen from the layers by *precedence rules*:
an ordered list of ``(state, condition)`` pairs, highest precedence first; the
first condition that holds decides. Conditions are boolean expressions over
layer names (``and``, ``or``, ``not``, parentheses) and over named *macros*
(e.g. ``enrolled = "enrolled_regular or enrolled_special or enrolled_mbo"``).

The default alphabet (:data:`DEFAULT_CONFIG`), highest precedence first:

====  ===========  ===================================  ==========================================
rank  code         condition                            meaning
====  ===========  ===================================  ==========================================
1     ``abroad``   ``not resident``                     no residence spell (abroad / not registered)
2     ``notcomp``  ``not duty and not enrolled          outside compulsory education and
                   and not oza``                        qualification duty, not enrolled
3     ``care24``   ``care24 and not enrolled            24-hour (residential) care without
                   and not oza``                        education
4     ``oza``      ``oza``                              in an education-care arrangement (over
                                                        plain enrolment)
5     ``ex5a``     ``exempt_5a``                        exemption art. 5a
6     ``exoth``    ``exempt_other``                     exemption art. 5b or 15
7     ``lrv``      ``lrv and enrolled``                 enrolled, long-term relative absence
8     ``ill``      ``ill and enrolled``                 enrolled, ill at home (worrying illness)
9     ``wait``     ``waiting and not enrolled``         not enrolled, on a waiting list
10    ``av``       ``not enrolled``                     absolute absence (compulsory, not enrolled)
11    ``special``  ``enrolled_special``                 enrolled in sbo, so or vso
12    ``mbo``      ``enrolled_mbo``                     enrolled in mbo
13    ``regular``  ``enrolled_regular``                 enrolled in po or vo
====  ===========  ===================================  ==========================================

Days on which the child is not alive (before birth, after death) or lie after
the register's extraction date are *missing*; a period whose majority of days
is missing is missing.

Colours follow Paul Tol's colour-blind-safe *muted* and *light* schemes and are
used by every plot, so a state has the same colour everywhere.

The configuration can be read from TOML (:func:`load_config`)::

    [macros]
    enrolled = "enrolled_regular or enrolled_special or enrolled_mbo"

    [[state]]
    code = "abroad"
    label_nl = "buitenland"
    label_en = "abroad"
    colour = "#BBBBBB"
    when = "not resident"
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ozamonitor.errors import ConfigurationError
from ozamonitor.register.schema import EXEMPTION_ARTICLES, SECTORS, WAITING_FOR
from ozamonitor.sequences.alphabet import FALLBACK_COLOURS, Alphabet
from ozamonitor.sequences.alphabet import State as BaseState

#: Layers the builder derives from the register (bit position = list index).
LAYERS: tuple[str, ...] = (
    "alive",  # born and not deceased (enrolment end_reason 'deceased')
    "resident",  # a residence spell (gemeente) covers the day
    "compulsory",  # leerplicht (compulsory education age)
    "qualification",  # kwalificatieplicht, ended early by a start qualification
    "enrolled_regular",  # enrolment at a po or vo school
    "enrolled_special",  # enrolment at an sbo, so or vso school
    "enrolled_mbo",  # enrolment at an mbo institution
    "oza",  # participation in an education-care arrangement
    "exempt_5a",  # exemption art. 5a
    "exempt_other",  # exemption art. 5b or 15
    "exempt_partial",  # partial exemption (does not end enrolment)
    "lrv",  # absence report 'lrv' (absence_start .. absence_end)
    "ill",  # absence report 'ill'
    "rv",  # absence report 'rv_16h'
    "waiting_school",  # waiting for a school place
    "waiting_care",  # waiting for care
    "care24",  # residential (24-hour) care spell
)

#: Sector -> layer mapping (every sector of the schema must be mapped).
SECTOR_LAYER: dict[str, str] = {
    "po": "enrolled_regular",
    "vo": "enrolled_regular",
    "sbo": "enrolled_special",
    "so": "enrolled_special",
    "vso": "enrolled_special",
    "mbo": "enrolled_mbo",
}
#: Exemption article -> layer.
EXEMPTION_LAYER: dict[str, str] = {
    "5a": "exempt_5a",
    "5b": "exempt_other",
    "15": "exempt_other",
    "partial": "exempt_partial",
}
#: Waiting-list reason -> layer.
WAITING_LAYER: dict[str, str] = {
    w: ("waiting_school" if w.endswith("_place") else "waiting_care") for w in WAITING_FOR
}
if set(SECTOR_LAYER) != set(SECTORS) or set(EXEMPTION_LAYER) != set(EXEMPTION_ARTICLES):
    raise RuntimeError("trajectories.states: every sector and exemption article of the "
                       "register schema needs a layer")

DEFAULT_MACROS: dict[str, str] = {
    "enrolled": "enrolled_regular or enrolled_special or enrolled_mbo",
    "duty": "compulsory or qualification",
    "waiting": "waiting_school or waiting_care",
}


@dataclass(frozen=True)
class State(BaseState):
    """One state of the trajectory alphabet: its code, labels and colour
    (:class:`ozamonitor.sequences.alphabet.State`) and its precedence rule."""

    #: Condition over layers/macros; the first state (in precedence order) whose
    #: condition holds is the state of the day.
    when: str


def alphabet_from_codes(codes: Sequence[str]) -> Alphabet:
    """An alphabet for arbitrary state codes: known codes keep their default
    labels and colours, others get the fallback palette."""
    known = {s.code: s for s in _DEFAULT_STATES}
    return Alphabet(
        known.get(c) or State(c, c, c, FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)], "False")
        for i, c in enumerate(codes)
    )


class RuleError(ConfigurationError):
    """A precedence rule could not be parsed or names an unknown layer."""


def _compile(expr: str, names: Mapping[str, str], macros: Mapping[str, str], depth: int = 0
             ) -> ast.expr:
    """Parse ``expr`` into an AST of BoolOp/UnaryOp(Not)/Name only, macros inlined."""
    if depth > 10:
        raise RuleError(f"macro recursion too deep in {expr!r}")
    try:
        tree = ast.parse(expr, mode="eval").body
    except SyntaxError as e:
        raise RuleError(f"cannot parse rule {expr!r}: {e.msg}") from None

    def walk(node: ast.expr) -> ast.expr:
        if isinstance(node, ast.BoolOp):
            node.values = [walk(v) for v in node.values]
            return node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            node.operand = walk(node.operand)
            return node
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node
        if isinstance(node, ast.Name):
            if node.id in macros:
                return _compile(macros[node.id], names, macros, depth + 1)
            if node.id not in names:
                raise RuleError(
                    f"rule {expr!r} names unknown layer {node.id!r}; layers: "
                    f"{', '.join(names)}; macros: {', '.join(macros) or '-'}"
                )
            return node
        raise RuleError(
            f"rule {expr!r}: only layer names, and/or/not, True/False and parentheses "
            f"are allowed (found {type(node).__name__})"
        )

    return walk(tree)


def _evaluate(node: ast.expr, bits: Mapping[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, ast.BoolOp):
        vals = [_evaluate(v, bits) for v in node.values]
        out = vals[0].copy()
        for v in vals[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out
    if isinstance(node, ast.UnaryOp):
        return ~_evaluate(node.operand, bits)
    if isinstance(node, ast.Constant):
        n = len(next(iter(bits.values())))
        return np.full(n, bool(node.value))
    assert isinstance(node, ast.Name)
    return bits[node.id]


@dataclass(frozen=True)
class TrajectoryConfig:
    """Alphabet + precedence rules (the order of ``states``) + macros."""

    states: tuple[State, ...]
    macros: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MACROS))
    #: Optional display order (state codes); default: precedence order.
    display_order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = {n: n for n in LAYERS}
        for s in self.states:
            _compile(s.when, names, self.macros)  # validate early
        if self.display_order is not None and sorted(self.display_order) != sorted(
            s.code for s in self.states
        ):
            raise ConfigurationError("display_order must list every state code exactly once")

    @property
    def alphabet(self) -> Alphabet:
        """The alphabet in display order (integer codes follow this order)."""
        if self.display_order is None:
            return Alphabet(self.states)
        by = {s.code: s for s in self.states}
        return Alphabet(tuple(by[c] for c in self.display_order))

    def lookup_table(self) -> np.ndarray:
        """int16 table: layer bitmask (bit i = :data:`LAYERS`[i]) -> state code.

        Evaluated once over all 2**len(LAYERS) combinations; days with
        ``alive`` unset, or on which no rule holds, are missing: the code
        ``len(states)``, the alphabet's
        :attr:`~ozamonitor.sequences.alphabet.Alphabet.missing_code`.
        """
        n = 1 << len(LAYERS)
        masks = np.arange(n, dtype=np.uint32)
        bits = {name: ((masks >> i) & 1).astype(bool) for i, name in enumerate(LAYERS)}
        alph = self.alphabet
        out = np.full(n, alph.missing_code, dtype=np.int16)
        undecided = bits["alive"].copy()
        names = {n_: n_ for n_ in LAYERS}
        for s in self.states:
            cond = _evaluate(_compile(s.when, names, self.macros), bits)
            hit = undecided & cond
            out[hit] = alph.index(s.code)
            undecided &= ~cond
        return out

    def precedence_rank(self) -> np.ndarray:
        """Rank (0 = highest) of each integer state code, missing (the last entry) last."""
        alph = self.alphabet
        rank = np.empty(len(alph) + 1, dtype=np.int16)
        for r, s in enumerate(self.states):
            rank[alph.index(s.code)] = r
        rank[alph.missing_code] = len(self.states)
        return rank


_DEFAULT_STATES: tuple[State, ...] = (
    State("abroad", "buitenland / niet ingeschreven in gemeente", "abroad / no residence",
          "#BBBBBB", "not resident"),
    State("notcomp", "niet leer- of kwalificatieplichtig", "not of compulsory age",
          "#DDDDDD", "not duty and not enrolled and not oza"),
    State("care24", "24-uurszorg zonder onderwijs", "24-hour care without education",
          "#882255", "care24 and not enrolled and not oza"),
    State("oza", "onderwijszorgarrangement (OZA)", "education-care arrangement (OZA)",
          "#117733", "oza"),
    State("ex5a", "vrijstelling 5a", "exemption 5a", "#AA4499", "exempt_5a"),
    State("exoth", "vrijstelling 5b/15", "exemption 5b/15", "#EE8866", "exempt_other"),
    State("lrv", "langdurig relatief verzuim", "long-term relative absence",
          "#DDCC77", "lrv and enrolled"),
    State("ill", "ziek thuis (ingeschreven)", "ill at home (enrolled)", "#999933",
          "ill and enrolled"),
    State("wait", "wachtlijst, niet ingeschreven", "waiting list, not enrolled",
          "#332288", "waiting and not enrolled"),
    State("av", "absoluut verzuim", "absolute absence", "#CC6677", "not enrolled"),
    State("special", "speciaal onderwijs (sbo/so/vso)", "special education (sbo/so/vso)",
          "#44AA99", "enrolled_special"),
    State("mbo", "mbo", "vocational education (mbo)", "#77AADD", "enrolled_mbo"),
    State("regular", "regulier onderwijs (po/vo)", "regular education (po/vo)",
          "#88CCEE", "enrolled_regular"),
)

#: Display order: education states first, then absence, exemption, care, outside.
_DEFAULT_DISPLAY = ("regular", "special", "mbo", "oza", "lrv", "ill", "wait", "av",
                    "ex5a", "exoth", "care24", "notcomp", "abroad")

DEFAULT_CONFIG = TrajectoryConfig(states=_DEFAULT_STATES, display_order=_DEFAULT_DISPLAY)


def config_from_dict(d: Mapping[str, Any]) -> TrajectoryConfig:
    """Build a config from a parsed TOML/JSON mapping (see module docstring)."""
    raw = d.get("state") or d.get("states")
    if not raw:
        raise ConfigurationError("trajectory config: no [[state]] entries")
    states = []
    for i, s in enumerate(raw):
        missing = [k for k in ("code", "when") if k not in s]
        if missing:
            raise ConfigurationError(
                f"trajectory config: state #{i + 1} lacks {', '.join(missing)}")
        states.append(State(
            code=str(s["code"]),
            label_nl=str(s.get("label_nl", s["code"])),
            label_en=str(s.get("label_en", s["code"])),
            colour=str(s.get("colour", s.get("color", "#999999"))),
            when=str(s["when"]),
        ))
    macros = dict(DEFAULT_MACROS)
    macros.update({str(k): str(v) for k, v in (d.get("macros") or {}).items()})
    order = d.get("display_order")
    return TrajectoryConfig(tuple(states), macros,
                            tuple(str(c) for c in order) if order else None)


def load_config(path: str | Path) -> TrajectoryConfig:
    """Read a :class:`TrajectoryConfig` from a TOML file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigurationError(f"{p}: cannot read trajectory config: {e}") from None
    try:
        return config_from_dict(data)
    except ValueError as e:  # RuleError and ConfigurationError are ValueErrors
        raise ConfigurationError(f"{p}: {e}") from None


def config_to_toml(cfg: TrajectoryConfig) -> str:
    """Serialise a config as TOML (round-trips through :func:`load_config`)."""
    lines = ["[macros]"]
    lines += [f'{k} = "{v}"' for k, v in cfg.macros.items()]
    if cfg.display_order:
        lines += ["", "display_order = [" + ", ".join(f'"{c}"' for c in cfg.display_order)
                  + "]"]
        # keys after a table header belong to it: move display_order to the top
        lines = [lines[-1], "", *lines[:-2]]
    for s in cfg.states:
        lines += ["", "[[state]]", f'code = "{s.code}"', f'label_nl = "{s.label_nl}"',
                  f'label_en = "{s.label_en}"', f'colour = "{s.colour}"', f'when = "{s.when}"']
    return "\n".join(lines) + "\n"
