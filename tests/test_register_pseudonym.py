"""BSN eleven-test and keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozamonitor.register.pseudonym import (
    KEY_ENV,
    PSEUDONYM_LENGTH,
    PseudonymKeyError,
    elfproef,
    key_id,
    load_key,
    pseudonymise,
    random_valid_bsns,
)

KEY = b"test-key-0123456789abcdefghijklmnop"

# 111222333: 9+8+7+12+10+8+9+6-3 = 66; 123456782: 154; 012345672: 110; 100000009: 0 (mod 11)
VALID = ["111222333", "123456782", "012345672", "100000009", "999999990"]
INVALID = ["123456789", "111222334", "12345678", "1234567890", "12345678a", "000000000",
           "", " ", "11122233-3"]


def _valid_bsn(first8: list[int]) -> str | None:
    s = sum(d * w for d, w in zip(first8, range(9, 1, -1), strict=True))
    d9 = s % 11
    if d9 == 10:
        return None
    b = "".join(map(str, first8)) + str(d9)
    return None if b == "000000000" else b


@pytest.mark.parametrize("bsn", VALID)
def test_elfproef_accepts_known_valid(bsn: str) -> None:
    assert elfproef(bsn) is True


@pytest.mark.parametrize("bsn", INVALID)
def test_elfproef_rejects_known_invalid(bsn: str) -> None:
    assert elfproef(bsn) is False


def test_elfproef_series_polars_pandas_and_ints() -> None:
    s = pl.Series(["111222333", None, "123456789"])
    assert elfproef(s).to_list() == [True, None, False]
    assert elfproef(pd.Series(["111222333", "123456789"])).to_list() == [True, False]
    # integers lose leading zeros: they are padded back to 9 digits
    assert elfproef(12345672) is True
    assert elfproef(pl.Series([12345672, 111222333], dtype=pl.Int64)).to_list() == [True, True]
    assert elfproef(pl.Series([111222333.0])).to_list() == [True]


@given(st.lists(st.integers(0, 9), min_size=8, max_size=8))
def test_generated_valid_bsns_pass(first8: list[int]) -> None:
    b = _valid_bsn(first8)
    if b is not None:
        assert elfproef(b) is True


@given(st.lists(st.integers(0, 9), min_size=8, max_size=8), st.integers(0, 8),
       st.integers(1, 9))
def test_any_single_digit_change_fails(first8: list[int], pos: int, delta: int) -> None:
    b = _valid_bsn(first8)
    if b is None:
        return
    digits = [int(c) for c in b]
    digits[pos] = (digits[pos] + delta) % 10
    changed = "".join(map(str, digits))
    if changed != "000000000":
        assert elfproef(changed) is False


def test_random_valid_bsns() -> None:
    bsns = random_valid_bsns(500, seed=3)
    assert len(set(bsns)) == 500
    assert all(elfproef(pl.Series(bsns)).to_list())


def test_pseudonym_definition_and_determinism() -> None:
    out = pseudonymise(pl.Series(["111222333", "123456782", "111222333", None]), KEY)
    expected = hmac.new(KEY, b"111222333", hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]
    assert out[0] == expected == out[2]
    assert out[3] is None
    assert out.name == "person_id"
    assert len(out[1]) == 20 and int(out[1], 16) >= 0
    again = pseudonymise(["111222333", "123456782"], KEY)
    assert again.to_list() == out[:2].to_list()


def test_pseudonym_depends_on_key_and_accepts_pandas_and_ints() -> None:
    a = pseudonymise(pd.Series(["012345672"]), KEY)
    b = pseudonymise(pd.Series(["012345672"]), KEY + b"x")
    assert a[0] != b[0]
    # an integer BSN (leading zero lost) gives the same pseudonym as the string
    assert pseudonymise(pl.Series([12345672]), KEY)[0] == a[0]
    assert pseudonymise(["012345672"], KEY.decode())[0] == a[0]


def test_pseudonymise_checks_bsns() -> None:
    with pytest.raises(ValueError, match="eleven-test"):
        pseudonymise(["123456789"], KEY)
    assert pseudonymise(["123456789"], KEY, check=False)[0] is not None


def test_load_key_sources_and_refusal(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PseudonymKeyError, match="--key-file"):
        load_key()
    with pytest.raises(PseudonymKeyError, match="at least 32"):
        load_key(b"short")
    f = tmp_path / "key.txt"
    f.write_text("abcdefghijklmnopqrstuvwxyz0123456789\n")
    assert load_key(key_file=f) == b"abcdefghijklmnopqrstuvwxyz0123456789"
    with pytest.raises(PseudonymKeyError, match="not found"):
        load_key(key_file=tmp_path / "nope")
    monkeypatch.setenv(KEY_ENV, "from-the-environment-0123456789abcdef")
    assert load_key() == b"from-the-environment-0123456789abcdef"
    assert load_key(KEY) == KEY  # an explicit key wins


def test_key_id_is_stable_and_not_the_key() -> None:
    assert key_id(KEY) == key_id(KEY.decode())
    assert key_id(KEY) != key_id(KEY + b"1")
    assert KEY.hex()[:12] != key_id(KEY)


@pytest.mark.parametrize("weak", [b"", b"k" * 16, b"k" * 64, b"ab" * 20, b"0123456" * 6,
                                  "x" * 40])
def test_weak_or_empty_keys_are_refused_everywhere(weak, monkeypatch, tmp_path):
    with pytest.raises(PseudonymKeyError):
        pseudonymise(["123456782"], key=weak)
    with pytest.raises(PseudonymKeyError):
        load_key(weak)
    raw = weak.encode() if isinstance(weak, str) else weak
    if raw:
        (tmp_path / "key.txt").write_bytes(raw)
        with pytest.raises(PseudonymKeyError) as e:
            load_key(key_file=tmp_path / "key.txt")
        assert raw.decode() not in str(e.value)  # the key itself is never shown


def test_a_random_hex_key_is_accepted():
    import secrets

    assert load_key(secrets.token_hex(32)) and len(pseudonymise(["123456782"], KEY)) == 1
