"""Sequence analysis: TraMineR-compatible distances, clustering and description.

* :mod:`~ozamonitor.sequences.seqdata` - :func:`seqdef` and the
  :class:`~ozamonitor.sequences.seqdata.SequenceData` container (TraMineR's ``seqdef``);
* :mod:`~ozamonitor.sequences.costs` - substitution and indel costs (``seqcost``);
* :mod:`~ozamonitor.sequences.distances` - :func:`seqdist` / :func:`seqdist_cross`
  (OM, HAM, DHD, LCS, LCP, RLCP, OMspell, CHI2, EUCLID; numba, optional CUDA);
* :mod:`~ozamonitor.sequences.cluster` - PAM, Ward, cluster ranges;
* :mod:`~ozamonitor.sequences.clara` - CLARA for large N (WeightedCluster's ``seqclararange``);
* :mod:`~ozamonitor.sequences.quality` - ASW, PBC, HG, R2, CH, ... (``wcClusterQuality``);
* :mod:`~ozamonitor.sequences.describe`, :mod:`~ozamonitor.sequences.plots`,
  :mod:`~ozamonitor.sequences.background` - statistics, figures, cluster x background;
* :mod:`~ozamonitor.sequences.trajectory_analysis` - the ``ozamonitor trajectories`` pipeline.

>>> from ozamonitor.sequences import seqdef, seqdist, pam
>>> s = seqdef([list("aabb"), list("abbb"), list("bbbb")])
>>> seqdist(s, "OM", sm="CONSTANT", indel=1).tolist()[0]
[0.0, 2.0, 4.0]
"""

from ozamonitor.sequences.clara import clara
from ozamonitor.sequences.cluster import pam, pam_range, ward, ward_range
from ozamonitor.sequences.costs import seqcost
from ozamonitor.sequences.distances import seqdist, seqdist_cross
from ozamonitor.sequences.quality import cluster_quality, silhouette
from ozamonitor.sequences.seqdata import SequenceData, seqdef

__all__ = [
    "SequenceData",
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
