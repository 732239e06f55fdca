"""ozamonitor.survey."""
