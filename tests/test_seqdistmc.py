"""seqdistmc against a brute-force reimplementation of TraMineR's documented algorithm.

TraMineR's help for ``seqdistmc``: the substitution cost of two combined states is the
(weighted) sum of the channels' substitution costs of the states they combine, the indel
is the weighted sum of the channels' indels, and the distance is OM (or HAM, DHD) on the
combined sequences. The brute force below never builds the combined alphabet: it aligns
the persons' channel tuples directly (Needleman-Wunsch in plain Python) with per-channel
costs computed from transition counts by hand. When R with TraMineR is installed the
distances are compared with TraMineR itself too.
"""

from __future__ import annotations

import csv
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences import seqdef
from ozamonitor.sequences.multichannel import combine_channels, seqdistmc

runner = CliRunner()
TOL = 1e-6


def rand_channels(seed: int, n: int = 14, length: int = 8, sizes=(3, 4),
                  ragged: bool = False) -> list[list[list[str]]]:
    rng = np.random.default_rng(seed)
    lens = rng.integers(length // 2, length + 1, n) if ragged else np.full(n, length)
    chans = []
    for k, size in enumerate(sizes):
        letters = "abcdefgh"[:size] if k == 0 else "pqrstuvw"[:size]
        rows = []
        for i in range(n):
            # sticky sequences, as trajectories are
            s = [letters[rng.integers(size)]]
            for _ in range(lens[i] - 1):
                s.append(s[-1] if rng.random() < 0.6 else letters[rng.integers(size)])
            rows.append(s)
        chans.append(rows)
    return chans


def sd(rows: list[list[str]]):
    """seqdef of rows of any lengths (padded with missing, deleted on the right)."""
    width = max(len(r) for r in rows)
    return seqdef([r + [None] * (width - len(r)) for r in rows])


# ---------------------------------------------------------------- brute force
def bf_alphabet(rows: list[list[str]]) -> list[str]:
    return sorted({x for r in rows for x in r})


def bf_trate(rows: list[list[str]], cval: float) -> dict[tuple[str, str], float]:
    """sm(i, j) = cval - p(j|i) - p(i|j), p from all consecutive pairs (TraMineR seqtrate)."""
    alpha = bf_alphabet(rows)
    count = {(a, b): 0 for a in alpha for b in alpha}
    for r in rows:
        for x, y in itertools.pairwise(r):
            count[(x, y)] += 1
    out = {}
    for a in alpha:
        for b in alpha:
            na = sum(count[(a, z)] for z in alpha)
            nb = sum(count[(b, z)] for z in alpha)
            pab = count[(a, b)] / na if na else 0.0
            pba = count[(b, a)] / nb if nb else 0.0
            out[(a, b)] = 0.0 if a == b else cval - pab - pba
    return out


def bf_trate_tv(rows: list[list[str]], cval: float) -> list[dict[tuple[str, str], float]]:
    """Time-varying TRATE (transition 'both'): at t, cval minus the rates of t-1 -> t and
    t -> t+1 in both directions; one side only (doubled) at the first and last position;
    negative costs are set to 0."""
    alpha = bf_alphabet(rows)
    length = len(rows[0])

    def rate(t: int, a: str, b: str) -> float:  # p(b at t+1 | a at t)
        na = sum(1 for r in rows if r[t] == a)
        nab = sum(1 for r in rows if r[t] == a and r[t + 1] == b)
        return nab / na if na else 0.0

    out = []
    for t in range(length):
        d = {}
        for a in alpha:
            for b in alpha:
                if a == b:
                    d[(a, b)] = 0.0
                    continue
                sides = []
                if t > 0:
                    sides.append(rate(t - 1, a, b) + rate(t - 1, b, a))
                if t < length - 1:
                    sides.append(rate(t, a, b) + rate(t, b, a))
                c = cval - (2 * sides[0] if len(sides) == 1 else sum(sides))
                d[(a, b)] = max(c, 0.0)
        out.append(d)
    return out


def bf_constant(rows: list[list[str]], cval: float) -> dict[tuple[str, str], float]:
    alpha = bf_alphabet(rows)
    return {(a, b): (0.0 if a == b else cval) for a in alpha for b in alpha}


def bf_om(x: list[tuple[str, ...]], y: list[tuple[str, ...]], sub, indel: float) -> float:
    n, m = len(x), len(y)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = i * indel
    for j in range(1, m + 1):
        d[0][j] = j * indel
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + indel, d[i][j - 1] + indel,
                          d[i - 1][j - 1] + sub(x[i - 1], y[j - 1]))
    return d[n][m]


def bf_seqdistmc(chans, method: str, sm: str, indel: float, cweight, cval: float = 2.0
                 ) -> np.ndarray:
    n = len(chans[0])
    tuples = [list(zip(*(c[i] for c in chans), strict=True)) for i in range(n)]
    if method == "DHD":
        costs = [bf_trate_tv(c, cval) if sm == "TRATE" else None for c in chans]
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                out[i, j] = sum(w * costs[k][t][(tuples[i][t][k], tuples[j][t][k])]
                                for t in range(len(tuples[i]))
                                for k, w in enumerate(cweight))
        return out
    costs = [bf_trate(c, cval) if sm == "TRATE" else bf_constant(c, cval) for c in chans]

    def sub(a: tuple[str, ...], b: tuple[str, ...]) -> float:
        return sum(w * costs[k][(a[k], b[k])] for k, w in enumerate(cweight))

    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if method == "HAM":
                out[i, j] = sum(sub(a, b) for a, b in zip(tuples[i], tuples[j], strict=True))
            else:
                out[i, j] = bf_om(tuples[i], tuples[j], sub,
                                  sum(w * indel for w in cweight))
    return out


CASES = [
    ("OM", "TRATE", 1.0, (1.0, 1.0), False),
    ("OM", "CONSTANT", 1.0, (2.0, 1.0), False),
    ("OM", "TRATE", 0.7, (1.0, 0.5), True),
    ("OM", "CONSTANT", 1.5, (1.0, 1.0), True),
    ("HAM", "CONSTANT", 1.0, (1.0, 1.0), False),
    ("HAM", "TRATE", 1.0, (1.0, 3.0), False),
    ("DHD", "TRATE", 1.0, (1.0, 1.0), False),
    ("DHD", "TRATE", 1.0, (0.5, 2.0), False),
]


@pytest.mark.parametrize(("method", "sm", "indel", "cweight", "ragged"), CASES)
def test_equals_brute_force(method, sm, indel, cweight, ragged) -> None:
    chans = rand_channels(3 + len(method) + int(indel * 10), ragged=ragged)
    got = seqdistmc([sd(c) for c in chans], method, sm=sm, indel=indel,
                    cweight=list(cweight))
    want = bf_seqdistmc(chans, method, sm, indel, cweight)
    np.testing.assert_allclose(got, want, atol=TOL, rtol=0)


def test_three_channels_and_link_mean() -> None:
    chans = rand_channels(11, n=10, sizes=(2, 3, 2))
    seqs = [seqdef(c) for c in chans]
    w = (1.0, 2.0, 0.5)
    want = bf_seqdistmc(chans, "OM", "TRATE", 1.0, w)
    got = seqdistmc(seqs, "OM", sm="TRATE", cweight=list(w))
    np.testing.assert_allclose(got, want, atol=TOL, rtol=0)
    mean = seqdistmc(seqs, "OM", sm="TRATE", cweight=list(w), link="mean")
    np.testing.assert_allclose(mean, want / sum(w), atol=TOL, rtol=0)


def test_lcs_is_om_constant_and_combined_alphabet() -> None:
    chans = rand_channels(5, n=9)
    seqs = [seqdef(c) for c in chans]
    np.testing.assert_allclose(seqdistmc(seqs, "LCS"),
                               bf_seqdistmc(chans, "OM", "CONSTANT", 1.0, (1.0, 1.0)),
                               atol=TOL)
    comb, tuples = combine_channels(seqs)
    assert tuples.shape[1] == 2
    observed = {(a, b) for r0, r1 in zip(*chans, strict=True) for a, b in
                zip(r0, r1, strict=True)}
    assert set(comb.alphabet) == {f"{a}+{b}" for a, b in observed}
    # the combined-alphabet alternative: any seqdist on the combined sequences
    from ozamonitor.sequences import seqdist
    d = seqdist(comb, "OM", sm="CONSTANT", indel=1)
    assert d.shape == (9, 9) and np.all(d >= 0)


def test_errors() -> None:
    a = seqdef([list("aab"), list("abb")])
    with pytest.raises(ConfigurationError, match="at least two"):
        seqdistmc([a], "OM")
    with pytest.raises(InputError, match="channel 2 has 3 sequences"):
        seqdistmc([a, seqdef([list("xxy")] * 3)], "OM")
    with pytest.raises(ConfigurationError, match="method"):
        seqdistmc([a, a], "CHI2")
    with pytest.raises(ConfigurationError, match="one weight per channel"):
        seqdistmc([a, a], "OM", cweight=[1, 2, 3])
    with pytest.raises(InputError, match="another length"):
        seqdistmc([a, sd([list("xx"), list("xxy")])], "OM")


# ---------------------------------------------------------------- TraMineR itself
R_SCRIPT = """
suppressMessages(library(TraMineR))
a <- read.csv("{a}", colClasses="character"); b <- read.csv("{b}", colClasses="character")
sa <- seqdef(a[, -1]); sb <- seqdef(b[, -1])
d <- seqdistmc(list(sa, sb), method="{method}", sm="{sm}", indel=1, cweight=c(1, 2),
               norm="{norm}")
write.table(d, "{out}", sep=",", row.names=FALSE, col.names=FALSE)
"""


def _write_channel(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"t{i + 1}" for i in range(len(rows[0])))])
        for i, r in enumerate(rows):
            w.writerow([f"p{i + 1}", *r])


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
@pytest.mark.parametrize(("method", "sm", "norm"), [
    ("OM", "TRATE", "none"), ("HAM", "CONSTANT", "none"), ("DHD", "TRATE", "none"),
    ("OM", "TRATE", "maxlength"), ("OM", "TRATE", "gmean"), ("HAM", "CONSTANT", "maxlength"),
    ("DHD", "TRATE", "gmean")])
def test_equals_traminer(tmp_path: Path, method: str, sm: str,
                         norm: str) -> None:  # pragma: no cover
    chans = rand_channels(21)
    _write_channel(tmp_path / "a.csv", chans[0])
    _write_channel(tmp_path / "b.csv", chans[1])
    script = R_SCRIPT.format(a=tmp_path / "a.csv", b=tmp_path / "b.csv", method=method, sm=sm,
                             norm=norm, out=tmp_path / "d.csv")
    r = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    if "there is no package called" in r.stderr:
        pytest.skip("TraMineR is not installed")
    assert r.returncode == 0, r.stderr
    want = np.loadtxt(tmp_path / "d.csv", delimiter=",")
    got = seqdistmc([seqdef(c) for c in chans], method, sm=sm, indel=1, cweight=[1, 2],
                    norm=norm)
    np.testing.assert_allclose(got, want, atol=TOL, rtol=0)


# ---------------------------------------------------------------- CLI
def test_cli(tmp_path: Path) -> None:
    chans = rand_channels(8, n=7)
    _write_channel(tmp_path / "EDU.csv", chans[0])
    _write_channel(tmp_path / "CARE.csv", chans[1])
    out = tmp_path / "D.csv"
    r = runner.invoke(app, ["seqdistmc", "--channel", str(tmp_path / "EDU.csv"), "--channel",
                            str(tmp_path / "CARE.csv"), "--method", "OM", "--sm", "TRATE",
                            "--indel", "1", "--cweight", "1,2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    got = np.loadtxt(out, delimiter=",")
    np.testing.assert_allclose(got, bf_seqdistmc(chans, "OM", "TRATE", 1.0, (1.0, 2.0)),
                               atol=TOL)
    assert (out.stat().st_mode & 0o777) == 0o600
    # ids must be the same, in the same order
    rows = (tmp_path / "CARE.csv").read_text().splitlines()
    (tmp_path / "CARE2.csv").write_text("\n".join([rows[0], rows[2], rows[1], *rows[3:]]))
    r = runner.invoke(app, ["seqdistmc", "--channel", str(tmp_path / "EDU.csv"), "--channel",
                            str(tmp_path / "CARE2.csv"), "--out", str(out)])
    assert r.exit_code != 0 and "CARE2.csv" in r.output and "p2" in r.output
    r = runner.invoke(app, ["seqdistmc", "--channel", str(tmp_path / "EDU.csv"), "--out",
                            str(out)])
    assert r.exit_code != 0 and "two" in r.output
    # the output may not replace an input
    r = runner.invoke(app, ["seqdistmc", "--channel", str(tmp_path / "EDU.csv"), "--channel",
                            str(tmp_path / "CARE.csv"), "--out", str(tmp_path / "CARE.csv")])
    assert r.exit_code == 2 and "same file" in r.output
    assert (tmp_path / "CARE.csv").read_text().startswith("id,")
