"""CLARA: planted clusters, equality with full PAM on the whole data, determinism,
weights, stability diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_rand_score

from ozamonitor.sequences.clara import clara, hamming_cross
from ozamonitor.sequences.cluster import pam
from ozamonitor.sequences.quality import adjusted_rand_index, jaccard_coefficient
from ozamonitor.sequences.seqdata import SequenceData


def planted_sequences(
    n: int, length: int = 48, noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Four prototype trajectories (spells of 4 states) with random substitutions."""
    rng = np.random.default_rng(seed)
    q = length // 4
    protos = np.array(
        [
            [0] * length,
            [0] * q + [1] * q + [2] * (length - 2 * q),
            [0] * (2 * q) + [3] * (length - 2 * q),
            [1] * q + [2] * q + [3] * (length - 2 * q),
        ],
        dtype=np.uint8,
    )
    truth = rng.integers(0, 4, size=n)
    x = protos[truth].copy()
    flip = rng.random(x.shape) < noise
    x[flip] = rng.integers(0, 4, size=int(flip.sum()))
    return x, truth


def test_hamming_cross_matches_scipy() -> None:
    x, _ = planted_sequences(30, seed=1)
    ref = cdist(x[:10], x[10:], metric="hamming") * x.shape[1]
    assert np.array_equal(hamming_cross(x[:10], x[10:]), ref)
    with pytest.raises(ValueError, match="equal length"):
        hamming_cross(x[:, :5], x)


def test_clara_recovers_planted_clusters() -> None:
    x, truth = planted_sequences(3000, seed=2)
    calls = []
    res = clara(
        x,
        ks=[3, 4, 5],
        dist=hamming_cross,
        R=5,
        sample_size=150,
        quality_sample=300,
        seed=1,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert res.ks == [3, 4, 5]
    assert adjusted_rand_score(truth, res.labels_for(4)) == 1.0
    r4 = res.results[4]
    assert len(r4.medoids) == 4 and np.all(r4.labels[r4.medoids] == np.arange(4))
    assert r4.sizes.sum() == pytest.approx(3000)
    # objective = mean distance of every case to its medoid
    d = hamming_cross(x, x[r4.medoids])
    assert r4.avg_dist == pytest.approx(d[np.arange(3000), r4.labels].mean())
    assert r4.avg_dist == pytest.approx(r4.iter_objective.min())
    stats = res.stats()
    assert stats["sample_ASW"][1] == max(stats["sample_ASW"])  # k = 4 is best
    assert res.to_polars().height == 3
    assert ("iterations", 5, 5) in calls and ("quality", 1, 1) in calls


def test_clara_whole_sample_equals_full_pam() -> None:
    x, _ = planted_sequences(120, noise=0.3, seed=3)
    d = hamming_cross(x, x)
    res = clara(x, ks=[2, 3, 4], dist=hamming_cross, sample_size=10_000, quality_sample=0)
    assert res.R == 1
    for k in (2, 3, 4):
        full = pam(d, k)
        assert np.array_equal(res.results[k].medoids, full.medoids)
        assert np.array_equal(res.results[k].labels, full.labels)
        assert res.results[k].avg_dist == pytest.approx(full.cost / 120)


def test_clara_aggregates_duplicates_and_weights() -> None:
    x, _ = planted_sequences(40, noise=0.3, seed=4)
    w = np.random.default_rng(4).integers(1, 4, size=40).astype(float)
    rep = np.repeat(np.arange(40), w.astype(int))
    a = clara(x, ks=3, dist=hamming_cross, weights=w, sample_size=10_000, quality_sample=0)
    b = clara(x[rep], ks=3, dist=hamming_cross, sample_size=10_000, quality_sample=0)
    assert b.n_distinct == 40 and b.n == len(rep)
    assert a.results[3].avg_dist == pytest.approx(b.results[3].avg_dist)
    assert adjusted_rand_score(a.results[3].labels[rep], b.results[3].labels) == 1.0


def test_clara_deterministic_and_stability() -> None:
    x, _ = planted_sequences(800, noise=0.2, seed=5)
    kw = dict(ks=[2, 4], dist=hamming_cross, R=6, sample_size=60, quality_sample=0, seed=7)
    a = clara(x, stability=True, **kw)
    b = clara(x, stability=True, **kw)
    for k in (2, 4):
        ra, rb = a.results[k], b.results[k]
        assert np.array_equal(ra.labels, rb.labels)
        assert np.array_equal(ra.iter_objective, rb.iter_objective)
        assert ra.ari.shape == (6,) and ra.jc.shape == (6,)
        assert ra.ari[ra.iteration] == pytest.approx(1.0)
        assert ra.jc[ra.iteration] == pytest.approx(1.0)
        assert 1 <= ra.ari08 <= 6
    c = clara(x, stability=False, **{**kw, "seed": 8})
    assert np.isnan(c.results[4].ari08)


def test_clara_ward_start() -> None:
    x, truth = planted_sequences(1000, seed=11)
    res = clara(
        x, ks=[3, 4], dist=hamming_cross, R=3, sample_size=100, start="ward", quality_sample=0
    )
    assert adjusted_rand_score(truth, res.labels_for(4)) == 1.0
    with pytest.raises(ValueError, match="start"):
        clara(x, ks=2, dist=hamming_cross, start="nope")  # type: ignore[arg-type]


@pytest.mark.parametrize("criterion", ["db", "xb", "pbm", "ams"])
def test_clara_other_criteria(criterion: str) -> None:
    x, truth = planted_sequences(600, seed=6)
    res = clara(
        x, ks=4, dist=hamming_cross, R=4, sample_size=80, criterion=criterion, quality_sample=0
    )
    r = res.results[4]
    pick = np.nanargmax if criterion in ("pbm", "ams") else np.nanargmin
    assert r.iteration == int(pick(r.iter_objective))
    assert adjusted_rand_score(truth, r.labels) > 0.95


def test_clara_eval_sample_and_container() -> None:
    x, truth = planted_sequences(2000, seed=7)
    res = clara(
        SequenceData(x, ("a", "b", "c", "d")),
        ks=4,
        dist=hamming_cross,
        R=3,
        sample_size=100,
        eval_sample=300,
        quality_sample=200,
    )
    r = res.results[4]
    assert r.labels.shape == (2000,)
    assert adjusted_rand_score(truth, r.labels) == 1.0
    d = hamming_cross(x, x[r.medoids])
    assert r.avg_dist == pytest.approx(d[np.arange(2000), r.labels].mean())
    assert r.quality is not None and r.quality.stats["ASW"] > 0.5


def test_agreement_indices() -> None:
    rng = np.random.default_rng(8)
    a = rng.integers(0, 3, size=200)
    b = np.where(rng.random(200) < 0.8, a, rng.integers(0, 4, size=200))
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b))
    w = rng.integers(1, 4, size=200)
    rep = np.repeat(np.arange(200), w)
    assert adjusted_rand_index(a, b, w) == pytest.approx(adjusted_rand_score(a[rep], b[rep]))
    # Jaccard over pairs, brute force (pairs counted as ordered, with self-pairs, as R)
    same_a = a[:, None] == a[None, :]
    same_b = b[:, None] == b[None, :]
    ref = np.sum(same_a & same_b) / np.sum(same_a | same_b)
    assert jaccard_coefficient(a, b) == pytest.approx(ref)
    assert jaccard_coefficient(a, a) == 1.0


def test_clara_bad_input() -> None:
    x, _ = planted_sequences(50, seed=9)
    with pytest.raises(ValueError, match="at least 2"):
        clara(x, ks=1, dist=hamming_cross)
    with pytest.raises(ValueError, match="criterion"):
        clara(x, ks=2, dist=hamming_cross, criterion="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weights"):
        clara(x, ks=2, dist=hamming_cross, weights=np.ones(3))
    with pytest.raises(ValueError, match="dist_kwargs"):
        clara(x, ks=2, dist=hamming_cross, dist_kwargs={"method": "HAM"})


def test_clara_default_distance_is_seqdist() -> None:
    distances = pytest.importorskip("ozamonitor.sequences.distances")
    seqdata = pytest.importorskip("ozamonitor.sequences.seqdata")
    x, truth = planted_sequences(400, length=24, seed=10)
    sd = seqdata.SequenceData(
        codes=x.astype(np.int16), lengths=np.full(400, 24), alphabet=("a", "b", "c", "d")
    )
    res = clara(sd, ks=4, dist_kwargs={"method": "HAM"}, R=3, sample_size=60, quality_sample=0)
    assert adjusted_rand_score(truth, res.results[4].labels) == 1.0
    # whole-data run equals PAM on the full seqdist matrix (OM, constant costs)
    small = sd[np.arange(60)]
    d = distances.seqdist(small, method="OM", sm="CONSTANT", indel=1.0)
    whole = clara(
        small,
        ks=3,
        dist_kwargs={"method": "OM", "sm": "CONSTANT", "indel": 1.0},
        sample_size=1000,
        quality_sample=0,
    )
    assert np.array_equal(whole.results[3].medoids, pam(d, 3).medoids)
    # a raw array goes through seqdef
    raw = clara(x[:200], ks=2, dist_kwargs={"method": "HAM"}, R=2, sample_size=50, quality_sample=0)
    assert raw.results[2].labels.shape == (200,)
