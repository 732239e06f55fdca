"""The exceptions users meet, in one hierarchy.

Every error ozamonitor raises on purpose derives from :class:`OzamonitorError`,
so a caller (the CLI, the web application, a researcher's script) can catch
the whole family in one place and show its message without a traceback. The
few kinds users meet are:

- :class:`InputError`: bad data or a bad file, with the file, row and field
  where that is known (``persons.csv:12: birth_date: not a date``);
- :class:`ConfigurationError`: a bad option, rule file, mapping or setting;
- :class:`DisclosureRefusedError`: a table that cannot be published safely;
- :class:`DiskFullError`: an output could not be written for lack of space
  (nothing half-written is left behind).

Module-specific exceptions derive from one of these (and, where they always
did, from ``ValueError`` too, so existing ``except ValueError`` keeps working).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ConfigurationError",
    "DisclosureRefusedError",
    "DiskFullError",
    "InputError",
    "OzamonitorError",
    "location",
    "looks_like_bsn",
    "redact",
]

#: What :func:`redact` puts where a BSN was.
REDACTED = "<BSN?>"
# nine digits (also written 1234.56.782 or 123 456 782), not part of a longer number
_NINE = re.compile(r"(?<![0-9])[0-9](?:[ .-]?[0-9]){8}(?![0-9])")


def looks_like_bsn(value: str) -> bool:
    """Whether ``value`` is nine digits (after removing spaces, dots, dashes) passing the
    eleven-test, as a BSN does.

    Examples
    --------
    >>> looks_like_bsn("123456782"), looks_like_bsn("1234.56.782"), looks_like_bsn("123456789")
    (True, True, False)
    """
    digits = re.sub(r"[ .-]", "", value)
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def redact(text: str) -> str:
    """``text`` with every number that could be a BSN replaced by ``<BSN?>``.

    Every message ozamonitor shows (errors, validation problems, the command
    line's error lines) passes through this, so a BSN typed in the wrong column
    never reaches a terminal, a log or a web page.

    Examples
    --------
    >>> redact("unknown person_id '123456782' (not in persons)")
    "unknown person_id '<BSN?>' (not in persons)"
    >>> redact("row 123456789 of 2024")
    'row 123456789 of 2024'
    """
    return _NINE.sub(lambda m: REDACTED if looks_like_bsn(m.group()) else m.group(), text)



class OzamonitorError(Exception):
    """Base class of every error ozamonitor raises on purpose.

    Attributes
    ----------
    exit_code : int
        The exit status the command line uses for this error (1 by default;
        2 for usage and configuration errors, as click does).
    """

    exit_code: int = 1

    def __str__(self) -> str:
        return redact(super().__str__())


def location(file: str | Path | None = None, row: int | None = None,
             field: str | None = None) -> str:
    """Format where a problem is: ``file:row: field``, leaving out what is unknown.

    Parameters
    ----------
    file : str or Path, optional
        The file (or table) name; only its name is shown for a path.
    row : int, optional
        The 1-based data row (the header is row 0 for CSV files).
    field : str, optional
        The column or form field.

    Returns
    -------
    str
        For example ``"persons.csv:12: birth_date"``, ``"persons.csv"`` or ``""``.

    Examples
    --------
    >>> location("persons.csv", 12, "birth_date")
    'persons.csv:12: birth_date'
    >>> location(field="age")
    'age'
    """
    where = ""
    if file is not None:
        where = Path(file).name if isinstance(file, Path) else str(file)
        if row is not None:
            where += f":{row}"
    elif row is not None:
        where = f"row {row}"
    if field:
        where = f"{where}: {field}" if where else field
    return where


class InputError(OzamonitorError, ValueError):
    """Bad input data, with the file, row and field where known.

    Parameters
    ----------
    message : str
        What is wrong, without the location (it is prepended). The message must
        never echo a value that may identify a person (a BSN, a name).
    file, row, field : optional
        Where the problem is; see :func:`location`.
    """

    def __init__(self, message: str, *, file: str | Path | None = None,
                 row: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        where = location(file, row, field)
        super().__init__(f"{where}: {message}" if where else message)


class ConfigurationError(OzamonitorError, ValueError):
    """A bad option, rule file, mapping or setting."""

    exit_code = 2


class DisclosureRefusedError(OzamonitorError):
    """A table or publication cannot be released without revealing small counts."""


class DiskFullError(OzamonitorError, OSError):
    """The disk (or the user's quota) is full; the output was not written.

    Parameters
    ----------
    path : str or Path
        The output that could not be written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: disk full (no space left on the device or quota exceeded); "
                         "nothing was written. Free some space and run again.")
