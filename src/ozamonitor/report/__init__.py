"""ozamonitor.report."""
