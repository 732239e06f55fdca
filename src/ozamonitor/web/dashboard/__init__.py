"""The public dashboard (``/dashboard/``): counts, trends, maps and the OZA monitor,
read from one publication folder only (``ozamonitor publish``)."""
