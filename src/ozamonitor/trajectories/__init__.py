"""ozamonitor.trajectories: every child's education-care trajectory from the register.

* :mod:`~ozamonitor.trajectories.states` - alphabet, colours and precedence rules;
* :mod:`~ozamonitor.trajectories.build` - register spells -> one state per period,
  in the one sequence container
  :class:`~ozamonitor.sequences.seqdata.SequenceData`;
* :mod:`~ozamonitor.trajectories.align` - calendar, age and event alignment;
* :mod:`~ozamonitor.trajectories.analysis` - the ``ozamonitor trajectories``
  pipeline (build, cluster, describe; :func:`run_trajectory_analysis`);
* :mod:`~ozamonitor.trajectories.background` - clusters by background
  characteristics (cross-tabs, multinomial logit).

Distances, clustering, statistics and plots come from the library
:mod:`ozamonitor.sequences`; the report section is
:mod:`ozamonitor.report.trajectories`. See ``docs/trajectories.md``.
"""

from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.states import DEFAULT_CONFIG, TrajectoryConfig, load_config

__all__ = ["DEFAULT_CONFIG", "TrajectoryConfig", "build_trajectories", "load_config"]
