"""ozamonitor: keep every Dutch child with a complex support need visible in education.

Subpackages follow the data's path:

* :mod:`ozamonitor.register` - schema, import, validation, pseudonymisation, storage
* :mod:`ozamonitor.synth` - synthetic national population
* :mod:`ozamonitor.counting` - thuiszitter counts under every official definition
* :mod:`ozamonitor.trajectories` - monthly education-care states per child
* :mod:`ozamonitor.sequences` - sequence distances, clustering and description
* :mod:`ozamonitor.causal` - subgroups, matching, difference-in-differences
* :mod:`ozamonitor.report` - HTML reports and figures
* :mod:`ozamonitor.privacy` - disclosure control on every published output
"""

__version__ = "0.1.0"
