"""The case chain in the web application: cases, timers, consent, OOGO, the friction budget."""
