"""Draw the package layers and the imports between them: ``docs/img/layers.png``.

The graph is read from the source (:func:`ozamonitor.layers.package_graph`), so
the picture shows the code as it is; an import that breaks the layering
(:func:`ozamonitor.layers.allowed`) is drawn in red.

    python docs/layers.py            # writes docs/img/layers.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ozamonitor.layers import BASE, LAYERS, SIDE, allowed, package_graph

OUT = Path(__file__).parent / "img" / "layers.png"
LABELS = {0: "base", 1: "1", 2: "2", 3: "3", 4: "4", 5: "5", 6: "6 field", 7: "7 output", 8: "8"}


def positions(packages: set[str]) -> dict[str, tuple[float, float]]:
    """Path packages left to right by layer (stacked within a layer), base on the far
    left, side libraries in a row below."""
    pos: dict[str, tuple[float, float]] = {}
    columns: dict[int, list[str]] = {0: [p for p in BASE if p in packages]}
    for name, layer in sorted(LAYERS.items(), key=lambda kv: (kv[1], kv[0])):
        if name in packages:
            columns.setdefault(layer, []).append(name)
    for layer, names in columns.items():
        for k, name in enumerate(names):
            lift = 0.9 if layer % 2 else 0.0  # alternate heights: arrows pass between boxes
            pos[name] = (layer * 1.6, 1.0 + lift + (k - (len(names) - 1) / 2) * 0.7)
    side = [p for p in SIDE if p in packages]
    for k, name in enumerate(side):
        pos[name] = (3.2 + k * 4.8, -1.4)
    return pos


def draw(out: Path = OUT) -> Path:
    graph = package_graph()
    packages = set(graph) | {t for ts in graph.values() for t in ts}
    packages = {p for p in packages if p in set(BASE) | set(SIDE) | set(LAYERS)}
    pos = positions(packages)
    fig, ax = plt.subplots(figsize=(13.5, 5.2))
    ax.set_axis_off()
    for layer, label in LABELS.items():
        ax.text(layer * 1.6, 3.35, f"layer {label}", ha="center", fontsize=8, color="#666666")
    ax.text(0.6, -1.4, "side libraries\n(import only the base)", ha="center", va="center",
            fontsize=8, color="#666666")
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            if src not in pos or dst not in pos:
                continue
            ok = allowed(src, dst)
            ax.add_patch(FancyArrowPatch(
                pos[src], pos[dst], arrowstyle="-|>", mutation_scale=9, shrinkA=17, shrinkB=17,
                connectionstyle="arc3,rad=0.12", lw=0.8 if ok else 1.6,
                color="#9aa5b1" if ok else "#cc3311", zorder=1))
    for name, (x, y) in pos.items():
        side = name in SIDE
        base = name in BASE
        face = "#ddeeff" if side else ("#eeeeee" if base else "#ffffff")
        ax.add_patch(FancyBboxPatch((x - 0.62, y - 0.22), 1.24, 0.44,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=face, edgecolor="#334455", lw=1.0, zorder=2))
        ax.text(x, y, name, ha="center", va="center", fontsize=9, zorder=3)
    ax.set_xlim(-0.9, 8 * 1.6 + 0.9)
    ax.set_ylim(-2.0, 3.6)
    ax.set_title("ozamonitor: packages along the data's path; arrows are imports "
                 "(red: against the layering)", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    print(draw(ap.parse_args().out))
