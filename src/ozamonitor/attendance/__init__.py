"""ozamonitor.attendance: absence signals, episodes and attendance tiers from daily absence.

* :func:`~ozamonitor.attendance.signals.detect` - signals (``report_16h_4w``,
  ``lrv_4w``, ``lrv_3m``) and episode timers (``casusregie_due``,
  ``doorbraak_due``, ``alarm_3m``) per child;
* :func:`~ozamonitor.attendance.tiers.attendance_per_pupil` - present share,
  tier, improvement and the early-warning flag per pupil;
* :func:`~ozamonitor.attendance.tiers.attendance_counts` and
  :func:`~ozamonitor.attendance.tiers.aggregate_tables` - counts per school,
  gemeente and SWV with disclosure control.

See docs/attendance.md.
"""
