"""The package's layers, and its import graph read from the source (``ast``, no imports).

Folders follow the data's path: a package may import from packages on an
earlier layer, from the side libraries and from the base, never from a later
layer or from another package of its own layer. ``tests/test_layering.py``
enforces this; ``docs/layers.py`` draws the picture in ``docs/img/layers.png``.

======  =====================================================================
layer   packages
======  =====================================================================
base    ``errors``, ``files`` (import nothing of ours but each other)
side    ``privacy``, ``sequences`` (libraries: import only the base)
1       ``register``
2       ``synth``
3       ``counting``
4       ``trajectories``
5       ``causal``
6       ``survey``, ``casework``, ``funding``, ``attendance``, ``besluit``
7       ``report``, ``web``
8       ``cli`` (assembles everything)
======  =====================================================================
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BASE", "LAYERS", "SIDE", "Import", "allowed", "imports", "package_graph"]

#: Packages every other package may import.
BASE = ("errors", "files")
#: Libraries beside the data's path: importable by every package, they import only the base.
SIDE = ("privacy", "sequences")
#: Layer of each package on the data's path (base and side libraries are not on it).
LAYERS: dict[str, int] = {
    "register": 1,
    "synth": 2,
    "counting": 3,
    "trajectories": 4,
    "causal": 5,
    "survey": 6,
    "casework": 6,
    "funding": 6,
    "attendance": 6,
    "besluit": 6,
    "report": 7,
    "web": 7,
    "cli": 8,
}

ROOT = Path(__file__).parent


@dataclass(frozen=True)
class Import:
    """One import of ours: ``module`` (a file, relative to the package) imports ``target``."""

    module: str
    line: int
    source: str  # the importing package (first folder, or the module's name at the top)
    target: str  # the imported package (``ozamonitor.<target>...``)


def _package_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def imports(root: Path = ROOT) -> Iterator[Import]:
    """Every ``import ozamonitor.x`` / ``from ozamonitor.x ... import`` in the package,
    also those inside functions (lazy imports count)."""
    for path in sorted(root.rglob("*.py")):
        source = _package_of(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "ozamonitor":
                    names = [f"ozamonitor.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "ozamonitor" or len(parts) < 2 or parts[1] == source:
                    continue
                if parts[1].startswith("__"):  # ozamonitor.__version__
                    continue
                yield Import(str(path.relative_to(root)), node.lineno, source, parts[1])


def allowed(source: str, target: str) -> bool:
    """Whether package ``source`` may import package ``target``."""
    if target in BASE:
        return True
    if source in BASE:
        return False
    if target in SIDE:
        return source not in SIDE
    if source in SIDE:
        return False
    if source not in LAYERS or target not in LAYERS:
        return False
    return LAYERS[target] < LAYERS[source]


def package_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Package -> the packages it imports."""
    graph: dict[str, set[str]] = {}
    for imp in imports(root):
        graph.setdefault(imp.source, set()).add(imp.target)
    return graph
