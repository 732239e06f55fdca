"""Run the application with a production WSGI server (not Django's runserver).

On Linux and macOS the server is gunicorn with several worker processes (the
``gthread`` worker: keep-alive connections, a few threads per process), so the
pages use every core instead of sharing one interpreter lock; waitress (one
process, threads) is the portable fallback (Windows, or ``--server waitress``).
Both run the same WSGI application; SQLite in WAL mode with a busy timeout
(``dburl.SQLITE_INIT``) lets the worker processes read in parallel and write
one at a time.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from typing import Any

SERVERS = ("auto", "gunicorn", "waitress")


def default_workers() -> int:
    """Worker processes by default: one per core the process may run on (at least 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no sched_getaffinity
        cores = os.cpu_count() or 1
    return max(2, cores)


def choose_server(server: str = "auto") -> str:
    """``gunicorn`` where it is installed and the platform forks, else ``waitress``."""
    if server != "auto":
        return server
    if sys.platform == "win32":
        return "waitress"
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "waitress"
    return "gunicorn"


def serve(host: str = "127.0.0.1", port: int = 8000, threads: int = 8, workers: int = 0,
          server: str = "auto") -> None:
    """Serve the configured application until interrupted (call ``bootstrap.setup`` first).

    Parameters
    ----------
    host, port : str, int
        Address to listen on.
    threads : int
        Worker threads per process.
    workers : int
        gunicorn worker processes (0: :func:`default_workers`); ignored by waitress.
    server : {"auto", "gunicorn", "waitress"}
        Which server (see :func:`choose_server`).
    """
    from django.db import connections

    from ozamonitor.web.wsgi import application

    # the migrations ran in this process: no database connection may cross a fork
    connections.close_all()
    if choose_server(server) == "gunicorn":
        _gunicorn(application, host, port, threads, workers or default_workers())
        return
    from waitress import serve as waitress_serve

    _preload()  # one process, no fork: read the publication before the first visitor
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress_serve(application, host=host, port=port, threads=threads,
                   connection_limit=200, channel_timeout=60, ident="ozamonitor",
                   clear_untrusted_proxy_headers=True)


def _preload(worker: Any = None) -> None:
    """gunicorn ``post_worker_init`` hook: read what a worker would read on its first request.

    The public dashboard's publication (read and indexed in a few seconds) is
    read by each worker as it starts, so no visitor waits for it. Not before the
    fork: polars' thread pool does not survive one (a worker would hang). A
    publication that cannot be read is logged and left to the dashboard's own
    error page: it must not keep the registry from starting.
    """
    from django.conf import settings

    if (getattr(settings, "OZAMONITOR_PUBLICATION", "")
            and "ozamonitor.web.dashboard" in settings.INSTALLED_APPS):
        from ozamonitor.web.dashboard.data import current

        try:
            current()
        except Exception:
            logging.getLogger("ozamonitor.web").exception(
                "publication %s not read at start", settings.OZAMONITOR_PUBLICATION)


def _die_with_parent(server: Any, worker: Any) -> None:
    """gunicorn ``post_fork`` hook: a worker dies when the master does (Linux).

    A master killed with ``kill -9`` cannot stop its workers; without this they
    would go on serving (and writing) for a moment on their own.
    """
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))


def _gunicorn(application: Any, host: str, port: int, threads: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = {
        "bind": bind, "workers": workers, "threads": max(1, threads),
        "worker_class": "gthread", "keepalive": 5, "timeout": 60, "graceful_timeout": 10,
        "worker_connections": 200, "accesslog": None, "errorlog": "-", "loglevel": "warning",
        "proc_name": "ozamonitor", "post_fork": _die_with_parent,
        "post_worker_init": _preload,
        "forwarded_allow_ips": "127.0.0.1,::1",
    }

    class _App(BaseApplication):  # gunicorn's documented way to embed it
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    _App().run()
