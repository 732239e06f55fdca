"""ozamonitor.synth."""
