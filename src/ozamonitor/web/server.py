"""Run the application with waitress (a production WSGI server; not Django's runserver)."""

from __future__ import annotations

import logging


def serve(host: str = "127.0.0.1", port: int = 8000, threads: int = 16) -> None:
    """Serve the configured application until interrupted (call ``bootstrap.setup`` first)."""
    from waitress import serve as waitress_serve

    from ozamonitor.web.wsgi import application

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress_serve(application, host=host, port=port, threads=threads,
                   connection_limit=200, channel_timeout=60, ident="ozamonitor",
                   clear_untrusted_proxy_headers=True)
