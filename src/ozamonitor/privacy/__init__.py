"""ozamonitor.privacy."""
