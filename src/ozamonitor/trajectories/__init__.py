"""ozamonitor.trajectories: every child's education-care trajectory from the register.

* :mod:`~ozamonitor.trajectories.states` - alphabet, colours and precedence rules;
* :mod:`~ozamonitor.trajectories.build` - register spells -> one state per period;
* :mod:`~ozamonitor.trajectories.seqdata` - :class:`SequenceData` (integer matrix);
* :mod:`~ozamonitor.trajectories.align` - calendar, age and event alignment;

The ``ozamonitor trajectories`` pipeline (build, cluster, describe) is
:mod:`ozamonitor.sequences.trajectory_analysis`; its report section is
:mod:`ozamonitor.report.trajectories`.

See ``docs/trajectories.md``.
"""

from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.seqdata import SequenceData
from ozamonitor.trajectories.states import DEFAULT_CONFIG, TrajectoryConfig, load_config

__all__ = ["DEFAULT_CONFIG", "SequenceData", "TrajectoryConfig", "build_trajectories",
           "load_config"]
