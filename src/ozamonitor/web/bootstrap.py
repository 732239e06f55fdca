"""Configure Django for a data folder, outside a web server (command line, tests, scripts).

>>> from ozamonitor.web.bootstrap import setup          # doctest: +SKIP
>>> setup("data/", db="postgresql://postgres@127.0.0.1:5432/ozm")   # doctest: +SKIP
>>> from ozamonitor.web.registry.models import Arrangement           # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from ozamonitor.errors import ConfigurationError


def setup(data_dir: str | Path, db: str | None = None, *, debug: bool = False,
          migrate: bool = False) -> None:
    """Point Django at ``data_dir`` (and ``db``), initialise it, optionally migrate.

    Parameters
    ----------
    data_dir : str or Path
        The data folder (created 0700 if new).
    db : str, optional
        A database URL; default ``DATABASE_URL`` from the environment, else
        SQLite in the data folder.
    debug : bool
        Development mode (never in production).
    migrate : bool
        Apply migrations (creates the database on first use).
    """
    import django
    from django.conf import settings

    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    if settings.configured:
        from django.conf import settings as s

        if Path(s.DATA_DIR) != data:
            raise ConfigurationError(
                f"Django is already configured for {s.DATA_DIR}; one data folder per process")
    os.environ["OZAMONITOR_DATA_DIR"] = str(data)
    if db:
        os.environ["DATABASE_URL"] = db
    if debug:
        os.environ["OZAMONITOR_DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ozamonitor.web.settings")
    django.setup()
    if migrate:
        migrate_database()


def migrate_database(verbosity: int = 0) -> None:
    """Create or migrate the database (idempotent)."""
    from django.core.management import call_command

    try:
        call_command("migrate", interactive=False, verbosity=verbosity)
    except Exception as e:
        from django.db import Error

        if isinstance(e, Error):
            raise ConfigurationError(f"cannot prepare the database: {e}") from None
        raise


def check_database() -> None:
    """Raise ConfigurationError when the database cannot be reached."""
    from django.db import Error, connection

    try:
        connection.ensure_connection()
    except Error as e:
        raise ConfigurationError(f"cannot reach the database: {e}") from None
