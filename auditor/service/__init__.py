"""`auditor serve`: audits over HTTP, a team's audit history, and each model's metrics over time.

The service computes nothing itself: it stores uploads, queues jobs in its database, and its
workers run ``auditor audit`` in child processes, then keep the result files and one row per
audit x metric x group for the trends. The design is ``../shared/SERVICE.md``; the pieces:

- ``settings``: every limit and path, from flags or ``AUDITOR_*`` environment variables;
- ``db`` (tables), ``database`` (engines, sessions), ``migrations`` (alembic);
- ``tokens`` (bearer tokens, hashed), ``problems`` (RFC 9457 errors);
- ``storage`` (the data dir: server-chosen names only), ``requests`` (a submitted audit's
  parameters and the ``auditor audit`` command they become);
- ``jobs`` (claim, lease, requeue, finish), ``worker`` (the child processes), ``ingest``;
- ``api`` (the JSON API), ``pages`` (server-rendered pages), ``app`` (the FastAPI factory),
  ``serve`` (one command: the API and the workers).
"""
