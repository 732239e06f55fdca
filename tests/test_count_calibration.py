"""Calibration: counts on the default synthetic population vs the published figures.

At scale 0.05 the expected count is 5% of the published figure; the count is a
sum of many rare events (close to Poisson), so the tolerance is 10% plus three
standard deviations, ``0.10 + 3 / sqrt(expected)`` (e.g. +-33% for Vsvkompas
2020-21, expected 172). Skipped when the generator is not available.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pytest

from ozamonitor.counting.calibration import PUBLISHED, calibration_table
from ozamonitor.register.store import Register

SCALE = 0.05


def _generate() -> object:
    try:
        synth = importlib.import_module("ozamonitor.synth")
    except ImportError as e:  # pragma: no cover
        pytest.skip(f"ozamonitor.synth not importable ({e})")
    gen = getattr(synth, "generate", None)
    if gen is None:
        pytest.skip("ozamonitor.synth.generate not available yet")
    return gen


@pytest.fixture(scope="module")
def synth_register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    gen = _generate()
    out: Path = tmp_path_factory.mktemp("calib") / "reg"
    gen(out, scale=SCALE, seed=1)  # type: ignore[operator]
    return Register(out)


def test_tolerance_formula() -> None:
    exp = 3448 * SCALE
    assert 0.10 + 3 / math.sqrt(exp) == pytest.approx(0.328, abs=1e-3)
    assert len(PUBLISHED) == 5


@pytest.mark.slow
def test_counts_match_published_figures(synth_register: Register) -> None:
    t = calibration_table(synth_register, scale=SCALE)
    print(t)
    assert t["observed"].null_count() == 0, "the register must cover 2014-2015 .. 2022-2023"
    bad = t.filter(~t["ok"])
    assert bad.height == 0, f"counts outside tolerance:\n{bad}"
