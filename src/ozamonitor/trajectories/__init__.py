"""ozamonitor.trajectories: every child's education-care trajectory from the register.

* :mod:`~ozamonitor.trajectories.states` - alphabet, colours and precedence rules;
* :mod:`~ozamonitor.trajectories.build` - register spells -> one state per period;
* :mod:`~ozamonitor.trajectories.seqdata` - :class:`SequenceData` (integer matrix);
* :mod:`~ozamonitor.trajectories.align` - calendar, age and event alignment;
* :mod:`~ozamonitor.trajectories.analysis` - the ``ozamonitor trajectories`` pipeline;
* :mod:`~ozamonitor.trajectories.report` - the report section.

See ``docs/trajectories.md``.
"""

from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.seqdata import SequenceData
from ozamonitor.trajectories.states import DEFAULT_CONFIG, TrajectoryConfig, load_config

__all__ = ["DEFAULT_CONFIG", "SequenceData", "TrajectoryConfig", "build_trajectories",
           "load_config"]
