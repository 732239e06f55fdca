"""ozamonitor.counting: thuiszitter counts under every official definition.

* :mod:`~ozamonitor.counting.definition` - definitions as versioned TOML/YAML data;
* :mod:`~ozamonitor.counting.timeline` - base conditions per child per day;
* :mod:`~ozamonitor.counting.count` - stock / flow counts, attribution, tables;
* :mod:`~ozamonitor.counting.reconcile` - waterfall, overlap, trends;
* :mod:`~ozamonitor.counting.inspectie` - the Inspectie's quarterly SWV registration;
* :mod:`~ozamonitor.counting.calibration` - observed vs published figures;

The report section is :mod:`ozamonitor.report.counting`.
"""

from ozamonitor.counting.count import BY_DIMENSIONS, Counter, count
from ozamonitor.counting.definition import (
    BASE_CONDITIONS,
    Definition,
    DefinitionError,
    builtin_definitions,
    load_definition_file,
    resolve_definitions,
)
from ozamonitor.counting.timeline import CountingError

__all__ = [
    "BASE_CONDITIONS",
    "BY_DIMENSIONS",
    "Counter",
    "CountingError",
    "Definition",
    "DefinitionError",
    "builtin_definitions",
    "count",
    "load_definition_file",
    "resolve_definitions",
]
