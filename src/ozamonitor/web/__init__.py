"""The web application: the arrangements registry and the apps built on it.

A Django project (``settings.py``, ``urls.py``) whose pieces are:

- ``core``: organisations, memberships (roles), API tokens, the home page,
  the audit log, ``/healthz``;
- ``access.py``: the one place where roles and organisations decide what a
  user may see or change (pages, API, exports and files alike);
- ``audit.py``: the history shared by every app (django-simple-history);
- ``apps.py``: :class:`OzamonitorApp`, the base of every ozamonitor web app
  (its URL prefix, API router and navigation entries);
- ``registry``: initiatives, arrangements, attachments and the Besluit checks.

``bootstrap.setup(data_dir, db)`` configures Django for a data folder; the
command line (``ozamonitor web init``, ``ozamonitor serve``) goes through it.
See docs/web.md.
"""
