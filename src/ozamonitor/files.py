"""One way to write an output file: atomically, with the right permissions, inside its folder.

Every writer in ozamonitor goes through :func:`atomic_write` (or its two
shorthands): the content is written to a temporary file in the target's own
folder and moved into place with :func:`os.replace`, so a reader never sees a
half-written file and a failure (an exception, Ctrl-C, a full disk) leaves
nothing behind. Permissions:

- published files (tables, reports, figures) follow the umask, as any file
  the user creates would (``mkstemp``'s 0600 is undone);
- person-level files (``private=True``: microdata, per-child tables, sequences)
  are 0600 in a folder that is created 0700.

File names derived from data (a region id, a school name) go through
:func:`safe_name`, and :func:`confined` refuses any target outside its output
folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ozamonitor.errors import ConfigurationError

__all__ = [
    "atomic_dir",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "confined",
    "public_mode",
    "safe_name",
]

#: Prefix of the temporary files and folders this module creates.
TEMP_PREFIX = ".ozm-tmp."


def public_mode() -> int:
    """The mode a new file gets under the current umask (``0o666 & ~umask``)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _public_dir_mode() -> int:
    """The mode a new folder gets under the current umask (``0o777 & ~umask``)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _make_parent(path: Path, private: bool) -> None:
    if private:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def atomic_write(path: str | Path, *, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place when the block ends.

    Parameters
    ----------
    path : str or Path
        The file to write. Its folder is created if needed.
    private : bool, default False
        Person-level content: the file is 0600 and a new folder 0700.
        Otherwise the file's mode follows the umask.

    Yields
    ------
    Path
        Where to write. It keeps ``path``'s suffix, so writers that pick a
        format from the suffix (matplotlib, polars) work unchanged.

    Examples
    --------
    >>> import polars as pl, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> with atomic_write(out) as tmp:
    ...     pl.DataFrame({"a": [1]}).write_csv(tmp)
    >>> out.read_text()
    'a\\n1\\n'
    """
    target = Path(path)
    _make_parent(target, private)
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name}.",
                                suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o600 if private else public_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, *, private: bool = False,
                      encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`) and return the path."""
    with atomic_write(path, private=private) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`) and return the path."""
    with atomic_write(path, private=private) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextmanager
def atomic_dir(path: str | Path, *, private: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` when the block ends.

    An existing folder at ``path`` is replaced as a whole (moved aside, then
    removed), so a reader sees either the old or the new folder, never a mix.
    On an error the temporary folder is removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or Path
        The folder to create or replace.
    private : bool, default False
        Person-level content: folder 0700 and files written into it should be
        created with ``private=True`` semantics by the caller.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o700 if private else _public_dir_mode())
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}old.", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def safe_name(value: object, *, max_length: int = 80) -> str:
    """A file-name fragment from a data value: no separators, no ``..``, no leading dot.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``;
    the result is never empty, ``.`` or ``..``.

    Examples
    --------
    >>> safe_name("PO/../../tmp/x")
    'PO_.._.._tmp_x'
    >>> safe_name("..")
    '_'
    """
    s = _UNSAFE.sub("_", str(value)).strip(".") or "_"
    return s[:max_length]


def confined(base: str | Path, name: str | Path) -> Path:
    """``base / name``, refusing a result outside ``base``.

    Parameters
    ----------
    base : str or Path
        The output folder.
    name : str or Path
        A relative path inside it.

    Raises
    ------
    ConfigurationError
        When ``name`` is absolute or escapes ``base`` (``..``, symlinks).
    """
    root = Path(base).resolve()
    target = (root / name).resolve()
    if Path(name).is_absolute() or not target.is_relative_to(root):
        raise ConfigurationError(f"{name}: refusing to write outside the output folder {base}")
    return target
