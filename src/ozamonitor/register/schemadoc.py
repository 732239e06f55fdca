"""Markdown reference of the register's tables, generated from :mod:`.schema`.

``docs/register.md`` embeds this text between the markers
``<!-- schema:start -->`` and ``<!-- schema:end -->``; regenerate it with::

    python -m ozamonitor.register.schemadoc --write docs/register.md

A test checks that the embedded text matches the schema.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_write_text
from ozamonitor.register.schema import PERSON_TABLES, SCHEMA_VERSION, TABLES, Column

START = "<!-- schema:start -->"
END = "<!-- schema:end -->"


def _rules(c: Column) -> str:
    parts: list[str] = []
    if c.codes is not None:
        codes = ", ".join(f"`{x}`" for x in c.codes)
        parts.append(("codes, `;`-separated: " if c.multi else "codes: ") + codes)
    if c.min is not None or c.max is not None:
        lo = "" if c.min is None else c.min
        hi = "" if c.max is None else c.max
        parts.append(f"range {lo}..{hi}")
    if c.references:
        parts.append(f"references `{c.references}`")
    if c.description:
        parts.append(c.description)
    return "; ".join(parts).replace("|", "\\|")


def schema_markdown() -> str:
    """The tables as Markdown (one section per table)."""
    out = [f"Schema version {SCHEMA_VERSION}. Types: `str`, `date` (ISO `YYYY-MM-DD` in CSV), "
           "`int`, `float`, `bool`. In the exchange files person tables have `bsn` where the "
           "register has `person_id`.\n"]
    for name, t in TABLES.items():
        out.append(f"### `{name}`\n")
        out.append(f"{t.description}\n")
        facts = [f"primary key ({', '.join(t.primary_key)})"] if t.primary_key else []
        if t.spell:
            facts.append(f"spell `{t.spell[0]}`..`{t.spell[1]}` (end inclusive, empty = open)")
        if name in PERSON_TABLES:
            facts.append("delivered with `bsn`")
        if facts:
            line = "; ".join(facts)
            out.append(line[0].upper() + line[1:] + ".\n")
        out.append("| column | type | required | rules |")
        out.append("|---|---|---|---|")
        for c in t.columns:
            out.append(f"| `{c.name}` | {c.kind} | {'no' if c.nullable else 'yes'} | "
                       f"{_rules(c)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def embed(text: str) -> str:
    """Replace the generated section of a Markdown text with the current schema."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ConfigurationError(f"markers {START} / {END} not found")
    return pattern.sub(lambda _: f"{START}\n{schema_markdown()}{END}", text)


def main() -> None:
    ap = argparse.ArgumentParser(description="Print or embed the register schema as Markdown.")
    ap.add_argument("--write", type=Path, help="Markdown file with the markers to update.")
    args = ap.parse_args()
    if args.write:
        atomic_write_text(args.write, embed(args.write.read_text(encoding="utf-8")))
    else:
        print(schema_markdown(), end="")


if __name__ == "__main__":
    main()
