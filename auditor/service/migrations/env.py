"""Alembic's environment: the service's tables, on the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from auditor.service.database import make_engine
from auditor.service.db import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "auditor.service.migrate sets sqlalchemy.url"

engine = make_engine(url) if url.startswith("sqlite") else None
if engine is None:
    from sqlalchemy import create_engine

    engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
