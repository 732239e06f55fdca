"""BSN checks (*elfproef*) and keyed pseudonyms.

Direct identifiers never enter the register. Person tables arrive with a
citizen service number (*burgerservicenummer*, BSN); on import every BSN is

1. normalised: a string of exactly 9 digits (leading zeros kept; integer
   sources are left-padded with zeros to 9 digits),
2. checked with the eleven-test (:func:`elfproef`):
   ``9*d1 + 8*d2 + 7*d3 + 6*d4 + 5*d5 + 4*d6 + 3*d7 + 2*d8 - 1*d9`` is divisible
   by 11, and the number is not ``000000000``,
3. replaced by its pseudonym (:func:`pseudonymise`): the first
   :data:`PSEUDONYM_LENGTH` (20) lower-case hex characters of
   ``HMAC-SHA256(key, bsn)``, where ``bsn`` is the 9-digit ASCII string.

The same BSN with the same key always gives the same ``person_id``, so
registers imported with one key link; with another key they do not. The key
comes from a file (``--key-file``) or the environment variable
:data:`KEY_ENV`; without a key the import refuses to run. 20 hex characters are
80 bits: the chance that two of 20 million children collide is about 2e-10.

:func:`key_id` gives a fingerprint of the key (an HMAC of a fixed label) that
is stored in the manifest: it tells whether two registers used the same key
without revealing the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.errors import ConfigurationError, InputError

#: Environment variable holding the pseudonymisation key.
KEY_ENV = "OZAMONITOR_PSEUDONYM_KEY"
#: Number of hex characters of the HMAC-SHA256 digest kept as ``person_id``.
PSEUDONYM_LENGTH = 20
#: Keys shorter than this many bytes are refused as too easy to guess.
MIN_KEY_BYTES = 32
#: A key with fewer distinct bytes than this is refused as weak (``aaaa...``, ``0000...``).
MIN_DISTINCT_BYTES = 8

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


class PseudonymKeyError(ConfigurationError):
    """No usable pseudonymisation key was given."""


def _to_series(values: Any, name: str = "bsn") -> pl.Series:
    """A polars Series from a polars/pandas Series, a list or a scalar."""
    if isinstance(values, pl.Series):
        return values
    try:
        import pandas as pd

        if isinstance(values, pd.Series | pd.Index):
            return pl.from_pandas(pd.Series(values)).rename(name)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(values, str | int):
        values = [values]
    return pl.Series(name, list(values))


def normalise_bsn(values: Any) -> pl.Series:
    """BSNs as strings with surrounding whitespace removed.

    Integer (or integral float) input is left-padded with zeros to 9 digits,
    because spreadsheets and numeric columns drop leading zeros. Strings are
    kept as given (a string of 8 digits is *not* padded: it fails the test).
    """
    s = _to_series(values)
    if s.dtype.is_float():  # spreadsheets: 111222333.0 (a fraction cannot be a BSN)
        s = pl.select(pl.when(s == s.floor()).then(s)).to_series().cast(pl.Int64).rename(s.name)
    if s.dtype.is_integer():
        return (
            pl.select(
                pl.when(s >= 0).then(s.cast(pl.String).str.zfill(9)).otherwise(s.cast(pl.String))
            )
            .to_series()
            .rename(s.name)
        )
    return s.cast(pl.String).str.strip_chars()


def elfproef_expr(bsn: pl.Expr) -> pl.Expr:
    """Polars expression: True where the (string) BSN passes the eleven-test.

    Null stays null; anything that is not exactly 9 digits, or is all zeros, is False.
    """
    digits_ok = bsn.str.contains(r"^[0-9]{9}$")
    total = pl.sum_horizontal(
        [bsn.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(_WEIGHTS)]
    )
    return (
        pl.when(bsn.is_null())
        .then(None)
        .otherwise(digits_ok & (total % 11 == 0) & (bsn != "000000000"))
    )


def contains_bsn_expr(text: pl.Expr) -> pl.Expr:
    """Polars expression: True where a text holds a number that could be a BSN.

    A run of exactly nine digits passing the eleven-test, as written or with
    spaces, dots and dashes removed (``1234.56.782``). Used to refuse a BSN
    typed in a school name, a care provider or a report id: such a value would
    be stored unpseudonymised. Null stays null.
    """
    def runs(e: pl.Expr) -> pl.Expr:
        return e.str.extract_all(r"[0-9]+")

    candidates = pl.concat_list(runs(text), runs(text.str.replace_all(r"[ .\-]", "")))
    return candidates.list.eval(
        pl.element().str.len_chars().eq(9) & elfproef_expr(pl.element())).list.any()


def elfproef(values: Any) -> pl.Series | bool:
    """Eleven-test (*elfproef*) of BSNs.

    Parameters
    ----------
    values : str, int, polars.Series, pandas.Series or list
        One BSN or several; integers are zero-padded to 9 digits first.

    Returns
    -------
    bool or polars.Series
        For one BSN a bool; else a Boolean polars Series, null where the input is
        null.

    Examples
    --------
    >>> elfproef("111222333"), elfproef("123456789")
    (True, False)
    """
    scalar = isinstance(values, str | int)
    s = normalise_bsn(values)
    out = pl.select(elfproef_expr(pl.lit(s))).to_series().rename("elfproef")
    if scalar:
        return bool(out[0])
    return out


def load_key(key: bytes | str | None = None, key_file: str | Path | None = None) -> bytes:
    """Resolve the pseudonymisation key.

    Order: ``key`` (bytes, or a str encoded as UTF-8), then ``key_file`` (its
    bytes with surrounding whitespace and newlines stripped), then the
    environment variable :data:`KEY_ENV`. Raises :class:`PseudonymKeyError` when
    none is given or the key is shorter than :data:`MIN_KEY_BYTES` bytes.
    """
    source: str
    if key is not None:
        raw = key.encode() if isinstance(key, str) else bytes(key)
        source = "the given key"
    elif key_file is not None:
        p = Path(key_file)
        if not p.is_file():
            raise PseudonymKeyError(f"{p}: key file not found")
        raw = p.read_bytes().strip()
        source = str(p)
    elif os.environ.get(KEY_ENV):
        raw = os.environ[KEY_ENV].strip().encode()
        source = f"${KEY_ENV}"
    else:
        raise PseudonymKeyError(
            "no pseudonymisation key: BSNs can only be imported with a secret key. "
            f"Pass --key-file FILE or set the environment variable {KEY_ENV} "
            f"(at least {MIN_KEY_BYTES} bytes, e.g. `openssl rand -hex 32 > key.txt`); "
            "keep the key outside the register and use the same key for every delivery."
        )
    return check_key(raw, source)


def check_key(raw: bytes, source: str = "the given key") -> bytes:
    """``raw`` when it is a usable pseudonymisation key; :class:`PseudonymKeyError` otherwise.

    A key must hold at least :data:`MIN_KEY_BYTES` bytes and may not be
    obviously weak: fewer than :data:`MIN_DISTINCT_BYTES` distinct bytes, or a
    short piece repeated (``abcabcabc...``). The key itself is never shown.

    Parameters
    ----------
    raw : bytes
        The key.
    source : str
        Where it came from, for the message (a file name, ``$OZAMONITOR_PSEUDONYM_KEY``).

    Examples
    --------
    >>> len(check_key(bytes(range(32))))
    32
    >>> for weak in (b"x" * 40, b"0123" * 10, b""):
    ...     try:
    ...         check_key(weak)
    ...     except PseudonymKeyError as e:
    ...         print(str(e).split(";")[0])
    pseudonymisation key from the given key is weak (1 distinct bytes or a repeated pattern)
    pseudonymisation key from the given key is weak (4 distinct bytes or a repeated pattern)
    pseudonymisation key from the given key is 0 bytes
    """
    hint = "generate one with `openssl rand -hex 32`"
    if len(raw) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"pseudonymisation key from {source} is {len(raw)} bytes; "
            f"at least {MIN_KEY_BYTES} are required ({hint})"
        )
    distinct = len(set(raw))
    periodic = any(raw == (raw[:n] * (len(raw) // n + 1))[:len(raw)]
                   for n in range(1, len(raw) // 4 + 1))
    if distinct < MIN_DISTINCT_BYTES or periodic:
        raise PseudonymKeyError(
            f"pseudonymisation key from {source} is weak ({distinct} distinct bytes or a "
            f"repeated pattern); {hint}")
    return raw


def key_id(key: bytes | str) -> str:
    """A 12-hex-character fingerprint of the key, safe to store in a manifest."""
    k = key.encode() if isinstance(key, str) else key
    return hmac.new(k, b"ozamonitor key id v1", hashlib.sha256).hexdigest()[:12]


def pseudonym(bsn: str, key: bytes | str) -> str:
    """Pseudonym of one normalised BSN (no eleven-test; see :func:`pseudonymise`)."""
    k = key.encode() if isinstance(key, str) else key
    return hmac.digest(k, bsn.encode("ascii"), "sha256").hex()[:PSEUDONYM_LENGTH]


def pseudonym_digests(bsns: list[str], key: bytes) -> list[str]:
    """Pseudonyms of normalised BSN strings, in order (no checks, no deduplication).

    A plain loop over ``hmac.digest`` (OpenSSL's one-shot HMAC in C): no
    vectorised HMAC exists in polars, DuckDB or numpy, and this runs at about a
    microsecond per BSN on an idle core.
    """
    digest = hmac.digest
    n = PSEUDONYM_LENGTH
    # utf-8: the same bytes as ASCII for digits, and no crash on anything else
    return [digest(key, b.encode("utf-8"), "sha256").hex()[:n] for b in bsns]


def pseudonymise(values: Any, key: bytes | str, *, check: bool = True) -> pl.Series:
    """Replace BSNs by keyed pseudonyms (``person_id``).

    Each distinct BSN is hashed once (``hmac.digest``, about 1 microsecond each)
    and the result mapped back, so repeated BSNs cost nothing extra. Nulls stay
    null.

    Parameters
    ----------
    values : polars.Series, pandas.Series or list
        BSNs, as strings or integers.
    key : bytes or str
        The pseudonymisation key.
    check : bool, default True
        Refuse BSNs failing the eleven-test (the importer reports such rows as
        validation problems before calling this).

    Returns
    -------
    polars.Series
        String series named ``person_id``.

    Raises
    ------
    InputError
        With ``check``, when a BSN fails the eleven-test (no BSN is echoed).
    PseudonymKeyError
        Without a usable key.
    """
    if key is None:  # defensive: the type says otherwise, callers may not
        raise PseudonymKeyError("pseudonymise() needs a key")
    k = check_key(key.encode() if isinstance(key, str) else bytes(key))
    s = normalise_bsn(values)
    if check:
        ok = pl.select(elfproef_expr(pl.lit(s))).to_series()
        bad = s.filter(ok.not_())
        if len(bad):
            raise InputError(f"{len(bad)} BSN(s) fail the eleven-test (elfproef)")
    uniq = s.drop_nulls().unique()
    ids = pseudonym_digests(uniq.to_list(), k)
    mapping = pl.DataFrame({"bsn": uniq, "person_id": pl.Series(ids, dtype=pl.String)})
    out = (
        pl.DataFrame({"bsn": s})
        .join(mapping, on="bsn", how="left", maintain_order="left")
        .get_column("person_id")
    )
    return out


def random_valid_bsns(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct random 9-digit numbers that pass the eleven-test (for tests, demos)."""
    import random

    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        d = [rng.randrange(10) for _ in range(8)]
        s = sum(x * w for x, w in zip(d, _WEIGHTS[:8], strict=True))
        d9 = s % 11  # need s - d9 == 0 (mod 11)
        if d9 == 10:
            continue
        b = "".join(map(str, d)) + str(d9)
        if b != "000000000":
            out.add(b)
    return sorted(out)
