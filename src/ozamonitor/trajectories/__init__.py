"""ozamonitor.trajectories."""
