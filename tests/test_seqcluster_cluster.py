"""PAM, Ward and medoid descriptions against planted truth, brute force and hand-computed
hclust results."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import adjusted_rand_score

from ozamonitor.sequences.cluster import (
    describe_clusters,
    medoids_of,
    pam,
    pam_range,
    spell_string,
    spells,
)
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.sequences.ward import cutree, ward, ward_range


def _blobs(seed: int, sizes=(15, 12, 10), spread: float = 0.5):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])[: len(sizes)]
    pts = np.vstack(
        [c + rng.normal(scale=spread, size=(s, 2)) for c, s in zip(centres, sizes, strict=True)]
    )
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return squareform(pdist(pts)), truth


def _brute_pam(d: np.ndarray, k: int, w: np.ndarray) -> float:
    best = np.inf
    for meds in itertools.combinations(range(d.shape[0]), k):
        best = min(best, float(np.sum(w * d[:, meds].min(axis=1))))
    return best


@pytest.mark.parametrize("method", ["fasterpam", "pam"])
def test_pam_recovers_planted_clusters(method: str) -> None:
    d, truth = _blobs(0)
    res = pam(d, 3, method=method)
    assert adjusted_rand_score(truth, res.labels) == 1.0
    assert res.medoids.tolist() == sorted(res.medoids.tolist())
    assert np.all(res.labels[res.medoids] == np.arange(3))
    assert res.cost == pytest.approx(np.sum(d[np.arange(len(truth)), res.medoids[res.labels]]))
    assert sorted(res.sizes.tolist()) == [10, 12, 15]


@pytest.mark.parametrize("k", [2, 3])
def test_pam_reaches_exhaustive_optimum(k: int) -> None:
    d, _ = _blobs(1, sizes=(5, 4, 3), spread=2.0)
    w = np.ones(d.shape[0])
    assert pam(d, k).cost == pytest.approx(_brute_pam(d, k, w))
    assert pam(d, k, method="pam").cost == pytest.approx(_brute_pam(d, k, w))


def test_weighted_pam_optimum_and_replication() -> None:
    d, _ = _blobs(2, sizes=(5, 4, 3), spread=2.5)
    w = np.array([1, 3, 1, 1, 2, 1, 5, 1, 1, 2, 1, 4], dtype=float)
    res = pam(d, 3, weights=w)
    assert res.cost == pytest.approx(_brute_pam(d, 3, w))
    idx = np.repeat(np.arange(len(w)), w.astype(int))
    rep = pam(d[np.ix_(idx, idx)], 3)
    assert rep.cost == pytest.approx(res.cost)
    assert res.sizes.sum() == pytest.approx(w.sum())
    with pytest.raises(ValueError, match="weights"):
        pam(d, 3, weights=w, method="pam")


def test_pam_deterministic_and_inputs() -> None:
    d, truth = _blobs(3)
    a = pam(d, 3, init="random", seed=5)
    b = pam(d, 3, init="random", seed=5)
    assert np.array_equal(a.labels, b.labels)
    c = pam(squareform(d).astype(np.float32), 3)
    assert adjusted_rand_score(truth, c.labels) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        pam(d, 0)
    with pytest.raises(ValueError, match="distinct"):
        pam(d, 2, init=[1, 1])


def test_pam_range_quality_picks_planted_k() -> None:
    d, truth = _blobs(4, sizes=(12, 10, 9, 11))
    rng = pam_range(d, ks=range(2, 7))
    assert rng.ks == [2, 3, 4, 5, 6]
    assert rng.best_k("ASW") == 4
    assert rng.best_k("PBC") == 4
    assert rng.best_k("HC") == 4
    assert adjusted_rand_score(truth, rng.labels_for(4)) == 1.0
    table = rng.to_polars()
    assert table.columns[:4] == ["k", "PBC", "HG", "HGSD"]
    assert table.height == 5
    # each k's start is a prefix of one BUILD; the result equals a separate pam call
    assert np.array_equal(rng.labels_for(5), pam(d, 5).labels)


def test_ward_matches_hand_computed_hclust() -> None:
    # points 0, 1, 5, 6 on a line (Euclidean distances)
    x = np.array([0.0, 1.0, 5.0, 6.0])
    d = np.abs(x[:, None] - x[None, :])
    # ward.D: d({0,1},5) = (2*5 + 2*4 - 1)/3 = 17/3; d({0,1},6) = 7;
    # d({0,1},{5,6}) = (3*17/3 + 3*7 - 2*1)/4 = 9
    z = ward(d, method="ward.D")
    assert z[:, 2] == pytest.approx([1.0, 1.0, 9.0])
    # ward.D2: sqrt(2 * 2 * 2 / 4) * 5
    z2 = ward(d, method="ward.D2")
    assert z2[:, 2] == pytest.approx([1.0, 1.0, np.sqrt(50.0)])
    assert cutree(z, 2).tolist() == [0, 0, 1, 1]
    assert cutree(z, 3).tolist() in ([0, 0, 1, 2], [0, 1, 2, 2])


def test_ward_members_hand_computed() -> None:
    # d(a,b)=1, d(a,c)=4, d(b,c)=5, members (2, 1, 1):
    # ward.D: d(c, ab) = ((2+1)*4 + (1+1)*5 - 1*1) / 4 = 21/4
    # ward.D2: sqrt(((2+1)*16 + (1+1)*25 - 1) / 4) = sqrt(97/4)
    d = np.array([[0, 1, 4], [1, 0, 5], [4, 5, 0]], dtype=float)
    w = np.array([2.0, 1.0, 1.0])
    assert ward(d, weights=w)[:, 2] == pytest.approx([1.0, 21 / 4])
    assert ward(d, weights=w, method="ward.D2")[:, 2] == pytest.approx([1.0, np.sqrt(97 / 4)])


@pytest.mark.parametrize("method", ["ward.D", "ward.D2"])
def test_ward_unit_members_equal_scipy_path(method: str) -> None:
    d, _ = _blobs(5, sizes=(8, 7, 6), spread=3.0)
    z0 = ward(d, method=method)
    z1 = ward(d, method=method, weights=np.ones(d.shape[0]))
    assert z1[:, 2] == pytest.approx(z0[:, 2], rel=1e-9)
    for k in (2, 3, 5):
        assert adjusted_rand_score(cutree(z0, k), cutree(z1, k)) == 1.0


def test_ward_range_and_medoids() -> None:
    d, truth = _blobs(6)
    rng = ward_range(d, ks=[2, 3, 4])
    assert adjusted_rand_score(truth, rng.labels_for(3)) == 1.0
    assert rng.best_k("ASW") == 3
    lab = rng.labels_for(3)
    meds = rng.medoids[3]
    for c, m in enumerate(meds):
        members = np.flatnonzero(lab == c)
        sums = d[np.ix_(members, members)].sum(axis=1)
        assert m == members[np.argmin(sums)]
    assert np.array_equal(medoids_of(d, lab), meds)


def test_spells_and_describe() -> None:
    row = np.array([0] * 24 + [1] * 6 + [2] * 42 + [-1] * 3, dtype=np.int16)
    assert spells(row) == [(0, 24), (1, 6), (2, 42)]
    assert spell_string(row, ["enrolled", "absent", "oza"]) == "enrolled/24-absent/6-oza/42"
    assert spell_string(np.array([0, 2, 2, 1]), ["a", "b"]) == "a/1-*/2-b/1"
    assert spell_string(np.array([0, 2, 2, 1]), None) == "0/1-2/2-1/1"
    # the one coding: missing = len(alphabet), void = -1
    assert spell_string(np.array([1, 2, 2, 0, -1, -1]), ["a", "b"]) == "b/1-*/2-a/1"
    seqs = np.array([[0, 0, 1], [0, 0, 1], [1, 1, 1], [1, 1, 0]], dtype=np.int16)
    table = describe_clusters(seqs, [0, 0, 1, 1], [0, 2], states=["a", "b"])
    assert table["medoid_spells"].to_list() == ["a/2-b/1", "b/3"]
    assert table["size"].to_list() == [2, 2]
    assert table["share"].to_list() == [0.5, 0.5]

    # the container: state names from its alphabet
    t2 = describe_clusters(SequenceData(seqs, ("x", "y")), [0, 0, 1, 1], [1, 3],
                           weights=[1, 1, 2, 2])
    assert t2["medoid_spells"].to_list() == ["x/2-y/1", "y/2-x/1"]
    assert t2["size"].to_list() == [2.0, 4.0]

    t3 = describe_clusters(SequenceData(seqs, ("p", "q")), [0, 0, 1, 1], [0, 2])
    assert t3["medoid_spells"].to_list() == ["p/2-q/1", "q/3"]
