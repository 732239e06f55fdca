"""ozamonitor.counting."""
