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

import importlib
from typing import TYPE_CHECKING, Any

from ozamonitor.sequences.alphabet import Alphabet, State
from ozamonitor.sequences.seqdata import SequenceData

if TYPE_CHECKING:
    from ozamonitor.sequences.clara import clara
    from ozamonitor.sequences.cluster import pam, pam_range
    from ozamonitor.sequences.costs import seqcost
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import seqdist, seqdist_cross
    from ozamonitor.sequences.quality import cluster_quality, silhouette
    from ozamonitor.sequences.ward import ward, ward_range

#: name -> submodule; imported on first access, so ``import ozamonitor.sequences``
#: (and a command that needs only distances) does not load clustering, scipy or plots.
_LAZY = {
    "clara": "clara",
    "cluster_quality": "quality",
    "pam": "cluster",
    "pam_range": "cluster",
    "seqcost": "costs",
    "seqdef": "define",
    "seqdist": "distances",
    "seqdist_cross": "distances",
    "silhouette": "quality",
    "ward": "ward",
    "ward_range": "ward",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


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
