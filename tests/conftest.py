"""Shared fixtures: registers built by hand (``builders.py``) and by the generator.

* ``register_builder`` - a fresh :class:`builders.Builder` (add children, then
  ``.write(path)``);
* ``stock_reg`` - the hand-made register whose counts are known
  (:data:`builders.EXPECTED`), written once per module;
* ``random_register`` - a factory ``random_register(path, n=150, seed=0)`` of
  small registers with mixed trajectories;
* ``synthetic_register`` - a factory ``synthetic_register(scale, seed, **kw)`` of
  generated registers (``ozamonitor.synth.generate``), each made once per test
  session and shared by the tests that ask for the same arguments.

Test modules that need the builders' classes or constants import them with
``from builders import ...`` (a helper module, not collected as tests).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import builders
from ozamonitor.register.store import Register


@pytest.fixture
def register_builder() -> builders.Builder:
    """A fresh register builder."""
    return builders.Builder()


@pytest.fixture(scope="module")
def stock_reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    """The hand-made register of :func:`builders.stock_register` (see ``EXPECTED``)."""
    return builders.stock_register(tmp_path_factory.mktemp("stock") / "reg")


@pytest.fixture(scope="session")
def random_register() -> Callable[..., Path]:
    """Factory of small registers with regular, OZA, exemption and special trajectories."""
    return builders.random_register


@pytest.fixture(scope="session")
def synthetic_register(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Factory ``synthetic_register(scale, seed, **kwargs)`` of generated registers.

    Each distinct set of arguments is generated once per session (in a session
    temporary folder) and its path returned to every test that asks for it.
    """
    synth = pytest.importorskip("ozamonitor.synth")
    made: dict[tuple[Any, ...], Path] = {}

    def make(scale: float, seed: int, **kwargs: Any) -> Path:
        key = (scale, seed, repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
        if key not in made:
            out = tmp_path_factory.mktemp(f"synth_{scale}_{seed}") / "reg"
            made[key] = synth.generate(out, scale=scale, seed=seed, **kwargs)
        return made[key]

    return make


@pytest.fixture(scope="session")
def publication(synthetic_register: Callable[..., Path],
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scale-0.002 synthetic register published (``ozamonitor publish``) for the school
    years 2023-2024 and 2024-2025, once per session (the publication and dashboard tests)."""
    from ozamonitor.report.publication import publish
    from ozamonitor.synth import SynthParams

    reg = synthetic_register(0.002, 5, params=SynthParams(oza_min_participants=60))
    return publish(reg, tmp_path_factory.mktemp("pub") / "PUB", first="2023-2024",
                   last="2024-2025")
