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

import errno
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ozamonitor.errors import ConfigurationError, DiskFullError

_Frame = TypeVar("_Frame")

__all__ = [
    "atomic_dir",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_outputs",
    "clean_on_signals",
    "confined",
    "formula_safe",
    "is_disk_full",
    "public_mode",
    "safe_cell",
    "safe_name",
    "sweep_stale",
    "temp_prefix",
    "text_cells",
]

#: Prefix of the temporary files and folders this module creates.
TEMP_PREFIX = ".ozm-tmp."
#: A temporary entry of unknown owner (no process id in its name) older than this is stale.
STALE_SECONDS = 3600.0


def temp_prefix(name: str) -> str:
    """Name prefix of a temporary file or folder for ``name``: ``.ozm-tmp.<pid>.<name>.``.

    The process id lets :func:`sweep_stale` tell a leftover of a killed run
    from the live work of a running one.
    """
    return f"{TEMP_PREFIX}{os.getpid()}.{name}."


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _restore_aside(entry: Path, pid_text: str) -> bool:
    """Put back a folder :func:`atomic_dir` had moved aside when its run was killed
    before the new folder took its place (the target is missing); True if restored."""
    if not pid_text.isdigit() or not entry.name.startswith(f"{TEMP_PREFIX}{pid_text}.old."):
        return False
    inside = list(entry.iterdir()) if entry.is_dir() else []
    if len(inside) != 1 or (entry.parent / inside[0].name).exists():
        return False
    os.replace(inside[0], entry.parent / inside[0].name)
    entry.rmdir()
    return True


def sweep_stale(folder: str | Path) -> list[Path]:
    """Remove what killed runs left in ``folder``: temporary files and folders of dead processes.

    ``kill -9`` (or a power cut) gives a process no chance to clean up, so its
    temporary entries (partial, possibly person-level content) stay behind.
    Every writer calls this on its output folder before it writes, so the next
    run of any command on that folder removes them. Entries of live processes
    are kept; entries without a process id are removed once older than
    :data:`STALE_SECONDS`. A folder that :func:`atomic_dir` had moved aside is
    put back when the run died before its replacement was in place.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        pid_text = entry.name[len(TEMP_PREFIX):].split(".", 1)[0]
        try:
            if pid_text.isdigit():
                if _alive(int(pid_text)):
                    continue
            elif now - entry.stat(follow_symlinks=False).st_mtime < STALE_SECONDS:
                continue
            if _restore_aside(Path(entry.path), pid_text):
                removed.append(Path(entry.path))
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk or an exceeded quota.

    Also recognises the messages of libraries that wrap the error (polars,
    pyarrow: ``No space left on device (os error 28)``).
    """
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e)
        if ("No space left on device" in text or "os error 28" in text
                or "Disk quota exceeded" in text or "os error 122" in text):
            return True
        e = e.__cause__ or e.__context__
    return False


class _Terminated(SystemExit):
    """SIGTERM/SIGHUP as an exception, so every ``finally`` and cleanup runs."""


@contextmanager
def clean_on_signals() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP end the process like Ctrl-C does: by an exception.

    By default these signals kill Python at once, leaving temporary files
    (partial person-level rows) behind. Here they raise ``SystemExit(128 +
    signal)``, so :func:`atomic_write` and :func:`atomic_dir` remove their
    temporary files and the exit status is the shell's usual one (143 for
    SIGTERM). SIGINT already raises :class:`KeyboardInterrupt`. Outside the main
    thread (where handlers cannot be set) the block runs unchanged.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated(128 + signum)

    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
              if s is not None]
    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


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
    if private:  # every folder created on the way is owner-only, not only the last
        missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir(exist_ok=True, mode=0o700)
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
    try:
        _make_parent(target, private)
        sweep_stale(target.parent)
        fd, name = tempfile.mkstemp(prefix=temp_prefix(target.name),
                                    suffix=target.suffix, dir=target.parent)
    except OSError as e:
        if is_disk_full(e):
            raise DiskFullError(target) from None
        raise
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o600 if private else public_mode())
        os.replace(tmp, target)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, Exception) and not isinstance(e, DiskFullError) and is_disk_full(e):
            raise DiskFullError(target) from None
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
    Only an empty folder or one that an earlier ``atomic_dir`` wrote (it holds the
    marker file ``.ozamonitor-output``) is replaced; any other folder is refused
    before work starts, so ``--out ~/Documents`` cannot delete a user's files.
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
    _check_replaceable(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(target.parent)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name), dir=target.parent))
    except OSError as e:
        if is_disk_full(e):
            raise DiskFullError(target) from None
        raise
    if private:
        os.chmod(tmp, 0o700)
    try:
        yield tmp
        marker = tmp / OUTPUT_MARKER
        marker.write_text("Written by ozamonitor; the next run into this folder replaces it "
                          "whole.\n")
        os.chmod(marker, 0o600 if private else public_mode())
        os.chmod(tmp, 0o700 if private else _public_dir_mode())
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=temp_prefix("old"), dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, Exception) and not isinstance(e, DiskFullError) and is_disk_full(e):
            raise DiskFullError(target) from None
        raise


OUTPUT_MARKER = ".ozamonitor-output"


def _legacy_register(manifest: Path) -> bool:
    import json

    try:
        return "schema_version" in json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def _check_replaceable(target: Path) -> None:
    """Refuse to replace a folder that holds files ozamonitor did not write."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ConfigurationError(f"{target}: exists and is not a folder; choose another output")
    if (target / OUTPUT_MARKER).exists() or not any(target.iterdir()):
        return
    if target.name.startswith(TEMP_PREFIX):
        return  # a folder another atomic_dir is filling (a staged output written into)
    if _legacy_register(target / "manifest.json"):
        return  # a register written before the marker existed
    raise ConfigurationError(
        f"{target}: the folder holds files that ozamonitor did not write (no {OUTPUT_MARKER}); "
        "the output replaces the folder whole, so choose a new or empty folder, or remove it "
        "first")


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


def _key(path: str | Path) -> Path:
    """The path with the user's ``~`` and every symlink and ``..`` resolved."""
    return Path(path).expanduser().resolve()


def check_outputs(outputs: Mapping[str, str | Path | None], *,
                  inputs: Mapping[str, str | Path | None] | None = None,
                  protected: Iterable[str | Path] = (),
                  replaced: Iterable[str] = ()) -> None:
    """Refuse outputs that would overwrite an input, each other or a protected folder.

    Called before any work is done, so a mistyped option costs nothing: no
    per-child rows in the file meant for publication, no register table
    replaced by a count.

    Parameters
    ----------
    outputs : mapping of str to path
        The paths the command will write, by the option that names them
        (``{"--out": ..., "--per-child": ...}``); ``None`` values are skipped.
    inputs : mapping of str to path, optional
        The paths the command reads, by option. An output may not be an input.
    protected : iterable of paths
        Folders no output may lie in or be (a register).
    replaced : iterable of str
        Options of ``outputs`` naming a folder that is replaced as a whole
        (:func:`atomic_dir`): such a folder may not hold an input or a
        protected folder either.

    Raises
    ------
    ConfigurationError
        Naming the options that collide.

    Examples
    --------
    >>> check_outputs({"--out": "x.csv", "--per-child": "x.csv"})
    Traceback (most recent call last):
    ...
    ozamonitor.errors.ConfigurationError: --per-child x.csv is the same file as --out x.csv
    """
    outs = [(opt, Path(p), _key(p)) for opt, p in outputs.items() if p is not None]
    ins = [(opt, Path(p), _key(p)) for opt, p in (inputs or {}).items() if p is not None]
    protected = list(protected)
    replacing = set(replaced)
    for i, (opt, given, key) in enumerate(outs):
        for opt2, given2, key2 in outs[:i]:
            if key == key2:
                raise ConfigurationError(f"{opt} {given} is the same file as {opt2} {given2}")
        for opt2, given2, key2 in ins:
            if key == key2:
                raise ConfigurationError(
                    f"{opt} {given} is the same file as the input {opt2} {given2}")
            if opt in replacing and key2.is_relative_to(key):
                raise ConfigurationError(
                    f"{opt} {given} would replace the folder that holds the input "
                    f"{opt2} {given2}")
        for folder in protected:
            if key.is_relative_to(_key(folder)):
                raise ConfigurationError(
                    f"{opt} {given} lies inside the register {folder}: outputs are "
                    "written outside a register")
            if opt in replacing and _key(folder).is_relative_to(key):
                raise ConfigurationError(
                    f"{opt} {given} would replace the folder that holds the register {folder}")


#: A text cell starting with one of these is run as a formula by a spreadsheet.
FORMULA_START = "=+-@\t\r"
_FORMULA = r"^[=+\-@\t\r]"
# plain numbers and a lone dash keep their look: no spreadsheet runs them
_NUMBER = r"^[-+]?(\d[\d.,]*|[.,]\d+)([eE][-+]?\d+)?%?$|^-$"


def safe_cell(value: Any) -> Any:
    """One cell for a CSV file: text a spreadsheet would run as a formula gets a leading ``'``.

    See :func:`formula_safe`; other values are returned unchanged.

    Examples
    --------
    >>> safe_cell("=1+1"), safe_cell("-3"), safe_cell(4)
    ("'=1+1", '-3', 4)
    """
    if (isinstance(value, str) and value and value[0] in FORMULA_START
            and not re.match(_NUMBER, value)):
        return "'" + value
    return value


def formula_safe(frame: _Frame) -> _Frame:
    """The table with every text cell that a spreadsheet would run as a formula neutralised.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    (a region or school name such as ``=HYPERLINK(...)``) gets a leading
    apostrophe, so Excel, LibreOffice and Google Sheets show it as text. Plain
    numbers (``-1.5``) and a lone ``-`` are left alone. Every CSV and xlsx
    writer passes its table through this function; Parquet keeps the values.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        The table to write.

    Returns
    -------
    Same type as ``frame``
        A new table (text columns of another kind, such as categoricals,
        become plain text where a cell had to change).

    Examples
    --------
    >>> import polars as pl
    >>> formula_safe(pl.DataFrame({"name": ["=1+1", "-2", "a"]}))["name"].to_list()
    ["'=1+1", '-2', 'a']
    """
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a core dependency
        pl = None  # type: ignore[assignment]
    if pl is not None and isinstance(frame, pl.DataFrame):
        text = [n for n, t in frame.schema.items()
                if t in (pl.String, pl.Categorical) or isinstance(t, pl.Enum)]
        fixes = []
        for name in text:
            col = pl.col(name).cast(pl.String)
            bad = col.str.contains(_FORMULA) & ~col.str.contains(_NUMBER)
            if frame.select(bad.any()).item():
                fixes.append(pl.when(bad).then(pl.lit("'") + col).otherwise(col).alias(name))
        return frame.with_columns(fixes) if fixes else frame  # type: ignore[return-value]
    if hasattr(frame, "select_dtypes") and hasattr(frame, "copy"):  # pandas
        out = frame.copy()  # type: ignore[attr-defined]
        for name in out.select_dtypes(include=["object", "string", "category"]).columns:
            out[name] = out[name].astype(object).map(safe_cell)
        if hasattr(out, "index") and out.index.dtype == object:
            out.index = out.index.map(safe_cell)
        return out  # type: ignore[no-any-return]
    raise TypeError(f"formula_safe: not a table: {type(frame).__name__}")


def text_cells(workbook: Any) -> Any:
    """An openpyxl workbook whose text cells starting with ``=`` are stored as text, not formulas.

    openpyxl stores any string starting with ``=`` as a formula; an exchange
    file that is read back keeps its values exactly this way (no ``'`` added).
    Call it just before saving. Returns the workbook.
    """
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    return workbook
