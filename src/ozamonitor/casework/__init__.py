"""ozamonitor.casework."""
