"""ozamonitor.sequences."""
