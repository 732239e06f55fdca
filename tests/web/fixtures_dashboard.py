"""The publication the dashboard tests serve (built once per run, shared by the modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ozamonitor.synth import SynthParams

_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def publication(synthetic_register, tmp_path_factory) -> Path:
    """A scale-0.002 synthetic register published for 2023-2024 and 2024-2025."""
    if "pub" not in _BUILT:
        from ozamonitor.report.publication import publish

        reg = synthetic_register(0.002, 5, params=SynthParams(oza_min_participants=60))
        _BUILT["pub"] = publish(reg, tmp_path_factory.mktemp("dash") / "PUB",
                                first="2023-2024", last="2024-2025")
    return _BUILT["pub"]
