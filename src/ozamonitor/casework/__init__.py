"""ozamonitor.casework: the case chain around a child who stays home, without storage.

* :mod:`~ozamonitor.casework.model` - cases, events, consent, ledger entries, timers;
* :mod:`~ozamonitor.casework.machine` - the chain as a python-statemachine;
* :mod:`~ozamonitor.casework.engine` - replay, due and overdue steps, work lists per
  gemeente and SWV, a timeline per case, opening a case from a signal;
* :mod:`~ozamonitor.casework.ledger` - the friction-budget ledger and its export;
* :mod:`~ozamonitor.casework.oogo` - the regions' OOGO agreements.

See docs/casework.md.
"""
