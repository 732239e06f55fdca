"""The case chain as a state machine (python-statemachine).

::

    signalled ─open─► opened ─convene_mdt─► mdt ─appoint_case_director─► casusregie
                        └──────appoint_case_director──────────────────────┘    │
    casusregie ─mobilise_breakthrough─► doorbraak ─start_arbitration─► arbitration
    casusregie ─start_arbitration─► arbitration
    any open state ─resolve(outcome)─► resolved ─close─► closed
    any open state ─close(outcome)─► closed          resolved ─reopen─► opened

States (Dutch): *gesignaleerd*, *geopend*, *multidisciplinair overleg*
(advice 7's team), *casusregie onderwijs en zorg*, *doorbraakteam*,
*bindende arbitrage* (advice 9), *opgelost*, *gesloten*. A transition the
chain does not allow raises :class:`statemachine.exceptions.TransitionNotAllowed`;
the engine turns it into an :class:`~ozamonitor.errors.InputError` naming the event.
"""

from __future__ import annotations

from statemachine import State, StateMachine

__all__ = ["ACTIVE_STATES", "STATES", "STATE_LABELS_NL", "CaseChain"]


class CaseChain(StateMachine):
    """States and transitions of one case (bind it to a model with a ``state`` field)."""

    signalled = State("signalled", initial=True)
    opened = State("opened")
    mdt = State("mdt")
    casusregie = State("casusregie")
    doorbraak = State("doorbraak")
    arbitration = State("arbitration")
    resolved = State("resolved")
    closed = State("closed", final=True)

    open = signalled.to(opened)
    convene_mdt = opened.to(mdt)
    appoint_case_director = opened.to(casusregie) | mdt.to(casusregie)
    mobilise_breakthrough = casusregie.to(doorbraak)
    start_arbitration = casusregie.to(arbitration) | doorbraak.to(arbitration)
    resolve = (opened.to(resolved) | mdt.to(resolved) | casusregie.to(resolved)
               | doorbraak.to(resolved) | arbitration.to(resolved))
    close = (signalled.to(closed) | opened.to(closed) | mdt.to(closed)
             | casusregie.to(closed) | doorbraak.to(closed) | arbitration.to(closed)
             | resolved.to(closed))
    reopen = resolved.to(opened)


#: State ids in chain order.
STATES: tuple[str, ...] = ("signalled", "opened", "mdt", "casusregie", "doorbraak",
                           "arbitration", "resolved", "closed")
#: States in which the timers run.
ACTIVE_STATES: tuple[str, ...] = STATES[:6]
STATE_LABELS_NL: dict[str, str] = {
    "signalled": "gesignaleerd", "opened": "geopend", "mdt": "multidisciplinair overleg",
    "casusregie": "casusregie onderwijs en zorg", "doorbraak": "doorbraakteam",
    "arbitration": "bindende arbitrage", "resolved": "opgelost", "closed": "gesloten",
}
