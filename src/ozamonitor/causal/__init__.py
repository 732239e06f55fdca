"""ozamonitor.causal."""
