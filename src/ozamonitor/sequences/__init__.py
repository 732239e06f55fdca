"""Sequence analysis: a TraMineR-compatible library of distances, clustering and description.

* :mod:`~ozamonitor.sequences.seqdata` - the one sequence container,
  :class:`~ozamonitor.sequences.seqdata.SequenceData` (TraMineR's ``stslist``),
  with its :class:`~ozamonitor.sequences.alphabet.Alphabet`
  (:mod:`~ozamonitor.sequences.alphabet`);
* :mod:`~ozamonitor.sequences.define` - :func:`seqdef` (TraMineR's ``seqdef``);
* :mod:`~ozamonitor.sequences.seqio` - the tabular form, Parquet and CSV files;
* :mod:`~ozamonitor.sequences.costs` - substitution and indel costs (``seqcost``);
* :mod:`~ozamonitor.sequences.distances` - :func:`seqdist` / :func:`seqdist_cross`
  (OM, HAM, DHD, LCS, LCP, RLCP, OMspell, and CHI2, EUCLID from
  :mod:`~ozamonitor.sequences.chi2`; numba, optional CUDA);
* :mod:`~ozamonitor.sequences.cluster` - PAM, Ward, cluster ranges;
* :mod:`~ozamonitor.sequences.clara` - CLARA for large N (WeightedCluster's ``seqclararange``);
* :mod:`~ozamonitor.sequences.quality` - ASW, PBC, HG, R2, CH, ... (``wcClusterQuality``);
* :mod:`~ozamonitor.sequences.describe`, :mod:`~ozamonitor.sequences.indicators`,
  :mod:`~ozamonitor.sequences.plots` - statistics and figures.

The package is a library: it imports nothing of ozamonitor but
:mod:`ozamonitor.errors` and :mod:`ozamonitor.files`. The education-care
trajectories built from the register, and the ``ozamonitor trajectories``
pipeline, are :mod:`ozamonitor.trajectories`.

>>> from ozamonitor.sequences import seqdef, seqdist, pam
>>> s = seqdef([list("aabb"), list("abbb"), list("bbbb")])
>>> seqdist(s, "OM", sm="CONSTANT", indel=1).tolist()[0]
[0.0, 2.0, 4.0]
"""

from ozamonitor.sequences.alphabet import Alphabet, State
from ozamonitor.sequences.clara import clara
from ozamonitor.sequences.cluster import pam, pam_range
from ozamonitor.sequences.costs import seqcost
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.distances import seqdist, seqdist_cross
from ozamonitor.sequences.quality import cluster_quality, silhouette
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.sequences.ward import ward, ward_range

__all__ = [
    "Alphabet",
    "SequenceData",
    "State",
    "clara",
    "cluster_quality",
    "pam",
    "pam_range",
    "seqcost",
    "seqdef",
    "seqdist",
    "seqdist_cross",
    "silhouette",
    "ward",
    "ward_range",
]
