"""Read YAML and keep the line of every key and list item.

Case files, region matrices and the national rule set are YAML that people
write by hand, so an error must name the line. PyYAML (already a dependency)
forgets positions once it builds Python objects; this module composes the node
tree, builds the objects from it and records, next to them, the 1-based line of
each mapping key and sequence item, by path. It also refuses duplicate keys,
which PyYAML silently resolves to the last one (a second ``tube_feeding:`` in a
matrix would otherwise hide the first). ruamel.yaml keeps positions too, but
would be a new dependency for these thirty lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Marked", "YamlError", "format_path", "load_marked"]

Path_ = tuple[str | int, ...]


class YamlError(Exception):
    """A file that is not valid YAML or has a duplicate key; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None, path: Path_ = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path


@dataclass
class Marked:
    """YAML data with the line of each element.

    Attributes
    ----------
    data : Any
        The Python objects (``yaml.safe_load`` semantics).
    lines : dict
        ``path -> line`` for every mapping key and sequence item, where a path is
        a tuple of keys and list indices (``("components", 2, "cause")``); the
        empty path is the document's first line.
    """

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = p[:-1]


def format_path(path: Path_) -> str:
    """``("components", 2, "cause")`` -> ``"components[2].cause"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _walk(loader: yaml.SafeLoader, node: yaml.Node, data: Any, path: Path_,
          lines: dict[Path_, int]) -> None:
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)  # the key as PyYAML builds it
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlError(
                    f"duplicate key {key!r} (first on line {seen[key]})", line, (*path, key))
            seen[key] = line
            lines[(*path, key)] = line
            if key in data:
                _walk(loader, value_node, data[key], (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for i, (item_node, item) in enumerate(zip(node.value, data, strict=False)):
            lines[(*path, i)] = item_node.start_mark.line + 1
            _walk(loader, item_node, item, (*path, i), lines)


def load_marked(source: str | Path, *, text: str | None = None) -> Marked:
    """Parse a YAML file (or ``text``) and record the line of every element.

    Parameters
    ----------
    source : str or Path
        The file to read; with ``text`` only a name used in messages.
    text : str, optional
        The YAML text, when it does not come from a file (a web upload).

    Returns
    -------
    Marked

    Raises
    ------
    YamlError
        When the text is not YAML or repeats a key in one mapping.
    OSError
        When the file cannot be read.
    """
    if text is None:
        text = Path(source).read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Marked(None, {(): 1})
        data = loader.construct_document(node)
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        _walk(loader, node, data, (), lines)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise YamlError(f"not valid YAML: {e.problem or e}",
                          mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked PyYAML errors are rare
        raise YamlError(f"not valid YAML: {e}", None) from None
    finally:
        loader.dispose()
    return Marked(data, lines)
