"""The web application's answers as library submissions (for the CLI and the exports).

``ozamonitor survey export|report|prototypes|prefill --data-dir D`` reads the
answers stored by the web application through :func:`load_submissions`;
pages and the API use :class:`DatabaseSource` with the rows a user may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ozamonitor.survey.submissions import Submission

__all__ = ["DatabaseSource", "load_submissions"]


class DatabaseSource:
    """An :class:`~ozamonitor.survey.submissions.AnswerSource` over response rows.

    Parameters
    ----------
    responses : QuerySet of Response, optional
        The rows to give (already filtered by ``ozamonitor.web.access``);
        default: every row (command line only).
    """

    def __init__(self, responses: Any = None) -> None:
        from ozamonitor.web.survey.models import Response

        self.responses = responses if responses is not None else Response.objects.all()

    def submissions(self) -> Iterator[Submission]:
        """Every response as a Submission, in (wave, arrangement, part) order."""
        rows = self.responses.select_related("wave", "arrangement").order_by(
            "wave__year", "arrangement__code", "part")
        for r in rows:
            yield r.submission()


def load_submissions(data_dir: str | Path, db: str | None = None) -> Iterable[Submission]:
    """All submissions stored by the web application in ``data_dir`` (drafts included).

    Parameters
    ----------
    data_dir : path
        The web application's data folder (``ozamonitor serve --data-dir``).
    db : str, optional
        A database URL (default: ``DATABASE_URL`` or SQLite in the folder).

    Returns
    -------
    list of Submission
    """
    from ozamonitor.errors import ConfigurationError
    from ozamonitor.web.bootstrap import check_database, setup

    if not (Path(data_dir) / "secret_key").is_file():
        raise ConfigurationError(
            f"{data_dir} is not a data folder of the web application (it has no secret_key); "
            f"`ozamonitor web init --data-dir {data_dir}` creates one")
    setup(data_dir, db)
    check_database()
    from django.db import connection

    if "survey_response" not in connection.introspection.table_names():
        raise ConfigurationError(
            f"the database of {data_dir} has no questionnaire tables; run "
            f"`ozamonitor web init --data-dir {data_dir}` to migrate it")
    return list(DatabaseSource().submissions())
