"""TraMineR behaviours found in an independent review of seqdist (values worked from its source)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.sequences.costs import indel_costs
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.distances import seqdist


@pytest.fixture
def three():
    return seqdef([list("aabbc"), list("bbbcc"), list("ccaaa")])


def test_indels_and_indelslog_costs(three):
    # every state fills 5 of 15 cells: f = 1/3
    c = indel_costs(three)
    assert np.allclose(c.indel, 3.0)
    assert np.allclose(c.sm, 6.0 * (1 - np.eye(3)))
    assert seqdist(three, "OM", sm="INDELS")[0, 1] == pytest.approx(12.0)
    assert seqdist(three, "OM", sm="INDELSLOG")[0, 1] == pytest.approx(4 * math.log(1.5))


def test_indels_weighted_frequencies():
    s = seqdef([list("aab"), list("bbb")], weights=[3.0, 1.0])
    c = indel_costs(s)
    f = np.array([6.0, 6.0]) / 12.0  # a: 2 cells x 3, b: 1 x 3 + 3 x 1
    assert np.allclose(c.indel, 1 / f)


def test_zero_trate_costs_give_zero_distances():
    s = seqdef([list("ababab"), list("bababa")])
    assert np.all(seqdist(s, "OM", sm="TRATE") == 0)


def test_indel_ignored_by_hamming(three):
    assert seqdist(three, "HAM", indel=0)[0, 1] == pytest.approx(3.0)


def test_chi2_step_longer_than_sequence_is_one_interval(three):
    with pytest.warns(UserWarning, match="one interval"):
        d = seqdist(three, "CHI2", step=9)
    assert np.allclose(d, seqdist(three, "CHI2", step=5))


def test_cli_unreadable_cost_file(tmp_path):
    inp = tmp_path / "s.csv"
    inp.write_text("id,p1,p2\nx,a,b\ny,b,a\n")
    out = tmp_path / "D.csv"
    res = CliRunner().invoke(app, ["seqdist", "--input", str(inp), "--sm", "nofile.csv",
                                   "--out", str(out)])
    assert res.exit_code == 1
    assert "not a readable cost-matrix file" in res.output
    assert not out.exists()


def test_normalised_lengths_are_weighted_by_indel_and_max_cost(three):
    """TraMineR >= 2.2-0: OM's maxlength/gmean lengths are length x indel (OMdistance.cpp);
    HAM/DHD use maxdist, the sum of the largest cost per position, as the length
    (DHDdistance.cpp). Values from TraMineR 2.2-12."""
    sm = 2.0 * (1 - np.eye(3))
    assert np.allclose(seqdist(three, "OM", sm=sm, indel=2), [[0, 6, 10], [6, 0, 10],
                                                               [10, 10, 0]])
    want = [[0, 0.6, 1], [0.6, 0, 1], [1, 1, 0]]
    assert np.allclose(seqdist(three, "OM", sm=sm, indel=2, norm="maxlength"), want)
    assert np.allclose(seqdist(three, "HAM", sm=sm, norm="maxlength"), want)
    gm = seqdist(three, "OM", sm=sm, indel=1.5, norm="gmean")
    assert np.allclose(gm[0, 1:], [2 / 3, 13 / 15]) and gm[1, 2] == pytest.approx(14 / 15)
    dhd = seqdist(three, "DHD", norm="gmean")
    assert np.allclose([dhd[0, 1], dhd[0, 2], dhd[1, 2]], [0.7435897, 0.9615385, 0.9871795],
                       atol=1e-7)
