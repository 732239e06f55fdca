"""ozamonitor.web."""
